"""Health of live objects, kind by kind, from realistic status blocks.

Each fixture file under ``fixtures/`` holds live objects named after the case they
show; the table below gives the health each must get.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from hakobu.health import Health, HealthRules, HealthStatus, assess

FIXTURES = Path(__file__).parent / "fixtures"

H, P, D = HealthStatus.HEALTHY, HealthStatus.PROGRESSING, HealthStatus.DEGRADED
S, U = HealthStatus.SUSPENDED, HealthStatus.UNKNOWN

# (file, kind, name) → (status, message)
CASES: dict[tuple[str, str, str], tuple[HealthStatus, str]] = {
    # Deployments
    ("deployments", "Deployment", "healthy"): (H, ""),
    ("deployments", "Deployment", "paused"): (S, "Deployment is paused"),
    ("deployments", "Deployment", "unobserved"): (
        P,
        "Waiting for rollout to finish: observed deployment generation less than desired "
        "generation",
    ),
    ("deployments", "Deployment", "deadline"): (
        D,
        "Deployment 'deadline' exceeded its progress deadline",
    ),
    ("deployments", "Deployment", "updating"): (
        P,
        "Waiting for rollout to finish: 2 out of 4 new replicas have been updated...",
    ),
    ("deployments", "Deployment", "terminating-old"): (
        P,
        "Waiting for rollout to finish: 1 old replicas are pending termination...",
    ),
    ("deployments", "Deployment", "unavailable"): (
        P,
        "Waiting for rollout to finish: 1 of 2 updated replicas are available...",
    ),
    ("deployments", "Deployment", "scaled-to-zero"): (H, ""),
    ("deployments", "Deployment", "zero-unobserved"): (H, ""),
    ("deployments", "Deployment", "zero-unobserved-winding-down"): (
        P,
        "Waiting for rollout to finish: observed deployment generation less than desired "
        "generation",
    ),
    ("deployments", "Deployment", "default-replicas"): (
        P,
        "Waiting for rollout to finish: 0 out of 1 new replicas have been updated...",
    ),
    ("deployments", "Deployment", "malformed"): (
        U,
        "cannot assess health: spec.replicas is 'three', expected an integer",
    ),
    # StatefulSets
    ("statefulsets", "StatefulSet", "healthy"): (
        H,
        "statefulset rolling update complete 3 pods at revision healthy-6d4f5c8b7...",
    ),
    ("statefulsets", "StatefulSet", "new"): (
        P,
        "Waiting for statefulset spec update to be observed...",
    ),
    ("statefulsets", "StatefulSet", "unobserved"): (
        P,
        "Waiting for statefulset spec update to be observed...",
    ),
    ("statefulsets", "StatefulSet", "starting"): (P, "Waiting for 2 pods to be ready..."),
    ("statefulsets", "StatefulSet", "rolling"): (
        P,
        "waiting for statefulset rolling update to complete 1 pods at revision "
        "rolling-8f7e6d5c4...",
    ),
    ("statefulsets", "StatefulSet", "canary-waiting"): (
        P,
        "Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...",
    ),
    ("statefulsets", "StatefulSet", "canary-done"): (
        H,
        "partitioned roll out complete: 2 new pods have been updated...",
    ),
    ("statefulsets", "StatefulSet", "on-delete"): (H, "statefulset has 2 ready pods (0 updated)"),
    # DaemonSets
    ("daemonsets", "DaemonSet", "healthy"): (H, ""),
    ("daemonsets", "DaemonSet", "unobserved"): (
        P,
        "Waiting for rollout to finish: observed daemon set generation less than desired "
        "generation",
    ),
    ("daemonsets", "DaemonSet", "updating"): (
        P,
        "Waiting for daemon set 'updating' rollout to finish: 2 out of 4 new pods have been "
        "updated...",
    ),
    ("daemonsets", "DaemonSet", "unavailable"): (
        P,
        "Waiting for daemon set 'unavailable' rollout to finish: 3 of 4 updated pods are "
        "available...",
    ),
    ("daemonsets", "DaemonSet", "on-delete"): (
        H,
        "daemon set 1 out of 4 new pods have been updated",
    ),
    # ReplicaSets
    ("replicasets", "ReplicaSet", "healthy"): (H, ""),
    ("replicasets", "ReplicaSet", "quota"): (
        D,
        'pods "quota-x7k2p" is forbidden: exceeded quota: compute, requested: cpu=2, used: '
        "cpu=8, limited: cpu=8",
    ),
    ("replicasets", "ReplicaSet", "starting"): (
        P,
        "Waiting for rollout to finish: 1 out of 3 new replicas are available...",
    ),
    ("replicasets", "ReplicaSet", "unobserved"): (
        P,
        "Waiting for rollout to finish: observed replica set generation less than desired "
        "generation",
    ),
    # Pods
    ("pods", "Pod", "running"): (H, ""),
    ("pods", "Pod", "unschedulable"): (
        P,
        "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 "
        "No preemption victims found for incoming pod.",
    ),
    ("pods", "Pod", "creating"): (P, ""),
    ("pods", "Pod", "crashloop"): (
        D,
        "container 'web': CrashLoopBackOff: back-off 2m40s restarting failed container=web "
        "pod=crashloop_shop(5b1f0c2e)",
    ),
    ("pods", "Pod", "image-pull"): (
        D,
        "container 'web': ImagePullBackOff: Back-off pulling image \"shop/web:missing\"",
    ),
    ("pods", "Pod", "init-crashloop"): (D, "container 'migrate': CrashLoopBackOff"),
    ("pods", "Pod", "hook-image-pull"): (P, ""),
    ("pods", "Pod", "hook-running"): (P, "Pod is running to completion (restartPolicy Never)"),
    ("pods", "Pod", "succeeded"): (H, ""),
    ("pods", "Pod", "oom"): (D, "container 'migrate' was OOMKilled"),
    ("pods", "Pod", "exit-code"): (D, "container 'migrate' failed with exit code 3"),
    ("pods", "Pod", "termination-message"): (
        D,
        'migration 0042 failed: relation "orders" already exists',
    ),
    ("pods", "Pod", "evicted"): (
        D,
        "The node was low on resource: memory. Threshold quantity: 100Mi, available: 91Mi.",
    ),
    ("pods", "Pod", "restarted-not-ready"): (D, "container 'web' was OOMKilled"),
    ("pods", "Pod", "not-ready"): (P, "Waiting for the pod to be ready"),
    ("pods", "Pod", "lost-node"): (U, "Pod phase is Unknown"),
    # Jobs and CronJobs
    ("batch", "Job", "complete"): (H, "Reached expected number of succeeded pods"),
    ("batch", "Job", "failed"): (D, "Job has reached the specified backoff limit"),
    ("batch", "Job", "failing"): (D, "Job was active longer than specified deadline"),
    ("batch", "Job", "running"): (
        P,
        "Waiting for the job to complete: 2 active, 1 succeeded, 1 failed",
    ),
    ("batch", "Job", "suspended"): (S, "Job suspended"),
    ("batch", "Job", "suspended-not-yet-seen"): (S, "Job is suspended"),
    ("batch", "Job", "resumed"): (
        P,
        "Waiting for the job to complete: 1 active, 0 succeeded, 0 failed",
    ),
    ("batch", "CronJob", "suspended"): (S, "CronJob is suspended"),
    ("batch", "CronJob", "created"): (P, "Waiting for the CronJob controller"),
    ("batch", "CronJob", "not-scheduled"): (H, "CronJob has not been scheduled yet"),
    ("batch", "CronJob", "first-run"): (
        H,
        "CronJob has not completed a run yet; it may not be healthy",
    ),
    ("batch", "CronJob", "running"): (
        H,
        "A job is running; the last run may not have succeeded",
    ),
    ("batch", "CronJob", "last-failed"): (
        D,
        "CronJob's last run did not complete successfully",
    ),
    ("batch", "CronJob", "last-succeeded"): (H, "CronJob's last run completed successfully"),
    ("batch", "CronJob", "bad-time"): (
        U,
        "cannot assess health: status.lastScheduleTime is 'yesterday', expected an RFC 3339 time",
    ),
    # Services and Ingresses
    ("networking", "Service", "cluster-ip"): (H, ""),
    ("networking", "Service", "lb-pending"): (
        P,
        "Waiting for the load balancer to publish an address",
    ),
    ("networking", "Service", "lb-ip"): (H, "published at 203.0.113.10"),
    ("networking", "Service", "lb-hostname"): (
        H,
        "published at a1b2c3-1234567890.eu-west-1.elb.amazonaws.com",
    ),
    ("networking", "Ingress", "pending"): (
        P,
        "Waiting for the ingress controller to publish an address",
    ),
    ("networking", "Ingress", "published"): (H, "published at 198.51.100.4, 198.51.100.5"),
    ("networking", "Ingress", "legacy"): (H, "published at shop.example.com"),
    # PersistentVolumeClaims
    ("storage", "PersistentVolumeClaim", "bound"): (
        H,
        "bound to volume pvc-8f14e45f-ceea-467f-a0e6-1b3c2a4d5e6f",
    ),
    ("storage", "PersistentVolumeClaim", "pending"): (
        P,
        "Waiting for the claim to be bound to a volume",
    ),
    ("storage", "PersistentVolumeClaim", "lost"): (
        D,
        "the claim lost its volume pvc-0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6",
    ),
    ("storage", "PersistentVolumeClaim", "no-phase"): (U, "claim phase is not reported"),
    # HorizontalPodAutoscalers
    ("autoscaling", "HorizontalPodAutoscaler", "healthy"): (
        H,
        "the HPA was able to successfully calculate a replica count from cpu resource "
        "utilization (percentage of request)",
    ),
    ("autoscaling", "HorizontalPodAutoscaler", "no-metrics"): (
        D,
        "the HPA was unable to compute the replica count: failed to get cpu utilization: "
        "unable to get metrics for resource cpu: no metrics returned from resource metrics API",
    ),
    ("autoscaling", "HorizontalPodAutoscaler", "missing-target"): (
        D,
        "the HPA controller was unable to get the target's current scale: "
        'deployments/scale.apps "gone" not found',
    ),
    ("autoscaling", "HorizontalPodAutoscaler", "target-at-zero"): (
        S,
        "scaling is disabled since the replica count of the target is zero",
    ),
    ("autoscaling", "HorizontalPodAutoscaler", "new"): (P, "Waiting to autoscale"),
    ("autoscaling", "HorizontalPodAutoscaler", "backing-off"): (
        P,
        "the HPA controller is starting",
    ),
    ("autoscaling", "HorizontalPodAutoscaler", "v1-healthy"): (
        H,
        "the HPA was able to successfully calculate a replica count from cpu resource "
        "utilization (percentage of request)",
    ),
    ("autoscaling", "HorizontalPodAutoscaler", "v1-invalid-selector"): (
        D,
        "the HPA target's scale is missing a selector",
    ),
    ("autoscaling", "HorizontalPodAutoscaler", "v1-garbled"): (
        U,
        "cannot assess health: metadata.annotations.autoscaling.alpha.kubernetes.io/conditions "
        "is '[{\"type\":', expected a JSON list of conditions",
    ),
    # APIServices, CRDs, Namespaces
    ("apis", "APIService", "v1beta1.metrics.k8s.io"): (H, "Passed: all checks passed"),
    ("apis", "APIService", "v1beta1.custom.metrics.k8s.io"): (
        P,
        "FailedDiscoveryCheck: failing or missing response from "
        "https://10.96.3.4:443/apis/custom.metrics.k8s.io/v1beta1: Get "
        '"https://10.96.3.4:443/apis/custom.metrics.k8s.io/v1beta1": dial tcp 10.96.3.4:443: '
        "connect: connection refused",
    ),
    ("apis", "APIService", "v1.example.com"): (P, "Waiting to be processed"),
    ("apis", "CustomResourceDefinition", "widgets.example.com"): (H, "CRD is established"),
    ("apis", "CustomResourceDefinition", "gadgets.example.com"): (
        D,
        'CRD names have not been accepted: "Widget" is already in use',
    ),
    ("apis", "CustomResourceDefinition", "sprockets.example.com"): (
        D,
        "CRD is not established: the CRD is being installed",
    ),
    ("apis", "CustomResourceDefinition", "cogs.example.com"): (
        D,
        "Schema violations found: spec.versions[0].schema.openAPIV3Schema.type: Required "
        "value: must not be empty at the root",
    ),
    ("apis", "CustomResourceDefinition", "gears.example.com"): (
        P,
        "CRD is being terminated: CustomResource deletion is in progress",
    ),
    ("apis", "CustomResourceDefinition", "levers.example.com"): (
        P,
        "Status conditions not found",
    ),
    ("apis", "Namespace", "shop"): (H, ""),
    ("apis", "Namespace", "old-shop"): (P, "Namespace is terminating"),
    # Everything else
    ("generic", "ConfigMap", "settings"): (H, ""),
    ("generic", "Secret", "credentials"): (H, ""),
    ("generic", "ServiceAccount", "web"): (H, ""),
    ("generic", "ClusterRole", "reader"): (H, ""),
    ("generic", "Deployment", "lookalike"): (H, ""),
    ("generic", "Kustomization", "ready"): (H, "Applied revision: main@sha1:4f2b9c1"),
    ("generic", "Kustomization", "unobserved"): (
        P,
        "Kustomization generation is 4, but latest observed generation is 3",
    ),
    ("generic", "Kustomization", "reconciling"): (
        P,
        "Building manifests for revision main@sha1:9a8b7c6",
    ),
    ("generic", "Kustomization", "stalled"): (
        D,
        "kustomize build failed: accumulating resources: ./missing: no such file or directory",
    ),
    ("generic", "Kustomization", "suspended"): (S, "Kustomization is suspended"),
    ("generic", "Certificate", "not-ready"): (P, "Issuing certificate as Secret does not exist"),
    ("generic", "Widget", "unavailable"): (P, "Starting"),
    ("generic", "Widget", "available"): (H, "3 replicas serving"),
    ("generic", "Widget", "unrelated-conditions"): (H, ""),
    ("generic", "Widget", "bad-conditions"): (
        U,
        "cannot assess health: status.conditions is 'Ready', expected a list of mappings",
    ),
    ("generic", "Deployment", "deleting"): (P, "Pending deletion"),
}


def _fixtures() -> dict[tuple[str, str, str], dict[str, Any]]:
    found = {}
    for path in sorted(FIXTURES.glob("*.yaml")):
        for obj in yaml.safe_load_all(path.read_text()):
            key = (path.stem, obj["kind"], obj["metadata"]["name"])
            assert key not in found, f"two fixtures named {key}"
            found[key] = obj
    return found


FIXTURE_OBJECTS = _fixtures()


def test_every_fixture_has_an_expectation_and_every_expectation_a_fixture() -> None:
    assert set(FIXTURE_OBJECTS) == set(CASES)


@pytest.mark.parametrize(
    ("key", "expected"), sorted(CASES.items()), ids=["/".join(key) for key in sorted(CASES)]
)
def test_health_of_live_object(
    key: tuple[str, str, str], expected: tuple[HealthStatus, str]
) -> None:
    assert assess(FIXTURE_OBJECTS[key], HealthRules()) == Health(*expected)
