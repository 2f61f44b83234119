"""Deleting what git no longer holds, and the rules that keep that safe.

An object is pruned only when all of these hold, checked on the live object itself:

1. it is in the app's inventory (hakobu applied it) and not in git any more;
2. it still carries this project's, environment's and app's labels — an object another
   app or tool took over is theirs now;
3. it has no ownerReferences — a controller made it and will clean it up;
4. it is not annotated ``hakobu.dev/prune: "false"``, nor ``hakobu.dev/ssa: Ignore``;
5. it is not already being deleted.

A sync never prunes an environment to nothing because git holds nothing for it (a wrong
revision or output directory looks exactly like that) unless told ``allow_empty``.
Deletion is foreground (dependents first) and in reverse apply order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hakobu.cluster.api import KubeApi
from hakobu.cluster.errors import ApiError, NotFound
from hakobu.errors import InvalidInput
from hakobu.model.objects import Object, object_ref
from hakobu.sync.ownership import Owner
from hakobu.sync.policy import SSA_ANNOTATION, ignored_live

PRUNE_ANNOTATION = "hakobu.dev/prune"


@dataclass(frozen=True)
class Verdict:
    prune: bool
    reason: str


def verdict(live: Object, owner: Owner) -> Verdict:
    metadata = live.get("metadata") or {}
    if not owner.owns(live):
        return Verdict(False, f"not labelled as app {owner.app!r} of this environment")
    if metadata.get("ownerReferences"):
        owners = ", ".join(
            f"{ref.get('kind')}/{ref.get('name')}" for ref in metadata["ownerReferences"]
        )
        return Verdict(False, f"owned by {owners}")
    if str((metadata.get("annotations") or {}).get(PRUNE_ANNOTATION, "")).lower() == "false":
        return Verdict(False, f'annotated {PRUNE_ANNOTATION}: "false"')
    if ignored_live(live):
        return Verdict(False, f"annotated {SSA_ANNOTATION}: Ignore")
    if metadata.get("deletionTimestamp"):
        return Verdict(False, "already being deleted")
    return Verdict(True, "not in git")


def check_not_emptying(env: str, desired_count: int, prune_count: int, allow_empty: bool) -> None:
    if desired_count == 0 and prune_count > 0 and not allow_empty:
        raise InvalidInput(
            f"git holds no objects for environment {env!r}, so pruning would delete all "
            f"{prune_count} objects hakobu applied there",
            hint="check the revision and the output directory; pass --allow-empty if the "
            "environment really is meant to be empty",
        )


@dataclass(frozen=True)
class Deleted:
    ref: str
    error: str | None


def delete_all(kube: KubeApi, objects: Sequence[Object]) -> list[Deleted]:
    """Delete ``objects`` one by one, in the order given (already reverse apply order)."""
    results = []
    for obj in objects:
        meta = obj["metadata"]
        ref = object_ref(obj)
        try:
            kube.delete(
                obj["apiVersion"],
                obj["kind"],
                meta["name"],
                meta.get("namespace"),
                propagation="Foreground",
            )
            results.append(Deleted(ref, None))
        except NotFound:
            results.append(Deleted(ref, None))
        except ApiError as e:
            results.append(Deleted(ref, f"{ref}: delete failed: {e.message}"))
    return results
