"""The render cache is only used when every recorded input is unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from hakobu.render.inputs import Input, Inputs, unchanged
from hakobu.render.stamps import Stamps


def still_valid(snapshot: tuple[Input, ...]) -> bool:
    return all(unchanged(item, Stamps()) for item in snapshot)


def test_a_changed_file_invalidates(tmp_path: Path) -> None:
    file = tmp_path / "a.yaml"
    file.write_text("one")
    inputs = Inputs()
    inputs.read_text(file)
    snapshot = inputs.snapshot()
    assert still_valid(snapshot)
    file.write_text("two")
    assert not still_valid(snapshot)


def test_a_new_file_in_a_listed_directory_invalidates(tmp_path: Path) -> None:
    inputs = Inputs()
    inputs.list_dir(tmp_path)
    snapshot = inputs.snapshot()
    (tmp_path / "new.yaml").write_text("x")
    assert not still_valid(snapshot)


def test_a_path_that_appears_invalidates(tmp_path: Path) -> None:
    inputs = Inputs()
    assert not inputs.is_file(tmp_path / "values-production.yaml")
    snapshot = inputs.snapshot()
    assert still_valid(snapshot)
    (tmp_path / "values-production.yaml").write_text("replicas: 2")
    assert not still_valid(snapshot)


def test_a_deleted_file_invalidates(tmp_path: Path) -> None:
    file = tmp_path / "a.yaml"
    file.write_text("one")
    inputs = Inputs()
    inputs.read_bytes(file)
    snapshot = inputs.snapshot()
    file.unlink()
    assert not still_valid(snapshot)


def test_reading_a_missing_file_records_its_absence(tmp_path: Path) -> None:
    inputs = Inputs()
    with pytest.raises(FileNotFoundError):
        inputs.read_bytes(tmp_path / "missing")
    snapshot = inputs.snapshot()
    (tmp_path / "missing").write_text("now here")
    assert not still_valid(snapshot)


def test_a_directory_probed_then_listed_reads_as_it_was_recorded(tmp_path: Path) -> None:
    # A render sees one listing of a directory, the one its record holds, however often
    # it asks: a fleet's thousands of instances are listed once.
    (tmp_path / "a.yaml").write_text("a")
    inputs = Inputs()
    assert inputs.is_dir(tmp_path)
    (tmp_path / "b.yaml").write_text("b")
    assert inputs.list_dir(tmp_path) == ["a.yaml"]
    assert not still_valid(inputs.snapshot())
    assert Inputs().list_dir(tmp_path) == ["a.yaml", "b.yaml"]
