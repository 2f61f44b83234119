"""The commits that changed a path (an environment's output, one app of it), newest first.

A commit changed the path when the path's tree differs from its first parent's: for a
merge that is what the merge brought to the branch, which is what a tier branch received.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import pygit2

from hakobu.repo.revisions import entry_id


@dataclass(frozen=True)
class Change:
    id: str
    author: str
    email: str
    date: str  # ISO 8601 in the author's time zone
    subject: str
    # The first-level directories under the path that differ: for generated/<env>, apps.
    apps: tuple[str, ...]

    @property
    def short(self) -> str:
        return self.id[:12]


def changes(
    repo: pygit2.Repository, start: pygit2.Commit, path: str, *, limit: int | None = None
) -> list[Change]:
    found: list[Change] = []
    for change in _walk(repo, start, path):
        if limit is not None and len(found) >= limit:
            break
        found.append(change)
    return found


def last_change(repo: pygit2.Repository, start: pygit2.Commit, path: str) -> Change | None:
    return next(_walk(repo, start, path), None)


def first_parent(repo: pygit2.Repository, commit_id: str) -> pygit2.Commit | None:
    """The commit ``commit_id`` was made on top of (its first parent), or None for a root."""
    parents = repo[commit_id].peel(pygit2.Commit).parents
    return parents[0] if parents else None


def contains(repo: pygit2.Repository, commit: pygit2.Commit, other: str) -> bool:
    """Whether the history of ``commit`` includes the commit ``other`` (or is it)."""
    return str(commit.id) == other or repo.descendant_of(commit.id, other)


def _walk(repo: pygit2.Repository, start: pygit2.Commit, path: str) -> Iterator[Change]:
    walker = repo.walk(start.id, pygit2.enums.SortMode.TOPOLOGICAL | pygit2.enums.SortMode.TIME)
    walker.simplify_first_parent()
    for commit in walker:
        before = commit.parents[0].tree if commit.parents else None
        old = entry_id(before, path) if before is not None else None
        new = entry_id(commit.tree, path)
        if old == new:
            continue
        yield Change(
            id=str(commit.id),
            author=commit.author.name,
            email=commit.author.email,
            date=_date(commit),
            subject=commit.message.split("\n", 1)[0],
            apps=_changed_apps(repo, old, new),
        )


def _changed_apps(
    repo: pygit2.Repository, old: pygit2.Oid | None, new: pygit2.Oid | None
) -> tuple[str, ...]:
    old_entries = _entries(repo, old)
    new_entries = _entries(repo, new)
    names = set(old_entries) | set(new_entries)
    return tuple(sorted(n for n in names if old_entries.get(n) != new_entries.get(n)))


def _entries(repo: pygit2.Repository, oid: pygit2.Oid | None) -> dict[str, pygit2.Oid]:
    if oid is None:
        return {}
    tree = repo[oid]
    if not isinstance(tree, pygit2.Tree):
        return {}
    return {entry.name or "": entry.id for entry in tree}


def _date(commit: pygit2.Commit) -> str:
    zone = timezone(timedelta(minutes=commit.author.offset))
    return datetime.fromtimestamp(commit.author.time, UTC).astimezone(zone).isoformat()
