"""Where images stand: changed since the previous commit, and in their registry or not."""

from __future__ import annotations

from pathlib import Path

import pytest

from hakobu.images.project import current_tags, open_project
from hakobu.images.status import RegistryStatus, changed_since, image_rows, registry_status
from tests.unit.images.test_registry import free_port
from tests.unit.images.test_tags import FILES, PROJECT, commit, git, write


@pytest.fixture
def project(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q")
    write(tmp_path, {"hakobu.yaml": PROJECT, **FILES})
    commit(tmp_path, "initial")
    return tmp_path


def test_changed_compares_the_committed_tags_not_the_dirty_ones(project: Path) -> None:
    images = open_project(project)
    # The first commit: every image is new.
    assert changed_since(images, current_tags(images)) == {"base": True, "web": True, "api": True}
    write(project, {"services/api/main.py": "print('v2')\n"})
    commit(project)
    write(project, {"services/web/app.py": "print('not committed')\n"})
    tags = current_tags(images)
    assert tags.tags["web"].dirty
    assert changed_since(images, tags) == {"base": False, "web": False, "api": True}


def test_rows_say_what_the_registry_said(project: Path) -> None:
    images = open_project(project)
    tags = current_tags(images)
    asked = RegistryStatus({"base": True, "web": False, "api": None})
    rows = {row.name: row for row in image_rows(images, tags, asked)}
    assert {name: row.registry for name, row in rows.items()} == {
        "base": "present",
        "web": "missing",
        "api": "unknown",
    }
    assert rows["web"].reference == tags.tags["web"].reference
    assert {row.registry for row in image_rows(images, tags, None)} == {"unknown"}


def test_an_unreachable_registry_fails_once_for_all_its_images(project: Path) -> None:
    host = f"127.0.0.1:{free_port()}"
    write(project, {"hakobu.yaml": PROJECT.replace("registry.example.com", host)})
    commit(project)
    images = open_project(project)
    status = registry_status(current_tags(images))
    assert status.present == {"base": None, "web": None, "api": None}
    assert len(status.failed) == 1
    assert host in status.failed[0].message
