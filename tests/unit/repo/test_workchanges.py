"""The work tree's changes, asked of git, without ever writing the repository."""

from __future__ import annotations

import os
from pathlib import Path

from hakobu.repo.commit import open_repository
from hakobu.repo.workchanges import ChangedPaths
from tests.unit.repo.test_commit import git


def test_asking_leaves_the_index_alone_for_writers(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "out").mkdir()
    (tmp_path / "out/a.yaml").write_text("a\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init")
    # The same content with new times: a status that may refresh the index writes it.
    stat = (tmp_path / "out/a.yaml").stat()
    os.utime(tmp_path / "out/a.yaml", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**10))
    (tmp_path / "out/b.yaml").write_text("b\n")
    index = tmp_path / ".git/index"
    before = index.stat().st_mtime_ns, index.read_bytes()
    with ChangedPaths(open_repository(tmp_path), ["out"]) as asked:
        assert asked.result() == {"out/b.yaml"}
    assert (index.stat().st_mtime_ns, index.read_bytes()) == before
