"""Desired vs live → what a sync does to each object (pure).

Annotations on a manifest steer its place in the sync::

    hakobu.dev/hook: PreSync | Sync | PostSync | SyncFail     run as a hook in that phase
    hakobu.dev/hook-delete-policy: BeforeHookCreation, HookSucceeded, HookFailed
    hakobu.dev/hook-policy: OnChange | Always                 when a hook runs (OnChange)
    hakobu.dev/sync-wave: "N"                                 lower waves first (default 0)
    hakobu.dev/ssa, hakobu.dev/recreate                       how it is applied (see policy)

Charts' own annotations are read as Argo CD reads them, when the object has no
``hakobu.dev/hook`` (which then wins)::

    helm.sh/hook: pre-install, pre-upgrade → PreSync; post-install, post-upgrade → PostSync
    helm.sh/hook: test, pre-delete, post-delete, pre-/post-rollback → a hook that never runs
    helm.sh/hook-weight: "N"            the wave, unless hakobu.dev/sync-wave is set
    helm.sh/hook-delete-policy: before-hook-creation, hook-succeeded, hook-failed
    helm.sh/resource-policy: keep       never pruned (see ``prune``)

``helm.sh/hook: crd-install`` is not a hook: the object is applied like any other. A hook
listing both a pre- and a post- event runs once, in PreSync.

A hook runs when its app changes: when the sync creates or updates one of the app's
objects, prunes one, or git's manifests of the app (hooks included) differ from those
last synced successfully. A sync with nothing to do runs no hooks, as an automated sync in
Argo CD runs only for an app that is OutOfSync; ``hakobu.dev/hook-policy: Always`` runs the
hook on every sync. A hook is not part of the app's inventory and is created afresh each
time it runs; with no delete policy, its previous copy is deleted first
(BeforeHookCreation), which the plan shows as ``recreate``.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from hakobu.errors import InvalidInput
from hakobu.model.ignoredifferences import IgnoreRule
from hakobu.model.objects import Object, ObjectId, object_ref
from hakobu.sync.compare import in_sync
from hakobu.sync.held import compared_view
from hakobu.sync.ignoring import ignoring
from hakobu.sync.manifests import Manifest
from hakobu.sync.ordering import PHASES, Phase, SyncKey, deletion_order, sync_key
from hakobu.sync.ownership import FIELD_MANAGER, InventoryEntry, Owner, stamp
from hakobu.sync.policy import (
    RECREATE_ANNOTATION,
    SSA_ANNOTATION,
    ApplyPolicy,
    ignored_live,
    merged_view,
)
from hakobu.sync.prune import Verdict, verdict

HOOK_ANNOTATION = "hakobu.dev/hook"
DELETE_POLICY_ANNOTATION = "hakobu.dev/hook-delete-policy"
WAVE_ANNOTATION = "hakobu.dev/sync-wave"
HOOK_POLICY_ANNOTATION = "hakobu.dev/hook-policy"
HELM_HOOK_ANNOTATION = "helm.sh/hook"
HELM_WEIGHT_ANNOTATION = "helm.sh/hook-weight"
HELM_DELETE_POLICY_ANNOTATION = "helm.sh/hook-delete-policy"

# Helm's hook events Argo CD runs, and the phase it runs them in; every other event
# (test, pre-delete, post-delete, pre-rollback, post-rollback) names a hook that never runs.
HELM_PHASES = {
    "pre-install": Phase.PRE_SYNC,
    "pre-upgrade": Phase.PRE_SYNC,
    "post-install": Phase.POST_SYNC,
    "post-upgrade": Phase.POST_SYNC,
}
# Helm's word for a CustomResourceDefinition applied first, which a sync does anyway.
_HELM_NOT_A_HOOK = "crd-install"


_STEERING = frozenset(
    {
        HOOK_ANNOTATION,
        DELETE_POLICY_ANNOTATION,
        WAVE_ANNOTATION,
        HOOK_POLICY_ANNOTATION,
        HELM_HOOK_ANNOTATION,
        HELM_WEIGHT_ANNOTATION,
        HELM_DELETE_POLICY_ANNOTATION,
        SSA_ANNOTATION,
        RECREATE_ANNOTATION,
    }
)


class HookPolicy(enum.Enum):
    ON_CHANGE = "OnChange"
    ALWAYS = "Always"


class DeletePolicy(enum.Enum):
    BEFORE_HOOK_CREATION = "BeforeHookCreation"
    HOOK_SUCCEEDED = "HookSucceeded"
    HOOK_FAILED = "HookFailed"


HELM_DELETE_POLICIES = {
    "before-hook-creation": DeletePolicy.BEFORE_HOOK_CREATION,
    "hook-succeeded": DeletePolicy.HOOK_SUCCEEDED,
    "hook-failed": DeletePolicy.HOOK_FAILED,
}


_NONE: frozenset[DeletePolicy] = frozenset()


class Action(enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    RUN = "run"  # a hook, created
    RECREATE = "recreate"  # a hook whose previous copy is deleted before it is created

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Resource:
    """A manifest with hakobu's labels and its place in the sync."""

    obj: Object
    id: ObjectId
    source: str
    phase: Phase
    wave: int
    hook: bool
    delete_policies: frozenset[DeletePolicy]
    # A hook that runs on every sync, not only when its app changes.
    always: bool = False
    policy: ApplyPolicy = ApplyPolicy.OVERRIDE
    # Deleted and created again when the server refuses a change as immutable.
    recreate: bool = False

    @property
    def key(self) -> SyncKey:
        return sync_key(self.phase, self.wave, self.id)

    @property
    def ref(self) -> str:
        return object_ref(self.obj)


