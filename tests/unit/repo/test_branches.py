"""Tier branches: parsing ``branch:``, moving a tested commit, pushing without force."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pygit2
import pytest

from hakobu.errors import InvalidInput, OperationFailed
from hakobu.model.source import SourceError
from hakobu.repo.branches import (
    FAST_FORWARD,
    MERGE,
    UP_TO_DATE,
    advance,
    branch_tip,
    push,
    tier_branches,
    undo,
)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "ci@example.com")
    git(root, "config", "user.name", "CI")
    (root / "a").write_text("1\n")
    git(root, "add", "a")
    git(root, "commit", "-q", "-m", "one")
    git(root, "branch", "tier-1")
    return root


def commit(root: Path, name: str, text: str) -> str:
    (root / name).write_text(text)
    git(root, "add", name)
    git(root, "commit", "-q", "-m", f"{name}: {text.strip()}")
    return git(root, "rev-parse", "HEAD")


def test_tier_branches_are_read_from_the_project_file(tmp_path: Path) -> None:
    file = tmp_path / "hakobu.yaml"
    file.write_text(
        "environments:\n  tier-0: {namespace: a, branch: main}\n"
        "  tier-1: {namespace: b, branch: release/tier-1}\n  dev: {namespace: c}\n"
    )
    assert tier_branches(file) == {"tier-0": "main", "tier-1": "release/tier-1"}

    file.write_text("environments:\n  tier-0: {namespace: a, branch: 'bad..name'}\n")
    with pytest.raises(SourceError, match="expected a git branch name"):
        tier_branches(file)
    file.write_text("environments:\n  a: {branch: main}\n  b: {branch: main}\n")
    with pytest.raises(SourceError, match="tracked by another environment"):
        tier_branches(file)


def test_a_tier_branch_fast_forwards_then_is_up_to_date(repo: Path) -> None:
    tested = commit(repo, "a", "2\n")
    r = pygit2.Repository(str(repo))

    moved = advance(r, branch_tip(r, "main"), "tier-1", "promote")

    assert moved.how == FAST_FORWARD and moved.after == tested
    assert git(repo, "rev-parse", "tier-1") == tested
    assert advance(r, branch_tip(r, "main"), "tier-1", "promote").how == UP_TO_DATE
    # Commits on the first tier alone never move the next one.
    commit(repo, "a", "3\n")
    assert git(repo, "rev-parse", "tier-1") == tested


def test_diverged_tiers_get_a_merge_commit(repo: Path) -> None:
    git(repo, "checkout", "-q", "tier-1")
    hotfix = commit(repo, "b", "hotfix\n")
    git(repo, "checkout", "-q", "main")
    tested = commit(repo, "a", "2\n")
    r = pygit2.Repository(str(repo))

    moved = advance(r, branch_tip(r, "main"), "tier-1", "promote tier-0 → tier-1")

    assert moved.how == MERGE
    assert git(repo, "rev-parse", "tier-1^1") == hotfix
    assert git(repo, "rev-parse", "tier-1^2") == tested
    assert git(repo, "show", "tier-1:a") == "2"
    assert git(repo, "show", "tier-1:b") == "hotfix"


def test_conflicting_tiers_are_refused(repo: Path) -> None:
    git(repo, "checkout", "-q", "tier-1")
    before = commit(repo, "a", "tier-1 only\n")
    git(repo, "checkout", "-q", "main")
    commit(repo, "a", "2\n")
    r = pygit2.Repository(str(repo))

    with pytest.raises(OperationFailed, match="changed the same files differently: a"):
        advance(r, branch_tip(r, "main"), "tier-1", "promote")
    assert git(repo, "rev-parse", "tier-1") == before


def test_the_checked_out_tier_follows_and_must_be_clean(repo: Path) -> None:
    tested = commit(repo, "a", "2\n")
    git(repo, "checkout", "-q", "tier-1")
    r = pygit2.Repository(str(repo))
    (repo / "a").write_text("local\n")
    with pytest.raises(InvalidInput, match="checked out and has local changes"):
        advance(r, branch_tip(r, "main"), "tier-1", "promote")
    git(repo, "checkout", "--", "a")

    advance(r, branch_tip(r, "main"), "tier-1", "promote")

    assert git(repo, "rev-parse", "HEAD") == tested
    assert (repo / "a").read_text() == "2\n"
    assert git(repo, "status", "--porcelain") == ""


def test_push_is_never_forced(repo: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "origin", "main", "tier-1")
    r = pygit2.Repository(str(repo))

    tested = commit(repo, "a", "2\n")
    push(r, "origin", "main")
    push(r, "origin", advance(r, branch_tip(r, "main"), "tier-1", "promote").branch)
    assert git(remote, "rev-parse", "tier-1") == tested

    # Someone else moved the remote's tier-1; a local promotion must not overwrite it.
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", "-b", "tier-1", str(remote), str(other))
    git(other, "config", "user.email", "o@example.com")
    git(other, "config", "user.name", "O")
    theirs = commit(other, "c", "theirs\n")
    git(other, "push", "-q", "origin", "tier-1")
    commit(repo, "a", "3\n")
    moved = advance(r, branch_tip(r, "main"), "tier-1", "promote")

    with pytest.raises(OperationFailed, match="was refused") as refused:
        push(r, "origin", "tier-1")
    assert "never force-pushes" in str(refused.value)
    undo(r, moved)
    assert git(repo, "rev-parse", "tier-1") == tested
    assert git(remote, "rev-parse", "tier-1") == theirs

    with pytest.raises(InvalidInput, match="no git remote named 'upstream'"):
        push(r, "upstream", "tier-1")
