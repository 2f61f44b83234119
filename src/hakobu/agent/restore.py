"""An automatic rollback restores the last good state exactly, even without ``--prune``.

Objects the rolled-back revision added (in its manifests, not in those of the revision
restored) are deleted after the rollback's sync, as Flux's kustomize-controller deletes
what a revision no longer holds with ``prune: true``: an autoscaler or a Job the bad
revision brought would otherwise stay, and keep the app Degraded. Nothing else is pruned:
objects that earlier revisions removed stay, as the agent's ``--prune`` setting says. The
deletion goes through sync's own rules (``hakobu.sync.prune``: in the app's inventory,
still labelled as the app's, no ownerReferences, not annotated ``hakobu.dev/prune:
"false"``), and the app's inventory forgets what was deleted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hakobu.cluster.api import KubeApi
from hakobu.model.objects import ObjectId
from hakobu.sync import DesiredState, SyncResult
from hakobu.sync.observe import AppState
from hakobu.sync.ownership import write_inventory
from hakobu.sync.prune import delete_all
from hakobu.sync.run import DONE, Outcome


@dataclass(frozen=True)
class Removed:
    pruned: tuple[str, ...]  # object references
    errors: tuple[str, ...]


def added(bad: DesiredState, restored: DesiredState) -> frozenset[ObjectId]:
    """The objects ``bad`` holds that ``restored`` does not."""
    return _ids(bad) - _ids(restored)


def remove_added(
    kube: KubeApi,
    namespace: str,
    states: Sequence[AppState],
    objects: frozenset[ObjectId],
    apps: frozenset[str],
) -> dict[str, Removed]:
    """Prune ``objects`` from the ``apps`` given (those whose rollback sync succeeded)."""
    removed = {}
    for state in states:
        if state.name not in apps or state.inventory is None:
            continue
        candidates = [c for c in state.plan.prunes if c.entry.id in objects and c.live]
        if not candidates:
            continue
        results = delete_all(kube, [c.live for c in candidates if c.live is not None])
        gone = {c.entry for c, r in zip(candidates, results, strict=True) if r.error is None}
        write_inventory(
            kube,
            namespace,
            state.plan.owner,
            entries=state.inventory.entries - gone,
            desired_digest=state.inventory.digest,
            previous=state.inventory,
        )
        removed[state.name] = Removed(
            tuple(r.ref for r in results if r.error is None),
            tuple(r.error for r in results if r.error is not None),
        )
    return removed


def with_removed(result: SyncResult, removed: Mapping[str, Removed]) -> SyncResult:
    """``result`` counting what was removed, as if the sync had pruned it."""
    if not removed:
        return result
    apps = []
    for app in result.apps:
        done = removed.get(app.app)
        if done is None:
            apps.append(app)
            continue
        apps.append(
            dataclasses.replace(
                app,
                pruned=app.pruned + len(done.pruned),
                result=Outcome.FAILED if done.errors else app.result,
                messages=(
                    *app.messages,
                    *(f"pruned {ref}: the rolled-back revision added it" for ref in done.pruned),
                    *done.errors,
                ),
            )
        )
    return dataclasses.replace(
        result,
        apps=tuple(apps),
        pruned=sum(a.pruned for a in apps),
        result=Outcome.SUCCEEDED if all(a.result in DONE for a in apps) else Outcome.FAILED,
    )


def _ids(state: DesiredState) -> frozenset[ObjectId]:
    return frozenset(m.id for app in state.apps for m in app.manifests)
