"""Hostile templates: no way out of the sandbox, no file outside the app, bounded work.

Each variant puts its payload on line 3 of ``apps/web/evil.yaml.j2`` (or of the file it
includes), and the refusal must name that file and line, for ``render`` and ``render --check``.
"""

from __future__ import annotations

import pytest

from tests.hostile.conftest import Case

HEAD = "apiVersion: v1\nkind: ConfigMap\n"
EVIL = "apps/web/evil.yaml.j2"


def refused_everywhere(case: Case, payload: str, expect: str, file: str = EVIL) -> None:
    if file == EVIL:
        case.write(EVIL, HEAD + payload + "\n")
    case.commit("hostile template")
    for args in (("render",), ("render", "--check")):
        case.refuses(*args, expect=f"{file}:3: {expect}")


ESCAPES = {
    "range globals": "a: {{ range.__globals__['os'].popen('id').read() }}",
    "class mro": "a: {{ ''.__class__.__mro__[1].__subclasses__() }}",
    "format field": 'a: {{ "{0.__class__.__base__}".format(1) }}',
    "format_map": 'a: {{ "{x.__class__}".format_map({"x": 1}) }}',
    "attr filter": 'a: {{ ("x"|attr("__class__")).__base__ }}',
    "getitem dunder": "a: {{ values['__class__'].__mro__ }}",
    "macro internals": "{% macro m() %}{% endmacro %}a: {{ m._func.__globals__ }}",
    "int to_bytes": "a: {{ (1).to_bytes(10**9, 'big') }}",
    "str expandtabs": "a: {{ ('\\t' * 1000).expandtabs(10**6) }}",
    "loop internals": "{% for x in [1] %}{{ loop._iterator.gi_frame }}{% endfor %}",
}


@pytest.mark.parametrize("payload", ESCAPES.values(), ids=ESCAPES.keys())
def test_template_code_cannot_leave_the_sandbox(case: Case, payload: str) -> None:
    refused_everywhere(case, payload, "template code not allowed")


UNOFFERED = {
    "lipsum globals": "a: {{ lipsum.__globals__.os.popen('id').read() }}",
    "lipsum": "a: {{ lipsum(10**6) }}",
    "cycler": "a: {{ cycler(1, 2).next() }}",
    "random": "a: {{ [1, 2]|random }}",
    "pprint": "a: {{ values|pprint }}",
}


@pytest.mark.parametrize("payload", UNOFFERED.values(), ids=UNOFFERED.keys())
def test_unsafe_or_unsteady_helpers_are_not_offered(case: Case, payload: str) -> None:
    expect = "template syntax error" if "|" in payload else "template uses an undefined value"
    refused_everywhere(case, payload, expect)


INCLUDES = {
    "parent directory": '{% include "../../hakobu.yaml" %}',
    "absolute path": '{% include "/etc/passwd" %}',
    "other app": '{% include "../other/config.yaml" %}',
    "import": '{% import "../../hakobu.yaml" as h %}',
    "from import": '{% from "/etc/hosts" import x %}',
    "extends": '{% extends "../../../outside/victim.txt" %}',
    "symlink out": '{% include "partials/link.j2" %}',
}


@pytest.mark.parametrize("payload", INCLUDES.values(), ids=INCLUDES.keys())
def test_templates_include_only_their_own_app(case: Case, payload: str) -> None:
    case.write("apps/other/config.yaml", HEAD + "metadata: {name: other}\n")
    (case.root / "apps/web/partials").mkdir()
    (case.root / "apps/web/partials/link.j2").symlink_to(case.outside / "victim.txt")
    refused_everywhere(case, payload, "template code not allowed")


def test_a_missing_include_names_the_line(case: Case) -> None:
    refused_everywhere(case, '{% include "partials/nope.j2" %}', "template not found")


def test_a_fault_in_an_included_file_names_that_file(case: Case) -> None:
    case.write(EVIL, '{% include "partials/evil.j2" %}\n')
    case.write("apps/web/partials/evil.j2", "x: 1\ny: 2\nz: {{ 'x' * 10**9 }}\n")
    refused_everywhere(case, "", "template went past a bound", file="partials/evil.j2")


DOUBLING_TILDE = '{% set a = "x" * 1000 %}' + "{% set a = a ~ a %}" * 30 + "a: {{ a|length }}"
DOUBLING_PLUS = '{% set a = ["x"] %}' + "{% set a = a + a %}" * 40 + "a: {{ a|length }}"
SHARING = "{% set a = [1] %}" + "{% set a = [a, a] %}" * 60 + "a: {{ a }}"
SIZES = {
    "repeat string": "a: {{ 'x' * 10**9 }}",
    "repeat list": "a: {{ [0] * 10**9 }}",
    "center": "a: {{ 'x'|center(10**9) }}",
    "indent": "a: {{ ('\\n' * 1000)|indent(10**6) }}",
    "ljust": "a: {{ 'x'.ljust(10**9) }}",
    "printf star": "a: {{ '%*s' % (10**9, 'x') }}",
    "printf width": "a: {{ '%0999999999d' % 1 }}",
    "format filter": "a: {{ '%.999999999f'|format(1.0) }}",
    "format width": "a: {{ '{:>999999999}'.format('x') }}",
    "replace": "a: {{ ('x' * 100000).replace('', 'y' * 1000) }}",
    "join": "a: {{ range(100000)|join('y' * 100000) }}",
    "map": "a: {{ range(100000)|map('center', 1000)|list }}",
    "batch fill": "a: {{ [1]|batch(10**9, 'x')|list }}",
    "tojson indent": "a: {{ values|tojson(indent=10**6) }}",
    "power": "a: {{ 10 ** (10 ** 10) }}",
    "squaring": "{% set a = 10 ** 1000 %}" + "{% set a = a * a %}" * 30 + "a: 1",
    "doubling with ~": DOUBLING_TILDE,
    "doubling with +": DOUBLING_PLUS,
    "shared list": SHARING,
    "output": "{% for i in range(5000) %}{{ 'x' * 1000 }}{% endfor %}",
    "macro buffer": (
        "{% macro m() %}{% for i in range(90000) %}{{ 'x' * 1000 }}{% endfor %}{% endmacro %}"
        "{{ m()|length }}"
    ),
}


@pytest.mark.parametrize("payload", SIZES.values(), ids=SIZES.keys())
def test_template_values_and_output_are_bounded(case: Case, payload: str) -> None:
    refused_everywhere(case, payload, "template went past a bound")


NESTED_LOOPS = "{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}"
WORK = {
    "nested loops": NESTED_LOOPS,
    "endless recursion": "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "exponential recursion": (
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}"
    ),
    "recursive loop": "{% for x in [1, 1] recursive %}{{ loop([1, 1]) }}{% endfor %}",
    "range": "a: {{ range(10**9)|length }}",
    "dict keys": "{% for k in range(99999) %}{{ {k: k}.get(k) and '' }}{% endfor %}" * 5,
}


@pytest.mark.parametrize("payload", WORK.values(), ids=WORK.keys())
def test_template_work_is_bounded(case: Case, payload: str) -> None:
    refused_everywhere(case, payload, "template went past a bound")


def test_a_template_including_itself_is_refused(case: Case) -> None:
    refused_everywhere(case, '{% include "evil.yaml.j2" %}', "template recursion too deep")
