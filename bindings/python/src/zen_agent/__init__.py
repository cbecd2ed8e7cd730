"""zen_agent: one agent for a pre-forking Python server (gunicorn, uWSGI).

The master (gunicorn's arbiter) calls start() once, before it forks its
workers; the agent server it starts listens on loopback. Every forked worker
uses the agent it inherited (zen_agent.agent()): its first call connects to
the master and authenticates with a secret that only fork() hands down, and
from then on every worker shares the master's settings, rate-limit counters
and statistics::

    import zen_agent

    agent = zen_agent.start(config=config_text)        # master, before fork
    ...
    answer = zen_agent.agent().rate_limit(              # any worker
        method="GET", route="/users/:id", ip="203.0.113.7")
    if answer is not None and answer["throttled"]:
        ...  # 429, Retry-After: answer["time_remaining"]

Every method may be called from any thread. Calls that wait for the master
release the GIL. Failures raise zen_agent.Error (.code, .message).
docs/python.md walks through a gunicorn setup.
"""

import ctypes
import json
import os
import sys
import threading
from ctypes import byref, c_int32, c_int64, c_size_t, c_uint8, c_uint16, c_void_p, cast
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from . import _native
from ._errors import Error, StatusCode

__all__ = ["Agent", "Error", "StatusCode", "WorkerEndpoint", "agent", "start", "version"]

JsonDocument = Union[str, bytes, Mapping[str, Any]]
Event = Union[Mapping[str, Any], Sequence[Mapping[str, Any]], str, bytes]

if sys.version_info >= (3, 8):
    from typing import TypedDict

    class WorkerEndpoint(TypedDict):
        """Agent.worker_endpoint()'s answer."""

        host: str
        port: int
        secret: bytes

else:  # Python 3.7 has no TypedDict.
    WorkerEndpoint = Dict[str, Any]

_lib = _native.load()
# The request path's functions, looked up once.
_rate_limit = _lib.zen_agent_rate_limit
_free = _lib.zen_free


def _load_speedups() -> Any:
    """The C version of rate_limit bound to this library, or None when it
    cannot be loaded (another interpreter, a sanitizer build) or
    ZEN_AGENT_PURE_PYTHON=1 asks for ctypes alone."""
    if os.environ.get("ZEN_AGENT_PURE_PYTHON") == "1":
        return None
    try:
        from . import _speedups
    except ImportError:
        return None

    def address(function: Any) -> int:
        return cast(function, c_void_p).value or 0

    _speedups.bind(
        address(_lib.zen_agent_rate_limit),
        address(_lib.zen_free),
        address(_lib.zen_agent_parent_alive),
        Error,
    )
    return _speedups.rate_limit


_fast_rate_limit = _load_speedups()
_start_lock = threading.Lock()
_agent: Optional["Agent"] = None


def version() -> str:
    """The version of the libzen_agent.so this package carries."""
    return _lib.zen_agent_version().decode("ascii")


def agent() -> Optional["Agent"]:
    """The agent start() made, in the master and in every process forked
    from it; None before start()."""
    return _agent


def start(
    config: Optional[JsonDocument] = None,
    firewall_lists: Optional[JsonDocument] = None,
    **options: Any,
) -> "Agent":
    """Creates the agent and starts its server; call it once, in the master,
    before the workers fork. The process that calls it is the master from
    then on.

    config, firewall_lists: the first settings documents (JSON text, or a
    mapping to serialize), applied before start() returns so that no worker
    ever serves a request without them.
    options: the agent's options (docs/c_api.md lists them), e.g.
    ``transport="unix"`` or ``client={"flush_interval_ms": 1000}``;
    durations are milliseconds in keys ending in ``_ms``. An unknown key or a
    value out of range raises Error(INVALID_ARGUMENT) naming it.

    Raises Error(ALREADY_EXISTS) when an agent was already started in this
    process or one it was forked from (use agent() there).
    """
    global _agent
    with _start_lock:
        if _agent is not None:
            raise Error(
                StatusCode.ALREADY_EXISTS,
                "an agent was already started (in this process or the master "
                "it was forked from); use zen_agent.agent()",
            )
        text = _encode(options, "options") if options else b""
        handle = c_void_p()
        message = c_void_p()
        status = _lib.zen_agent_create(text, len(text), byref(handle), byref(message))
        _check(status, message)
        created = Agent(handle)
        try:
            if config is not None:
                created.update_config(config)
            if firewall_lists is not None:
                created.update_firewall_lists(firewall_lists)
        except BaseException:
            # No other thread or process has seen this agent: release it.
            _lib.zen_agent_destroy(handle)
            raise
        _agent = created
        return created


