"""Who owns which fields of a live object, read from ``metadata.managedFields``.

Server-side apply records, per field manager, the set of fields it manages as a
``FieldsV1`` tree: ``f:<name>`` for a map field, ``k:<json>`` for a list item found by its
merge keys, ``v:<json>`` for an item of a set, ``i:<n>`` for an item by position and ``.``
for the node itself. Projecting an object onto such a set keeps exactly those fields, which
is how a comparison ignores what the server defaulted and what other managers own.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from hakobu.model.objects import Object

FieldSet = dict[str, Any]


def owned_by(obj: Object, manager: str, api_version: str | None = None) -> FieldSet:
    """The fields ``manager`` owns through server-side apply of the object itself."""
    owned: FieldSet = {}
    for entry in (obj.get("metadata") or {}).get("managedFields") or []:
        if (
            entry.get("manager") == manager
            and entry.get("operation") == "Apply"
            and not entry.get("subresource")
            and (api_version is None or entry.get("apiVersion") == api_version)
        ):
            owned = union(owned, entry.get("fieldsV1") or {})
    return owned


def union(a: FieldSet, b: FieldSet) -> FieldSet:
    merged = dict(a)
    for key, sub in b.items():
        merged[key] = union(merged[key], sub) if key in merged else sub
    return merged


def project(value: Any, fields: FieldSet) -> Any:
    """``value`` reduced to the fields in ``fields``; a leaf of the set keeps all below it."""
    if len(fields) <= ("." in fields):
        return value
    if isinstance(value, dict):
        return {
            name: project(value[name], sub)
            for key, sub in fields.items()
            if key.startswith("f:") and (name := key[2:]) in value
        }
    if isinstance(value, list):
        return [project(item, sub) for item, sub in selected(value, fields)]
    return value


def selected(items: list[Any], fields: FieldSet) -> list[tuple[Any, FieldSet]]:
    """The items of a list that ``fields`` names, each with its own field set."""
    children = [(key, sub) for key, sub in fields.items() if key != "."]
    kept = []
    for index, item in enumerate(items):
        for key, sub in children:
            if _selects(key, index, item):
                kept.append((item, sub))
                break
    return kept


def item_fields(items: list[Any], fields: FieldSet) -> list[FieldSet | None]:
    """For each item of a list, the part of ``fields`` that names it (None if none does)."""
    children = [(key, sub) for key, sub in fields.items() if key != "."]
    return [
        next((sub for key, sub in children if _selects(key, index, item)), None)
        for index, item in enumerate(items)
    ]


def _selects(key: str, index: int, item: Any) -> bool:
    kind, _, rest = key.partition(":")
    if kind == "k":
        wanted = _decoded(rest)
        return isinstance(item, dict) and all(item.get(k) == v for k, v in wanted.items())
    if kind == "v":
        return bool(_decoded(rest) == item)
    if kind == "i":
        return rest == str(index)
    return False


@functools.lru_cache(maxsize=4096)
def _decoded(text: str) -> Any:
    """A list item's key, parsed once: objects of one kind mostly share theirs (the
    container ``main``, the port 80). The result is shared, and only ever read."""
    return json.loads(text)
