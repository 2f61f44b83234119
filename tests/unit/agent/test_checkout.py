"""The agent's clone following a branch of a real (bare) git remote."""

from __future__ import annotations

import gc
import shutil
import subprocess
from pathlib import Path, PurePosixPath

import pygit2
import pytest
from pygit2.enums import ConfigLevel

from hakobu.agent.checkout import Checkout
from hakobu.errors import InvalidInput, OperationFailed
from hakobu.releases.rollback import RollbackRequest


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


def _held_pack_files(clone: Path) -> set[str]:
    """The files of the clone's object packs this process has open or mapped."""
    pack = str((clone / ".git" / "objects" / "pack").resolve())
    held = {line.split()[-1] for line in Path("/proc/self/maps").read_text().splitlines()}
    for fd in Path("/proc/self/fd").iterdir():
        try:
            held.add(str(fd.readlink()))
        except OSError:  # closed since it was listed
            continue
    return {path for path in held if path.startswith(pack)}


def test_the_clone_is_let_go_of_between_operations(tmp_path: Path) -> None:
    # A controller holds a clone per Delivery: one kept open keeps its pack files mapped
    # (and its index and object cache allocated) from one pass to the next.
    remote = Remote(tmp_path)
    commit = remote.push({f"generated/dev/web/{n}.yaml": f"n: {n}\n" for n in range(50)}, "all")
    clone = tmp_path / "clone"
    Checkout(str(remote.bare), "main", clone).fetch()
    assert list((clone / ".git" / "objects" / "pack").glob("*.pack"))
    # As after a restart: nothing of the clone in memory, its objects read from the pack.
    checkout = Checkout(str(remote.bare), "main", clone)
    gc.disable()  # what is let go of must not wait for the cyclic collector
    try:
        assert checkout.fetch() == commit
        assert checkout.tree_id(commit, PurePosixPath("generated/dev")) is not None
        assert _held_pack_files(clone) == set()
    finally:
        gc.enable()


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
    # A remote that goes away while the agent runs is a failure to retry, not bad input.
    gone = Remote(tmp_path / "gone")
    checkout = Checkout(str(gone.bare), "main", tmp_path / "b")
    shutil.rmtree(gone.bare)
    with pytest.raises(OperationFailed, match="cannot fetch branch 'main'"):
        checkout.fetch()


def rollback_to(target: str) -> RollbackRequest:
    return RollbackRequest(
        output="generated", apps="apps", env="dev", to=target, reason="web is Degraded"
    )


def test_a_rollback_is_committed_on_the_fetched_commit_and_pushed(tmp_path: Path) -> None:
    remote = Remote(tmp_path)
    good = remote.push({"generated/dev/web/a.yaml": "a: 1\n"}, "good")
    bad = remote.push({"generated/dev/web/a.yaml": "a: 2\n"}, "bad")
    checkout = Checkout(str(remote.bare), "main", tmp_path / "clone")
    checkout.fetch()

    rollback = checkout.commit_rollback(rollback_to(good))
    checkout.push(rollback)

    assert git(remote.bare, "rev-parse", "main") == rollback
    assert git(remote.bare, "rev-parse", f"{rollback}^") == bad
    assert git(remote.bare, "show", f"{rollback}:generated/dev/web/a.yaml") == "a: 1"
    assert "Why: web is Degraded" in git(remote.bare, "log", "-1", "--format=%B", rollback)
    assert checkout.fetch() == rollback


def test_a_push_after_someone_else_pushed_is_refused_not_forced(tmp_path: Path) -> None:
    remote = Remote(tmp_path)
    good = remote.push({"generated/dev/web/a.yaml": "a: 1\n"}, "good")
    remote.push({"generated/dev/web/a.yaml": "a: 2\n"}, "bad")
    checkout = Checkout(str(remote.bare), "main", tmp_path / "clone")
    checkout.fetch()
    rollback = checkout.commit_rollback(rollback_to(good))
    theirs = remote.push({"generated/dev/web/a.yaml": "a: 3\n"}, "a fix")

    with pytest.raises(OperationFailed, match="was refused") as refused:
        checkout.push(rollback)

    assert "never force-pushes" in str(refused.value)
    assert git(remote.bare, "rev-parse", "main") == theirs
    assert checkout.fetch() == theirs
    assert (tmp_path / "clone" / "generated/dev/web/a.yaml").read_text() == "a: 3\n"


def test_without_a_git_identity_the_rollback_is_by_hakobu(tmp_path: Path) -> None:
    remote = Remote(tmp_path)
    good = remote.push({"generated/dev/web/a.yaml": "a: 1\n"}, "good")
    remote.push({"generated/dev/web/a.yaml": "a: 2\n"}, "bad")
    levels = (ConfigLevel.GLOBAL, ConfigLevel.XDG, ConfigLevel.SYSTEM)
    saved = {level: pygit2.settings.search_path[level] for level in levels}
    nowhere = tmp_path / "no-config"
    nowhere.mkdir()
    try:
        for level in levels:
            pygit2.settings.search_path[level] = str(nowhere)
        # Opened only now, so the clone's configuration is read without the user's.
        checkout = Checkout(str(remote.bare), "main", tmp_path / "clone")
        checkout.fetch()
        rollback = checkout.commit_rollback(rollback_to(good))
    finally:
        for level, path in saved.items():
            pygit2.settings.search_path[level] = path
    author = git(tmp_path / "clone", "log", "-1", "--format=%an <%ae>", rollback)
    assert author == "hakobu agent <hakobu-agent@localhost>"
