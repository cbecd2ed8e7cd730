"""zen_agent.Error and the status codes it carries (docs/errors.md)."""

import enum


class StatusCode(enum.IntEnum):
    """The canonical status codes (gRPC's numbering), as the C ABI returns
    them. An IntEnum: ``error.code == 14`` and
    ``error.code == StatusCode.UNAVAILABLE`` both hold."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16


class Error(Exception):
    """A failed agent call.

    code: a StatusCode (UNKNOWN for a value this version does not name).
    message: the library's explanation, e.g. "unknown option 'client.foo'".
    """

    def __init__(self, code: int, message: str) -> None:
        try:
            self.code = StatusCode(code)
        except ValueError:
            self.code = StatusCode.UNKNOWN
        self.message = message
        super().__init__(f"{self.code.name}: {message}")
