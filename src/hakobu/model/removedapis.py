"""Built-in API versions Kubernetes stopped serving, and what replaces each.

From the Kubernetes Deprecated API Migration Guide. A manifest in one of these versions is
refused by any server from that release on; its message names the release and the
replacement, which serves the same objects (every persisted object is readable through
it). Versions still served but deprecated are not listed: the server itself warns of them
when they are read (``KubeClient.api_warnings``), in words that fit its own release.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Removal:
    # The Kubernetes release that no longer serves it.
    release: str
    # The apiVersion to use instead; None when the kind itself is gone.
    replacement: str | None


def _each(
    release: str, replacement: str | None, *pairs: tuple[str, str]
) -> dict[tuple[str, str], Removal]:
    return {pair: Removal(release, replacement) for pair in pairs}


REMOVED: dict[tuple[str, str], Removal] = {
    **_each(
        "1.16",
        "apps/v1",
        *(
            (api, kind)
            for api in ("extensions/v1beta1", "apps/v1beta1", "apps/v1beta2")
            for kind in ("Deployment", "ReplicaSet")
        ),
        ("extensions/v1beta1", "DaemonSet"),
        ("apps/v1beta2", "DaemonSet"),
        ("apps/v1beta1", "StatefulSet"),
        ("apps/v1beta2", "StatefulSet"),
    ),
    **_each("1.16", "networking.k8s.io/v1", ("extensions/v1beta1", "NetworkPolicy")),
    **_each(
        "1.22",
        "networking.k8s.io/v1",
        ("extensions/v1beta1", "Ingress"),
        ("networking.k8s.io/v1beta1", "Ingress"),
        ("networking.k8s.io/v1beta1", "IngressClass"),
    ),
    **_each(
        "1.22",
        "admissionregistration.k8s.io/v1",
        ("admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration"),
        ("admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration"),
    ),
    **_each(
        "1.22",
        "apiextensions.k8s.io/v1",
        ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"),
    ),
    **_each("1.22", "apiregistration.k8s.io/v1", ("apiregistration.k8s.io/v1beta1", "APIService")),
    **_each(
        "1.22",
        "certificates.k8s.io/v1",
        ("certificates.k8s.io/v1beta1", "CertificateSigningRequest"),
    ),
    **_each("1.22", "coordination.k8s.io/v1", ("coordination.k8s.io/v1beta1", "Lease")),
    **_each(
        "1.22",
        "rbac.authorization.k8s.io/v1",
        *(
            ("rbac.authorization.k8s.io/v1beta1", kind)
            for kind in ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
        ),
    ),
    **_each("1.22", "scheduling.k8s.io/v1", ("scheduling.k8s.io/v1beta1", "PriorityClass")),
    **_each(
        "1.22",
        "storage.k8s.io/v1",
        *(
            ("storage.k8s.io/v1beta1", kind)
            for kind in ("CSIDriver", "CSINode", "StorageClass", "VolumeAttachment")
        ),
    ),
    **_each("1.25", "batch/v1", ("batch/v1beta1", "CronJob")),
    **_each("1.25", "discovery.k8s.io/v1", ("discovery.k8s.io/v1beta1", "EndpointSlice")),
    **_each("1.25", "events.k8s.io/v1", ("events.k8s.io/v1beta1", "Event")),
    **_each("1.25", "autoscaling/v2", ("autoscaling/v2beta1", "HorizontalPodAutoscaler")),
    **_each("1.25", "policy/v1", ("policy/v1beta1", "PodDisruptionBudget")),
    **_each("1.25", None, ("policy/v1beta1", "PodSecurityPolicy")),
    **_each("1.25", "node.k8s.io/v1", ("node.k8s.io/v1beta1", "RuntimeClass")),
    **_each("1.26", "autoscaling/v2", ("autoscaling/v2beta2", "HorizontalPodAutoscaler")),
    **_each(
        "1.26",
        "flowcontrol.apiserver.k8s.io/v1",
        ("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema"),
        ("flowcontrol.apiserver.k8s.io/v1beta1", "PriorityLevelConfiguration"),
    ),
    **_each("1.27", "storage.k8s.io/v1", ("storage.k8s.io/v1beta1", "CSIStorageCapacity")),
    **_each(
        "1.29",
        "flowcontrol.apiserver.k8s.io/v1",
        ("flowcontrol.apiserver.k8s.io/v1beta2", "FlowSchema"),
        ("flowcontrol.apiserver.k8s.io/v1beta2", "PriorityLevelConfiguration"),
    ),
    **_each(
        "1.32",
        "flowcontrol.apiserver.k8s.io/v1",
        ("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema"),
        ("flowcontrol.apiserver.k8s.io/v1beta3", "PriorityLevelConfiguration"),
    ),
}


def removal_advice(api_version: str, kind: str) -> str | None:
    """What to do about ``kind`` in ``api_version`` if Kubernetes stopped serving it."""
    removal = REMOVED.get((api_version, kind))
    if removal is None:
        return None
    if removal.replacement is None:
        return (
            f"Kubernetes {removal.release} removed {kind} {api_version}, with no replacement: "
            "delete the manifest"
        )
    return (
        f"Kubernetes {removal.release} stopped serving {api_version}; use apiVersion: "
        f"{removal.replacement} (see the Deprecated API Migration Guide for the fields "
        "that changed)"
    )
