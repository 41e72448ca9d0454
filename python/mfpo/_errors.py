"""Exceptions: mfpo.Error and one subclass per status code of include/mfpo/status.h."""
from __future__ import annotations

from typing import Dict, Type


class Error(Exception):
    """A libmfpo call failed. ``status`` is the C status code, ``message`` the library's text
    (mfpo_last_error: which argument, which value, what was expected)."""

    status: int = -1

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class InvalidArgumentError(Error):
    """MFPO_ERR_INVALID_ARGUMENT: an argument was out of range or inconsistent."""


class OutOfMemoryError(Error):
    """MFPO_ERR_OUT_OF_MEMORY."""


class BackendUnavailableError(Error):
    """MFPO_ERR_BACKEND_UNAVAILABLE: the requested backend cannot run here."""


class NonFiniteError(Error):
    """MFPO_ERR_NON_FINITE: a loss, gradient or input became NaN or infinite."""


class FileIOError(Error):
    """MFPO_ERR_IO: a file could not be opened, written or synced."""


class FormatError(Error):
    """MFPO_ERR_FORMAT: a file is truncated, corrupt, of another version or shape."""


class EnvError(Error):
    """MFPO_ERR_ENV: an environment callback failed or returned non-finite data."""


class CancelledError(Error):
    """MFPO_ERR_CANCELLED: a progress callback asked to stop."""


class StateError(Error):
    """MFPO_ERR_STATE: the call is not valid in the object's current state."""


class ClosedError(ValueError):
    """The handle (or its context) was closed; no C call was made."""


_BY_STATUS: Dict[int, Type[Error]] = {
    1: InvalidArgumentError, 2: OutOfMemoryError, 3: BackendUnavailableError, 4: NonFiniteError,
    5: FileIOError, 6: FormatError, 7: EnvError, 8: CancelledError, 9: StateError,
}


def error_for(status: int, message: str) -> Error:
    """The exception for a status code (mfpo.Error itself for a code this module does not know)."""
    return _BY_STATUS.get(status, Error)(status, message)
