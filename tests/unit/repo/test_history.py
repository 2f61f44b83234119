"""A path's history and a commit's ancestry, as plain data, on a real repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

from hakobu.repo.commit import open_repository
from hakobu.repo.history import changes, contains, first_parent, last_change
from hakobu.repo.revisions import lookup, path_id


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def _commit(root: Path, path: str, text: str, message: str) -> str:
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    (root / path).write_text(text)
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", message)
    return _git(root, "rev-parse", "HEAD")


def test_ancestry_and_what_a_commit_holds_at_a_path(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    one = _commit(root, "env/dev/web.yaml", "a\n", "one")
    two = _commit(root, "env/prod/web.yaml", "a\n", "two")
    _git(root, "checkout", "-q", "-b", "side", one)
    side = _commit(root, "env/dev/web.yaml", "b\n", "side")
    repo = open_repository(root)

    assert first_parent(repo, one) is None
    parent = first_parent(repo, two)
    assert parent is not None and str(parent.id) == one
    assert contains(repo, lookup(repo, two), one) and contains(repo, lookup(repo, two), two)
    assert not contains(repo, lookup(repo, one), two)
    assert not contains(repo, lookup(repo, side), two)

    # Equal content, equal id; nothing there, None.
    assert path_id(lookup(repo, two), "env/dev") == path_id(lookup(repo, one), "env/dev")
    assert path_id(lookup(repo, side), "env/dev") != path_id(lookup(repo, one), "env/dev")
    assert path_id(lookup(repo, one), "env/prod") is None
    assert path_id(lookup(repo, two), "env/prod/web.yaml") is not None

    dev = changes(repo, lookup(repo, side), "env/dev")
    assert [c.id for c in dev] == [side, one]
    assert dev[0].apps == ("web.yaml",)
    last = last_change(repo, lookup(repo, two), "env/dev")
    assert last is not None and last.id == one
