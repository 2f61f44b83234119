"""Template apps: plain YAML and Jinja with StrictUndefined and layered values."""

from __future__ import annotations

from pathlib import Path

import pytest

from hakobu.model.objects import Object
from hakobu.model.source import SourceError
from hakobu.render.inputs import Inputs
from hakobu.render.templates import deep_merge, render_template_dir

TEMPLATE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ app }}-settings
data:
  env: {{ env }}
  replicas: "{{ values.replicas }}"
  domain: {{ values.domain }}
"""


def render(directory: Path, environment: str = "production") -> list[Object]:
    return render_template_dir(
        directory,
        app="web",
        environment=environment,
        namespace="shop",
        values={"replicas": 3, "domain": "example.org"},
        inputs=Inputs(),
        images={"web": "registry.example.com/shop/web:0f3a9c2d1e4b5a6c"},
    )


def test_jinja_and_plain_files_with_layered_values(tmp_path: Path) -> None:
    (tmp_path / "settings.yaml.j2").write_text(TEMPLATE)
    (tmp_path / "plain.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n")
    (tmp_path / "values.yaml").write_text("domain: shop.example.org\n")
    (tmp_path / "values-evaluation.yaml").write_text("replicas: 1\n")
    (tmp_path / "README.md").write_text("not a manifest")
    production = render(tmp_path)
    assert [o["kind"] for o in production] == ["Namespace", "ConfigMap"]
    assert production[1]["data"] == {
        "env": "production",
        "replicas": "3",
        "domain": "shop.example.org",
    }
    evaluation = render(tmp_path, "evaluation")
    assert evaluation[1]["data"]["replicas"] == "1"


def test_undefined_value_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml.j2").write_text(
        "apiVersion: v1\nkind: ConfigMap\n# {{ values.missing }}\n"
    )
    with pytest.raises(SourceError) as error:
        render(tmp_path)
    assert "bad.yaml.j2:3:" in str(error.value)
    assert "'missing'" in str(error.value)


def test_template_syntax_error_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml.j2").write_text("a: 1\nb: {{ values.x \n")
    with pytest.raises(SourceError, match=r"bad.yaml.j2:2: template syntax error"):
        render(tmp_path)


def test_list_documents_are_flattened(tmp_path: Path) -> None:
    (tmp_path / "list.yaml").write_text(
        "apiVersion: v1\nkind: List\nitems:\n"
        "- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n"
        "- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n"
    )
    assert [o["metadata"]["name"] for o in render(tmp_path)] == ["a", "b"]


def test_deep_merge_merges_maps_and_replaces_the_rest() -> None:
    base = {"a": {"x": 1, "y": [1, 2]}, "b": 1}
    assert deep_merge(base, {"a": {"y": [3]}, "c": 2}) == {"a": {"x": 1, "y": [3]}, "b": 1, "c": 2}
    assert base == {"a": {"x": 1, "y": [1, 2]}, "b": 1}
