/*
 * zen_agent.h: the stable C ABI of the worker-process agent
 * (libzen_agent.so.1). C99 and C++; nothing of C++ crosses it.
 *
 * Model (docs/c_api.md has the whole story): a pre-forking host creates one
 * agent in the parent, before the first fork, and keeps the handle for the
 * life of the process. Every forked worker uses the handle it inherited: its
 * first call connects to the parent and authenticates (the secret lives in
 * memory only and reaches workers through fork()). Calls marked "any
 * process" work in the parent too, with the same answers (no socket there).
 *
 * Rules that hold for every function below:
 *  - Status: each fallible function returns a zen_status, the canonical
 *    codes of docs/errors.md (gRPC's numbering). ZEN_OK is 0.
 *  - Messages: `message` may be NULL. When it is not, *message is set to
 *    NULL on success and, on failure, to a NUL-terminated UTF-8 text that
 *    the caller frees with zen_free().
 *  - Strings in are (pointer, length) UTF-8, not NUL-terminated; a NULL
 *    pointer with length 0 is the empty string. Text that is not UTF-8 is
 *    refused with ZEN_INVALID_ARGUMENT (never a crash).
 *  - Strings out are allocated by the library, (pointer, length) and also
 *    NUL-terminated, and freed by the caller with zen_free(). On failure the
 *    out-parameters are set to NULL / 0.
 *  - Handles are opaque. A NULL handle or a NULL required out-parameter is
 *    ZEN_INVALID_ARGUMENT.
 *  - No exception, abort or signal escapes to the host on bad input; an
 *    unexpected internal failure is ZEN_INTERNAL with a message.
 *  - Thread-safe: every function may be called from any thread at once,
 *    except zen_agent_destroy(), which must be the handle's last call in
 *    its process.
 *  - Fork-safe: fork() at any moment, from any thread; the child keeps
 *    using the handle it inherited (the library's locks are fork-guarded).
 *    A child must not call zen_agent_destroy() for the parent: in a child
 *    it only releases that child's own connection.
 *
 * Blocking (for bindings that release a global interpreter lock): see each
 * function's "Blocks" line. Besides, in a forked process the first call
 * that needs the agent's client (any but version, status_name, free,
 * is_parent, parent_alive, and the parent-only calls) connects to the
 * parent first: under a millisecond normally, at most the connect and
 * handshake timeouts (2 s + 3 s) when the parent is overloaded.
 * docs/c_api.md has the table.
 */
#ifndef ZEN_AGENT_H_
#define ZEN_AGENT_H_

#include <stddef.h>
#include <stdint.h>

/* The ABI's major version: part of the library's SONAME
 * (libzen_agent.so.<major>); only an incompatible change raises it. */
#define ZEN_AGENT_ABI_MAJOR 1
/* Raised when functions are added compatibly. */
#define ZEN_AGENT_ABI_MINOR 1
/* The version this header describes, "<major>.<minor>.<patch>". */
#define ZEN_AGENT_VERSION_STRING "1.1.0"

/* The size in bytes of the agent's secret (zen_agent_worker_endpoint). */
#define ZEN_AGENT_SECRET_SIZE 32

#if defined(ZEN_AGENT_BUILDING_LIBRARY)
#define ZEN_AGENT_API __attribute__((visibility("default")))
#else
#define ZEN_AGENT_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The canonical status codes (docs/errors.md; gRPC's values). */
typedef enum zen_status {
  ZEN_OK = 0,
  ZEN_CANCELLED = 1,
  ZEN_UNKNOWN = 2,
  ZEN_INVALID_ARGUMENT = 3,
  ZEN_DEADLINE_EXCEEDED = 4,
  ZEN_NOT_FOUND = 5,
  ZEN_ALREADY_EXISTS = 6,
  ZEN_PERMISSION_DENIED = 7,
  ZEN_RESOURCE_EXHAUSTED = 8,
  ZEN_FAILED_PRECONDITION = 9,
  ZEN_ABORTED = 10,
  ZEN_OUT_OF_RANGE = 11,
  ZEN_UNIMPLEMENTED = 12,
  ZEN_INTERNAL = 13,
  ZEN_UNAVAILABLE = 14,
  ZEN_DATA_LOSS = 15,
  ZEN_UNAUTHENTICATED = 16
} zen_status;

/* The agent: one per host process tree. Opaque. */
typedef struct zen_agent zen_agent;

/* The answer to a rate-limit question. The caller owns the struct; the
 * library fills every field. When `applies` is 0 no limit applies to the
 * request (no endpoint limited, the IP or actor exempt): every other field
 * is then 0 / NULL. */
