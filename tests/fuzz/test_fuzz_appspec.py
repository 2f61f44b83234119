"""App specs shaped by their own schema, with hostile values mixed in.

Whatever an app spec holds, loading it and expanding it ends in one of two ways: an
``InvalidInput`` (a message a person can act on), or objects that serialise. Values are
drawn from the JSON Schema in ``hakobu.model.appspec_schema``: mostly values that fit it, so
the generator reaches the expander, and at every level now and then a hostile one (a wrong
type, a huge or negative number, unicode, deep nesting, null).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from hakobu.errors import InvalidInput
from hakobu.model.appspec import AppSpec, load_app
from hakobu.model.appspec_schema import OVERRIDABLE, SCHEMA
from hakobu.render.appspec import expand_app
from hakobu.render.yamlout import dump_object
from tests.fuzz.profile import FUZZ

FILE = Path("apps/web.yaml")
IMAGES = {"base": "registry.test/base:0123abcd"}
ENVIRONMENTS = ("evaluation", "production")
# One hostile value for this many that fit: enough to hit every field, few enough that most
# specs load and reach the expander.
_FITTING_WEIGHT = 6

_DEFS: dict[str, Any] = SCHEMA["$defs"]

_ODD_STRINGS = st.one_of(
    st.sampled_from(
        [
            "", " ", "\n", "a\nb", "~", "null", "true", "1e400", "0x1F", "Web", "a/b", "..",
            "a..b", "-web", "web-", "web.app", "x" * 64, "x" * 254, "x" * 5000, "$(X)",
            "{{ x }}", "é", "🚀", "\u202e", "\ufeff", "\x00", "http", "/", "250m", "50%",
        ]
    ),
    st.text(max_size=10),
)  # fmt: skip
_NUMBERS = st.one_of(
    st.sampled_from([0, 1, 80, 65535, 65536, -1, 10**6, 2**31, 2**63, 2**64, 10**30]),
    st.integers(),
    st.floats(),
)


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for index in range(depth):
        value = {"k": value} if index % 2 else [value]
    return value


_LEAVES = st.one_of(st.none(), st.booleans(), _NUMBERS, _ODD_STRINGS)
_HOSTILE: st.SearchStrategy[Any] = st.one_of(
    _LEAVES,
    st.integers(20, 200).map(_nested),
    st.recursive(
        _LEAVES,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(_ODD_STRINGS, inner, max_size=3)
        ),
        max_leaves=6,
    ),
)


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return _DEFS[ref.removeprefix("#/$defs/")] if ref else schema


def shaped(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A value that usually fits ``schema``, and sometimes is hostile."""
    fitting = st.deferred(lambda: _fitting(schema))
    return st.integers(0, _FITTING_WEIGHT).flatmap(
        lambda roll: _HOSTILE if roll == _FITTING_WEIGHT else fitting
    )


