"""``commit_paths`` takes exactly the given paths from the work tree into a commit on HEAD:
changed, new (in new directories too) and removed files and whole directories, while other
staged work stays staged and out of the commit."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hakobu.repo.commit import commit_paths, open_repository


def git(root: Path, *words: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *words], check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def root(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.name", "t")
    git(tmp_path, "config", "user.email", "t@example.com")
    for path, text in {
        "out/a/x.yaml": "x\n",
        "out/a/b/y.yaml": "y\n",
        "out/gone/z.yaml": "z\n",
        "notes.txt": "notes\n",
    }.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "init")
    return tmp_path


def test_exactly_the_given_paths_are_committed(root: Path) -> None:
    (root / "out/a/b/y.yaml").write_text("y2\n")
    (root / "out/a/x.yaml").unlink()
    (root / "out/new/deep").mkdir(parents=True)
    (root / "out/new/deep/n.yaml").write_text("n\n")
    (root / "out/gone/z.yaml").unlink()
    (root / "out/gone").rmdir()
    # Staged, but not asked for: it stays staged and out of the commit.
    (root / "notes.txt").write_text("staged notes\n")
    git(root, "add", "notes.txt")
    paths = ["out/a/b/y.yaml", "out/a/x.yaml", "out/new", "out/gone"]
    commit = commit_paths(open_repository(root), [root / p for p in paths], "render")
    assert commit == git(root, "rev-parse", "HEAD").strip()
    assert git(root, "ls-tree", "-r", "--name-only", "HEAD").split() == [
        "notes.txt",
        "out/a/b/y.yaml",
        "out/new/deep/n.yaml",
    ]
    assert git(root, "show", "HEAD:out/a/b/y.yaml") == "y2\n"
    assert git(root, "show", "HEAD:notes.txt") == "notes\n"
    # The index agrees with the commit for those paths, and keeps the staged notes.
    assert git(root, "status", "--porcelain") == "M  notes.txt\n"


def test_a_directory_emptied_of_every_file_leaves_the_tree(root: Path) -> None:
    (root / "out/a/b/y.yaml").unlink()
    commit_paths(open_repository(root), [root / "out/a/b/y.yaml"], "render")
    assert "out/a/b" not in git(root, "ls-tree", "-r", "-t", "--name-only", "HEAD").split()
    assert git(root, "status", "--porcelain") == ""


def test_nothing_changed_makes_no_commit(root: Path) -> None:
    head = git(root, "rev-parse", "HEAD")
    assert commit_paths(open_repository(root), [root / "out/a", root / "notes.txt"], "x") is None
    assert git(root, "rev-parse", "HEAD") == head


def test_the_first_commit_of_a_repository(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.name", "t")
    git(tmp_path, "config", "user.email", "t@example.com")
    (tmp_path / "out/a").mkdir(parents=True)
    (tmp_path / "out/a/x.yaml").write_text("x\n")
    (tmp_path / "other.txt").write_text("not asked for\n")
    commit_paths(open_repository(tmp_path), [tmp_path / "out"], "first")
    assert git(tmp_path, "ls-tree", "-r", "--name-only", "HEAD").split() == ["out/a/x.yaml"]