typedef struct zen_rate_limit {
  int32_t applies;   /* 1: a limit applies and the fields below hold. */
  int32_t throttled; /* 1: refuse the request (HTTP 429). */
  /* 1: the decision counted in the windows all workers share (a limit
   * holds across all of them): the parent's limiter, or the shared-memory
   * zone the parent mapped before forking, where a worker decides without
   * a round trip (even after the parent's exit: its siblings still share
   * it); 0: neither could decide (no zone, or a limit above its windows,
   * and the parent did not answer within rate_limit_timeout_ms or is gone)
   * and this worker's own limiter decided. */
  int32_t from_parent;
  int32_t reserved; /* 0. */
  /* Whole seconds, rounded up, until the oldest counted request leaves the
   * window: the reference's `time_remaining`, a throttled client's
   * Retry-After. 0 when the window is empty. */
  int64_t time_remaining_seconds;
  /* The same in milliseconds (from a parent's answer: seconds * 1000). */
  int64_t time_remaining_ms;
  /* Requests counted in the window (this one included if admitted), and the
   * endpoint's maxRequests. */
  int64_t current_requests;
  int64_t max_requests;
  /* What the window is kept for: "actor:<id>" when an actor was given, else
   * the client IP as given. Allocated by the library (NUL-terminated), or
   * NULL when `applies` is 0; the caller frees it with zen_free(). */
  char* discriminator;
  size_t discriminator_len;
} zen_rate_limit;

/* ---- Library -------------------------------------------------------- */

/* The library's version, "<major>.<minor>.<patch>" (compare with
 * ZEN_AGENT_VERSION_STRING). A static string: do not free. Any process,
 * any thread, before or without an agent. Never fails. Blocks: no. */
ZEN_AGENT_API const char* zen_agent_version(void);

/* The canonical name of `status`, e.g. "INVALID_ARGUMENT"; "UNKNOWN" for a
 * value outside the enum. A static string: do not free. Never fails.
 * Blocks: no. */
ZEN_AGENT_API const char* zen_status_name(zen_status status);

/* Frees memory the library returned (messages, documents, a rate-limit
 * discriminator). NULL is a no-op. Any process, any thread. Blocks: no. */
ZEN_AGENT_API void zen_free(void* memory);

/* ---- Lifetime ------------------------------------------------------- */

/* Creates the agent: makes a new random secret, binds the agent server
 * (127.0.0.1, ephemeral port by default) and starts it. Call it in the
 * parent, before forking the workers; the process that calls it is "the
 * parent" from then on.
 *
 * `options_json`: one JSON object (or NULL / empty / "{}" for the
 * defaults). docs/c_api.md lists every key; durations are numbers of
 * milliseconds (fractions allowed) in keys ending in `_ms`. An unknown key,
 * a value of the wrong type or out of range is ZEN_INVALID_ARGUMENT with a
 * message naming the key (e.g. "unknown option 'client.foo'").
 *
 * On success *agent_out owns the new agent (release it with
 * zen_agent_destroy in the parent). Failures: ZEN_INVALID_ARGUMENT (bad
 * options), ZEN_UNAVAILABLE / ZEN_INTERNAL (the socket could not be bound),
 * ZEN_RESOURCE_EXHAUSTED (no thread). Blocks: briefly (bind, thread
 * start). */
ZEN_AGENT_API zen_status zen_agent_create(const char* options_json,
                                          size_t options_json_len,
                                          zen_agent** agent_out,
                                          char** message);

/* Stops this process's part of the agent; idempotent. In a worker: sends
 * its buffered events (as zen_agent_flush), then closes its connection and
 * joins its threads; later calls fail with ZEN_CANCELLED. In the parent:
 * also stops the agent server (workers' later calls then fail or decide
 * locally). Returns the flush's status (ZEN_OK when there was nothing to
 * send). The handle stays valid until zen_agent_destroy. Any process.
 * Blocks: up to client.call_timeout_ms for the flush, then joins the
 * agent's threads (milliseconds). */
ZEN_AGENT_API zen_status zen_agent_stop(zen_agent* agent, char** message);

/* Releases the handle. In the parent: stops the server (stop the workers
 * first, so their final flushes arrive) and frees everything. In a
 * worker: stops only the worker's own connection. Must be the handle's last
 * call in this process, with no other thread inside a zen_agent_* call.
 * NULL is a no-op. Blocks: as zen_agent_stop. */
ZEN_AGENT_API void zen_agent_destroy(zen_agent* agent);

/* 1 in the process that created the agent, 0 elsewhere (and for NULL).
 * Any process. Blocks: no. */
ZEN_AGENT_API int zen_agent_is_parent(const zen_agent* agent);

