"""dependsOn as declared: the graph's checks (cycles, unknown apps, self) with file, line
and field, and the annotation render writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from hakobu.model.appspec import load_app
from hakobu.model.dependencies import (
    ANNOTATION,
    Declared,
    annotated,
    annotation_of,
    check_graph,
    find_cycle,
)
from hakobu.model.project import load_project
from hakobu.model.source import SourceError

PROJECT = """\
apiVersion: hakobu.dev/v1alpha1
kind: Project
name: shop
environments:
  dev:
    namespace: shop-dev
"""


def declared(graph: dict[str, tuple[str, ...]]) -> dict[str, Declared]:
    return {
        app: Declared(
            app, names, Path("hakobu.yaml"), ("dependsOn", app), (10, 11, 12)[: len(names)]
        )
        for app, names in graph.items()
    }


@pytest.mark.parametrize(
    ("graph", "cycle"),
    [
        ({"api": ("db",), "db": ()}, None),
        ({"api": ("db",), "db": ("api",)}, ["api", "db", "api"]),
        ({"a": ("b",), "b": ("c",), "c": ("a",), "d": ("a",)}, ["a", "b", "c", "a"]),
        # A diamond is no cycle.
        ({"web": ("api", "cache"), "api": ("db",), "cache": ("db",), "db": ()}, None),
        (
            {"web": ("api",), "api": ("db", "queue"), "db": (), "queue": ("web",)},
            ["api", "queue", "web", "api"],
        ),
    ],
)
def test_find_cycle(graph: dict[str, tuple[str, ...]], cycle: list[str] | None) -> None:
    assert find_cycle(graph) == cycle


def test_a_cycle_is_an_error_that_names_it_at_its_line() -> None:
    graph: dict[str, tuple[str, ...]] = {"api": ("db",), "db": ("api",)}
    found = declared(graph)
    with pytest.raises(SourceError) as caught:
        check_graph(graph, found.__getitem__)
    assert (
        caught.value.message == "hakobu.yaml:10: dependsOn.api[0]: dependency cycle: api → db → api"
    )
    assert caught.value.exit_code == 2


def test_an_unknown_app_is_an_error_that_lists_the_apps() -> None:
    graph: dict[str, tuple[str, ...]] = {"web": ("cache", "db"), "cache": ()}
    with pytest.raises(SourceError) as caught:
        check_graph(graph, declared(graph).__getitem__, where="environment 'dev'")
    assert caught.value.message == (
        "hakobu.yaml:11: dependsOn.web[1]: app 'web' depends on 'db', which is not an app of "
        "environment 'dev'"
    )
    assert caught.value.hint == "the apps are: cache, web"


def test_the_project_file_lists_dependencies_per_app(tmp_path: Path) -> None:
    (tmp_path / "hakobu.yaml").write_text(PROJECT + "dependsOn:\n  web: [db, cache]\n")
    project = load_project(tmp_path)
    found = project.depends_on["web"]
    assert found.names == ("db", "cache")
    assert found.lines == (8, 8)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "dependsOn:\n  web: [web]\n",
            "hakobu.yaml:8: dependsOn.web[0]: app 'web' cannot depend on itself",
        ),
        (
            "dependsOn:\n  web: db\n",
            "hakobu.yaml:8: dependsOn.web: expected a list of app names, found str",
        ),
        (
            "dependsOn:\n  web:\n  - db\n  - db\n",
            "hakobu.yaml:10: dependsOn.web[1]: db is listed twice",
        ),
        ("dependsOn: [web]\n", "hakobu.yaml:7: dependsOn: expected a mapping, found list"),
    ],
)
def test_bad_project_dependencies_say_where(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "hakobu.yaml").write_text(PROJECT + text)
    with pytest.raises(SourceError) as caught:
        load_project(tmp_path)
    assert caught.value.message.removeprefix(f"{tmp_path}/") == message


def test_an_app_spec_lists_its_dependencies_for_every_environment(tmp_path: Path) -> None:
    file = tmp_path / "web.yaml"
    file.write_text(
        "name: web\nimage: example.test/web:1\ndependsOn: [db]\n"
        "environments:\n  production: {replicas: 3}\n"
    )
    spec = load_app(file)
    assert spec.depends_on is not None and spec.depends_on.names == ("db",)
    assert spec.for_environment("production").depends_on == spec.depends_on


def test_an_app_spec_cannot_depend_on_itself_nor_override_its_dependencies(tmp_path: Path) -> None:
    file = tmp_path / "web.yaml"
    file.write_text("name: web\nimage: example.test/web:1\ndependsOn:\n- db\n- web\n")
    with pytest.raises(
        SourceError, match=r"web.yaml:5: dependsOn\[1\]: app 'web' cannot depend on itself"
    ):
        load_app(file)
    file.write_text(
        "name: web\nimage: example.test/web:1\nenvironments:\n  production: {dependsOn: [db]}\n"
    )
    with pytest.raises(SourceError, match=r"web.yaml:4: environments.production.dependsOn"):
        load_app(file)


def test_the_annotation_round_trips_sorted() -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}
    (stamped,) = annotated([obj], ("queue", "db"))
    assert stamped["metadata"]["annotations"] == {ANNOTATION: "db,queue"}
    assert annotation_of(stamped) == ("db", "queue")
    assert "annotations" not in obj["metadata"]
    assert annotated([obj], ()) == [obj]
    assert annotation_of(obj) == ()
