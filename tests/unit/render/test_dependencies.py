"""dependsOn through render: every object of an app carries what it depends on, and a
graph that cannot be synced is refused before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from hakobu.model.dependencies import ANNOTATION
from hakobu.model.project import load_project
from hakobu.model.source import SourceError
from hakobu.render.cache import RenderCache
from hakobu.render.environment import render_environment

PROJECT = """\
apiVersion: hakobu.dev/v1alpha1
kind: Project
name: shop
environments:
  dev:
    namespace: shop-dev
"""

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
data: {{key: value}}
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    apps = tmp_path / "apps"
    apps.mkdir()
    (apps / "web.yaml").write_text(
        "name: web\nimage: example.test/web:1\nports: [{name: http, port: 80}]\ndependsOn: [db]\n"
    )
    (apps / "db").mkdir()
    (apps / "db" / "configmap.yaml").write_text(CONFIGMAP.format(name="db"))
    (apps / "queue").mkdir()
    (apps / "queue" / "configmap.yaml").write_text(CONFIGMAP.format(name="queue"))
    (tmp_path / "hakobu.yaml").write_text(PROJECT + "dependsOn:\n  queue: [db]\n")
    return tmp_path


def render(root: Path, cache: RenderCache | None = None) -> dict[str, dict[str, str]]:
    project = load_project(root)
    tree, _ = render_environment(project, project.environment("dev"), cache=cache)
    return tree


def test_every_object_of_a_dependent_app_carries_the_annotation(root: Path) -> None:
    tree = render(root)
    assert tree["web"] and all(f"{ANNOTATION}: db\n" in text for text in tree["web"].values())
    assert all(f"{ANNOTATION}: db\n" in text for text in tree["queue"].values())
    assert not any(ANNOTATION in text for text in tree["db"].values())


def test_the_project_files_list_is_not_hidden_by_the_cache(root: Path) -> None:
    cache = RenderCache(root)
    assert f"{ANNOTATION}: db\n" in render(root, cache)["queue"]["configmap-queue.yaml"]
    (root / "hakobu.yaml").write_text(PROJECT + "dependsOn:\n  queue: [db, web]\n")
    assert f"{ANNOTATION}: db,web\n" in render(root, cache)["queue"]["configmap-queue.yaml"]
    (root / "hakobu.yaml").write_text(PROJECT)
    assert ANNOTATION not in render(root, cache)["queue"]["configmap-queue.yaml"]


def test_a_cycle_through_a_cached_app_spec_is_found_at_its_line(root: Path) -> None:
    cache = RenderCache(root)
    render(root, cache)
    (root / "hakobu.yaml").write_text(PROJECT + "dependsOn:\n  db: [queue]\n  queue: [web]\n")
    with pytest.raises(SourceError) as caught:
        render(root, cache)
    assert caught.value.message == (
        f"{root}/hakobu.yaml:8: dependsOn.db[0]: dependency cycle: db → queue → web → db"
    )


def test_an_unknown_app_in_an_app_spec_is_refused(root: Path) -> None:
    (root / "apps" / "web.yaml").write_text(
        "name: web\nimage: example.test/web:1\ndependsOn:\n- db\n- cache\n"
    )
    with pytest.raises(SourceError) as caught:
        render(root)
    assert caught.value.message == (
        f"{root}/apps/web.yaml:5: dependsOn[1]: app 'web' depends on 'cache', which is not an "
        "app of environment 'dev'"
    )
    assert caught.value.exit_code == 2


def test_the_project_file_may_not_list_an_app_spec_or_an_unknown_app(root: Path) -> None:
    (root / "hakobu.yaml").write_text(PROJECT + "dependsOn:\n  web: [queue]\n")
    with pytest.raises(
        SourceError, match=r"hakobu.yaml:8: dependsOn.web: app 'web' has an app spec"
    ):
        render(root)
    (root / "hakobu.yaml").write_text(PROJECT + "dependsOn:\n  cache: [db]\n")
    with pytest.raises(SourceError, match=r"hakobu.yaml:8: dependsOn.cache: no app named 'cache'"):
        render(root)