def resource_of(manifest: Manifest, owner: Owner) -> Resource:
    obj = manifest.obj
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    if not (annotations.keys() & _STEERING):
        # Most manifests: no hook, wave 0.
        return Resource(
            stamp(obj, owner), manifest.id, manifest.source, Phase.SYNC, 0, False, _NONE
        )
    where = f"{manifest.source}: {object_ref(obj)}"
    hook_value = annotations.get(HOOK_ANNOTATION)
    phase = Phase.SYNC
    # A chart's hook whose events Argo CD does not run is left alone, as Argo CD leaves it.
    never_runs = False
    if hook_value is not None:
        try:
            phase = Phase(hook_value)
        except ValueError:
            raise InvalidInput(
                f"{where}: {HOOK_ANNOTATION}: {hook_value!r} is not a hook phase",
                hint=f"use one of: {', '.join(p.value for p in Phase)}",
            ) from None
    else:
        helm = _helm_hook(annotations)
        if helm is not None:
            hook_value = str(annotations[HELM_HOOK_ANNOTATION])
            phase, never_runs = helm
    wave = _wave(where, annotations)
    policies = _delete_policies(where, annotations)
    if hook_value is not None and not policies:
        policies.add(DeletePolicy.BEFORE_HOOK_CREATION)
    policy_value = annotations.get(HOOK_POLICY_ANNOTATION, HookPolicy.ON_CHANGE.value)
    try:
        policy = HookPolicy(policy_value)
    except ValueError:
        raise InvalidInput(
            f"{where}: {HOOK_POLICY_ANNOTATION}: {policy_value!r} is not a hook policy",
            hint=f"use one of: {', '.join(p.value for p in HookPolicy)}",
        ) from None
    if policy is HookPolicy.ALWAYS and hook_value is None:
        raise InvalidInput(
            f"{where}: {HOOK_POLICY_ANNOTATION} is set but the object is not a hook",
            hint=f"add {HOOK_ANNOTATION}: <phase>, or remove {HOOK_POLICY_ANNOTATION}",
        )
    apply_policy, recreate = _apply_policy(where, annotations, hook=hook_value is not None)
    if never_runs:
        apply_policy = ApplyPolicy.IGNORE
    return Resource(
        stamp(obj, owner),
        manifest.id,
        manifest.source,
        phase,
        wave,
        hook_value is not None,
        frozenset(policies),
        always=policy is HookPolicy.ALWAYS,
        policy=apply_policy,
        recreate=recreate,
    )


