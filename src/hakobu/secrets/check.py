"""Find plaintext Secrets in what a git repository holds: its tracked files, its history.

A finding is a ``kind: Secret`` document (alone, or an item of a ``List``) with a non-empty
``data`` or ``stringData``: values anyone with the repository can read. SealedSecrets are
what belongs in git instead. A secret committed and later deleted still shows in the
history — it stays readable until the history is rewritten and the value rotated. Text
that is not YAML (templates) cannot be judged and is passed over.

The contents come from ``hakobu.repo.contents`` (this package does not read git): each
blob of the history once, at the oldest commit and path it is found at; only regular
files of the work tree, never through a link; nothing over ``MAX_FILE_BYTES``, which is
reported as not scanned.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import yaml

_DOCUMENT_SEPARATOR = re.compile(r"^---[ \t]*(?:#.*)?$", re.MULTILINE)


@dataclass(frozen=True)
class Finding:
    """A plaintext Secret at ``path`` (relative to the repository), in a commit or the tree."""

    path: str
    kind: str
    namespace: str
    name: str
    commit: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}@{self.commit}" if self.commit else self.path
        ref = (
            f"{self.kind}/{self.namespace}/{self.name}"
            if self.namespace
            else (f"{self.kind}/{self.name}")
        )
        return f"{where}: {ref}"


@dataclass(frozen=True)
class Skipped:
    """A file (or a blob of the history) the scan could not judge, and why."""

    path: str
    reason: str
    commit: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}@{self.commit}" if self.commit else self.path
        return f"{where}: not scanned: {self.reason}"


OnSkip = Callable[[Skipped], None]


def plaintext_secrets(text: str) -> list[tuple[str, str]]:
    """``(namespace, name)`` of each Secret with values in ``text`` (YAML or JSON)."""
    found: list[tuple[str, str]] = []
    # Document by document, so one unparsable document hides nothing else.
    for document in _DOCUMENT_SEPARATOR.split(text):
        try:
            data = yaml.load(document, Loader=yaml.CSafeLoader)
        except (yaml.YAMLError, ValueError, TypeError, RecursionError):
            # Besides bad syntax, a tag's value that does not convert (``!!int abc``).
            continue
        for obj in _objects(data, set()):
            if _has_values(obj):
                metadata = obj.get("metadata")
                metadata = metadata if isinstance(metadata, dict) else {}
                found.append(
                    (_text(metadata.get("namespace"), ""), _text(metadata.get("name"), "?"))
                )
    return found


class Content(Protocol):
    """A file to judge (``hakobu.repo.contents.Content`` is one): its content, or why it
    was not read."""

    @property
    def path(self) -> str: ...
    @property
    def data(self) -> bytes: ...
    @property
    def refused(self) -> str | None: ...
    @property
    def commit(self) -> str | None: ...


def check_contents(
    contents: Iterable[Content], *, on_skip: OnSkip = lambda _: None
) -> list[Finding]:
    """Findings in ``contents``; ``on_skip`` hears of each file that was not read."""
    findings: list[Finding] = []
    for content in contents:
        if content.refused is not None:
            on_skip(Skipped(content.path, content.refused, content.commit))
            continue
        findings += [
            Finding(content.path, "Secret", namespace, name, content.commit)
            for namespace, name in _scan(content.data)
        ]
    return findings


def _scan(data: bytes) -> list[tuple[str, str]]:
    # Cheap test first: most blobs never mention a Secret.
    if b"Secret" not in data or b"\0" in data:
        return []
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return []
    return plaintext_secrets(text)


def _objects(data: Any, visited: set[int]) -> Iterator[dict[str, Any]]:
    # An alias can make a List its own item: each object is visited once.
    if not isinstance(data, dict) or id(data) in visited:
        return
    visited.add(id(data))
    if data.get("kind") == "List" and isinstance(data.get("items"), list):
        for item in data["items"]:
            yield from _objects(item, visited)
    elif data.get("kind") == "Secret":
        yield data


def _text(value: Any, otherwise: str) -> str:
    return value if isinstance(value, str) else otherwise


def _has_values(secret: dict[str, Any]) -> bool:
    return any(isinstance(secret.get(f), dict) and secret[f] for f in ("data", "stringData"))
