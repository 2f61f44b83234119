"""Choose the health check for an object's group and kind, and run it.

The order: the project's rules (``HealthRules``: they may judge any kind, built-in ones
too), then hakobu's checks for Kubernetes' own kinds, then the rules hakobu ships for
common custom resources (``shipped``), then the kstatus conventions (``generic``).
"""

from __future__ import annotations

from collections.abc import Callable

from hakobu.health.fields import MalformedField, Payload, text, value
from hakobu.health.kinds import apis, autoscaling, batch, networking, pods, storage, workloads
from hakobu.health.kinds.generic import generic
from hakobu.health.rules import HealthRules, first_rule, is_kubernetes_group
from hakobu.health.shipped import shipped_rules
from hakobu.health.status import Health, HealthStatus

Check = Callable[[Payload], Health]

# By (API group, kind): a custom resource that happens to be called "Deployment" in another
# group is not judged as one. Kinds that moved between groups are listed under each.
_CHECKS: dict[tuple[str, str], Check] = {
    ("apps", "Deployment"): workloads.deployment,
    ("extensions", "Deployment"): workloads.deployment,
    ("apps", "StatefulSet"): workloads.statefulset,
    ("apps", "DaemonSet"): workloads.daemonset,
    ("extensions", "DaemonSet"): workloads.daemonset,
    ("apps", "ReplicaSet"): workloads.replicaset,
    ("extensions", "ReplicaSet"): workloads.replicaset,
    ("", "Pod"): pods.pod,
    ("batch", "Job"): batch.job,
    ("batch", "CronJob"): batch.cronjob,
    ("", "Service"): networking.service,
    ("networking.k8s.io", "Ingress"): networking.ingress,
    ("extensions", "Ingress"): networking.ingress,
    ("", "PersistentVolumeClaim"): storage.persistentvolumeclaim,
    ("autoscaling", "HorizontalPodAutoscaler"): autoscaling.horizontalpodautoscaler,
    ("apiregistration.k8s.io", "APIService"): apis.apiservice,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): apis.customresourcedefinition,
    ("", "Namespace"): apis.namespace,
}


def assess(obj: Payload, rules: HealthRules) -> Health:
    """The health of one live object, as the cluster reports it, under a project's rules."""
    try:
        if value(obj, "metadata", "deletionTimestamp"):
            return Health(HealthStatus.PROGRESSING, "Pending deletion")
        group = text(obj, "apiVersion").rpartition("/")[0]
        kind = text(obj, "kind")
        rule = rules.rule_for(group, kind, obj)
        if rule is not None:
            return rule.assess(obj)
        check = _CHECKS.get((group, kind))
        if check is not None:
            return check(obj)
        # Shipped rules are all for custom resources: Kubernetes' own kinds need not pay for
        # compiling them.
        if not is_kubernetes_group(group):
            rule = first_rule(shipped_rules(), group, kind, obj)
        return rule.assess(obj) if rule is not None else generic(obj)
    except MalformedField as e:
        return Health(HealthStatus.UNKNOWN, f"cannot assess health: {e}")