def _helm_hook(annotations: Mapping[str, object]) -> tuple[Phase, bool] | None:
    """A chart's hook: its phase, and whether it never runs; None if it is not a hook."""
    value = annotations.get(HELM_HOOK_ANNOTATION)
    if value is None or str(value).strip() == _HELM_NOT_A_HOOK:
        return None
    phases = [HELM_PHASES[e] for e in _csv(value) if e in HELM_PHASES]
    if not phases:
        return Phase.SYNC, True
    return min(phases, key=PHASES.index), False


def _wave(where: str, annotations: Mapping[str, object]) -> int:
    name = WAVE_ANNOTATION if WAVE_ANNOTATION in annotations else HELM_WEIGHT_ANNOTATION
    value = annotations.get(name, "0")
    try:
        return int(str(value))
    except ValueError:
        raise InvalidInput(
            f"{where}: {name}: {value!r} is not an integer",
            hint=f'quote a whole number, e.g. {name}: "1"',
        ) from None


def _delete_policies(where: str, annotations: Mapping[str, object]) -> set[DeletePolicy]:
    policies: set[DeletePolicy] = set()
    for part in _csv(annotations.get(DELETE_POLICY_ANNOTATION, "")):
        try:
            policies.add(DeletePolicy(part))
        except ValueError:
            raise InvalidInput(
                f"{where}: {DELETE_POLICY_ANNOTATION}: {part!r} is not a policy",
                hint=f"use a comma-separated list of: {', '.join(p.value for p in DeletePolicy)}",
            ) from None
    for part in _csv(annotations.get(HELM_DELETE_POLICY_ANNOTATION, "")):
        if part not in HELM_DELETE_POLICIES:
            raise InvalidInput(
                f"{where}: {HELM_DELETE_POLICY_ANNOTATION}: {part!r} is not a policy",
                hint=f"use a comma-separated list of: {', '.join(HELM_DELETE_POLICIES)}",
            )
        policies.add(HELM_DELETE_POLICIES[part])
    return policies


def _csv(value: object) -> list[str]:
    return [part.strip() for part in str(value).split(",") if part.strip()]


def _apply_policy(
    where: str, annotations: Mapping[str, object], *, hook: bool
) -> tuple[ApplyPolicy, bool]:
    """The object's apply policy, and whether it may be recreated."""
    ssa_value = annotations.get(SSA_ANNOTATION, ApplyPolicy.OVERRIDE.value)
    try:
        apply_policy = ApplyPolicy(ssa_value)
    except ValueError:
        raise InvalidInput(
            f"{where}: {SSA_ANNOTATION}: {ssa_value!r} is not an apply policy",
            hint=f"use one of: {', '.join(p.value for p in ApplyPolicy)}",
        ) from None
    recreate_value = str(annotations.get(RECREATE_ANNOTATION, "false")).lower()
    if recreate_value not in ("true", "false"):
        raise InvalidInput(
            f'{where}: {RECREATE_ANNOTATION}: {recreate_value!r} is neither "true" nor "false"',
            hint=f'write {RECREATE_ANNOTATION}: "true" to allow it, or remove the annotation',
        )
    if hook and (
        apply_policy in (ApplyPolicy.MERGE, ApplyPolicy.IF_NOT_PRESENT) or recreate_value == "true"
    ):
        raise InvalidInput(
            f"{where}: a hook is created afresh each time it runs, so "
            f"{SSA_ANNOTATION}: {apply_policy.value} and {RECREATE_ANNOTATION} do not apply",
            hint=f"remove them (a hook may only be {SSA_ANNOTATION}: Ignore)",
        )
    return apply_policy, recreate_value == "true"


@dataclass(frozen=True)
class Step:
    resource: Resource
    action: Action


@dataclass(frozen=True)
class PruneCandidate:
    entry: InventoryEntry
    live: Object | None
    verdict: Verdict


