"""Commit changes under given paths, and nothing else, to the current branch."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pygit2

from hakobu.errors import InvalidInput, OperationFailed


def open_repository(path: Path) -> pygit2.Repository:
    found = pygit2.discover_repository(str(path))
    if found is None:
        raise InvalidInput(
            f"{path} is not inside a git repository",
            hint="run `git init` (hakobu commits rendered output to git)",
        )
    return pygit2.Repository(found)


def commit_paths(repo: pygit2.Repository, paths: Sequence[Path], message: str) -> str | None:
    """Stage additions, changes and deletions under ``paths`` and commit them on HEAD.

    Other staged or unstaged changes in the work tree are left out of the commit and left
    as they were. Returns the new commit id, or None when there was nothing to commit.
    """
    workdir = Path(repo.workdir).resolve()
    specs = [str(Path(p).resolve().relative_to(workdir)) for p in paths]
    try:
        signature = repo.default_signature
    except KeyError:
        raise InvalidInput(
            "git does not know who you are (user.name / user.email are not set)",
            hint='run `git config user.name "…"` and `git config user.email "…"`',
        ) from None
    head_tree = None if repo.head_is_unborn else repo.head.peel(pygit2.Commit).tree
    # Build the commit from HEAD's tree plus only these paths, so unrelated staged work is
    # not swept into a commit that claims to be a render.
    index = pygit2.Index()
    if head_tree is not None:
        index.read_tree(head_tree)
    for spec in specs:
        _drop(index, spec)
        base = workdir / spec
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for file in files:
            relative = str(file.relative_to(workdir))
            blob = repo.create_blob(file.read_bytes())
            index.add(pygit2.IndexEntry(relative, blob, pygit2.enums.FileMode.BLOB))
    tree = index.write_tree(repo)
    if head_tree is not None and tree == head_tree.id:
        return None
    parents = [] if repo.head_is_unborn else [repo.head.target]
    try:
        commit = repo.create_commit("HEAD", signature, signature, message, tree, parents)
    except pygit2.GitError as e:
        raise OperationFailed(f"git commit failed: {e}") from e
    # Keep the on-disk index in step for these paths, so `git status` shows them clean;
    # whatever else the user staged stays staged.
    repo.index.read()
    for spec in specs:
        _drop(repo.index, spec)
        for entry in _entries_under(index, tree, repo, spec):
            repo.index.add(entry)
    repo.index.write()
    return str(commit)


def _drop(index: pygit2.Index, spec: str) -> None:
    """Remove ``spec`` (a file or a directory) from ``index``, in libgit2 rather than by
    walking every entry: an environment's output holds tens of thousands of files."""
    index.remove_directory(spec)
    if spec in index:
        index.remove(spec)


def _entries_under(
    index: pygit2.Index, tree: pygit2.Oid, repo: pygit2.Repository, spec: str
) -> list[pygit2.IndexEntry]:
    """The entries of ``index`` (whose tree is ``tree``) at or under ``spec``."""
    try:
        found = repo[tree].peel(pygit2.Tree) / spec
    except KeyError:
        return []
    if isinstance(found, pygit2.Blob):
        return [index[spec]]
    prefix = spec.rstrip("/") + "/"
    return [index[prefix + path] for path in _blob_paths(found)]


def _blob_paths(tree: pygit2.Tree) -> list[str]:
    paths: list[str] = []
    for entry in tree:
        if isinstance(entry, pygit2.Tree):
            paths += [f"{entry.name}/{below}" for below in _blob_paths(entry)]
        else:
            paths.append(str(entry.name))
    return paths
