"""`hakobu init` refuses to write where it cannot, or over or through what is there."""

from __future__ import annotations

from pathlib import Path

from tests.hostile.harness import assert_refused, run_hakobu, snapshot


def test_init_into_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("mine\n")
    run = run_hakobu("init", "taken", cwd=tmp_path)
    assert_refused(run, expect="taken exists and is not a directory")
    assert (tmp_path / "taken").read_text() == "mine\n"


def test_init_where_nothing_can_be_written_is_refused(tmp_path: Path) -> None:
    # Even root cannot make directories in /proc.
    run = run_hakobu("init", "/proc/hakobu-example", cwd=tmp_path)
    assert_refused(run, expect="cannot write the example project into /proc/hakobu-example")


def test_init_never_writes_through_a_link_or_over_a_file(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    project = tmp_path / "project"
    (project / "apps").mkdir(parents=True)
    (project / "apps/web.yaml").symlink_to(outside / "planted.yaml")  # dangling
    before = snapshot(tmp_path)
    assert_refused(run_hakobu("init", "project", cwd=tmp_path), expect="would overwrite")
    assert snapshot(tmp_path) == before
    (project / "apps/web.yaml").unlink()
    (project / "apps").rmdir()
    (project / "apps").symlink_to(outside)
    before = snapshot(tmp_path)
    assert_refused(run_hakobu("init", "project", cwd=tmp_path), expect="would overwrite")
    assert snapshot(tmp_path) == before
    assert list(outside.iterdir()) == []


def test_init_into_a_new_directory_works(tmp_path: Path) -> None:
    run = run_hakobu("init", "a/b", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "a/b/hakobu.yaml").is_file()
    assert not (tmp_path / "a/b/.gitignore").exists()
