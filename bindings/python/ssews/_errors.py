"""ssews.Error and the error codes of the C ABI (ssews.h, SSEWS_E*)."""
from __future__ import annotations

import enum
from typing import Union

__all__ = ["Error", "ErrorCode"]


class ErrorCode(enum.IntEnum):
    """The C ABI's error codes (``SSEWS_E*``): append-only, never renumbered.

    Members compare equal to the plain ints, so ``err.code == -2`` and
    ``err.code == ErrorCode.EOPTION`` are the same test.
    """

    OK = 0
    EINVAL = -1       #: a bad argument (unknown connection id aside)
    EOPTION = -2      #: an unknown option key or a bad option value
    ENOMEM = -3       #: out of memory
    ECLOSED = -4      #: the endpoint is closing or closed
    ENOCONN = -5      #: no such (open) connection
    EAGAIN = -6       #: nothing to take now
    EFULL = -7        #: a bounded queue is full; try again later
    ETOOBIG = -8      #: a message is larger than max_message_size
    ENOTSUP = -9      #: not supported for this protocol or role
    EPROTO = -10      #: the peer broke the protocol
    ETLS = -11        #: TLS set-up or handshake failed
    ELISTEN = -12     #: could not bind or listen
    ECONNECT = -13    #: could not connect
    ESTATE = -14      #: not valid in the current state
    EHTTP = -15       #: an unexpected HTTP status or content type
    ETIMEOUT = -16    #: a timeout expired
    EINTERNAL = -17   #: an internal failure (a bug: please report it)
    ESLOW = -18       #: a slow consumer lost messages or was closed
    EURL = -19        #: a malformed or unsupported URL
    EGAP = -20        #: resumed, but messages may have been missed


def _code(code: int) -> Union[ErrorCode, int]:
    try:
        return ErrorCode(code)
    except ValueError:  # a code newer than this package
        return code


class Error(Exception):
    """A failed ssews call.

    ``str(err)`` is the library's message, which names what was wrong (for
    example ``option 'port': '70000' is not a whole number from 0 to
    65535``); ``err.code`` is the :class:`ErrorCode` (a negative int).
    """

    code: Union[ErrorCode, int]

    def __init__(self, message: str, code: int = ErrorCode.EINVAL) -> None:
        super().__init__(message)
        self.code = _code(code)

    @property
    def message(self) -> str:
        """The message, as ``str(err)``."""
        return str(self.args[0]) if self.args else ""

    def __reduce__(self):  # picklable (e.g. across multiprocessing)
        return (type(self), (self.message, int(self.code)))

    def __repr__(self) -> str:
        name = self.code.name if isinstance(self.code, ErrorCode) else str(self.code)
        return f"ssews.Error({self.message!r}, code={name})"
