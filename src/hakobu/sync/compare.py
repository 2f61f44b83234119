"""Is a live object what git says, as far as hakobu's own fields go? (pure, no requests)

The live object is projected onto the fields hakobu applied (its managedFields entry) and
compared with the manifest. Fields the server defaulted and fields other managers own are
outside that projection, so they never count as a difference. A field someone else took
over (``kubectl edit``) or removed drops out of hakobu's set, and so shows as a difference.
"""

from __future__ import annotations

from typing import Any

from hakobu.model.objects import Object
from hakobu.sync.fieldsets import FieldSet, owned_by, project, selected

# Identity and server-owned parts, never part of what a manifest asks for.
_IGNORED_TOP = ("apiVersion", "kind", "status")
_IGNORED_METADATA = frozenset({"name", "namespace", "creationTimestamp", "managedFields"})
_IGNORED_TOP_AND_METADATA = frozenset({*_IGNORED_TOP, "metadata"})


def comparable(obj: Object) -> dict[str, Any]:
    """What of a manifest server-side apply manages: no identity, status or nulls."""
    view = {k: _without_nulls(v) for k, v in obj.items() if k not in _IGNORED_TOP}
    metadata = {k: v for k, v in (view.get("metadata") or {}).items() if k not in _IGNORED_METADATA}
    if metadata:
        view["metadata"] = metadata
    else:
        view.pop("metadata", None)
    return view


def in_sync(desired: Object, live: Object, manager: str) -> bool:
    owned = owned_by(live, manager, str(desired.get("apiVersion")))
    if not owned:
        return False
    # ``same(comparable(desired), comparable(project(live, owned)))``, walked without
    # building either view: a no-op sync compares every object of the environment.
    meta_fields = owned.get("f:metadata")
    live_meta = (live.get("metadata") or {}) if meta_fields is not None else {}
    return _same_mapping(desired, live, owned, _IGNORED_TOP_AND_METADATA) and _same_mapping(
        desired.get("metadata") or {}, live_meta, meta_fields or {}, _IGNORED_METADATA
    )


def _matches(want: Any, have: Any, fields: FieldSet) -> bool:
    """``same(want, project(have, fields))``."""
    if len(fields) <= ("." in fields):
        return same(want, have)
    if isinstance(have, dict):
        if isinstance(want, dict):
            return _same_mapping(want, have, fields, frozenset())
        return same(want, project(have, fields))
    if isinstance(have, list):
        kept = selected(have, fields)
        if isinstance(want, list):
            return len(want) == len(kept) and all(
                _matches(w, item, sub) for w, (item, sub) in zip(want, kept, strict=True)
            )
        return same(want, [project(item, sub) for item, sub in kept])
    return same(want, have)


def _same_mapping(
    want: dict[str, Any], have: dict[str, Any], fields: FieldSet, ignored: frozenset[str]
) -> bool:
    """``same(want, project(have, fields))`` for two mappings, leaving ``ignored`` out."""
    if len(fields) <= ("." in fields):
        return all(
            same(want.get(k), have.get(k)) for k in want.keys() | have.keys() if k not in ignored
        )
    for key, sub in fields.items():
        if key.startswith("f:"):
            name = key[2:]
            if (
                name not in ignored
                and name in have
                and not _matches(want.get(name), have[name], sub)
            ):
                return False
    # What the projection lacks compares with nothing: only an empty value is the same.
    return all(
        _empty(value)
        for name, value in want.items()
        if name not in ignored and (name not in have or f"f:{name}" not in fields)
    )


def same(a: Any, b: Any) -> bool:
    """Equal, allowing for what the server normalises: a number given for a quantity
    comes back as a string, and an empty value is the same as none."""
    if a == b:
        # Most values are simply equal and need no walk. (Python's True == 1 is the one
        # equality Kubernetes does not share; a bool nested in an equal container is taken
        # as equal, which server-side apply, keeping the types it is given, never meets.)
        return isinstance(a, bool) == isinstance(b, bool)
    if isinstance(a, dict) and isinstance(b, dict):
        return all(same(a.get(key), b.get(key)) for key in a.keys() | b.keys())
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if _empty(a) and _empty(b):
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return _number_or_text(a) and _number_or_text(b) and str(a) == str(b)


def _number_or_text(value: Any) -> bool:
    return isinstance(value, int | float | str)


def _empty(value: Any) -> bool:
    return value is None or value in ({}, [])


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value
