"""What a sync would change, object by object, as unified diffs of YAML.

For every object the plan would create or update, the server is asked for a dry run of
hakobu's server-side apply; the live object and the dry run's answer are both projected
onto the fields hakobu manages (before or after), so the diff shows neither server
defaults nor fields of other managers. Objects the inventory holds but git does not are
shown as deletions (done by ``sync --prune``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import ApiError, Conflict, NotFound
from hakobu.model.objects import Object, object_ref
from hakobu.sync.apply import conflict_message
from hakobu.sync.compare import comparable
from hakobu.sync.fieldsets import owned_by, project, union
from hakobu.sync.observe import AppState
from hakobu.sync.ownership import FIELD_MANAGER
from hakobu.sync.plan import Action

CREATE, UPDATE, DELETE, REJECTED = "create", "update", "delete", "rejected"


@dataclass(frozen=True)
class ObjectDiff:
    app: str
    ref: str
    change: str
    text: str
    note: str = ""


def diff_app(kube: KubeClient, state: AppState) -> list[ObjectDiff]:
    return list(_diffs(kube, state))


def _diffs(kube: KubeClient, state: AppState) -> Iterator[ObjectDiff]:
    for step in state.plan.steps:
        if step.action in (Action.CREATE, Action.UPDATE):
            found = _applied_diff(
                kube, state.name, step.resource.obj, state.live.get(step.resource.id)
            )
            if found is not None:
                yield found
    for candidate in state.plan.prunes:
        if candidate.live is not None:
            ref = object_ref(candidate.live)
            fields = owned_by(candidate.live, FIELD_MANAGER)
            before = project(candidate.live, fields) if fields else comparable(candidate.live)
            yield ObjectDiff(
                state.name, ref, DELETE, unified(ref, before, None), "pruned by sync --prune"
            )


def _applied_diff(
    kube: KubeClient, app: str, obj: Object, live: Object | None
) -> ObjectDiff | None:
    ref = object_ref(obj)
    note = ""
    try:
        try:
            dry: Object | None = kube.apply(obj, field_manager=FIELD_MANAGER, dry_run=True)
        except Conflict as e:
            note = conflict_message(ref, e)
            dry = kube.apply(obj, field_manager=FIELD_MANAGER, dry_run=True, force=True)
    except NotFound as e:
        # Its namespace or kind is created by the same sync: nothing to ask the server yet.
        dry, note = None, f"not checked by the server: {e.message}"
    except ApiError as e:
        return ObjectDiff(app, ref, REJECTED, "", f"the server rejects it: {e.message}")
    if live is None:
        after = project(dry, owned_by(dry, FIELD_MANAGER)) if dry else comparable(obj)
        return ObjectDiff(app, ref, CREATE, unified(ref, None, after), note)
    if dry is None:
        return ObjectDiff(app, ref, UPDATE, unified(ref, comparable(live), comparable(obj)), note)
    fields = union(owned_by(live, FIELD_MANAGER), owned_by(dry, FIELD_MANAGER))
    before, after = project(live, fields), project(dry, fields)
    if before == after:
        return None
    return ObjectDiff(app, ref, UPDATE, unified(ref, before, after), note)


def unified(ref: str, before: Any, after: Any) -> str:
    def lines(value: Any) -> list[str]:
        if value is None:
            return []
        text = yaml.safe_dump(value, sort_keys=True, default_flow_style=False)
        return text.splitlines(keepends=True)

    return "".join(difflib.unified_diff(lines(before), lines(after), f"live/{ref}", f"git/{ref}"))
