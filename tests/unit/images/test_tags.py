"""Image tags from git trees, in real repositories."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from hakobu.errors import InvalidInput, OperationFailed
from hakobu.images.cache import cache_directory
from hakobu.images.project import current_tags, image_reference, open_project, tags_at
from hakobu.model.images import load_images
from hakobu.model.source import SourceError
from hakobu.repo.snapshot import Snapshot
from hakobu.repo.workchanges import _pathspecs

PROJECT = """\
images:
- name: base
  context: images/base
  registry: registry.example.com/shop
- name: web
  context: services/web
  inputs: [libs/common]
  registry: registry.example.com/shop
  buildArgs: {PY: 3.10}
- name: api
  context: services/api
  registry: registry.example.com/shop
"""

FILES = {
    "images/base/Dockerfile": "FROM debian:12\n",
    "services/web/Dockerfile": (
        "ARG BASE=registry.example.com/shop/base:latest\nFROM ${BASE} AS build\nFROM build\n"
    ),
    "services/web/app.py": "print('web')\n",
    "services/web/docs/guide.md": "guide\n",
    "services/web/.dockerignore": "docs\n*.tmp\n",
    "services/api/Dockerfile": "FROM python:3.12\n",
    "services/api/main.py": "print('api')\n",
    "libs/common/util.py": "x = 1\n",
}


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def write(root: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)


def commit(root: Path, message: str = "change") -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q")
    write(tmp_path, {"hakobu.yaml": PROJECT, **FILES})
    commit(tmp_path, "initial")
    return tmp_path


def tags(root: Path) -> dict[str, str]:
    return {name: tag.tag for name, tag in current_tags(open_project(root)).tags.items()}


def test_tags_are_stable_and_bases_come_first(project: Path) -> None:
    result = current_tags(open_project(project))
    assert result.order.index("base") < result.order.index("web")
    assert tags(project) == {name: t.tag for name, t in result.tags.items()}
    assert all(len(t.tag) == 16 and not t.dirty for t in result.tags.values())
    assert image_reference(project, "web") == result.tags["web"].reference
    assert result.tags["web"].reference.startswith("registry.example.com/shop/web:")


def test_a_changed_base_retags_images_built_on_it_only(project: Path) -> None:
    before = tags(project)
    write(project, {"images/base/Dockerfile": "FROM debian:12\nRUN apt-get update\n"})
    commit(project)
    after = tags(project)
    assert after["base"] != before["base"]
    assert after["web"] != before["web"]
    assert after["api"] == before["api"]


def test_context_inputs_dockerfile_and_build_args_count(project: Path) -> None:
    before = tags(project)
    write(project, {"libs/common/util.py": "x = 2\n"})
    commit(project)
    assert tags(project)["web"] != before["web"]
    (project / "hakobu.yaml").write_text(PROJECT.replace("3.10", "3.11"))
    commit(project)
    assert tags(project)["web"] != before["web"]
    api = tags(project)["api"]
    write(project, {"services/api/main.py": "print('v2')\n"})
    commit(project)
    assert tags(project)["api"] != api


def test_dockerignored_files_do_not_change_the_tag(project: Path) -> None:
    before = tags(project)["web"]
    write(project, {"services/web/docs/guide.md": "new guide\n", "services/web/x.tmp": "t"})
    commit(project)
    assert tags(project)["web"] == before
    write(project, {"services/web/app.py": "print('v2')\n"})
    commit(project)
    assert tags(project)["web"] != before


def test_moving_a_service_keeps_its_tag(project: Path) -> None:
    # The tag names content, not places.
    before = tags(project)["api"]
    git(project, "mv", "services/api", "services/api2")
    (project / "hakobu.yaml").write_text(PROJECT.replace("services/api", "services/api2"))
    commit(project)
    assert tags(project)["api"] == before


def test_uncommitted_changes_give_dirty_tags_that_propagate(project: Path) -> None:
    clean = tags(project)
    write(project, {"images/base/new.sh": "echo\n"})  # untracked
    dirty = current_tags(open_project(project)).tags
    assert dirty["base"].tag.endswith("-dirty") and dirty["base"].tag != clean["base"]
    assert dirty["web"].dirty  # built on a dirty base
    assert dirty["api"].tag == clean["api"]
    # The same uncommitted content gives the same tag again.
    assert tags(project)["base"] == dirty["base"].tag
    with pytest.raises(OperationFailed, match=r"images/base/new\.sh"):
        current_tags(open_project(project), require_clean=True)


def test_dirty_ignored_and_deleted_files(project: Path) -> None:
    clean = tags(project)
    write(project, {"services/web/docs/guide.md": "edited, but ignored by docker\n"})
    assert tags(project)["web"] == clean["web"]
    (project / "services/api/main.py").unlink()
    assert tags(project)["api"] == f"{tags(project)['api'][:16]}-dirty" != clean["api"]


def test_previous_commit_and_new_images(project: Path) -> None:
    write(project, {"services/api/main.py": "print('v2')\n"})
    commit(project)
    previous = tags_at(open_project(project), "HEAD~1")
    assert previous is not None
    head = current_tags(open_project(project)).tags
    assert previous.tags["api"].tag != head["api"].tag
    assert previous.tags["web"].tag == head["web"].tag
    (project / "hakobu.yaml").write_text(
        PROJECT + "- name: new\n  context: services/new\n  registry: registry.example.com/x\n"
    )
    write(project, {"services/new/Dockerfile": "FROM scratch\n"})
    commit(project)
    older = tags_at(open_project(project), "HEAD~1")
    assert older is not None and "new" in older.failures
    git(project, "checkout", "-q", "--orphan", "fresh")
    commit(project, "root")
    assert tags_at(open_project(project), "HEAD~1") is None


def test_from_cycle_is_an_error_naming_it(project: Path) -> None:
    write(project, {"images/base/Dockerfile": "FROM registry.example.com/shop/web:1\n"})
    commit(project)
    with pytest.raises(InvalidInput, match=r"cycle: base → web → base") as error:
        tags(project)
    assert "images/base/Dockerfile:1" in str(error.value)


def test_uncommitted_context_and_missing_dockerfile(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    write(tmp_path, {"hakobu.yaml": PROJECT, "README": "x"})
    with pytest.raises(InvalidInput, match="no commit yet"):
        tags(tmp_path)
    commit(tmp_path)
    with pytest.raises(SourceError, match=r"hakobu.yaml:\d+: images\[0\].dockerfile: .*not in git"):
        tags(tmp_path)


def test_project_in_a_subdirectory(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    write(tmp_path, {f"deploy/{path}": text for path, text in FILES.items()})
    write(tmp_path, {"deploy/hakobu.yaml": PROJECT})
    commit(tmp_path)
    assert set(tags(tmp_path / "deploy")) == {"base", "web", "api"}


@pytest.mark.parametrize(
    ("images", "message"),
    [
        ("- name: Web\n  context: a\n  registry: r.example.com", r"images\[0\].name"),
        ("- name: a\n  context: ../x\n  registry: r.example.com", r"images\[0\].context"),
        ("- name: a\n  context: a\n  registry: shop", r"images\[0\].registry"),
        ("- name: a\n  context: a", r"images\[0\]: missing required field 'registry'"),
        ("- name: a\n  context: a\n  registry: r.example.com\n  tags: x", r"images\[0\].tags"),
        (
            "- name: a\n  context: a\n  registry: r.example.com\n"
            "- name: a\n  context: b\n  registry: r.example.com",
            r"images\[1\].name: image 'a' is declared twice",
        ),
        (
            "- name: a\n  context: a\n  registry: r.example.com\n  buildArgs: {X: [1]}",
            r"images\[0\].buildArgs.X",
        ),
    ],
)
def test_invalid_image_declarations(tmp_path: Path, images: str, message: str) -> None:
    (tmp_path / "hakobu.yaml").write_text(f"images:\n{images}\n")
    with pytest.raises(SourceError, match=rf"hakobu.yaml:\d+: {message}"):
        load_images(tmp_path)


def test_image_declaration_defaults(tmp_path: Path) -> None:
    (tmp_path / "hakobu.yaml").write_text(
        "images:\n- name: a\n  context: svc/a/\n  registry: localhost:5000/shop/\n"
        "  buildArgs: {V: 0755, ON: true}\n"
    )
    (spec,) = load_images(tmp_path)
    assert spec.dockerfile == "svc/a/Dockerfile"
    assert spec.repository == "localhost:5000/shop/a"
    assert spec.build_args == (("ON", "true"), ("V", "0755"))
    (tmp_path / "hakobu.yaml").write_text("name: x\n")
    assert load_images(tmp_path) == ()


def uncached_tags(root: Path) -> dict[str, str]:
    shutil.rmtree(cache_directory(root), ignore_errors=True)
    return tags(root)


def make_everything_dirty(root: Path) -> None:
    write(root, {"services/web/app.py": "print('edited')\n", "images/base/new.sh": "echo\n"})
    write(root, {"services/web/docs/guide.md": "ignored by .dockerignore\n"})
    write(root, {"services/api/main.py": "print('staged')\n"})
    git(root, "add", "services/api/main.py")
    (root / "libs/common/util.py").unlink()


def test_git_and_libgit2_find_the_same_changes(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / ".gitignore").write_text("*.log\n")
    commit(project)
    make_everything_dirty(project)
    write(project, {"services/api/debug.log": "git ignores this\n"})
    by_git = Snapshot.work_tree(open_project(project).repo, ("services", "images", "libs"))
    monkeypatch.setattr(shutil, "which", lambda _: None)
    by_libgit2 = Snapshot.work_tree(open_project(project).repo, ("services", "images", "libs"))
    assert by_git.changes == by_libgit2.changes
    assert [c.path for c in by_git.changes] == [
        "images/base/new.sh",
        "libs/common/util.py",
        "services/api/main.py",
        "services/web/app.py",
        "services/web/docs/guide.md",
    ]


def test_the_cache_never_changes_a_tag(project: Path) -> None:
    fresh = uncached_tags(project)
    assert tags(project) == fresh
    make_everything_dirty(project)
    write(project, {"images/base/Dockerfile": "FROM debian:13\n"})
    dirty = tags(project)
    assert dirty == uncached_tags(project)
    assert dirty != fresh
    # Back to the committed content: the committed tags again, from the same entries.
    git(project, "reset", "-q", "--hard")
    git(project, "clean", "-q", "-fd")
    assert tags(project) == fresh


def test_cached_declarations_follow_hakobu_yaml(project: Path) -> None:
    before = tags(project)
    (project / "hakobu.yaml").write_text(PROJECT.replace("3.10", "3.11"))
    assert tags(project)["web"] != before["web"]
    (project / "hakobu.yaml").write_text(PROJECT)
    assert tags(project) == before
    (project / "hakobu.yaml").write_text(PROJECT.replace("registry.example.com/shop\n", "x\n", 1))
    with pytest.raises(SourceError, match=r"hakobu\.yaml:4: images\[0\]\.registry"):
        open_project(project)


def test_the_cache_lives_outside_the_repository(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    write(tmp_path, {"hakobu.yaml": ROOT_IMAGE, "Dockerfile": "FROM debian:12\n"})
    commit(tmp_path)
    first = current_tags(open_project(tmp_path)).tags["root"]
    assert cache_directory(tmp_path).is_dir()
    assert not cache_directory(tmp_path).resolve().is_relative_to(tmp_path.resolve())
    again = current_tags(open_project(tmp_path)).tags["root"]
    assert not again.dirty
    assert again == first


ROOT_IMAGE = """\
images:
- name: root
  context: .
  registry: registry.example.com/shop
"""


@pytest.mark.parametrize(
    ("within", "pathspecs"),
    [
        (("a/b", "a/b/Dockerfile", "a/b-c", "d"), ("a/b", "a/b-c", "d")),
        ((*(f"services/s{i}" for i in range(40)), "images/x"), ("images", "services")),
        (("a", "."), ()),
    ],
)
def test_pathspecs_cover_the_inputs_with_a_few(
    within: tuple[str, ...], pathspecs: tuple[str, ...]
) -> None:
    assert _pathspecs(within) == pathspecs