/* 0 in a worker once the process that forked it has exited; 1 in the
 * parent (0 for NULL). One getppid(). Any process. Blocks: no. */
ZEN_AGENT_API int zen_agent_parent_alive(const zen_agent* agent);

/* ---- Settings ------------------------------------------------------- */

/* Parent only (else ZEN_FAILED_PRECONDITION). Stores a new runtime config
 * document (the product API's JSON text, kept byte for byte; workers get
 * exactly these bytes within milliseconds). A document that does not parse
 * is ZEN_INVALID_ARGUMENT and the previous one stays in force everywhere.
 * Blocks: no (parses the text). */
ZEN_AGENT_API zen_status zen_agent_update_config(zen_agent* agent,
                                                 const char* json,
                                                 size_t json_len,
                                                 char** message);

/* As zen_agent_update_config, for the firewall lists document. */
ZEN_AGENT_API zen_status zen_agent_update_firewall_lists(zen_agent* agent,
                                                         const char* json,
                                                         size_t json_len,
                                                         char** message);

/* The generations of the settings this process applied: each document's
 * count of changes, 0 before the first. Either out-parameter may be NULL.
 * Any process: the worker's own copy, no round trip. Fails only for a NULL
 * agent or a worker whose agent was stopped. Blocks: no. */
ZEN_AGENT_API zen_status zen_agent_settings_generations(
    zen_agent* agent, int64_t* config_generation,
    int64_t* firewall_lists_generation, char** message);

/* The config document's text as the parent received it, as this process
 * last applied it (*json_out NULL and *json_len 0 before any). Any process,
 * no round trip. Blocks: no. */
ZEN_AGENT_API zen_status zen_agent_config_json(zen_agent* agent,
                                               char** json_out,
                                               size_t* json_len,
                                               char** message);

/* As zen_agent_config_json, for the firewall lists document. */
ZEN_AGENT_API zen_status zen_agent_firewall_lists_json(zen_agent* agent,
                                                       char** json_out,
                                                       size_t* json_len,
                                                       char** message);

/* Asks the parent for new settings now and applies what changed (workers
 * otherwise get changes pushed within milliseconds). Any process. Fails
 * ZEN_UNAVAILABLE / ZEN_DEADLINE_EXCEEDED when the parent cannot answer.
 * Blocks: up to client.call_timeout_ms (and the first connect). */
ZEN_AGENT_API zen_status zen_agent_poll_settings(zen_agent* agent,
                                                 char** message);

/* ---- Per request ---------------------------------------------------- */

/* Counts one request of (method, route) from client `ip` (and actor
 * `actor_id`, NULL for none; empty counts as none) against the shared
 * limiter and says whether to throttle it. The route is the framework's
 * (e.g. "/users/:id"). Fills *result (see zen_rate_limit; free its
 * discriminator). Any process.
 *
 * The contract does not depend on how the decision travels: it is the
 * shared decision when the zone decides or the parent answers within
 * client.rate_limit_timeout_ms, else (from_parent 0) this worker's own.
 * Fails only on bad arguments (ZEN_INVALID_ARGUMENT), a stopped agent
 * (ZEN_CANCELLED), or a worker that cannot reach its parent at all yet
 * (ZEN_UNAVAILABLE: never connected since the fork; serve the request
 * unprotected or refuse it, your choice). Blocks: up to
 * client.rate_limit_timeout_ms (1000 by default; a round trip is tens to
 * hundreds of microseconds), plus the first connect after a fork. */
ZEN_AGENT_API zen_status zen_agent_rate_limit(
    zen_agent* agent, const char* method, size_t method_len, const char* route,
    size_t route_len, const char* ip, size_t ip_len, const char* actor_id,
    size_t actor_id_len, zen_rate_limit* result, char** message);

/* Reports a suspicious request (a scanner's probe: /.env, /.git/config,
 * ...) from `ip` to the parent's one attack-wave detector. When this
 * request completes a wave, *samples_json_out is the wave's samples as a
 * JSON array `[{"method": "...", "url": "..."}, ...]` (the reference's
 * answer; free it), else NULL with length 0. *from_parent (may be NULL) is
 * 0 when the parent did not answer within client.attack_wave_timeout_ms
 * and this worker's detector decided. Any process. Failures as
 * zen_agent_rate_limit. Blocks: up to client.attack_wave_timeout_ms. */
ZEN_AGENT_API zen_status zen_agent_record_attack_wave(
    zen_agent* agent, const char* ip, size_t ip_len, const char* method,
    size_t method_len, const char* path, size_t path_len,
    char** samples_json_out, size_t* samples_json_len, int32_t* from_parent,
    char** message);