def _check(status: int, message: c_void_p) -> None:
    """Raises the Error for a failed status, freeing the library's message."""
    if status != 0:
        text = _native.take_text(_lib, message.value) or ""
        raise Error(status, text)


def _encode(document: Union[JsonDocument, Event], what: str) -> bytes:
    if isinstance(document, bytes):
        return document
    if isinstance(document, str):
        # Lone surrogates pass through, for the library to refuse as not UTF-8.
        return document.encode("utf-8", "surrogatepass")
    try:
        return json.dumps(document, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError) as e:
        raise Error(StatusCode.INVALID_ARGUMENT, f"{what}: {e}") from None


def _text(value: str, what: str) -> bytes:
    if not isinstance(value, str):
        raise Error(
            StatusCode.INVALID_ARGUMENT,
            f"{what} must be str, not {type(value).__name__}",
        )
    return value.encode("utf-8", "surrogatepass")


_BAD_TEXT = "method, route, ip and actor_id must be str, encodable as UTF-8"


class _PerThread(threading.local):
    """Out-parameters reused by one thread's calls on the request path."""

    def __init__(self) -> None:
        self.message = c_void_p()
        result = _native.RateLimit()
        # One attribute read on the request path: (result, &result, &message).
        self.slots = (result, byref(result), byref(self.message))


