"""Find plaintext Secrets in a git repository: in its tracked files, and in its history.

A finding is a ``kind: Secret`` document (alone, or an item of a ``List``) with a non-empty
``data`` or ``stringData``: values anyone with the repository can read. SealedSecrets are
what belongs in git instead. The history scan reads every blob reachable from any ref once,
however many commits hold it, and reports it at the oldest commit and path it is found at,
so a secret committed and later deleted still shows — it stays readable until the history
is rewritten and the value rotated. Text that is not YAML (templates) cannot be judged and
is passed over.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pygit2
import yaml
from pygit2.enums import SortMode

from hakobu.errors import InvalidInput

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


def plaintext_secrets(text: str) -> list[tuple[str, str]]:
    """``(namespace, name)`` of each Secret with values in ``text`` (YAML or JSON)."""
    found: list[tuple[str, str]] = []
    # Document by document, so one unparsable document hides nothing else.
    for document in _DOCUMENT_SEPARATOR.split(text):
        try:
            data = yaml.safe_load(document)
        except yaml.YAMLError:
            continue
        for obj in _objects(data):
            if _has_values(obj):
                metadata = obj.get("metadata")
                metadata = metadata if isinstance(metadata, dict) else {}
                found.append((str(metadata.get("namespace") or ""), str(metadata.get("name"))))
    return found


def check_repository(path: Path, *, history: bool = False) -> list[Finding]:
    """Findings in the tracked files under ``path`` and, with ``history``, in every commit."""
    repo, prefix = _open(path)
    findings = list(_tracked(repo, prefix))
    if history:
        findings += _history(repo, prefix)
    return findings


def _open(path: Path) -> tuple[pygit2.Repository, str]:
    discovered = pygit2.discover_repository(str(path))
    if discovered is None:
        raise InvalidInput(
            f"{path}: not inside a git repository",
            hint="run the check in (or give the path of) the repository's work tree",
        )
    repo = pygit2.Repository(discovered)
    if repo.workdir is None:
        return repo, ""
    relative = path.resolve().relative_to(Path(repo.workdir).resolve())
    return repo, "" if str(relative) == "." else relative.as_posix()


def _tracked(repo: pygit2.Repository, prefix: str) -> Iterator[Finding]:
    if repo.workdir is None:
        return
    root = Path(repo.workdir)
    for entry in sorted(repo.index, key=lambda e: e.path):
        if not _under(entry.path, prefix):
            continue
        try:
            data = (root / entry.path).read_bytes()
        except OSError:
            continue  # deleted from the work tree, or not a regular file
        for namespace, name in _scan(data):
            yield Finding(entry.path, "Secret", namespace, name)


def _history(repo: pygit2.Repository, prefix: str) -> list[Finding]:
    walker = repo.walk(None, SortMode.TOPOLOGICAL | SortMode.REVERSE)
    starts = list(_ref_commits(repo))
    for target in starts:
        walker.push(target)
    scan = _HistoryScan(prefix)
    return [] if not starts else [f for c in walker for f in scan.tree(c.tree, "", c.short_id)]


class _HistoryScan:
    """Reads each tree and blob of the history once."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.seen_trees: set[Any] = set()
        self.seen_blobs: set[pygit2.Oid] = set()

    def tree(self, tree: pygit2.Tree, base: str, commit: str) -> list[Finding]:
        # A tree wholly inside the scanned path is read once; one on the way to it only
        # partly, which depends on where it sits.
        key: Any = tree.id if _under(base.rstrip("/"), self.prefix) else (tree.id, base)
        if key in self.seen_trees:
            return []
        self.seen_trees.add(key)
        findings: list[Finding] = []
        for entry in tree:
            path = f"{base}{entry.name}"
            if not (_under(path, self.prefix) or self.prefix.startswith(f"{path}/")):
                continue
            if isinstance(entry, pygit2.Tree):
                findings += self.tree(entry, f"{path}/", commit)
            elif isinstance(entry, pygit2.Blob) and entry.id not in self.seen_blobs:
                self.seen_blobs.add(entry.id)
                findings += [
                    Finding(path, "Secret", namespace, name, commit)
                    for namespace, name in _scan(entry.data)
                ]
        return findings


def _ref_commits(repo: pygit2.Repository) -> Iterator[pygit2.Oid]:
    for name in repo.references:
        try:
            commit = repo.references[name].peel(pygit2.Commit)
        except (pygit2.InvalidSpecError, ValueError, KeyError):
            continue  # a ref to a tree or blob, or a dangling symbolic ref
        yield commit.id


def _scan(data: bytes) -> list[tuple[str, str]]:
    # Cheap test first: most blobs never mention a Secret.
    if b"Secret" not in data or b"\0" in data:
        return []
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return []
    return plaintext_secrets(text)


def _objects(data: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(data, dict):
        return
    if data.get("kind") == "List" and isinstance(data.get("items"), list):
        for item in data["items"]:
            yield from _objects(item)
    elif data.get("kind") == "Secret":
        yield data


def _has_values(secret: dict[str, Any]) -> bool:
    return any(isinstance(secret.get(f), dict) and secret[f] for f in ("data", "stringData"))


def _under(path: str, prefix: str) -> bool:
    return not prefix or path == prefix or path.startswith(f"{prefix}/")