def _fitting(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    schema = _resolve(schema)
    if "anyOf" in schema:
        return st.one_of(*(_fitting(branch) for branch in schema["anyOf"]))
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    by_type: dict[str, Callable[[dict[str, Any]], st.SearchStrategy[Any]]] = {
        "object": _object,
        "array": _array,
        "string": _string,
        "integer": _number,
        "number": _number,
        "boolean": _boolean,
    }
    return by_type.get(schema.get("type", ""), _any)(schema)


def _boolean(schema: dict[str, Any]) -> st.SearchStrategy[bool]:
    return st.booleans()


def _any(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    return _HOSTILE


def _array(schema: dict[str, Any]) -> st.SearchStrategy[list[Any]]:
    items = shaped(schema.get("items", {}))
    return st.lists(items, min_size=schema.get("minItems", 0), max_size=3)


def _number(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    low, high = schema.get("minimum"), schema.get("maximum")
    fitting = st.integers(low, high) if schema["type"] == "integer" else st.floats(low, high)
    return st.one_of(fitting, fitting, _NUMBERS)


def _string(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    if "pattern" not in schema:
        return st.one_of(st.text(max_size=20), _ODD_STRINGS)
    limit = schema.get("maxLength", 80)
    matching = st.from_regex(schema["pattern"], fullmatch=True).filter(lambda s: len(s) <= limit)
    return st.one_of(matching, matching, _ODD_STRINGS)


def _object(schema: dict[str, Any]) -> st.SearchStrategy[dict[Any, Any]]:
    extra = schema.get("additionalProperties", True)
    if isinstance(extra, dict):
        keys = _fitting(schema.get("propertyNames", {"type": "string"}))
        return st.dictionaries(keys, shaped(extra), max_size=4)
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", ()))
    choices = [branch["required"][0] for branch in schema.get("oneOf", ())]

    def build(chosen: str | None) -> st.SearchStrategy[dict[str, Any]]:
        needed = required | ({chosen} if chosen else set())
        return st.fixed_dictionaries(
            {key: shaped(properties.get(key, {})) for key in sorted(needed)},
            optional={key: shaped(value) for key, value in properties.items() if key not in needed},
        )

    return st.sampled_from(choices or [None]).flatmap(build)


_PROPERTIES: dict[str, Any] = SCHEMA["properties"]
_FIELDS = sorted(set(_PROPERTIES) - {"name", "image", "environments"})
_PORTS = st.lists(
    st.fixed_dictionaries(
        {"name": st.sampled_from(["http", "grpc", "metrics"]), "port": st.sampled_from([80, 9090])},
        optional={"protocol": st.sampled_from(["TCP", "UDP"]), "targetPort": st.just(8080)},
    ),
    min_size=1,
    max_size=3,
)


def _override(key: str) -> st.SearchStrategy[tuple[str, Any]]:
    return st.tuples(st.just(key), st.one_of(st.none(), shaped(_PROPERTIES[key])))


@st.composite
def app_specs(draw: st.DrawFn) -> dict[str, Any]:
    """A mapping with the fields of an app spec, each drawn from the schema."""
    spec: dict[str, Any] = {
        "name": draw(st.one_of(st.just("web"), shaped(_PROPERTIES["name"]))),
        "image": draw(
            st.one_of(
                st.just("example.test/web:1.0"),
                st.just({"name": "base"}),
                shaped(_PROPERTIES["image"]),
            )
        ),
    }
    if draw(st.booleans()):
        spec["ports"] = draw(_PORTS)
    for key in draw(st.lists(st.sampled_from(_FIELDS), max_size=4, unique=True)):
        spec[key] = draw(shaped(_PROPERTIES[key]))
    if draw(st.booleans()):
        overrides = st.lists(st.sampled_from(OVERRIDABLE).flatmap(_override), max_size=3)
        spec["environments"] = draw(
            st.dictionaries(
                st.sampled_from([*ENVIRONMENTS, "Prod", "a/b"]),
                st.one_of(st.none(), overrides.map(dict), overrides.map(dict), _HOSTILE),
                max_size=2,
            )
        )
    return spec


def _text(data: Any) -> str:
    return yaml.dump(data, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False)


def load(text: str) -> AppSpec | None:
    """The app, or None when it is refused as a person should see it refused."""
    try:
        return load_app(FILE, text)
    except InvalidInput as e:
        assert str(e).startswith(f"{FILE}:"), str(e)
        return None


def expand_and_dump(app: AppSpec) -> int:
    """How many environments expanded; every object they hold must serialise."""
    expanded = 0
    for environment in ENVIRONMENTS:
        try:
            objects = expand_app(app, environment=environment, namespace="shop", images=IMAGES)
        except InvalidInput as e:
            assert str(e).startswith(f"{FILE}:"), str(e)
            continue
        expanded += 1
        for obj in objects:
            assert dump_object(obj).endswith("\n")
    return expanded


@settings(FUZZ, max_examples=250)
@given(app_specs())
def test_app_spec_loads_and_expands_or_is_refused(spec: dict[str, Any]) -> None:
    app = load(_text(spec))
    if app is not None:
        expand_and_dump(app)


@settings(FUZZ, max_examples=100)
@given(_HOSTILE)
def test_any_document_is_an_app_spec_or_refused(data: Any) -> None:
    app = load(_text(data))
    if app is not None:
        expand_and_dump(app)
