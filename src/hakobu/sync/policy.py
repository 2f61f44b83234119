"""How a sync treats one object: its apply policy, and whether it may be recreated (pure).

Annotations on a manifest (or, through an app spec's ``annotations``, on every object of
an app)::

    hakobu.dev/ssa: Override | Merge | IfNotPresent | Ignore     how it is applied
    hakobu.dev/recreate: "true"                                  delete and create it again
                                                                 when the server refuses a
                                                                 change as immutable

The four policies are Flux's (``kustomize.toolkit.fluxcd.io/ssa``), read in hakobu's terms:

- ``Override`` (the default): git's fields are hakobu's. A change someone else makes to one
  of them is drift; ``status`` and ``diff`` show it and a sync takes it back (with
  ``--force-conflicts`` when another field manager took the field over). Fields others
  add and git does not hold are left alone, as always.
- ``Merge``: git's fields are applied, except those another field manager owns in the live
  object and hakobu does not (an autoscaler's ``replicas``, a ``caBundle`` a controller
  injects, a ``kubectl edit``): those stay as they are and are not drift. Metadata is
  always git's. Flux's Merge keeps only the fields others added; hakobu keeps those under
  every policy, so its Merge also leaves the fields others changed.
- ``IfNotPresent``: created when missing, never updated afterwards (nor drift). It is in
  the app's inventory, so it is pruned when it leaves git.
- ``Ignore``: neither applied nor pruned, nor counted in status. A live object annotated
  ``Ignore`` (``kubectl annotate``) is skipped as well, as Flux does.

Recreating is the one way to make some changes (a Job's template, a Deployment's
selector, a Service's clusterIP): the object is deleted with its dependents, and created
again once it is gone. The name is hakobu's word for a delete-then-create, as its hooks
already use it, rather than Flux's ``force``, which in hakobu means taking over fields
(``--force-conflicts``).
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from typing import Any

from hakobu.model.objects import Object
from hakobu.sync.fieldsets import FieldSet, item_fields, union

SSA_ANNOTATION = "hakobu.dev/ssa"
RECREATE_ANNOTATION = "hakobu.dev/recreate"


class ApplyPolicy(enum.Enum):
    OVERRIDE = "Override"
    MERGE = "Merge"
    IF_NOT_PRESENT = "IfNotPresent"
    IGNORE = "Ignore"


def ignored_live(live: Object | None) -> bool:
    """Whether the live object itself says hakobu must leave it alone."""
    if live is None:
        return False
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    return annotations.get(SSA_ANNOTATION) == ApplyPolicy.IGNORE.value


def others_fields(live: Object, manager: str) -> FieldSet:
    """The fields other managers own in ``live`` (status and scale subresources included:
    an autoscaler writes ``replicas`` through ``scale``) and ``manager`` does not."""
    theirs: FieldSet = {}
    mine: FieldSet = {}
    for entry in (live.get("metadata") or {}).get("managedFields") or []:
        fields = entry.get("fieldsV1") or {}
        if entry.get("manager") == manager and entry.get("operation") == "Apply":
            if not entry.get("subresource"):
                mine = union(mine, fields)
        else:
            theirs = union(theirs, fields)
    return _difference(theirs, mine)


def merged_view(desired: Object, live: Object, manager: str) -> Object:
    """``desired`` without the fields (outside metadata) another manager owns in ``live``
    and ``manager`` does not: what a sync applies, and compares, under ``Merge``."""
    return without_fields(desired, others_fields(live, manager))


def managers_fields(live: Object, managers: Collection[str]) -> FieldSet:
    """Every field ``managers`` own in ``live``, subresources included."""
    owned: FieldSet = {}
    for entry in (live.get("metadata") or {}).get("managedFields") or []:
        if entry.get("manager") in managers:
            owned = union(owned, entry.get("fieldsV1") or {})
    return owned


def without_fields(desired: Object, fields: FieldSet) -> Object:
    """``desired`` less ``fields`` outside its identity and metadata."""
    trimmed = {
        key: value
        if key in ("apiVersion", "kind", "metadata") or f"f:{key}" not in fields
        else _without(value, fields[f"f:{key}"])
        for key, value in desired.items()
    }
    return {k: v for k, v in trimmed.items() if v is not _GONE}


_GONE: Any = object()


def _leaf(fields: FieldSet) -> bool:
    return len(fields) <= ("." in fields)


def _difference(a: FieldSet, b: FieldSet) -> FieldSet:
    """The fields of ``a`` that ``b`` does not hold."""
    kept: FieldSet = {}
    for key, sub in a.items():
        if key == ".":
            continue
        if key not in b:
            kept[key] = sub
        elif not _leaf(b[key]) and not _leaf(sub):
            rest = _difference(sub, b[key])
            if rest:
                kept[key] = rest
    return kept


def _without(value: Any, fields: FieldSet) -> Any:
    """``value`` less the fields in ``fields``; ``_GONE`` when nothing of it is left."""
    if _leaf(fields):
        return _GONE
    if isinstance(value, dict):
        out = {}
        for name, item in value.items():
            sub = fields.get(f"f:{name}")
            rest = item if sub is None else _without(item, sub)
            if rest is not _GONE:
                out[name] = rest
        return out
    if isinstance(value, list):
        kept = []
        for item, sub in zip(value, item_fields(value, fields), strict=True):
            rest = item if sub is None else _without(item, sub)
            if rest is not _GONE:
                kept.append(rest)
        return kept
    return value
