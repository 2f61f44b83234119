"""Patch targets: which resources a ``target`` selects.

group, version, kind, name and namespace are regular expressions anchored at both ends;
name and namespace match either the resource's current or its original value (before
prefixes, suffixes and namespace changes). ``labelSelector`` and ``annotationSelector``
use Kubernetes' selector syntax: ``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``,
``k notin (a,b)``, ``k``, ``!k``, comma-separated, all required.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hakobu.errors import InvalidInput
from hakobu.model.objects import Object
from hakobu.render.kustomize.resource import annotations_of, cur_id, gvk_of, org_id

_SELECTOR_FIELDS = frozenset(
    {"group", "version", "kind", "name", "namespace", "labelSelector", "annotationSelector"}
)

Requirement = Callable[[Mapping[str, str]], bool]


@dataclass(frozen=True)
class Target:
    group: str = ""
    version: str = ""
    kind: str = ""
    name: str = ""
    namespace: str = ""
    label_selector: str = ""
    annotation_selector: str = ""

    @classmethod
    def parse(cls, raw: Any, where: str) -> Target:
        if not isinstance(raw, dict):
            raise InvalidInput(f"{where}: a target must be a mapping")
        unknown = set(raw) - _SELECTOR_FIELDS
        if unknown:
            raise InvalidInput(
                f"{where}: unknown target fields {sorted(unknown)}",
                hint=f"use {sorted(_SELECTOR_FIELDS)}",
            )

        def text(key: str) -> str:
            value = raw.get(key)
            if value is None:
                return ""
            if isinstance(value, dict | list):
                raise InvalidInput(f"{where}: target {key} must be a string")
            return str(value)

        return cls(
            text("group"),
            text("version"),
            text("kind"),
            text("name"),
            text("namespace"),
            text("labelSelector"),
            text("annotationSelector"),
        )

    def compile(self, where: str) -> Matcher:
        tests = {
            field: _value_test(field, getattr(self, field), where)
            for field in ("group", "version", "kind", "name", "namespace")
            if getattr(self, field)
        }
        return Matcher(
            tests,
            parse_selector(self.label_selector, where),
            parse_selector(self.annotation_selector, where),
            _literal(self.name) if self.name else None,
        )


# A pattern that matches one value only (letters, digits, '-', '_' and escaped dots). Such
# a value is compared rather than compiled, and a name is found in an index, not by a scan.
_LITERAL = re.compile(r"(?:[A-Za-z0-9_-]|\\\.)+")

ValueTest = Callable[[str], bool]


def _literal(pattern: str) -> str | None:
    return pattern.replace("\\.", ".") if _LITERAL.fullmatch(pattern) else None


def _value_test(field: str, pattern: str, where: str) -> ValueTest:
    literal = _literal(pattern)
    if literal is not None:
        return literal.__eq__
    try:
        compiled = re.compile(f"(?:{pattern})")
    except re.error as e:
        raise InvalidInput(f"{where}: target {field} {pattern!r}: {e}") from None
    return lambda value: compiled.fullmatch(value) is not None


@dataclass(frozen=True)
class Matcher:
    """A compiled target. Patterns match whole values, as Go's anchored expressions do."""

    tests: dict[str, ValueTest]
    labels: list[Requirement]
    annotations: list[Requirement]
    # The one original-or-current name a selected resource has, when the pattern says so.
    name: str | None

    def matches(self, obj: Object) -> bool:
        tests = self.tests
        current, original = cur_id(obj), org_id(obj)
        namespace = tests.get("namespace")
        if namespace and not (
            namespace(original.effective_namespace) or namespace(current.effective_namespace)
        ):
            return False
        name = tests.get("name")
        if name and not (name(original.name) or name(current.name)):
            return False
        gvk = gvk_of(obj)
        if any(
            field in tests and not tests[field](getattr(gvk, field))
            for field in ("group", "version", "kind")
        ):
            return False
        if not all(r(_labels(obj)) for r in self.labels):
            return False
        return all(r(annotations_of(obj)) for r in self.annotations)


def _labels(obj: Object) -> dict[str, str]:
    raw = (obj.get("metadata") or {}).get("labels")
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


_SET = re.compile(
    r"^\s*(!?)\s*([^\s!=,()]+)\s*(?:(in|notin)\s*\(([^)]*)\)|(==|=|!=)\s*([^\s,]*))?\s*$"
)


def parse_selector(text: str, where: str) -> list[Requirement]:
    """A Kubernetes label selector as a list of requirements (empty selects everything)."""
    requirements: list[Requirement] = []
    for part in _split(text):
        match = _SET.match(part)
        if match is None:
            raise InvalidInput(f"{where}: cannot parse selector {text!r} at {part!r}")
        negated, key, set_op, values, op, value = match.groups()
        if negated and (set_op or op):
            raise InvalidInput(f"{where}: cannot parse selector {text!r} at {part!r}")
        requirements.append(_requirement(key, bool(negated), set_op or op, values, value))
    return requirements


def _split(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    if current.strip() or parts:
        parts.append(current)
    return [p for p in parts if p.strip()] if text.strip() else []


def _requirement(
    key: str, negated: bool, op: str | None, values: str | None, value: str | None
) -> Requirement:
    if op is None:
        return (lambda m: key not in m) if negated else (lambda m: key in m)
    if op in ("=", "=="):
        return lambda m: m.get(key) == value
    if op == "!=":
        return lambda m: m.get(key) != value
    choices = {v.strip() for v in (values or "").split(",") if v.strip()}
    if op == "in":
        return lambda m: key in m and m[key] in choices
    return lambda m: key not in m or m[key] not in choices
