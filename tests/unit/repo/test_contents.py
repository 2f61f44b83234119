"""What a repository holds, as a scan reads it: tracked files, then each blob of the history."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hakobu.errors import InvalidInput
from hakobu.repo.contents import Content, repository_contents


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def test_tracked_files_are_read_without_following_links(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("outside\n")
    root = tmp_path / "repo"
    (root / "apps").mkdir(parents=True)
    (root / "apps/a.yaml").write_text("a\n")
    (root / "apps/link.yaml").symlink_to(outside)
    (root / "untracked.yaml").write_text("u\n")
    _git(root, "init", "-q")
    _git(root, "add", "apps")
    assert list(repository_contents(root)) == [
        Content("apps/a.yaml", b"a\n"),
        Content("apps/link.yaml", str(outside).encode()),
    ]


def test_the_history_yields_each_blob_once_at_the_oldest_commit(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q")
    (root / "a.yaml").write_text("same\n")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "one")
    first = _git(root, "rev-parse", "--short", "HEAD")
    (root / "b.yaml").write_text("same\n")
    (root / "a.yaml").unlink()
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "two")
    found = list(repository_contents(root, history=True))
    assert found == [Content("b.yaml", b"same\n"), Content("a.yaml", b"same\n", commit=first)]


def test_a_path_outside_any_repository_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not inside a git repository"):
        repository_contents(tmp_path)
