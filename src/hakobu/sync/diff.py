"""What a sync would change, object by object, as unified diffs of YAML.

For every object the plan would create or update, the server is asked for a dry run of
hakobu's server-side apply; the live object and the dry run's answer are both projected
onto the fields hakobu manages (before or after), so the diff shows neither server
defaults nor fields of other managers. Objects the inventory holds but git does not are
shown as deletions (done by ``sync --prune``).

Hooks are shown when a sync would run them (their app changes): ``run`` for a hook with no
copy in the cluster, ``recreate`` for one whose previous copy a sync deletes first, diffed
against that copy and checked by the server as the creation it will be. An object whose
change the server refuses as immutable is shown as ``recreate`` when it opts in
(``hakobu.dev/recreate``), checked the same way; without, as rejected, with the annotation
that would allow it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from hakobu.cluster.api import KubeApi
from hakobu.cluster.errors import ApiError, Conflict, Invalid, NotFound
from hakobu.model.objects import Object, object_ref
from hakobu.model.project import Environment, Project
from hakobu.sync.apply import (
    Applied,
    conflict_message,
    dry_run_recreate,
    invalid_message,
    recreate_refused,
)
from hakobu.sync.compare import comparable
from hakobu.sync.fieldsets import owned_by, project, union
from hakobu.sync.manifests import read_desired
from hakobu.sync.observe import AppState, observe
from hakobu.sync.ownership import FIELD_MANAGER
from hakobu.sync.plan import Action, Step

CREATE, UPDATE, DELETE, REJECTED = "create", "update", "delete", "rejected"
RUN, RECREATE = str(Action.RUN), str(Action.RECREATE)


@dataclass(frozen=True)
class ObjectDiff:
    app: str
    ref: str
    change: str
    text: str
    note: str = ""


def environment_diff(
    kube: KubeApi,
    project: Project,
    env: Environment,
    *,
    revision: str | None = None,
    only_app: str | None = None,
    keys_namespace: str | None = None,
) -> list[ObjectDiff]:
    """What a sync of ``env`` (the work tree, or ``revision``) would change, app by app."""
    desired = read_desired(project, env, revision)
    states = observe(kube, project, env, desired, only_app=only_app, keys_namespace=keys_namespace)
    return [diff for state in states for diff in diff_app(kube, state)]


def diff_app(kube: KubeApi, state: AppState) -> list[ObjectDiff]:
    return list(_diffs(kube, state))


def _diffs(kube: KubeApi, state: AppState) -> Iterator[ObjectDiff]:
    for blocked in state.blocked:
        yield ObjectDiff(state.name, blocked.ref, REJECTED, "", blocked.message)
    hooks_run = state.plan.changes(pruning=False)
    for step in state.plan.steps:
        if step.resource.hook:
            if hooks_run:
                yield _hook_diff(kube, state.name, step, state.live.get(step.resource.id))
        elif step.action in (Action.CREATE, Action.UPDATE):
            found = _applied_diff(
                kube,
                state.name,
                step.resource.obj,
                state.live.get(step.resource.id),
                force=step.resource.id in state.taken_over,
                recreate=step.resource.recreate,
            )
            if found is not None:
                yield found
    for candidate in state.plan.prunes:
        if candidate.live is not None:
            ref = object_ref(candidate.live)
            fields = owned_by(candidate.live, FIELD_MANAGER)
            before = project(candidate.live, fields) if fields else comparable(candidate.live)
            text = unified(ref, before, None, secret=is_secret(candidate.live))
            yield ObjectDiff(state.name, ref, DELETE, text, "pruned by sync --prune")


def _applied_diff(
    kube: KubeApi, app: str, obj: Object, live: Object | None, *, force: bool, recreate: bool
) -> ObjectDiff | None:
    ref = object_ref(obj)
    secret = is_secret(obj)
    note = ""
    try:
        try:
            dry: Object | None = kube.apply(
                obj, field_manager=FIELD_MANAGER, dry_run=True, force=force
            )
        except Conflict as e:
            note = conflict_message(ref, e)
            dry = kube.apply(obj, field_manager=FIELD_MANAGER, dry_run=True, force=True)
    except NotFound as e:
        # Its namespace or kind is created by the same sync: nothing to ask the server yet.
        dry, note = None, f"not checked by the server: {e.message}"
    except Invalid as e:
        return _refused_diff(kube, app, obj, live, e, recreate=recreate)
    except ApiError as e:
        return ObjectDiff(app, ref, REJECTED, "", f"the server rejects it: {e.message}")
    if live is None:
        after = project(dry, owned_by(dry, FIELD_MANAGER)) if dry else comparable(obj)
        return ObjectDiff(app, ref, CREATE, unified(ref, None, after, secret=secret), note)
    if dry is None:
        text = unified(ref, comparable(live), comparable(obj), secret=secret)
        return ObjectDiff(app, ref, UPDATE, text, note)
    fields = union(owned_by(live, FIELD_MANAGER), owned_by(dry, FIELD_MANAGER))
    before, after = project(live, fields), project(dry, fields)
    if before == after:
        return None
    return ObjectDiff(app, ref, UPDATE, unified(ref, before, after, secret=secret), note)


def _refused_diff(
    kube: KubeApi, app: str, obj: Object, live: Object | None, error: Invalid, *, recreate: bool
) -> ObjectDiff:
    """An apply the server refused as Invalid: a change of a field set only at creation
    (``recreate`` when the object opts in), or a manifest it rejects."""
    ref = object_ref(obj)
    message = invalid_message(error)
    refused = Applied(ref, None, f"the server rejects it: {message}", invalid=True)
    if live is None:
        return ObjectDiff(app, ref, REJECTED, "", refused.error or "")
    checked = recreate_refused(kube, obj, refused, allowed=recreate, deadline=0.0, dry_run=True)
    if not checked.recreated:
        return ObjectDiff(app, ref, REJECTED, "", checked.error or "")
    fields = owned_by(live, FIELD_MANAGER)
    before = project(live, fields) if fields else comparable(live)
    text = unified(ref, before, comparable(obj), secret=is_secret(obj))
    note = (
        f"the server refuses this change as immutable ({message}); a sync deletes it "
        "and creates it again"
    )
    return ObjectDiff(app, ref, RECREATE, text, note)


def _hook_diff(kube: KubeApi, app: str, step: Step, live: Object | None) -> ObjectDiff:
    obj = step.resource.obj
    ref = object_ref(obj)
    if step.action is Action.RECREATE:
        checked = dry_run_recreate(kube, obj)
    else:
        try:
            checked = Applied(ref, kube.apply(obj, field_manager=FIELD_MANAGER, dry_run=True))
        except NotFound as e:
            checked = Applied(ref, None, e.message, unverifiable=True)
        except ApiError as e:
            checked = Applied(ref, None, f"{ref}: the server rejected it: {e.message}")
    if checked.error and not checked.unverifiable:
        return ObjectDiff(app, ref, REJECTED, "", checked.error)
    note = f"hook, runs because the app changes ({step.resource.phase})"
    if checked.unverifiable:
        note += f"; not checked by the server: {checked.error}"
    secret = is_secret(obj)
    if live is None:
        return ObjectDiff(app, ref, RUN, unified(ref, None, comparable(obj), secret=secret), note)
    fields = owned_by(live, FIELD_MANAGER)
    before = project(live, fields) if fields else comparable(live)
    text = unified(ref, before, comparable(obj), secret=secret)
    if step.action is Action.RECREATE:
        note += "; its previous copy is deleted first"
    return ObjectDiff(app, ref, str(step.action), text, note)


def is_secret(obj: Object) -> bool:
    return obj.get("apiVersion") == "v1" and obj.get("kind") == "Secret"


def unified(ref: str, before: Any, after: Any, *, secret: bool = False) -> str:
    """``secret``: show the items of ``data`` and ``stringData`` by name only."""
    if secret:
        before, after = masked(before, after)

    def lines(value: Any) -> list[str]:
        if value is None:
            return []
        text = yaml.safe_dump(value, sort_keys=True, default_flow_style=False)
        return text.splitlines(keepends=True)

    return "".join(difflib.unified_diff(lines(before), lines(after), f"live/{ref}", f"git/{ref}"))


HIDDEN, HIDDEN_OLD, HIDDEN_NEW = "(hidden)", "(hidden, before)", "(hidden, changed)"


def masked(before: Any, after: Any) -> tuple[Any, Any]:
    """Copies with every secret value replaced by a placeholder that still tells whether
    the item is added, removed, changed or the same."""
    before, after = _shallow(before), _shallow(after)
    for field in ("data", "stringData"):
        old = _items(before, field)
        new = _items(after, field)
        if old is not None:
            before[field] = {
                k: HIDDEN if new is None or k not in new or new[k] == v else HIDDEN_OLD
                for k, v in old.items()
            }
        if new is not None:
            after[field] = {
                k: HIDDEN if old is None or k not in old or old[k] == v else HIDDEN_NEW
                for k, v in new.items()
            }
    return before, after


def _shallow(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else value


def _items(value: Any, field: str) -> dict[str, Any] | None:
    if not isinstance(value, dict) or not isinstance(value.get(field), dict):
        return None
    items: dict[str, Any] = value[field]
    return items
