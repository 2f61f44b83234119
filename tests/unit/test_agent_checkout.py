"""The agent's clone following a branch of a real (bare) git remote."""

from __future__ import annotations

import subprocess
from pathlib import Path, PurePosixPath

import pytest

from hakobu.agent.checkout import Checkout
from hakobu.errors import InvalidInput, OperationFailed


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


class Remote:
    """A bare repository and a clone that pushes to it."""

    def __init__(self, root: Path) -> None:
        self.bare = root / "remote.git"
        self.work = root / "work"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(self.bare)], check=True)
        self.work.mkdir()
        git(self.work, "init", "-q", "-b", "main")
        git(self.work, "config", "user.email", "ci@example.com")
        git(self.work, "config", "user.name", "CI")
        git(self.work, "remote", "add", "origin", str(self.bare))

    def push(self, files: dict[str, str], message: str) -> str:
        for name, text in files.items():
            path = self.work / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        git(self.work, "add", "-A")
        git(self.work, "commit", "-q", "-m", message)
        git(self.work, "push", "-q", "origin", "main")
        return git(self.work, "rev-parse", "HEAD")


def test_fetch_follows_the_branch_and_checks_each_commit_out(tmp_path: Path) -> None:
    remote = Remote(tmp_path)
    first = remote.push({"generated/dev/web/a.yaml": "a: 1\n"}, "first")
    checkout = Checkout(str(remote.bare), "main", tmp_path / "clone")

    assert checkout.fetch() == first
    assert (tmp_path / "clone" / "generated/dev/web/a.yaml").read_text() == "a: 1\n"

    second = remote.push({"generated/dev/web/a.yaml": "a: 2\n"}, "second")
    assert checkout.fetch() == second
    assert (tmp_path / "clone" / "generated/dev/web/a.yaml").read_text() == "a: 2\n"
    assert checkout.fetch() == second


def test_the_tree_id_changes_only_with_the_environment_directory(tmp_path: Path) -> None:
    remote = Remote(tmp_path)
    first = remote.push(
        {"generated/dev/web/a.yaml": "a: 1\n", "generated/prod/web/a.yaml": "a: 1\n"}, "both"
    )
    checkout = Checkout(str(remote.bare), "main", tmp_path / "clone")
    checkout.fetch()
    other = remote.push({"generated/prod/web/a.yaml": "a: 2\n"}, "prod only")
    checkout.fetch()
    changed = remote.push({"generated/dev/web/a.yaml": "a: 3\n"}, "dev")
    checkout.fetch()
    dev = PurePosixPath("generated/dev")

    assert checkout.tree_id(first, dev) == checkout.tree_id(other, dev)
    assert checkout.tree_id(changed, dev) != checkout.tree_id(other, dev)
    assert checkout.tree_id(changed, PurePosixPath("generated/staging")) is None


def test_an_existing_clone_is_reused_across_restarts(tmp_path: Path) -> None:
    remote = Remote(tmp_path)
    remote.push({"f": "1"}, "one")
    Checkout(str(remote.bare), "main", tmp_path / "clone").fetch()
    latest = remote.push({"f": "2"}, "two")
    assert Checkout(str(remote.bare), "main", tmp_path / "clone").fetch() == latest


def test_a_directory_holding_something_else_is_refused(tmp_path: Path) -> None:
    remote = Remote(tmp_path)
    remote.push({"f": "1"}, "one")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    with pytest.raises(InvalidInput, match="not empty"):
        Checkout(str(remote.bare), "main", busy).fetch()
    assert (busy / "notes.txt").read_text() == "mine"
    other = Remote(tmp_path / "other")
    other.push({"f": "1"}, "one")
    Checkout(str(remote.bare), "main", tmp_path / "clone").fetch()
    with pytest.raises(InvalidInput, match="is a clone of"):
        Checkout(str(other.bare), "main", tmp_path / "clone").fetch()


def test_an_unreachable_remote_or_missing_branch_is_an_operation_failure(tmp_path: Path) -> None:
    remote = Remote(tmp_path)
    remote.push({"f": "1"}, "one")
    with pytest.raises(OperationFailed, match="no branch 'release'"):
        Checkout(str(remote.bare), "release", tmp_path / "a").fetch()
    with pytest.raises(OperationFailed, match="cannot fetch branch 'main'"):
        Checkout(str(tmp_path / "gone.git"), "main", tmp_path / "b").fetch()
