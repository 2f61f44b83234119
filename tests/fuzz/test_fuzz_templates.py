"""Template apps on generated Jinja: objects, or an InvalidInput, never another exception.

The generator writes small pieces of Jinja and YAML — expressions over the values,
filters, tests, loops and conditionals (balanced or not), attribute and item access that
reaches for Python internals, and YAML around them — into a template app's directory,
and renders it as a render would.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hakobu.errors import InvalidInput
from hakobu.model.objects import Object
from hakobu.render.inputs import Inputs
from hakobu.render.templates import render_template_dir
from hakobu.render.yamlout import dump_object
from tests.fuzz.profile import FUZZ

VALUES: dict[str, Any] = {
    "replicas": 2,
    "name": "web",
    "ports": [80, 443],
    "labels": {"tier": "front"},
    "flag": True,
    "nothing": None,
    "text": "a: b\n- c",
}
IMAGES = {"base": "registry.test/base:0123abcd"}
# Loops stay short: one that runs until the render's step budget stops it costs a second
# of the fuzzer's time and finds nothing a short one does not. Sizes may be huge: the
# sandbox refuses them before building them.
_OPERANDS = st.sampled_from(
    [
        "values", "values.replicas", "values.name", "values.ports", "values.labels",
        "values.flag", "values.nothing", "values.text", "values.missing", "values['name']",
        "values.ports[0]", "values.ports[9]", "env", "namespace", "app", "tag('base')",
        "tag('nope')", "tag(1)", "tag()", "undefined_name", "1", "0", "-1", "2.5", "'x'",
        "\"y\"", "10 ** 10", "'ab' * 10 ** 10", "[1, 2]", "{'a': 1}", "none", "true", "loop",
        "self", "range(3)",
        "lipsum", "cycler", "joiner", "namespace()", "''.__class__", "values.__class__",
        "values.__init__.__globals__", "().__class__.__base__", "values.items",
        "values.update", "app.upper", "app.format", "app.__len__",
    ]
)  # fmt: skip
_FILTERS = st.sampled_from(
    [
        "upper", "lower", "int", "float", "string", "length", "list", "tojson", "indent(2)",
        "default('d')", "d", "join(',')", "first", "last", "sort", "unique", "sum",
        "replace('a', 'b')", "trim", "title", "abs", "round", "items", "dictsort",
        "attr('__class__')", "map('upper')", "selectattr('x')", "batch(2)", "slice(2)",
        "format(1)", "wordwrap(5)", "center(4)", "truncate(3)", "urlencode", "safe",
        "escape", "xmlattr", "pprint", "random", "nope", "b64encode", "to_yaml",
    ]
)  # fmt: skip
_TESTS = st.sampled_from(["defined", "undefined", "none", "number", "string", "mapping",
                          "iterable", "divisibleby 2", "sameas 1", "nope"])  # fmt: skip
_OPS = st.sampled_from(["+", "-", "*", "/", "//", "%", "~", "==", "<", "in", "and", "or", "**"])


def _expressions() -> st.SearchStrategy[str]:
    return st.recursive(
        _OPERANDS,
        lambda inner: st.one_of(
            st.builds(lambda e, f: f"{e} | {f}", inner, _FILTERS),
            st.builds(lambda e, t: f"{e} is {t}", inner, _TESTS),
            st.builds(lambda a, o, b: f"{a} {o} {b}", inner, _OPS, inner),
            st.builds(lambda e: f"({e})", inner),
            st.builds(lambda e: f"not {e}", inner),
            st.builds(lambda e, k: f"{e}[{k}]", inner, _OPERANDS),
            st.builds(lambda e, a: f"{e}.{a}", inner, st.sampled_from(["x", "__dict__", "0"])),
            st.builds(lambda a, b, c: f"{a} if {b} else {c}", inner, inner, inner),
        ),
        max_leaves=4,
    )


def _pieces(expression: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(
            [
                "apiVersion: v1\n",
                "kind: ConfigMap\n",
                "metadata:\n  name: web\n",
                "data:\n",
                "  key: ",
                "\n",
                "---\n",
                "- ",
                "  ",
                "{% endif %}",
                "{% endfor %}",
                "{% else %}",
                "{{",
                "}}",
                "{%",
                "%}",
                "{#",
                "#}",
                "{% raw %}",
                "{% endraw %}",
                "{% include 'x' %}",
                "{% import 'x' as y %}",
                "{% extends 'x' %}",
                "{% macro m(a) %}{{ a }}{% endmacro %}",
                "{{ m(1) }}",
                "{% call m(1) %}",
                "{% filter upper %}",
                "{% endfilter %}",
                "{% block b %}",
                "{% endblock %}",
                "{% set x = 1 %}",
                "{{ x }}",
                "{% with y = 2 %}{{ y }}{% endwith %}",
                "{% break %}",
                "{% continue %}",
                "{% do x %}",
                "{%- if true -%}",
                "&a ",
                "*a",
            ]
        ),
        st.builds(lambda e: "{{ " + e + " }}", expression),
        st.builds(lambda e: "{% if " + e + " %}", expression),
        st.builds(lambda e: "{% for item in " + e + " %}{{ item }}", expression),
        st.builds(lambda e: "{% set v = " + e + " %}", expression),
        st.text(max_size=6),
    )


_TEMPLATES = st.lists(_pieces(_expressions()), max_size=12).map("".join)
_DEFINED = st.builds(
    lambda operand, filters: " | ".join([operand, *filters]),
    st.sampled_from(
        ["values.name", "values.replicas", "values.text", "values.labels", "values.ports",
         "values.flag", "values.nothing", "app", "env", "namespace", "tag('base')", "2.5"]
    ),
    st.lists(
        st.sampled_from(["upper", "string", "tojson", "length", "list", "first", "trim",
                         "indent(2)", "default('d')", "d", "items", "dictsort", "sort"]),
        max_size=2,
    ),
)  # fmt: skip
# Expressions where a template app puts them: inside an object, so most render to one.
_IN_OBJECT = st.builds(
    lambda name, value, items: (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
        f"  name: {name}\n"
        "data:\n"
        f"  value: {value}\n"
        f"  items: '{{% for item in {items} %}}{{{{ item }}}},{{% endfor %}}'\n"
    ),
    st.one_of(st.just("web"), _DEFINED.map(lambda e: "{{ " + e + " }}")),
    st.one_of(_DEFINED, _expressions())
    .map(lambda e: "{{ " + e + " }}")
    .flatmap(lambda e: st.sampled_from([e, f"'{e}'", f'"{e}"'])),
    st.one_of(_DEFINED, _expressions()),
)


def _render(files: dict[str, str]) -> list[Object]:
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch) / "web"
        directory.mkdir()
        for name, text in files.items():
            (directory / name).write_text(text)
        try:
            objects = render_template_dir(
                directory,
                app="web",
                environment="evaluation",
                namespace="shop",
                values=VALUES,
                inputs=Inputs(),
                images=IMAGES,
            )
        except InvalidInput:
            return []
    for obj in objects:
        assert isinstance(obj, dict)
        try:
            dump_object(obj)
        except InvalidInput:
            continue
    return objects


def test_a_valid_template_renders() -> None:
    template = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ app }}-{{ values.replicas }}\n"
    )
    [obj] = _render({"config.yaml.j2": template})
    assert obj["metadata"]["name"] == "web-2"


@settings(FUZZ, max_examples=500)
@given(_TEMPLATES)
def test_generated_templates(text: str) -> None:
    _render({"config.yaml.j2": text})


@settings(FUZZ, max_examples=300)
@given(_IN_OBJECT)
def test_generated_expressions_in_an_object(text: str) -> None:
    _render({"config.yaml.j2": text})


@settings(FUZZ, max_examples=150)
@given(_TEMPLATES, _TEMPLATES)
def test_generated_values_files(values: str, template: str) -> None:
    _render({"values.yaml": values, "values-evaluation.yaml.j2": "", "a.yaml.j2": template})


@settings(FUZZ, max_examples=150)
@given(st.text(max_size=80))
def test_arbitrary_template_text(text: str) -> None:
    _render({"config.yaml.j2": text, "plain.yaml": text})
