"""Template apps: plain YAML and Jinja with StrictUndefined and layered values."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from hakobu.model.objects import Object
from hakobu.model.source import SourceError, load_documents
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


def test_includes_imports_and_extends_within_the_app(tmp_path: Path) -> None:
    (tmp_path / "partials").mkdir()
    (tmp_path / "partials" / "labels.j2").write_text("app: {{ app }}\nenv: {{ env }}\n")
    (tmp_path / "partials" / "macros.j2").write_text(
        "{% macro port(name, number) %}{name: {{ name }}, port: {{ number }}}{% endmacro %}"
    )
    (tmp_path / "partials" / "base.j2").write_text(
        "apiVersion: v1\nkind: {% block kind %}{% endblock %}\n"
        "metadata:\n  name: {% block name %}{% endblock %}\n"
    )
    (tmp_path / "service.yaml.j2").write_text(
        '{% import "partials/macros.j2" as m %}{% from "partials/macros.j2" import port %}'
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  labels:\n"
        '{% filter indent(4, first=True) %}{% include "partials/labels.j2" %}{% endfilter %}'
        'spec:\n  ports: [{{ m.port("http", 80) }}, {{ port("metrics", 9090) }}]\n'
    )
    (tmp_path / "map.yaml.j2").write_text(
        '{% extends "partials/base.j2" %}{% block kind %}ConfigMap{% endblock %}'
        "{% block name %}{{ app }}-map{% endblock %}"
    )
    config_map, service = render(tmp_path)
    assert service["metadata"]["labels"] == {"app": "web", "env": "production"}
    assert service["spec"]["ports"] == [
        {"name": "http", "port": 80},
        {"name": "metrics", "port": 9090},
    ]
    assert config_map == {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web-map"}}


def test_filters_loops_macros_and_tag_still_work(tmp_path: Path) -> None:
    (tmp_path / "values.yaml").write_text(
        "ports: [80, 443]\nenv: {B: two, A: one}\nnames: [x, y, x]\n"
    )
    (tmp_path / "deploy.yaml.j2").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ app|upper|lower }}\ndata:\n"
        "  image: {{ tag('web') }}\n"
        "  ports: {{ values.ports|join(',')|tojson }}\n"
        "  json: {{ values.env|tojson|tojson }}\n"
        "  env: \"{% for k, v in values.env|dictsort %}{{ k }}={{ v }}{{ ';' if not loop.last }}"
        '{% endfor %}"\n'
        "  unique: {{ values.names|unique|list|join('') }}\n"
        "  padded: \"{{ '%05d'|format(42) }}-{{ '{}:{}'.format('a', 1) }}-{{ 'x'.rjust(3) }}\"\n"
        "  math: \"{{ 2 ** 10 + 3 * 4 }}-{{ 'ab' * 2 }}-{{ [1] + [2] }}-{{ '%s' % 'p' }}\"\n"
        "  range: \"{{ range(3)|map('string')|join('') }}-{{ values.ports|sum }}\"\n"
        "  keys: \"{{ values.env.keys()|sort|join }}-{{ 'a,b'.split(',')|last }}\"\n"
    )
    [config_map] = render(tmp_path)
    assert config_map["data"] == {
        "image": "registry.example.com/shop/web:0f3a9c2d1e4b5a6c",
        "ports": "80,443",
        "json": '{"A": "one", "B": "two"}',
        "env": "A=one;B=two",
        "unique": "xy",
        "padded": "00042-a:1-  x",
        "math": "1036-abab-[1, 2]-p",
        "range": "012-523",
        "keys": "AB-b",
    }


def test_the_example_template_renders_as_plain_jinja_does(tmp_path: Path) -> None:
    example = Path(__file__).parents[3] / "src" / "hakobu" / "example" / "apps" / "worker"
    values = {"workerReplicas": 2, "queue": "orders", "logLevel": "info"}
    images = {"worker": "registry.example.com/shop/worker:0f3a9c2d1e4b5a6c"}
    # How templates were rendered before the sandbox: the output must not have changed.
    plain = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - YAML, not HTML
    )
    text = plain.from_string((example / "deployment.yaml.j2").read_text()).render(
        values=values, env="production", namespace="shop", app="worker", tag=images.__getitem__
    )
    (tmp_path / "deployment.yaml.j2").write_text((example / "deployment.yaml.j2").read_text())
    rendered = render_template_dir(
        tmp_path,
        app="worker",
        environment="production",
        namespace="shop",
        values=values,
        inputs=Inputs(),
        images=images,
    )
    assert rendered == [document.data for document in load_documents(tmp_path / "x", text)]


@pytest.mark.parametrize(
    ("files", "expect"),
    [
        ({"a.yaml.j2": '{% include "../b.j2" %}'}, "a.yaml.j2:1: template code not allowed"),
        ({"a.yaml.j2": "\n{% include 'missing.j2' %}"}, "a.yaml.j2:2: template not found"),
        (
            {"a.yaml.j2": "{% include 'p/x.j2' %}", "p/x.j2": "\n\n{{ 'x' * 10**9 }}"},
            "p/x.j2:3: template went past a bound",
        ),
        ({"a.yaml.j2": "{{ values.replicas // 0 }}"}, "a.yaml.j2:1: template failed"),
        (
            {"a.yaml.j2": "{% include 'p/bad.j2' %}", "p/bad.j2": "{{ x"},
            "p/bad.j2:1: template syntax",
        ),
    ],
)
def test_template_errors_name_the_file_and_line(
    tmp_path: Path, files: dict[str, str], expect: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    with pytest.raises(SourceError, match=expect):
        render(tmp_path)


def test_includes_are_recorded_as_inputs(tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "x.j2").write_text("kind: ConfigMap\n")
    (tmp_path / "a.yaml.j2").write_text("apiVersion: v1\n{% include 'p/x.j2' %}")
    inputs = Inputs()
    render_template_dir(
        tmp_path,
        app="web",
        environment="production",
        namespace="shop",
        values={},
        inputs=inputs,
        images={},
    )
    assert ("file", str(tmp_path / "p" / "x.j2")) in inputs.recorded
