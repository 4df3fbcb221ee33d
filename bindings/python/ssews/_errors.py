"""ssews.Error and the error codes of the C ABI (ssews.h, SSEWS_E*)."""
from __future__ import annotations

import enum
from typing import Any, List, Tuple

from . import _core

__all__ = ["Error", "ErrorCode"]


def _error_codes() -> List[Tuple[str, int]]:
    """(name, value) of every SSEWS_E* code, read from the C library: the
    codes run from SSEWS_OK (0) down without a hole, so count down until
    ssews_err_name no longer knows one (ssews.h, SSEWS_ERRNO_MAP)."""
    out: List[Tuple[str, int]] = []
    code = 0
    while True:
        name = _core.err_name(code)
        if name == "SSEWS_EUNKNOWN":
            return out
        out.append((name[len("SSEWS_"):], code))
        code -= 1


#: The C ABI's error codes (``SSEWS_E*``): append-only, never renumbered.
#: Generated from the C library at import, so it always matches it; members
#: compare equal to the plain ints, so ``err.code == -2`` and ``err.code ==
#: ErrorCode.EOPTION`` are the same test. ``_core.strerror(code)`` describes one.
def _make_error_code() -> Any:
    # Typed Any here: type checkers read the members from the stub
    # (__init__.pyi), which tests/python/test_errors.py holds to this enum.
    return enum.IntEnum("ErrorCode", _error_codes(), module=__name__, qualname="ErrorCode")


ErrorCode: Any = _make_error_code()


def _code(code: int) -> int:  # an ErrorCode member when the library knows the code
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

    code: int  # an ErrorCode member (see the stub: Union[ErrorCode, int])

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
