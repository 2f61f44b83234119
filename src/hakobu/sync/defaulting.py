"""Whether an object the pure comparison finds different differs only by the server's
defaults: asked of the server with a dry run of hakobu's apply.

A field set from ``managedFields`` leaves out what the server defaulted beside hakobu's
fields, but not what it defaulted inside a value hakobu owns whole: an atomic list or map
(``x-kubernetes-list-type: atomic``, most lists of custom resources, e.g. an HTTPRoute's
``parentRefs`` and ``rules``, whose items gain ``group``, ``kind``, ``weight`` and a
``PathPrefix /`` match). As ``kubectl diff`` and Argo CD's server-side diff do, the object
is then the server's answer to a dry run of the apply, and it is unchanged when that answer
and the live object agree on hakobu's fields. Only objects planned as updates are asked, so
a sync with nothing to change makes no request here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from hakobu.cluster.api import KubeApi
from hakobu.cluster.errors import ApiError
from hakobu.model.canary import holding_stable
from hakobu.model.objects import Object, ObjectId
from hakobu.model.traffic import holding_route
from hakobu.sync.fieldsets import owned_by, project, union
from hakobu.sync.ownership import FIELD_MANAGER
from hakobu.sync.plan import Action, AppPlan, Step


def settled(kube: KubeApi, plan: AppPlan, live: Mapping[ObjectId, Object | None]) -> AppPlan:
    """``plan`` with the updates the server says change nothing planned as unchanged."""
    return dataclasses.replace(plan, steps=tuple(_settled(kube, step, live) for step in plan.steps))


def _settled(kube: KubeApi, step: Step, live: Mapping[ObjectId, Object | None]) -> Step:
    current = live.get(step.resource.id)
    if (
        step.action is Action.UPDATE
        and current is not None
        and only_defaults(kube, step.resource.obj, current)
    ):
        return dataclasses.replace(step, action=Action.UNCHANGED)
    return step


def only_defaults(kube: KubeApi, desired: Object, live: Object) -> bool:
    """Whether applying ``desired`` over ``live`` (as a sync applies it) would leave
    hakobu's fields as they are."""
    # What a sync applies: a held canary keeps its stable template, a weighed route its
    # weights (see sync.run).
    applied = holding_route(holding_stable(desired, live), live)
    try:
        dry = kube.apply(applied, field_manager=FIELD_MANAGER, dry_run=True)
    except ApiError:
        # A conflict, a refusal, a kind gone: the update stands, and the sync says why.
        return False
    fields = union(owned_by(live, FIELD_MANAGER), owned_by(dry, FIELD_MANAGER))
    return bool(fields) and project(live, fields) == project(dry, fields)