class Agent:
    """The agent of this process tree. Get it from start() (master) or
    agent() (anywhere); do not construct it. Thread-safe."""

    __slots__ = ("_handle", "_address", "_per_thread")

    def __init__(self, handle: c_void_p) -> None:
        self._handle = handle
        self._address = handle.value
        self._per_thread = _PerThread()

    # ---- Settings -----------------------------------------------------

    def update_config(self, config: JsonDocument) -> None:
        """Master only. Stores a new runtime config document (JSON text kept
        byte for byte; every worker has it within milliseconds). Raises
        Error(INVALID_ARGUMENT) for a document that does not parse (the
        previous one stays in force everywhere), Error(FAILED_PRECONDITION)
        in a worker."""
        text = _encode(config, "config")
        message = c_void_p()
        _check(
            _lib.zen_agent_update_config(self._handle, text, len(text), byref(message)),
            message,
        )

    def update_firewall_lists(self, firewall_lists: JsonDocument) -> None:
        """As update_config, for the firewall lists document."""
        text = _encode(firewall_lists, "firewall_lists")
        message = c_void_p()
        _check(
            _lib.zen_agent_update_firewall_lists(
                self._handle, text, len(text), byref(message)
            ),
            message,
        )

    def _generations(self) -> "tuple[int, int]":
        config, lists, message = c_int64(), c_int64(), c_void_p()
        _check(
            _lib.zen_agent_settings_generations(
                self._handle, byref(config), byref(lists), byref(message)
            ),
            message,
        )
        return config.value, lists.value

    @property
    def config_generation(self) -> int:
        """How many config documents this process applied (0 before any).
        This process's own copy: no round trip."""
        return self._generations()[0]

    @property
    def firewall_lists_generation(self) -> int:
        """As config_generation, for the firewall lists."""
        return self._generations()[1]

    def _document(self, function: Any) -> Optional[str]:
        out, length, message = c_void_p(), c_size_t(), c_void_p()
        _check(function(self._handle, byref(out), byref(length), byref(message)), message)
        return _native.take_text(_lib, out.value, length.value)

    @property
    def config_json(self) -> Optional[str]:
        """The config text as the master received it, as this process last
        applied it; None before any. No round trip."""
        return self._document(_lib.zen_agent_config_json)

    @property
    def firewall_lists_json(self) -> Optional[str]:
        """As config_json, for the firewall lists."""
        return self._document(_lib.zen_agent_firewall_lists_json)

    def poll_settings(self) -> None:
        """Asks the master for its settings now (they are otherwise pushed
        within milliseconds). Raises Error(UNAVAILABLE) or
        Error(DEADLINE_EXCEEDED) when the master cannot answer. Releases the
        GIL while it waits."""
        message = c_void_p()
        _check(_lib.zen_agent_poll_settings(self._handle, byref(message)), message)

    # ---- Per request --------------------------------------------------

    def rate_limit(
        self, *, method: str, route: str, ip: str, actor_id: Optional[str] = None
    ) -> Optional[Dict[str, Any]]:
        """Counts one request against the limit shared by all workers.

        route is the framework's route ("/users/:id"), actor_id the user's id
        or None. Returns None when no limit applies, else a dict:
        ``throttled`` (bool: answer 429), ``discriminator`` ("actor:<id>" or
        the IP) and ``time_remaining`` (int seconds: Retry-After).

        Raises Error(UNAVAILABLE) when the master cannot be reached (a worker
        that could not connect since its fork, or whose master exited: it
        fails at once, never waits); Error(INVALID_ARGUMENT) for bad text.
        When the live master does not answer within
        client.rate_limit_timeout_ms, this worker's own limiter decides.
        Releases the GIL while it waits.
        """
        if _fast_rate_limit is not None:
            try:
                return _fast_rate_limit(self._address, method, route, ip, actor_id)
            except (TypeError, UnicodeEncodeError):
                raise Error(StatusCode.INVALID_ARGUMENT, _BAD_TEXT) from None
        return self._rate_limit_ctypes(method, route, ip, actor_id)

    def _rate_limit_ctypes(
        self, method: str, route: str, ip: str, actor_id: Optional[str]
    ) -> Optional[Dict[str, Any]]:
        try:
            m = method.encode()
            r = route.encode()
            i = ip.encode()
            a = None if actor_id is None else actor_id.encode()
        except (AttributeError, UnicodeEncodeError):
            raise Error(StatusCode.INVALID_ARGUMENT, _BAD_TEXT) from None
        result, result_ref, message_ref = self._per_thread.slots
        status = _rate_limit(
            self._handle,
            m,
            len(m),
            r,
            len(r),
            i,
            len(i),
            a,
            len(a) if a else 0,
            result_ref,
            message_ref,
        )
        if status:
            _check(status, self._per_thread.message)
        if not result.applies:
            return None
        _free(result.discriminator)
        answer = {
            "throttled": result.throttled != 0,
            # As the library words it (zen_agent.h), without copying its text.
            "discriminator": "actor:" + actor_id if actor_id else ip,
            "time_remaining": result.time_remaining_seconds,
        }
        if not result.from_parent:
            self._raise_if_orphaned()
        return answer

    def record_attack_wave(
        self, *, ip: str, method: str, path: str
    ) -> Optional[List[Dict[str, str]]]:
        """Reports a scanner's probe (/.env, /.git/config, ...) from ip to the
        master's attack-wave detector. Returns the wave's samples
        (``[{"method": ..., "url": ...}]``) when this request completes a
        wave, else None. Failures as rate_limit. Releases the GIL."""
        i, m, p = _text(ip, "ip"), _text(method, "method"), _text(path, "path")
        out, length, from_parent, message = c_void_p(), c_size_t(), c_int32(), c_void_p()
        _check(
            _lib.zen_agent_record_attack_wave(
                self._handle,
                i,
                len(i),
                m,
                len(m),
                p,
                len(p),
                byref(out),
                byref(length),
                byref(from_parent),
                byref(message),
            ),
            message,
        )
        samples = _native.take_text(_lib, out.value, length.value)
        if not from_parent.value:
            self._raise_if_orphaned()
        return None if samples is None else json.loads(samples)

    def track(self, event: Event) -> None:
        """Buffers events for the master's statistics: one event (a dict such
        as ``{"type": "track_request"}``) or a list of them, in the
        reference agent's event format (docs/protocol.md). Sent with the next
        periodic flush. Raises Error(INVALID_ARGUMENT) for an unknown type or
        shape (then nothing of the call is buffered). Never waits."""
        text = _encode(event, "event")
        message = c_void_p()
        _check(_lib.zen_agent_track(self._handle, text, len(text), byref(message)), message)

    def flush(self) -> None:
        """Sends this process's buffered events to the master now (a worker
        calls it before it exits; stop() does too). Releases the GIL."""
        message = c_void_p()
        _check(_lib.zen_agent_flush(self._handle, byref(message)), message)

    # ---- Master: statistics and monitoring ----------------------------

    def heartbeat(
        self, start_new_period: bool = False, agent_info: Optional[JsonDocument] = None
    ) -> str:
        """Master only. The reference agent's heartbeat document (JSON text)
        for the statistics period so far, folded from every worker's events.
        start_new_period=True ends the period (the reference's flush).
        agent_info, when given, is the document's "agent" object."""
        info = None if agent_info is None else _encode(agent_info, "agent_info")
        out, length, message = c_void_p(), c_size_t(), c_void_p()
        _check(
            _lib.zen_agent_heartbeat(
                self._handle,
                1 if start_new_period else 0,
                info,
                0 if info is None else len(info),
                byref(out),
                byref(length),
                byref(message),
            ),
            message,
        )
        return _native.take_text(_lib, out.value, length.value) or ""

    def mark_middleware_installed(self) -> None:
        """Master only. Sets the heartbeat's middlewareInstalled."""
        message = c_void_p()
        _check(_lib.zen_agent_mark_middleware_installed(self._handle, byref(message)), message)

    def metrics(self) -> str:
        """Master only. Prometheus text format 0.0.4 (serve it with
        Content-Type "text/plain; version=0.0.4; charset=utf-8")."""
        return self._document(_lib.zen_agent_metrics) or ""

    def stats(self) -> Dict[str, Any]:
        """This process's counters (docs/c_api.md lists the keys)."""
        return json.loads(self._document(_lib.zen_agent_stats_json) or "{}")

    # ---- Foreign workers ----------------------------------------------

    def worker_endpoint(self) -> WorkerEndpoint:
        """What a worker that does not use this package needs to reach the
        master's agent server (any program speaking the agent's wire
        protocol): ``{"host": str, "port": int, "secret": bytes}``.

        ``secret`` is the 32-byte key of every worker's authentication:
        whoever holds it and can reach the port is trusted as a worker. Never
        log it, put it in the environment, an argument or a file, or send it;
        hand it to the worker's client in memory. Every forked worker holds
        it already (it came with fork); this copies it into Python, where
        bytes cannot be wiped. The same answer in the master and every
        worker. Raises Error(FAILED_PRECONDITION) when the agent listens on a
        Unix socket (``transport="unix"``). Never waits."""
        host, length, message = c_void_p(), c_size_t(), c_void_p()
        port = c_uint16()
        key = (c_uint8 * _native.SECRET_SIZE)()
        try:
            _check(
                _lib.zen_agent_worker_endpoint(
                    self._handle,
                    byref(host),
                    byref(length),
                    byref(port),
                    key,
                    _native.SECRET_SIZE,
                    byref(message),
                ),
                message,
            )
            return {
                "host": _native.take_text(_lib, host.value, length.value) or "",
                "port": port.value,
                "secret": bytes(key),
            }
        finally:
            ctypes.memset(key, 0, _native.SECRET_SIZE)

    # ---- Lifetime -----------------------------------------------------

    @property
    def is_master(self) -> bool:
        """True in the process that called start()."""
        return _lib.zen_agent_is_parent(self._handle) == 1

    @property
    def master_alive(self) -> bool:
        """False in a worker once the process that forked it exited."""
        return _lib.zen_agent_parent_alive(self._handle) == 1

    def stop(self) -> None:
        """Stops this process's part of the agent; idempotent. In a worker:
        flushes its events and closes its connection (gunicorn's worker_exit
        hook). In the master: also stops the agent server (gunicorn's
        on_exit hook, after the workers are gone). Later calls in this
        process raise Error(CANCELLED). Raises the flush's Error, if any,
        after stopping."""
        message = c_void_p()
        _check(_lib.zen_agent_stop(self._handle, byref(message)), message)

    def _raise_if_orphaned(self) -> None:
        # The library decided locally: fine while the master lives (it was
        # slow), but a worker whose master exited must hear so at once.
        if _lib.zen_agent_parent_alive(self._handle) != 1:
            raise Error(
                StatusCode.UNAVAILABLE,
                "the master process exited; its agent server cannot be reached",
            )

    def __repr__(self) -> str:
        role = "master" if self.is_master else "worker"
        return f"<zen_agent.Agent {role} pid={os.getpid()}>"
