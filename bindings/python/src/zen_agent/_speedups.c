/* zen_agent._speedups: the request path's one call, rate_limit, without
 * ctypes' per-argument conversions (docs/python.md, "Why ctypes, and one C
 * function"). Everything else in the package goes through ctypes, and so
 * does rate_limit when this module cannot be loaded.
 *
 * The limited API (abi3): one build loads in every CPython from 3.7 on.
 * It does not link libzen_agent.so: bind() receives the addresses of the
 * library's functions from the ctypes handle the package already loaded, so
 * both paths call the one library, and this module needs nothing at load
 * time but the interpreter. */
#define Py_LIMITED_API 0x03070000
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#include "zen/zen_agent.h"

typedef zen_status (*RateLimitFn)(zen_agent*, const char*, size_t, const char*,
                                  size_t, const char*, size_t, const char*,
                                  size_t, zen_rate_limit*, char**);
typedef void (*FreeFn)(void*);
typedef int (*ParentAliveFn)(const zen_agent*);

/* Set once by bind(), before any call; read-only afterwards. */
static RateLimitFn rate_limit_fn = NULL;
static FreeFn free_fn = NULL;
static ParentAliveFn parent_alive_fn = NULL;
/* error(code, message) -> the exception instance to raise. */
static PyObject* make_error = NULL;
static PyObject* key_throttled = NULL;
static PyObject* key_discriminator = NULL;
static PyObject* key_time_remaining = NULL;

static PyObject* raise_status(int status, const char* message) {
  PyObject* error = PyObject_CallFunction(make_error, "is", status,
                                          message != NULL ? message : "");
  if (error != NULL) {
    PyErr_SetObject((PyObject*)Py_TYPE(error), error);
    Py_DECREF(error);
  }
  return NULL;
}

/* bind(rate_limit, free, parent_alive, make_error): addresses as ints. */
static PyObject* bind(PyObject* self, PyObject* args) {
  (void)self;
  unsigned long long rate_limit = 0, free_address = 0, parent_alive = 0;
  PyObject* error = NULL;
  if (!PyArg_ParseTuple(args, "KKKO", &rate_limit, &free_address, &parent_alive,
                        &error)) {
    return NULL;
  }
  if (rate_limit == 0 || free_address == 0 || parent_alive == 0 ||
      !PyCallable_Check(error)) {
    PyErr_SetString(PyExc_ValueError, "bind: null address or bad factory");
    return NULL;
  }
  rate_limit_fn = (RateLimitFn)(uintptr_t)rate_limit;
  free_fn = (FreeFn)(uintptr_t)free_address;
  parent_alive_fn = (ParentAliveFn)(uintptr_t)parent_alive;
  Py_INCREF(error);
  Py_XDECREF(make_error);
  make_error = error;
  Py_RETURN_NONE;
}

/* rate_limit(agent_address, method, route, ip, actor_id or None) -> None or
 * {"throttled", "discriminator", "time_remaining"}; raises make_error's
 * exception on failure, and UNAVAILABLE when the library decided alone
 * because the master is gone. TypeError / UnicodeEncodeError for arguments
 * that are not str (the caller words them). */
static PyObject* rate_limit(PyObject* self, PyObject* args) {
  (void)self;
  unsigned long long address = 0;
  const char *method, *route, *ip, *actor = NULL;
  Py_ssize_t method_len, route_len, ip_len, actor_len = 0;
  if (!PyArg_ParseTuple(args, "Ks#s#s#z#", &address, &method, &method_len,
                        &route, &route_len, &ip, &ip_len, &actor, &actor_len)) {
    return NULL;
  }
  if (rate_limit_fn == NULL) {
    PyErr_SetString(PyExc_RuntimeError, "zen_agent._speedups is not bound");
    return NULL;
  }
  zen_agent* agent = (zen_agent*)(uintptr_t)address;
  zen_rate_limit result;
  char* message = NULL;
  zen_status status;
  Py_BEGIN_ALLOW_THREADS;
  status = rate_limit_fn(agent, method, (size_t)method_len, route,
                         (size_t)route_len, ip, (size_t)ip_len, actor,
                         (size_t)actor_len, &result, &message);
  Py_END_ALLOW_THREADS;
  if (status != ZEN_OK) {
    raise_status(status, message);
    free_fn(message);
    return NULL;
  }
  if (!result.applies) Py_RETURN_NONE;
  PyObject* answer = PyDict_New();
  PyObject* discriminator = PyUnicode_DecodeUTF8(
      result.discriminator, (Py_ssize_t)result.discriminator_len, "replace");
  free_fn(result.discriminator);
  PyObject* seconds = PyLong_FromLongLong(result.time_remaining_seconds);
  int failed = answer == NULL || discriminator == NULL || seconds == NULL ||
               PyDict_SetItem(answer, key_throttled,
                              result.throttled ? Py_True : Py_False) != 0 ||
               PyDict_SetItem(answer, key_discriminator, discriminator) != 0 ||
               PyDict_SetItem(answer, key_time_remaining, seconds) != 0;
  Py_XDECREF(discriminator);
  Py_XDECREF(seconds);
  if (failed) {
    Py_XDECREF(answer);
    return NULL;
  }
  if (!result.from_parent && parent_alive_fn(agent) != 1) {
    Py_DECREF(answer);
    return raise_status(
        ZEN_UNAVAILABLE,
        "the master process exited; its agent server cannot be reached");
  }
  return answer;
}

static PyMethodDef kMethods[] = {
    {"bind", bind, METH_VARARGS, "Binds the library's functions."},
    {"rate_limit", rate_limit, METH_VARARGS, "zen_agent_rate_limit."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef kModule = {
    PyModuleDef_HEAD_INIT,
    "zen_agent._speedups",
    "rate_limit without ctypes' per-call conversions.",
    -1,
    kMethods,
    NULL,
    NULL,
    NULL,
    NULL};

PyMODINIT_FUNC PyInit__speedups(void) {
  key_throttled = PyUnicode_InternFromString("throttled");
  key_discriminator = PyUnicode_InternFromString("discriminator");
  key_time_remaining = PyUnicode_InternFromString("time_remaining");
  if (key_throttled == NULL || key_discriminator == NULL ||
      key_time_remaining == NULL) {
    return NULL;
  }
  return PyModule_Create(&kModule);
}
