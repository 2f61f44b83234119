"""The order in which a sync applies objects, as one comparison: phase → wave → kind → name.

Kinds follow the order Helm, gitops-engine and kapp share (what others depend on comes
first), with CustomResourceDefinitions moved up next to Namespaces so that custom objects
— unknown kinds, ordered last — always find their definition. Deletion runs in reverse.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from hakobu.model.objects import ObjectId


class Phase(enum.Enum):
    PRE_SYNC = "PreSync"
    SYNC = "Sync"
    POST_SYNC = "PostSync"
    SYNC_FAIL = "SyncFail"

    def __str__(self) -> str:
        return self.value


PHASES = tuple(Phase)

KIND_ORDER = (
    "Namespace",
    "CustomResourceDefinition",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
)
_KIND_RANK = {kind: rank for rank, kind in enumerate(KIND_ORDER)}

SyncKey = tuple[int, int, int, str, str, str, str]


def kind_rank(kind: str) -> int:
    """Known kinds by their place in ``KIND_ORDER``; every other kind after all of them."""
    return _KIND_RANK.get(kind, len(KIND_ORDER))


def sync_key(phase: Phase, wave: int, oid: ObjectId) -> SyncKey:
    # Unknown kinds share one rank, so the kind's name keeps their order stable.
    return (
        PHASES.index(phase),
        wave,
        kind_rank(oid.kind),
        oid.kind,
        oid.group,
        oid.namespace,
        oid.name,
    )


def deletion_order(ids: Iterable[ObjectId]) -> list[ObjectId]:
    """Objects to delete, dependents first: the apply order of the Sync phase, reversed."""
    return sorted(ids, key=lambda oid: sync_key(Phase.SYNC, 0, oid), reverse=True)
