"""Desired vs live → what a sync does to each object (pure).

Annotations on a manifest steer its place in the sync::

    hakobu.dev/hook: PreSync | Sync | PostSync | SyncFail     run as a hook in that phase
    hakobu.dev/hook-delete-policy: BeforeHookCreation, HookSucceeded, HookFailed
    hakobu.dev/sync-wave: "N"                                 lower waves first (default 0)

A hook is created afresh on every sync and is not part of the app's inventory; with no
delete policy it is replaced before being created again (BeforeHookCreation).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hakobu.errors import InvalidInput
from hakobu.model.objects import Object, ObjectId, object_ref
from hakobu.sync.compare import in_sync
from hakobu.sync.manifests import Manifest
from hakobu.sync.ordering import Phase, SyncKey, deletion_order, sync_key
from hakobu.sync.ownership import FIELD_MANAGER, InventoryEntry, Owner, stamp
from hakobu.sync.prune import Verdict, verdict

HOOK_ANNOTATION = "hakobu.dev/hook"
DELETE_POLICY_ANNOTATION = "hakobu.dev/hook-delete-policy"
WAVE_ANNOTATION = "hakobu.dev/sync-wave"


_STEERING = frozenset({HOOK_ANNOTATION, DELETE_POLICY_ANNOTATION, WAVE_ANNOTATION})


class DeletePolicy(enum.Enum):
    BEFORE_HOOK_CREATION = "BeforeHookCreation"
    HOOK_SUCCEEDED = "HookSucceeded"
    HOOK_FAILED = "HookFailed"


_NONE: frozenset[DeletePolicy] = frozenset()


class Action(enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    RUN = "run"  # a hook

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
    if hook_value is not None:
        try:
            phase = Phase(hook_value)
        except ValueError:
            raise InvalidInput(
                f"{where}: {HOOK_ANNOTATION}: {hook_value!r} is not a hook phase",
                hint=f"use one of: {', '.join(p.value for p in Phase)}",
            ) from None
    wave_value = annotations.get(WAVE_ANNOTATION, "0")
    try:
        wave = int(str(wave_value))
    except ValueError:
        raise InvalidInput(
            f"{where}: {WAVE_ANNOTATION}: {wave_value!r} is not an integer",
            hint='quote a whole number, e.g. hakobu.dev/sync-wave: "1"',
        ) from None
    policies: set[DeletePolicy] = set()
    for part in str(annotations.get(DELETE_POLICY_ANNOTATION, "")).split(","):
        if part.strip():
            try:
                policies.add(DeletePolicy(part.strip()))
            except ValueError:
                raise InvalidInput(
                    f"{where}: {DELETE_POLICY_ANNOTATION}: {part.strip()!r} is not a policy",
                    hint=f"use a comma-separated list of: "
                    f"{', '.join(p.value for p in DeletePolicy)}",
                ) from None
    if hook_value is not None and not policies:
        policies.add(DeletePolicy.BEFORE_HOOK_CREATION)
    return Resource(
        stamp(obj, owner),
        manifest.id,
        manifest.source,
        phase,
        wave,
        hook_value is not None,
        frozenset(policies),
    )


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

    def of_phase(self, phase: Phase) -> list[list[Step]]:
        """The phase's steps grouped in waves, lowest wave first."""
        waves: dict[int, list[Step]] = {}
        for step in self.steps:
            if step.resource.phase is phase:
                waves.setdefault(step.resource.wave, []).append(step)
        return [waves[wave] for wave in sorted(waves)]

    def count(self, action: Action) -> int:
        return sum(1 for step in self.steps if step.action is action)

    @property
    def inventory(self) -> frozenset[InventoryEntry]:
        """What the app's inventory holds once the plan's objects are applied."""
        return frozenset(
            InventoryEntry.of(s.resource.obj) for s in self.steps if not s.resource.hook
        )


def plan_app(
    owner: Owner,
    resources: Iterable[Resource],
    live: Mapping[ObjectId, Object | None],
    inventory: Iterable[InventoryEntry],
) -> AppPlan:
    """``live`` holds the live object (or None) of every resource and inventory entry."""
    steps = []
    desired_ids = set()
    for resource in sorted(resources, key=lambda r: r.key):
        desired_ids.add(resource.id)
        current = live.get(resource.id)
        if resource.hook:
            action = Action.RUN
        elif current is None:
            action = Action.CREATE
        elif in_sync(resource.obj, current, FIELD_MANAGER):
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
    return AppPlan(owner, tuple(steps), tuple(prunes), tuple(kept))
