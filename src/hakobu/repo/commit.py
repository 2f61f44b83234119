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
    specs = [Path(p).resolve().relative_to(workdir).as_posix() for p in paths]
    try:
        signature = repo.default_signature
    except KeyError:
        raise InvalidInput(
            "git does not know who you are (user.name / user.email are not set)",
            hint='run `git config user.name "…"` and `git config user.email "…"`',
        ) from None
    head_tree = None if repo.head_is_unborn else repo.head.peel(pygit2.Commit).tree
    # HEAD's tree with only these paths taken from the work tree, so unrelated staged work
    # is not swept into a commit that claims to be a render; and only the trees on the way
    # to a changed path are written again, not every tree of an environment of thousands.
    tree = _replaced(repo, head_tree, [tuple(spec.split("/")) for spec in specs], workdir)
    if tree is None:
        tree = repo.TreeBuilder().write()
    if head_tree is not None and tree == head_tree.id:
        return None
    parents = [] if repo.head_is_unborn else [repo.head.target]
    try:
        commit = repo.create_commit("HEAD", signature, signature, message, tree, parents)
    except pygit2.GitError as e:
        raise OperationFailed(f"git commit failed: {e}") from e
    # Keep the on-disk index in step for these paths, so `git status` shows them clean;
    # whatever else the user staged stays staged.
    index = repo.index
    # Not forced: the index was just loaded, and is read again only if it moved since.
    index.read(False)
    for spec in specs:
        _drop(index, spec)
        for path, blob in _blobs_under(repo, tree, spec):
            index.add(pygit2.IndexEntry(path, blob, pygit2.enums.FileMode.BLOB))
    index.write()
    return str(commit)


def _replaced(
    repo: pygit2.Repository,
    tree: pygit2.Tree | None,
    specs: list[tuple[str, ...]],
    directory: Path,
) -> pygit2.Oid | None:
    """The id of ``tree`` (None: an empty one) with each of ``specs`` (paths below it,
    split) holding what ``directory``'s work tree holds there; None when nothing is left."""
    builder = repo.TreeBuilder(tree) if tree is not None else repo.TreeBuilder()
    below: dict[str, list[tuple[str, ...]]] = {}
    for parts in specs:
        below.setdefault(parts[0], []).append(parts[1:])
    for name, rest in below.items():
        if () in rest:
            found = _from_disk(repo, directory / name)
        else:
            old = tree[name] if tree is not None and name in tree else None
            subtree = old if isinstance(old, pygit2.Tree) else None
            oid = _replaced(repo, subtree, rest, directory / name)
            found = None if oid is None else (oid, pygit2.enums.FileMode.TREE)
        if builder.get(name) is not None:
            builder.remove(name)
        if found is not None:
            builder.insert(name, *found)
    return builder.write() if len(builder) else None


def _from_disk(
    repo: pygit2.Repository, path: Path
) -> tuple[pygit2.Oid, pygit2.enums.FileMode] | None:
    """The blob of the file at ``path``, or the tree of the files below the directory
    there (links to directories not followed); None when there is nothing."""
    if path.is_file():
        return repo.create_blob(path.read_bytes()), pygit2.enums.FileMode.BLOB
    if not path.is_dir() or path.is_symlink():
        return None
    builder = repo.TreeBuilder()
    for child in sorted(path.iterdir()):
        found = _from_disk(repo, child)
        if found is not None:
            builder.insert(child.name, *found)
    return (builder.write(), pygit2.enums.FileMode.TREE) if len(builder) else None


def _drop(index: pygit2.Index, spec: str) -> None:
    """Remove ``spec`` (a file or a directory) from ``index``, in libgit2 rather than by
    walking every entry: an environment's output holds tens of thousands of files."""
    index.remove_directory(spec)
    if spec in index:
        index.remove(spec)


def _blobs_under(
    repo: pygit2.Repository, tree: pygit2.Oid, spec: str
) -> list[tuple[str, pygit2.Oid]]:
    """The files of ``tree`` at or under ``spec``, with their blobs."""
    try:
        found = repo[tree].peel(pygit2.Tree) / spec
    except KeyError:
        return []
    if isinstance(found, pygit2.Blob):
        return [(spec, found.id)]
    prefix = spec.rstrip("/") + "/"
    return [(prefix + path, blob) for path, blob in _blobs(found)]


def _blobs(tree: pygit2.Tree) -> list[tuple[str, pygit2.Oid]]:
    found: list[tuple[str, pygit2.Oid]] = []
    for entry in tree:
        if isinstance(entry, pygit2.Tree):
            found += [(f"{entry.name}/{below}", blob) for below, blob in _blobs(entry)]
        else:
            found.append((str(entry.name), entry.id))
    return found
