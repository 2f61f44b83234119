"""Tier branches: an environment that tracks its own branch, moved only by promotion.

::

    environments:
      tier-0: {namespace: shop-t0, branch: main}
      tier-1: {namespace: shop-t1, branch: tier-1}

Promoting ``tier-0`` to ``tier-1`` moves the commit tier-0 was tested at onto tier-1's
branch: a fast-forward when tier-1 has nothing of its own, else a merge commit (never a
rebase: what ran in tier-0 is what arrives). A push to a remote is never forced; a remote
that moved on is an error to resolve by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pygit2

from hakobu.errors import InvalidInput, OperationFailed
from hakobu.model.source import load_one
from hakobu.repo.changes import signature
from hakobu.repo.revisions import changed_locally

FAST_FORWARD = "fast-forward"
MERGE = "merge"
UP_TO_DATE = "up-to-date"
CREATED = "created"


@dataclass(frozen=True)
class Advance:
    branch: str
    before: str | None
    after: str
    how: str


def tier_branches(project_file: Path) -> dict[str, str]:
    """Environment → branch, for the environments of ``hakobu.yaml`` that name one."""
    doc = load_one(project_file)
    data = doc.data if isinstance(doc.data, dict) else {}
    environments = data.get("environments")
    branches: dict[str, str] = {}
    if not isinstance(environments, dict):
        return branches
    for env, settings in environments.items():
        if not isinstance(settings, dict) or "branch" not in settings:
            continue
        branch = settings["branch"]
        if not isinstance(branch, str) or not pygit2.reference_is_valid_name(
            f"refs/heads/{branch}"
        ):
            raise doc.error(
                ("environments", env, "branch"),
                f"expected a git branch name, found {branch!r}",
            )
        if branch in branches.values():
            raise doc.error(
                ("environments", env, "branch"),
                f"branch {branch!r} is tracked by another environment too",
                hint="give each environment its own branch",
            )
        branches[str(env)] = branch
    return branches


def checked_out_branch(repo: pygit2.Repository) -> str | None:
    """The branch HEAD is on; None when HEAD is detached, or on a branch with no commit."""
    if repo.head_is_unborn or repo.head_is_detached:
        return None
    return repo.head.name.removeprefix("refs/heads/")


def branch_exists(repo: pygit2.Repository, branch: str) -> bool:
    return repo.references.get(f"refs/heads/{branch}") is not None


def branch_tip(repo: pygit2.Repository, branch: str) -> pygit2.Commit:
    ref = repo.references.get(f"refs/heads/{branch}")
    if ref is None:
        raise InvalidInput(
            f"there is no branch {branch!r} in {repo.workdir}",
            hint=f"create it (`git branch {branch}`) or fix `branch:` in hakobu.yaml",
        )
    return ref.peel(pygit2.Commit)


def fetched_branch_tip(repo: pygit2.Repository, branch: str) -> pygit2.Commit:
    """The tip of ``branch``: the local one, else what a remote of that name holds as last
    fetched (a branch pushed by someone else, never checked out here)."""
    ref = repo.references.get(f"refs/heads/{branch}")
    if ref is None:
        for remote in sorted(filter(None, repo.remotes.names())):
            ref = repo.references.get(f"refs/remotes/{remote}/{branch}")
            if ref is not None:
                break
    if ref is None:
        raise InvalidInput(
            f"there is no branch {branch!r} in {repo.workdir}, local or fetched",
            hint="push the branch, then `git fetch`",
        )
    return ref.peel(pygit2.Commit)


def advance(repo: pygit2.Repository, source: pygit2.Commit, branch: str, message: str) -> Advance:
    """Bring ``source`` onto ``branch``; the work tree follows when it is checked out."""
    name = f"refs/heads/{branch}"
    ref = repo.references.get(name)
    if ref is None:
        repo.references.create(name, source.id)
        return Advance(branch, None, str(source.id), CREATED)
    current = ref.peel(pygit2.Commit)
    if current.id == source.id or repo.descendant_of(current.id, source.id):
        return Advance(branch, str(current.id), str(current.id), UP_TO_DATE)
    checked_out = not repo.head_is_detached and repo.head.name == name
    if checked_out:
        dirty = changed_locally(repo, [""])
        if dirty:
            raise InvalidInput(
                f"branch {branch!r} is checked out and has local changes: " + ", ".join(dirty[:5]),
                hint="commit or discard them, or check out another branch, then promote",
            )
    if repo.descendant_of(source.id, current.id):
        ref.set_target(source.id, f"promote: fast-forward to {source.short_id}")
        if checked_out:
            _follow(repo, name)
        return Advance(branch, str(current.id), str(source.id), FAST_FORWARD)
    index = repo.merge_commits(current, source)
    if index.conflicts is not None:
        paths = sorted({e.path for entries in index.conflicts for e in entries if e is not None})
        raise OperationFailed(
            f"{branch!r} and {source.short_id} changed the same files differently: "
            + ", ".join(paths[:5]),
            hint=f"merge by hand (`git checkout {branch} && git merge {source.short_id}`), "
            "sync, and promote again",
        )
    tree = index.write_tree(repo)
    author = signature(repo)
    merged = repo.create_commit(name, author, author, message, tree, [current.id, source.id])
    if checked_out:
        _follow(repo, name)
    return Advance(branch, str(current.id), str(merged), MERGE)


def undo(repo: pygit2.Repository, moved: Advance) -> None:
    """Put the branch back where ``advance`` found it (after a refused push)."""
    name = f"refs/heads/{moved.branch}"
    if moved.how == UP_TO_DATE:
        return
    if moved.before is None:
        repo.references.delete(name)
        return
    repo.references[name].set_target(moved.before, "promote: push refused, branch restored")
    if not repo.head_is_detached and repo.head.name == name:
        _follow(repo, name)


def _follow(repo: pygit2.Repository, name: str) -> None:
    # The branch is checked out and was clean (checked before it moved): the work tree and
    # the index simply become its new commit.
    repo.checkout(name, strategy=pygit2.enums.CheckoutStrategy.FORCE)


def push(repo: pygit2.Repository, remote_name: str, branch: str) -> None:
    """Push ``branch`` to the same name on ``remote_name``; never forced."""
    try:
        remote = repo.remotes[remote_name]
    except KeyError:
        known = ", ".join(r.name or "" for r in repo.remotes) or "none"
        raise InvalidInput(
            f"no git remote named {remote_name!r} (remotes: {known})",
            hint="add it with `git remote add` or name another with --push",
        ) from None
    try:
        remote.push([f"refs/heads/{branch}:refs/heads/{branch}"])
    except pygit2.GitError as e:
        raise OperationFailed(
            f"pushing {branch!r} to {remote_name!r} was refused: {e}",
            hint=f"the remote's {branch} has commits this repository lacks; fetch and merge "
            f"them (`git pull {remote_name} {branch}`), then promote again. hakobu never "
            "force-pushes a tier branch",
        ) from e
