"""The error raised when a patch cannot be applied."""

from __future__ import annotations

from hakobu.errors import InvalidInput


class PatchError(InvalidInput):
    """A patch does not apply to its target; the message names the object and the path."""
