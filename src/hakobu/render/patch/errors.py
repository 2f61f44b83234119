"""The error raised when a patch cannot be applied."""

from __future__ import annotations

from hakobu.errors import InvalidInput


class PatchError(InvalidInput):
    """A patch does not apply to its target; the message names the object and the path."""

    def __init__(self, message: str, *, hint: str | None = None, operation: int | None = None):
        super().__init__(message, hint=hint)
        # Which operation of a JSON patch failed, so the caller can point at where it is written.
        self.operation = operation