/* Buffers events for the parent's statistics: one event object, or an
 * array of them, in the reference's event JSON (e.g.
 * {"type":"track_request"}; docs/protocol.md lists the ten types and their
 * keys). Sent with the next flush (every client.flush_interval_ms).
 * ZEN_INVALID_ARGUMENT when the text is not JSON, or an event is not of a
 * known type and shape (then no event of the call is buffered). Any
 * process. Blocks: no (buffers). */
ZEN_AGENT_API zen_status zen_agent_track(zen_agent* agent,
                                         const char* events_json,
                                         size_t events_json_len,
                                         char** message);

/* Sends this process's buffered events to the parent now (a worker calls it
 * before it exits). On failure they stay buffered. Any process. Blocks: up
 * to client.call_timeout_ms. */
ZEN_AGENT_API zen_status zen_agent_flush(zen_agent* agent, char** message);

/* ---- Parent: statistics and monitoring ------------------------------ */

/* Parent only (else ZEN_FAILED_PRECONDITION). The reference's heartbeat
 * document (JSON text) for the statistics period so far, folded from every
 * worker's flushed events. When `start_new_period` is non-zero the period
 * ends and a new one starts (the reference's flush); else it is a
 * snapshot. `agent_info_json` (may be NULL) is the document's "agent"
 * block, one JSON object written as given (ZEN_INVALID_ARGUMENT if it is
 * not). Blocks: no (milliseconds at most for large periods). */
ZEN_AGENT_API zen_status zen_agent_heartbeat(zen_agent* agent,
                                             int start_new_period,
                                             const char* agent_info_json,
                                             size_t agent_info_json_len,
                                             char** json_out, size_t* json_len,
                                             char** message);

/* Parent only. Marks the heartbeat's `middlewareInstalled` (call once your
 * request hooks are in). Blocks: no. */
ZEN_AGENT_API zen_status zen_agent_mark_middleware_installed(zen_agent* agent,
                                                             char** message);

/* Parent only. Prometheus' text format 0.0.4 (serve it with Content-Type
 * "text/plain; version=0.0.4; charset=utf-8"): the calls the parent's
 * server handled and the sum of its workers' reports. Blocks: no. */
ZEN_AGENT_API zen_status zen_agent_metrics(zen_agent* agent, char** text_out,
                                           size_t* text_len, char** message);

/* This process's counters as one JSON object (docs/c_api.md lists the
 * keys; keys may be added in later minor versions): the client's (events
 * recorded, sent, dropped, fallbacks, settings applied, connected, ...)
 * and, in the parent, the server's. Any process. Blocks: no. */
ZEN_AGENT_API zen_status zen_agent_stats_json(zen_agent* agent, char** json_out,
                                              size_t* json_len, char** message);

/* ---- Foreign workers (since 1.1) ------------------------------------- */

/* What a worker that does not use this library needs to reach the agent
 * server (e.g. a worker running the reference Ruby agent, or any program
 * speaking docs/protocol.md): where the server listens and the secret of
 * the handshake. Each out-parameter may be NULL to leave that part out; on
 * failure *host_out is NULL, *host_len and *port_out 0, and secret_out is
 * zeroed (up to ZEN_AGENT_SECRET_SIZE bytes).
 *
 * *host_out: the listening address ("127.0.0.1" by default),
 * NUL-terminated, allocated by the library (free it with zen_free).
 * *port_out: the TCP port.
 * secret_out: a buffer the caller owns, at least ZEN_AGENT_SECRET_SIZE
 * bytes (secret_out_size says how large; less is ZEN_INVALID_ARGUMENT),
 * into which the library writes the secret's 32 bytes, nothing more.
 *
 * The secret is the key of every worker's authentication: whoever holds it
 * and can reach the port is trusted as a worker (settings, rate limits,
 * statistics). Never log it, put it in an environment variable, argument
 * or file, or send it anywhere; wipe your copy when done. Every process
 * forked from the parent holds it already (inherited memory); asking for it
 * hands nothing new to a forked worker, only a copy in memory the host now
 * owns (docs/security.md).
 *
 * Only the TCP transport has such an endpoint: an agent created with
 * "transport": "unix" is ZEN_FAILED_PRECONDITION (the reference worker
 * speaks TCP only). Also ZEN_INVALID_ARGUMENT (NULL agent, a buffer too
 * small), ZEN_CANCELLED (stopped in this process). Any process, any
 * thread; the same answer in the parent and every forked process (no
 * connection is made). Blocks: no. */
ZEN_AGENT_API zen_status zen_agent_worker_endpoint(
    zen_agent* agent, char** host_out, size_t* host_len, uint16_t* port_out,
    uint8_t* secret_out, size_t secret_out_size, char** message);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ZEN_AGENT_H_ */
