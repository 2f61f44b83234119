"""The application repository a system repository renders from, pinned to one commit.

A system repository holds machine-written files only (a fleet's instances); the fleet's
``fleet.yaml`` and ``template/`` stay in the application repository people review. The
system repository's ``hakobu.yaml`` names that repository and one full commit id::

    source:
      repository: https://git.example/shop/app.git   # or a path or file:// URL
      revision: 4f0c3a…                               # 40 hex digits, nothing else

A fleet directory of the system repository without its own ``fleet.yaml`` reads
``fleet.yaml`` and ``template/`` from the same path at that commit. Moving the pin is one
changed line in review — what changes is the commit id and nothing else — where a git
submodule's gitlink shows as an opaque object id in a diff, needs ``--recurse-submodules``
in every clone and a ``.gitmodules`` file beside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hakobu.model.source import Document, SourceError

_COMMIT_ID = re.compile(r"^[0-9a-f]{40}$")
_FIELDS = ("repository", "revision")


@dataclass(frozen=True)
class SourcePin:
    # A URL, or a path (relative paths are relative to the project's root).
    repository: str
    revision: str
    # Where the pin is written, for errors found when it is fetched.
    file: Path
    repository_line: int | None
    revision_line: int | None

    def error(self, field: str, message: str, hint: str | None = None) -> SourceError:
        line = self.revision_line if field == "revision" else self.repository_line
        return SourceError(self.file, message, line=line, field=("source", field), hint=hint)


def parse_source(doc: Document, root: Path, value: Any) -> SourcePin | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise doc.error(("source",), "expected a mapping with repository: and revision:")
    for key in value:
        if key not in _FIELDS:
            raise doc.error(
                ("source", key), f"unknown field; expected one of: {', '.join(_FIELDS)}"
            )
    repository = value.get("repository")
    if not isinstance(repository, str) or not repository.strip():
        raise doc.error(
            ("source", "repository"),
            "expected the URL or path of the application repository",
        )
    revision = value.get("revision")
    if not isinstance(revision, str) or not _COMMIT_ID.match(revision):
        raise doc.error(
            ("source", "revision"),
            f"expected a full commit id (40 lower-case hex digits), found {revision!r}",
            hint="pin with `hakobu source pin --to REV`, which resolves a branch or tag",
        )
    return SourcePin(
        repository,
        revision,
        doc.file,
        doc.line_of(("source", "repository")),
        doc.line_of(("source", "revision")),
    )


def repository_url(pin: SourcePin, root: Path) -> str:
    """What git fetches: a URL as written, a path as a ``file://`` URL (relative to ``root``)."""
    if "://" in pin.repository or re.match(r"^[\w.-]+@[\w.-]+:", pin.repository):
        return pin.repository
    return (root / pin.repository).resolve().as_uri()
