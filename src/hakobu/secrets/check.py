"""Find plaintext Secrets in a git repository: in its tracked files, and in its history.

A finding is a ``kind: Secret`` document (alone, or an item of a ``List``) with a non-empty
``data`` or ``stringData``: values anyone with the repository can read. SealedSecrets are
what belongs in git instead. The history scan reads every blob reachable from any ref once,
however many commits hold it, and reports it at the oldest commit and path it is found at,
so a secret committed and later deleted still shows — it stays readable until the history
is rewritten and the value rotated. Text that is not YAML (templates) cannot be judged and
is passed over.

Whatever the repository holds, the scan reads only regular files of the work tree, never
through a link (a FIFO, a device or a link out of the repository is judged by the content
git has staged for that path instead), and no file or blob over ``MAX_FILE_BYTES``: those
are reported as not scanned.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pygit2
import yaml
from pygit2.enums import SortMode

from hakobu.errors import InvalidInput
from hakobu.model.files import MAX_FILE_BYTES, FileRefused, read_bytes

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
_TOO_LARGE = f"is larger than {MAX_FILE_BYTES >> 20} MiB, the most hakobu reads from one file"


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


def check_repository(
    path: Path, *, history: bool = False, on_skip: OnSkip = lambda _: None
) -> list[Finding]:
    """Findings in the tracked files under ``path`` and, with ``history``, in every commit.

    ``on_skip`` hears of each file or blob too large to be scanned.
    """
    repo, prefix = _open(path)
    findings = list(_tracked(repo, prefix, on_skip))
    if history:
        findings += _history(repo, prefix, on_skip)
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
    try:
        relative = path.resolve().relative_to(Path(repo.workdir).resolve())
    except ValueError:
        raise InvalidInput(
            f"{path}: not in the work tree of the repository at {repo.workdir}",
            hint="give a path inside the work tree",
        ) from None
    return repo, "" if str(relative) == "." else relative.as_posix()


def _tracked(repo: pygit2.Repository, prefix: str, on_skip: OnSkip) -> Iterator[Finding]:
    if repo.workdir is None:
        return
    root = Path(repo.workdir)
    for entry in sorted(repo.index, key=lambda e: e.path):
        if not _under(entry.path, prefix) or entry.mode == pygit2.enums.FileMode.COMMIT:
            continue
        try:
            data = _work_tree_content(root, entry.path)
        except FileNotFoundError:
            continue  # deleted from the work tree
        except FileRefused as e:
            on_skip(Skipped(entry.path, e.message.removeprefix(f"{e.path}: ")))
            continue
        except OSError as e:
            on_skip(Skipped(entry.path, f"cannot be read ({e.strerror})"))
            continue
        if data is None:
            data = _staged_content(repo, entry.id, entry.path, on_skip)
        for namespace, name in _scan(data or b""):
            yield Finding(entry.path, "Secret", namespace, name)


def _work_tree_content(root: Path, relative: str) -> bytes | None:
    """The file's content; None when it is not a regular file (a link, a FIFO, a device)
    or when a directory on the way to it is a link."""
    path = root / relative
    if not stat.S_ISREG(os.lstat(path).st_mode):
        return None
    if path.resolve() != root.resolve() / relative:
        return None
    return read_bytes(path)


def _staged_content(
    repo: pygit2.Repository, oid: pygit2.Oid, path: str, on_skip: OnSkip
) -> bytes | None:
    blob = repo.get(oid)
    if not isinstance(blob, pygit2.Blob):
        return None
    if blob.size > MAX_FILE_BYTES:
        on_skip(Skipped(path, _TOO_LARGE))
        return None
    return blob.data


def _history(repo: pygit2.Repository, prefix: str, on_skip: OnSkip) -> list[Finding]:
    walker = repo.walk(None, SortMode.TOPOLOGICAL | SortMode.REVERSE)
    starts = list(_ref_commits(repo))
    for target in starts:
        walker.push(target)
    scan = _HistoryScan(prefix, on_skip)
    return [] if not starts else [f for c in walker for f in scan.tree(c.tree, "", c.short_id)]


class _HistoryScan:
    """Reads each tree and blob of the history once."""

    def __init__(self, prefix: str, on_skip: OnSkip) -> None:
        self.prefix = prefix
        self.on_skip = on_skip
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
                if entry.size > MAX_FILE_BYTES:
                    self.on_skip(Skipped(path, _TOO_LARGE, commit))
                    continue
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


def _under(path: str, prefix: str) -> bool:
    return not prefix or path == prefix or path.startswith(f"{prefix}/")
