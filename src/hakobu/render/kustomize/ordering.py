"""Output order: kustomize's "legacy" kind order (the default) or input order ("fifo")."""

from __future__ import annotations

from collections.abc import Sequence

from hakobu.model.objects import Object
from hakobu.render.kustomize.resource import Gvk, ResId, cur_id

ORDER_FIRST = (
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
)
ORDER_LAST = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")


def kind_rank(
    kind: str, first: Sequence[str] = ORDER_FIRST, last: Sequence[str] = ORDER_LAST
) -> int:
    """Negative for the kinds that go first, positive for those that go last, else 0."""
    ranks = {name: i - len(first) for i, name in enumerate(first)}
    ranks.update({name: 1 + i for i, name in enumerate(last)})
    return ranks.get(kind, 0)


def stable_gvk_string(gvk: Gvk) -> str:
    return f"{gvk.group or '~G'}_{gvk.version or '~V'}_{gvk.kind or '~K'}"


def legacy_order(
    resources: Sequence[Object],
    first: Sequence[str] = ORDER_FIRST,
    last: Sequence[str] = ORDER_LAST,
) -> list[Object]:
    """Sorted by kind rank, then group/version/kind, then namespace and name."""
    ranks = {name: i - len(first) for i, name in enumerate(first)}
    ranks.update({name: 1 + i for i, name in enumerate(last)})

    def key(obj: Object) -> tuple[int, str, str]:
        rid = cur_id(obj)
        gvk_text = stable_gvk_string(rid.gvk)
        if rid.gvk.kind == "Namespace":
            # kustomize compares two Namespace kinds the other way round when either has no
            # group (Namespace v1 before a custom Namespace kind); invert to match.
            gvk_text = "".join(chr(0x10FFFF - ord(c)) for c in gvk_text)
        return ranks.get(rid.gvk.kind, 0), gvk_text, _id_string(rid)

    return sorted(resources, key=key)


def _id_string(rid: ResId) -> str:
    return f"{rid.gvk}|{rid.namespace or '~X'}|{rid.name or '~N'}"
