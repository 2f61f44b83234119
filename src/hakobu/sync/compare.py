"""Is a live object what git says, as far as hakobu's own fields go? (pure, no requests)

The live object is projected onto the fields hakobu applied (its managedFields entry) and
compared with the manifest. Fields the server defaulted and fields other managers own are
outside that projection, so they never count as a difference. A field someone else took
over (``kubectl edit``) or removed drops out of hakobu's set, and so shows as a difference.
"""

from __future__ import annotations

from typing import Any

from hakobu.model.objects import Object
from hakobu.sync.fieldsets import owned_by, project

# Identity and server-owned parts, never part of what a manifest asks for.
_IGNORED_TOP = ("apiVersion", "kind", "status")
_IGNORED_METADATA = ("name", "namespace", "creationTimestamp", "managedFields")


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
    current = project(live, owned)
    if not isinstance(current, dict):
        return False
    # ``same(comparable(desired), comparable(current))`` without building either view:
    # ``same`` already treats a null, an empty value and a missing key alike.
    for key in desired.keys() | current.keys():
        if key in _IGNORED_TOP:
            continue
        if key == "metadata":
            want, have = desired.get(key) or {}, current.get(key) or {}
            if not all(
                same(want.get(k), have.get(k))
                for k in want.keys() | have.keys()
                if k not in _IGNORED_METADATA
            ):
                return False
        elif not same(desired.get(key), current.get(key)):
            return False
    return True


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
