"""Check data against the subset of JSON Schema that hakobu's own file formats use.

No JSON Schema package is a dependency: this interpreter understands ``type``, ``enum``,
``minimum``/``maximum``, ``minLength``/``maxLength``, ``pattern``, ``items``/``minItems``,
``properties``/``required``/``additionalProperties``, ``propertyNames``, ``$ref`` to
``$defs``, ``anyOf`` whose branches differ by type, and ``oneOf`` whose branches only say
which single field is required ("exactly one of"). A schema must use nothing else
(``SUPPORTED_KEYWORDS``), so what it says is exactly what is checked. Messages are written
for people: "expected a list, got a string", "unknown field; did you mean 'replicas'?".
"""

from __future__ import annotations

import difflib
import math
import re
from typing import Any

from hakobu.model.source import FieldPath

Defs = dict[str, dict[str, Any]]

# Every keyword the validator interprets or may safely ignore; the schema uses no others.
SUPPORTED_KEYWORDS = frozenset(
    {
        "$schema", "title", "description", "default",
        "type", "enum", "minimum", "maximum", "minLength", "maxLength", "pattern",
        "items", "minItems", "properties", "required", "additionalProperties",
        "propertyNames", "$ref", "$defs", "anyOf", "oneOf",
    }
)  # fmt: skip


class SchemaViolation(Exception):
    """A validation failure at a path of the data; the loader turns it into a SourceError."""

    def __init__(self, path: FieldPath, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.message = message
        self.hint = hint


_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean (true or false)",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}


# bool before int: YAML's true is a Python int too, but never a valid number here.
_PYTHON_TYPES: tuple[tuple[type, str], ...] = (
    (type(None), "null"),
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
)


def _json_type(value: Any) -> str:
    for python_type, name in _PYTHON_TYPES:
        if isinstance(value, python_type):
            return name
    return type(value).__name__


def _describe(value: Any) -> str:
    kind = _json_type(value)
    return _TYPE_NAMES.get(kind, kind)


_SHOWN_CHARS = 60


def shown(value: Any) -> str:
    """A value quoted for a message, cut short: a file may hold megabytes in one string."""
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else f"{text[: _SHOWN_CHARS - 4]}...{text[-1]}"


def _type_matches(expected: str, value: Any) -> bool:
    actual = _json_type(value)
    return actual == expected or (expected == "number" and actual == "integer")


def _resolve(schema: dict[str, Any], defs: Defs) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    return defs[ref.removeprefix("#/$defs/")]


def _types_of(schema: dict[str, Any], defs: Defs) -> list[str]:
    schema = _resolve(schema, defs)
    if "anyOf" in schema:
        return [t for branch in schema["anyOf"] for t in _types_of(branch, defs)]
    return [schema["type"]] if "type" in schema else []


def _type_hint(expected: list[str], value: Any) -> str | None:
    if "string" in expected and isinstance(value, int | float | bool):
        return "quote the value so YAML reads it as text, such as '1.20' or 'true'"
    if ("integer" in expected or "number" in expected) and isinstance(value, str):
        return "write the number without quotes"
    if "boolean" in expected and isinstance(value, str):
        # YAML 1.2 (as kustomize reads it) has no yes/no/on/off booleans.
        return "write true or false"
    return None


def check(schema: dict[str, Any], value: Any, path: FieldPath = ()) -> None:
    """Raise SchemaViolation at the first place ``value`` does not fit ``schema``."""
    _validate(schema, value, path, schema.get("$defs", {}))


def _validate(schema: dict[str, Any], value: Any, path: FieldPath, defs: Defs) -> None:
    if "$ref" in schema:
        _validate(_resolve(schema, defs), value, path, defs)
    if "anyOf" in schema:
        _validate_any_of(schema["anyOf"], value, path, defs)
    if "type" in schema and not _type_matches(schema["type"], value):
        expected = [schema["type"]]
        raise SchemaViolation(
            path,
            f"expected {_TYPE_NAMES[schema['type']]}, got {_describe(value)}",
            _type_hint(expected, value),
        )
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(str(choice) for choice in schema["enum"])
        raise SchemaViolation(path, f"expected one of {choices}, got {shown(value)}")
    if isinstance(value, str):
        _validate_string(schema, value, path)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        _validate_number(schema, value, path)
    elif isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            raise SchemaViolation(path, f"expected at least {schema['minItems']} item(s)")
        if "items" in schema:
            for index, item in enumerate(value):
                _validate(schema["items"], item, (*path, index), defs)
    elif isinstance(value, dict):
        _validate_object(schema, value, path, defs)


def _validate_any_of(
    branches: list[dict[str, Any]], value: Any, path: FieldPath, defs: Defs
) -> None:
    # Branches are told apart by type, so the message can say what was expected instead of
    # listing why each branch failed.
    for branch in branches:
        if any(_type_matches(t, value) for t in _types_of(branch, defs)):
            _validate(branch, value, path, defs)
            return
    expected = [t for branch in branches for t in _types_of(branch, defs)]
    names = " or ".join(dict.fromkeys(_TYPE_NAMES[t] for t in expected))
    raise SchemaViolation(
        path, f"expected {names}, got {_describe(value)}", _type_hint(expected, value)
    )


def _validate_string(schema: dict[str, Any], value: str, path: FieldPath) -> None:
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        raise SchemaViolation(
            path,
            f"{shown(value)} is too long: {len(value)} characters where at most "
            f"{schema['maxLength']} are allowed",
        )
    if "pattern" in schema and not re.search(schema["pattern"], value):
        raise SchemaViolation(
            path, f"{shown(value)} is not valid: expected {schema['description']}"
        )


def _validate_number(schema: dict[str, Any], value: float, path: FieldPath) -> None:
    if not math.isfinite(value):
        # YAML has .inf and .nan; no Kubernetes field does.
        raise SchemaViolation(path, f"expected a finite number, got {value}")
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and value < low:
        raise SchemaViolation(path, f"expected a value of at least {low}, got {value}")
    if high is not None and value > high:
        expected = f"from {low} to {high}" if low is not None else f"of at most {high}"
        raise SchemaViolation(path, f"expected a value {expected}, got {value}")


def _validate_object(
    schema: dict[str, Any], value: dict[Any, Any], path: FieldPath, defs: Defs
) -> None:
    properties: dict[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        child = (*path, key)
        if item is None:
            # An empty field (`env:`) is the same as leaving it out.
            continue
        if "propertyNames" in schema:
            _validate(schema["propertyNames"], key, child, defs)
        if key in properties:
            _validate(properties[key], item, child, defs)
        elif extra is False:
            raise SchemaViolation(child, "unknown field", suggest(key, list(properties)))
        elif isinstance(extra, dict):
            _validate(extra, item, child, defs)
    for name in schema.get("required", []):
        if value.get(name) is None:
            raise SchemaViolation(path, f"missing required field {name!r}")
    if "oneOf" in schema:
        choices = [branch["required"][0] for branch in schema["oneOf"]]
        present = [name for name in choices if value.get(name) is not None]
        if len(present) != 1:
            listed = ", ".join(choices)
            found = f"found {', '.join(present)}" if present else "found none"
            raise SchemaViolation(path, f"set exactly one of {listed} ({found})")


def suggest(key: str, accepted: list[str]) -> str:
    close = difflib.get_close_matches(key, accepted, n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    return f"accepted fields: {', '.join(accepted)}"
