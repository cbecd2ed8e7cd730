"""The C ABI of libzen_agent.so.1 (include/zen/zen_agent.h) through ctypes.

Private: the package's public API is in __init__.py. The library is the one
this package carries, loaded by its path next to this file, so no
environment variable or system path is involved.

ctypes.CDLL (not PyDLL) releases the GIL around every foreign call, so a
call that waits for the parent lets the process's other threads run.
"""

import ctypes
import os
from ctypes import (
    POINTER,
    Structure,
    c_char_p,
    c_int,
    c_int32,
    c_int64,
    c_size_t,
    c_uint8,
    c_uint16,
    c_void_p,
)

LIBRARY_NAME = "libzen_agent.so.1"
# ZEN_AGENT_SECRET_SIZE: the bytes of the secret zen_agent_worker_endpoint
# writes (since 1.1).
SECRET_SIZE = 32
LIBRARY_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), LIBRARY_NAME)


class RateLimit(Structure):
    """struct zen_rate_limit."""

    _fields_ = [
        ("applies", c_int32),
        ("throttled", c_int32),
        ("from_parent", c_int32),
        ("reserved", c_int32),
        ("time_remaining_seconds", c_int64),
        ("time_remaining_ms", c_int64),
        ("current_requests", c_int64),
        ("max_requests", c_int64),
        # c_void_p, not c_char_p: the library allocated it and we free it.
        ("discriminator", c_void_p),
        ("discriminator_len", c_size_t),
    ]


# Out-parameters: the library's strings come back as void* so that ctypes
# does not copy and lose the pointer we must zen_free().
_OUT_TEXT = POINTER(c_void_p)
_OUT_LEN = POINTER(c_size_t)
_HANDLE = c_void_p
_STATUS = c_int

# name: (restype, argtypes). Strings in are (bytes, length).
_PROTOTYPES = {
    "zen_agent_version": (c_char_p, []),
    "zen_status_name": (c_char_p, [c_int]),
    "zen_free": (None, [c_void_p]),
    "zen_agent_create": (_STATUS, [c_char_p, c_size_t, POINTER(c_void_p), _OUT_TEXT]),
    "zen_agent_stop": (_STATUS, [_HANDLE, _OUT_TEXT]),
    "zen_agent_destroy": (None, [_HANDLE]),
    "zen_agent_is_parent": (c_int, [_HANDLE]),
    "zen_agent_parent_alive": (c_int, [_HANDLE]),
    "zen_agent_update_config": (_STATUS, [_HANDLE, c_char_p, c_size_t, _OUT_TEXT]),
    "zen_agent_update_firewall_lists": (
        _STATUS,
        [_HANDLE, c_char_p, c_size_t, _OUT_TEXT],
    ),
    "zen_agent_settings_generations": (
        _STATUS,
        [_HANDLE, POINTER(c_int64), POINTER(c_int64), _OUT_TEXT],
    ),
    "zen_agent_config_json": (_STATUS, [_HANDLE, _OUT_TEXT, _OUT_LEN, _OUT_TEXT]),
    "zen_agent_firewall_lists_json": (
        _STATUS,
        [_HANDLE, _OUT_TEXT, _OUT_LEN, _OUT_TEXT],
    ),
    "zen_agent_poll_settings": (_STATUS, [_HANDLE, _OUT_TEXT]),
    "zen_agent_rate_limit": (
        _STATUS,
        [
            _HANDLE,
            c_char_p,
            c_size_t,
            c_char_p,
            c_size_t,
            c_char_p,
            c_size_t,
            c_char_p,
            c_size_t,
            POINTER(RateLimit),
            _OUT_TEXT,
        ],
    ),
    "zen_agent_record_attack_wave": (
        _STATUS,
        [
            _HANDLE,
            c_char_p,
            c_size_t,
            c_char_p,
            c_size_t,
            c_char_p,
            c_size_t,
            _OUT_TEXT,
            _OUT_LEN,
            POINTER(c_int32),
            _OUT_TEXT,
        ],
    ),
    "zen_agent_track": (_STATUS, [_HANDLE, c_char_p, c_size_t, _OUT_TEXT]),
    "zen_agent_flush": (_STATUS, [_HANDLE, _OUT_TEXT]),
    "zen_agent_heartbeat": (
        _STATUS,
        [_HANDLE, c_int, c_char_p, c_size_t, _OUT_TEXT, _OUT_LEN, _OUT_TEXT],
    ),
    "zen_agent_mark_middleware_installed": (_STATUS, [_HANDLE, _OUT_TEXT]),
    "zen_agent_metrics": (_STATUS, [_HANDLE, _OUT_TEXT, _OUT_LEN, _OUT_TEXT]),
    "zen_agent_stats_json": (_STATUS, [_HANDLE, _OUT_TEXT, _OUT_LEN, _OUT_TEXT]),
    # Since 1.1.
    "zen_agent_worker_endpoint": (
        _STATUS,
        [
            _HANDLE,
            _OUT_TEXT,
            _OUT_LEN,
            POINTER(c_uint16),
            POINTER(c_uint8),
            c_size_t,
            _OUT_TEXT,
        ],
    ),
}


def load(path=LIBRARY_PATH):
    """Loads the library and declares every function's prototype.

    Raises OSError when the file or one of the libraries it needs is missing
    (the message names it; docs/python.md lists the Debian packages).
    """
    lib = ctypes.CDLL(path)
    for name, (restype, argtypes) in _PROTOTYPES.items():
        function = getattr(lib, name)
        function.restype = restype
        function.argtypes = argtypes
    return lib


def take_text(lib, pointer, length=None):
    """The library's string at `pointer` as str, freed; None for NULL."""
    if not pointer:
        return None
    try:
        if length is None:
            data = ctypes.string_at(pointer)
        else:
            data = ctypes.string_at(pointer, length)
        return data.decode("utf-8", "replace")
    finally:
        lib.zen_free(pointer)
