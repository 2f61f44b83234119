"""Bounded reads of input files, and a render's inputs confined to their project."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hakobu.model import files
from hakobu.model.source import SourceError
from hakobu.render.inputs import REAL_FILES, Inputs, unchanged
from hakobu.render.stamps import Stamps


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(files.FileRefused, match="is a FIFO, not a regular file"):
        files.read_bytes(tmp_path / "pipe")
    with pytest.raises(files.FileRefused, match="is a FIFO"):
        REAL_FILES.is_file(tmp_path / "pipe")


def test_a_link_to_a_device_is_refused(tmp_path: Path) -> None:
    (tmp_path / "zero").symlink_to("/dev/zero")
    with pytest.raises(files.FileRefused, match="is a device"):
        files.read_bytes(tmp_path / "zero")


def test_size_and_encoding_are_checked(tmp_path: Path) -> None:
    (tmp_path / "big").write_bytes(b"x" * 11)
    with pytest.raises(files.FileRefused, match="is larger than"):
        files.read_bytes(tmp_path / "big", limit=10)
    (tmp_path / "bad").write_bytes(b"a: 1\nb: \xff\n")
    with pytest.raises(files.FileRefused, match=r"bad:2: not UTF-8 text \(byte 8"):
        files.read_text(tmp_path / "bad")
    (tmp_path / "loop").symlink_to("loop")
    with pytest.raises(files.FileRefused, match="cannot be read"):
        files.read_bytes(tmp_path / "loop")
    with pytest.raises(FileNotFoundError):
        files.read_bytes(tmp_path / "missing")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "apps/web").mkdir(parents=True)
    (root / "apps/web/config.yaml").write_text("a: 1\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside/secret.yaml").write_text("secret: 1\n")
    return root


def test_links_inside_the_project_are_followed(project: Path) -> None:
    (project / "apps/web/alias.yaml").symlink_to("config.yaml")
    (project / "apps/shared").symlink_to("web")
    inputs = Inputs().within(project)
    assert inputs.read_text(project / "apps/web/alias.yaml") == "a: 1\n"
    assert inputs.is_dir(project / "apps/shared")
    assert inputs.list_dir(project / "apps/shared") == ["alias.yaml", "config.yaml"]


@pytest.mark.parametrize(
    ("link", "target", "named"),
    [
        ("apps/web/x.yaml", "/etc/passwd", "apps/web/x.yaml"),
        ("apps/web/x.yaml", "../../../outside/secret.yaml", "apps/web/x.yaml"),
        ("apps/evil", "../../outside", "apps/evil"),
    ],
)
def test_links_out_of_the_project_are_refused_by_name(
    project: Path, link: str, target: str, named: str
) -> None:
    (project / link).symlink_to(target)
    inputs = Inputs().within(project)
    read = project / link if not link.endswith("evil") else project / link / "secret.yaml"
    for probe in (inputs.is_file, inputs.is_dir, inputs.read_bytes):
        with pytest.raises(SourceError, match="outside the project") as refused:
            probe(read)
        assert refused.value.file == str(project / named)
        assert f"is a symbolic link to {target}," in refused.value.message
    assert inputs.recorded == {}


def test_paths_out_of_the_project_without_links_are_refused(project: Path) -> None:
    inputs = Inputs().within(project / "apps")
    with pytest.raises(SourceError, match="is outside the project"):
        inputs.read_bytes(project / "apps/../apps/../outside.yaml")


def test_a_fifo_among_the_inputs_is_refused_and_never_valid(project: Path) -> None:
    inputs = Inputs().within(project)
    inputs.read_bytes(project / "apps/web/config.yaml")
    recorded = inputs.snapshot()
    (project / "apps/web/config.yaml").unlink()
    os.mkfifo(project / "apps/web/config.yaml")
    assert not all(unchanged(item, Stamps()) for item in recorded)
    with pytest.raises(files.FileRefused, match="is a FIFO"):
        inputs.is_dir(project / "apps/web/config.yaml")
