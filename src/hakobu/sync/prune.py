"""Deleting what git no longer holds, and the rules that keep that safe.

An object is pruned only when all of these hold, checked on the live object itself:

1. it is in the app's inventory (hakobu applied it) and not in git any more;
2. it still carries this project's, environment's and app's labels — an object another
   app or tool took over is theirs now;
3. it has no ownerReferences — a controller made it and will clean it up;
4. it is not annotated ``hakobu.dev/prune: "false"``, nor ``hakobu.dev/ssa: Ignore``, nor
   (a chart's way to say the same, as Argo CD reads it) ``helm.sh/resource-policy: keep``;
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
HELM_RESOURCE_POLICY_ANNOTATION = "helm.sh/resource-policy"


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
    kept = _kept_by_annotation(live)
    if kept:
        return Verdict(False, f"annotated {kept}")
    if metadata.get("deletionTimestamp"):
        return Verdict(False, "already being deleted")
    return Verdict(True, "not in git")


def _kept_by_annotation(live: Object) -> str | None:
    """The annotation that keeps ``live`` from being pruned, as it is written."""
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    if str(annotations.get(PRUNE_ANNOTATION, "")).lower() == "false":
        return f'{PRUNE_ANNOTATION}: "false"'
    if str(annotations.get(HELM_RESOURCE_POLICY_ANNOTATION, "")).strip() == "keep":
        return f"{HELM_RESOURCE_POLICY_ANNOTATION}: keep"
    if ignored_live(live):
        return f"{SSA_ANNOTATION}: Ignore"
    return None


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
