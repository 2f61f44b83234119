"""Typed reading of live objects' fields.

Live objects are open-ended payloads: a field may be absent (the server omits zero values)
or, from a misbehaving controller or a hand-written file, of the wrong type. Absent fields
read as their zero value, as the API server's own defaulting would give; wrongly typed
fields raise ``MalformedField``, which the dispatcher reports as Unknown health.
"""

from __future__ import annotations

import reprlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

Payload = Mapping[str, Any]


class MalformedField(Exception):
    """A field holds a value of the wrong type."""

    def __init__(self, path: Sequence[str], value: object, expected: str) -> None:
        super().__init__(f"{'.'.join(path)} is {shown(value)}, expected {expected}")


class _ShortRepr(reprlib.Repr):
    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 3
        self.maxstring = 60
        self.maxother = 60

    def repr_int(self, x: int, level: int) -> str:
        # repr of an integer of thousands of digits raises, and would say nothing anyway.
        return super().repr_int(x, level) if x.bit_length() <= 64 else "<a very large integer>"


def shown(value: object) -> str:
    """``value`` for a message, cut short and shallow: a status may hold anything."""
    return _ShortRepr().repr(value)


def _is_mapping(candidate: object) -> TypeGuard[Payload]:
    # Decoded JSON holds dicts: the exact check first spares the abstract one, which a
    # sync's assessment of thousands of objects otherwise spends most of its time in.
    return type(candidate) is dict or isinstance(candidate, Mapping)


def value(obj: Payload, *path: str) -> object:
    """The value at ``path``, or None when any step is absent."""
    current: object = obj
    for depth, key in enumerate(path):
        if current is None:
            return None
        if not _is_mapping(current):
            raise MalformedField(path[:depth], current, "a mapping")
        current = current.get(key)
    return current


def mapping(obj: Payload, *path: str) -> Payload:
    found = value(obj, *path)
    if found is None:
        return {}
    if not _is_mapping(found):
        raise MalformedField(path, found, "a mapping")
    return found


def integer(obj: Payload, *path: str, default: int = 0) -> int:
    found = value(obj, *path)
    if found is None:
        return default
    # bool is an int in Python, never in Kubernetes.
    if isinstance(found, bool) or not isinstance(found, int):
        raise MalformedField(path, found, "an integer")
    return found


def optional_integer(obj: Payload, *path: str) -> int | None:
    return None if value(obj, *path) is None else integer(obj, *path)


def text(obj: Payload, *path: str) -> str:
    found = value(obj, *path)
    if found is None:
        return ""
    if not isinstance(found, str):
        raise MalformedField(path, found, "a string")
    return found


def flag(obj: Payload, *path: str) -> bool:
    found = value(obj, *path)
    if found is None:
        return False
    if not isinstance(found, bool):
        raise MalformedField(path, found, "true or false")
    return found


def mappings(obj: Payload, *path: str) -> list[Payload]:
    """A list of mappings (container statuses, conditions, load-balancer ingress…)."""
    found = value(obj, *path)
    if found is None:
        return []
    if not isinstance(found, list) or not all(_is_mapping(item) for item in found):
        raise MalformedField(path, found, "a list of mappings")
    return found


@dataclass(frozen=True)
class Condition:
    type: str
    status: str
    reason: str
    message: str

    @property
    def true(self) -> bool:
        return self.status == "True"

    @property
    def false(self) -> bool:
        return self.status == "False"


def parse_conditions(items: Sequence[Payload], path: Sequence[str]) -> list[Condition]:
    conditions = []
    for item in items:
        fields = [text(item, key) for key in ("type", "status", "reason", "message")]
        if not fields[0]:
            raise MalformedField([*path, "type"], item.get("type"), "a condition type")
        conditions.append(Condition(*fields))
    return conditions


def conditions(obj: Payload) -> list[Condition]:
    """The standard ``status.conditions`` list."""
    return parse_conditions(mappings(obj, "status", "conditions"), ("status", "conditions"))


def condition(obj: Payload, type_: str) -> Condition | None:
    return next((c for c in conditions(obj) if c.type == type_), None)


def generation_observed(obj: Payload) -> bool:
    """Has the controller seen the latest spec? (Objects without a generation have.)"""
    generation = optional_integer(obj, "metadata", "generation")
    return generation is None or integer(obj, "status", "observedGeneration") >= generation


def name(obj: Payload) -> str:
    return text(obj, "metadata", "name")
