"""The errors a user can act on.

Every error hakobu reports to a person derives from ``HakobuError`` and carries the exit
code the command line ends with::

    HakobuError                 exit 1 unless a subclass says otherwise
    ├── InvalidInput            exit 2: bad usage, a bad file or a bad value
    └── OperationFailed         exit 1: the input was fine, the operation did not succeed
        └── Unreachable         exit 3: the cluster could not be reached
                                (``hakobu.cluster.errors``)

Layers define their own subclasses (for example ``hakobu.cluster.errors``) so callers can
catch precisely, while the command line needs to know only this root.
"""

from __future__ import annotations


class HakobuError(Exception):
    """An error with a message for a person and, optionally, what to do about it."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


class InvalidInput(HakobuError):
    """The user's input (arguments, files, values) is not acceptable."""

    exit_code = 2


class OperationFailed(HakobuError):
    """The input was acceptable but the operation failed (a build, a server, a process)."""

    exit_code = 1