@dataclass(frozen=True)
class AppPlan:
    owner: Owner
    steps: tuple[Step, ...]  # in apply order
    prunes: tuple[PruneCandidate, ...]  # in deletion order, only those to delete
    kept: tuple[PruneCandidate, ...]  # not in git, but not hakobu's to delete
    # Whether git's manifests of the app (hooks included) differ from those last synced
    # successfully, or the app was never synced.
    git_changed: bool = True
    # In git but left alone: annotated (in git or in the cluster) hakobu.dev/ssa: Ignore.
    ignored: tuple[Resource, ...] = ()

    def changes(self, *, pruning: bool) -> bool:
        """Whether a sync (pruning or not) has something to do for the app: then its
        hooks run."""
        return (
            self.git_changed
            or (pruning and bool(self.prunes))
            or any(
                s.action in (Action.CREATE, Action.UPDATE)
                for s in self.steps
                if not s.resource.hook
            )
        )

    def runs(self, step: Step, *, pruning: bool) -> bool:
        """Whether a sync carries out ``step``: every object is applied (or found
        unchanged); a hook runs when the app changes, or always if it asks to."""
        resource = step.resource
        return not resource.hook or resource.always or self.changes(pruning=pruning)

    def of_phase(self, phase: Phase) -> list[list[Step]]:
        """The phase's steps grouped in waves, lowest wave first."""
        waves: dict[int, list[Step]] = {}
        for step in self.steps:
            if step.resource.phase is phase:
                waves.setdefault(step.resource.wave, []).append(step)
        return [waves[wave] for wave in sorted(waves)]

    def count(self, action: Action) -> int:
        return sum(1 for step in self.steps if step.action is action)

    @cached_property
    def inventory(self) -> frozenset[InventoryEntry]:
        """What the app's inventory holds once the plan's objects are applied."""
        return frozenset(
            InventoryEntry(s.resource.id, str(s.resource.obj["apiVersion"]))
            for s in self.steps
            if not s.resource.hook
        )


def plan_app(
    owner: Owner,
    resources: Iterable[Resource],
    live: Mapping[ObjectId, Object | None],
    inventory: Iterable[InventoryEntry],
    *,
    git_changed: bool = True,
    ignore: Sequence[IgnoreRule] = (),
    known_in_sync: bool = False,
) -> AppPlan:
    """``live`` holds the live object (or None) of every resource (hooks included) and
    inventory entry; ``git_changed``: see ``AppPlan.git_changed``; ``ignore``: the
    environment's ``ignoreDifferences``; ``known_in_sync``: the app's objects are known to
    be what git asks for, as last compared (``insync``), so they are not compared again."""
    steps = []
    ignored = []
    desired_ids = set()
    for given in sorted(resources, key=lambda r: r.key):
        desired_ids.add(given.id)
        current = live.get(given.id)
        if given.policy is ApplyPolicy.IGNORE or ignored_live(current):
            ignored.append(given)
            continue
        resource = given
        if given.policy is ApplyPolicy.MERGE and current is not None:
            # Fields another manager now owns are theirs: neither applied nor compared.
            resource = dataclasses.replace(
                given, obj=merged_view(given.obj, current, FIELD_MANAGER)
            )
        if ignore and current is not None and not resource.hook:
            resource = dataclasses.replace(resource, obj=ignoring(resource.obj, current, ignore))
        if resource.hook:
            recreate = (
                current is not None
                and DeletePolicy.BEFORE_HOOK_CREATION in resource.delete_policies
            )
            action = Action.RECREATE if recreate else Action.RUN
        elif current is None:
            action = Action.CREATE
        elif (
            resource.policy is ApplyPolicy.IF_NOT_PRESENT
            or known_in_sync
            or in_sync(
                # A canary in progress is what git asks for: the sync left it to the rollout.
                compared_view(resource.obj, current),
                current,
                FIELD_MANAGER,
            )
        ):
            action = Action.UNCHANGED
        else:
            action = Action.UPDATE
        steps.append(Step(resource, action))
    by_id = {entry.id: entry for entry in inventory if entry.id not in desired_ids}
    prunes: list[PruneCandidate] = []
    kept: list[PruneCandidate] = []
    for oid in deletion_order(by_id):
        current = live.get(oid)
        if current is None:
            continue
        candidate = PruneCandidate(by_id[oid], current, verdict(current, owner))
        (prunes if candidate.verdict.prune else kept).append(candidate)
    return AppPlan(owner, tuple(steps), tuple(prunes), tuple(kept), git_changed, tuple(ignored))
