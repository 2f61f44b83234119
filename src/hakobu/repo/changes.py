"""Commit new content for a few paths, built from a parent commit's tree plus only those.

Like ``commit.py`` this never sweeps unrelated staged work into a commit; unlike it, the
content comes from memory (another revision, a render, an edited file), so a commit can be
made on a branch that is not checked out without touching the work tree.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pygit2

from hakobu.errors import InvalidInput, OperationFailed
from hakobu.repo.revisions import LINK_MODE, Files, under


@dataclass(frozen=True)
class Replacement:
    """``path`` (a file or a directory) holds exactly ``files`` afterwards; none: removed."""

    path: str
    files: Files


def signature(repo: pygit2.Repository) -> pygit2.Signature:
    try:
        return repo.default_signature
    except KeyError:
        raise InvalidInput(
            "git does not know who you are (user.name / user.email are not set)",
            hint='run `git config user.name "…"` and `git config user.email "…"`',
        ) from None


def build_tree(
    repo: pygit2.Repository, parent: pygit2.Commit, replacements: Sequence[Replacement]
) -> pygit2.Oid:
    index = pygit2.Index()
    index.read_tree(parent.tree)
    paths = [r.path for r in replacements]
    for entry in list(index):
        if under(entry.path, paths):
            index.remove(entry.path)
    for replacement in replacements:
        for path, file in sorted(replacement.files.items()):
            blob = repo.create_blob(file.data)
            index.add(pygit2.IndexEntry(path, blob, pygit2.enums.FileMode(file.mode)))
    return index.write_tree(repo)


def commit_replacements(
    repo: pygit2.Repository,
    parent: pygit2.Commit,
    replacements: Sequence[Replacement],
    message: str,
    *,
    ref: str,
) -> str | None:
    """Commit on ``ref`` (``HEAD`` or ``refs/heads/<name>``, created when missing) whose
    only parent is ``parent``; None when the tree would not change."""
    author = signature(repo)
    tree = build_tree(repo, parent, replacements)
    if tree == parent.tree.id:
        return None
    try:
        commit = repo.create_commit(ref, author, author, message, tree, [parent.id])
    except pygit2.GitError as e:
        raise OperationFailed(
            f"git commit on {ref} failed: {e}",
            hint="the branch may have moved meanwhile; run the command again",
        ) from e
    return str(commit)


def update_worktree(repo: pygit2.Repository, replacements: Sequence[Replacement]) -> None:
    """Make the work tree and the index show the replaced paths as committed.

    Callers check beforehand that these paths had no local changes, so nothing of the
    user's is overwritten; whatever else is staged stays staged.
    """
    workdir = Path(repo.workdir)
    for replacement in replacements:
        target = workdir / replacement.path
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        for path, file in sorted(replacement.files.items()):
            destination = workdir / path
            destination.parent.mkdir(parents=True, exist_ok=True)
            if file.mode == LINK_MODE:
                destination.symlink_to(file.data.decode())
            else:
                destination.write_bytes(file.data)
                if file.mode == int(pygit2.enums.FileMode.BLOB_EXECUTABLE):
                    destination.chmod(0o755)
    head_tree = repo.head.peel(pygit2.Commit).tree
    paths = [r.path for r in replacements]
    repo.index.read()
    for entry in list(repo.index):
        if under(entry.path, paths):
            repo.index.remove(entry.path)
    fresh = pygit2.Index()
    fresh.read_tree(head_tree)
    for entry in fresh:
        if under(entry.path, paths):
            repo.index.add(entry)
    repo.index.write()
