"""App specs that together use every field of their schema, rendered and synced to the real
API server: a Deployment with sidecars, volumes, a security context and scheduling, a
StatefulSet with a claim per pod, a Worker, a Job and a CronJob.

The API server is the judge of what an app spec expands to: every object must be accepted
as rendered (no validation error, no field dropped), and the controllers must find what
the objects point at (the autoscaler its Deployment, the disruption budget its pods, the
StatefulSet's claims their volumes). A coverage check ties the specs to the schema, so a
field added to the schema without being exercised here fails this test.
"""

from __future__ import annotations

import copy
import hashlib
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import hakobu
from hakobu.cli.main import main
from hakobu.cluster.client import KubeClient
from hakobu.health import HealthRules, HealthStatus, assess
from hakobu.localcluster.controlplane import ClusterInfo
from hakobu.model.appspec_schema import app_schema
from hakobu.model.objects import Object
from tests.integration import test_bluegreen_rollout as bluegreen
from tests.integration.test_bluegreen_rollout import spec as blue_green_spec
from tests.integration.test_canary_rollout import spec as canary_spec
from tests.integration.test_canary_surge import spec as surge_spec

pytestmark = pytest.mark.cluster

ENV = "production"

# A Role for the app's ServiceAccount, added as it is written.
READER: list[dict[str, Any]] = [
    {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "web-reader"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}],
    },
    {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "web-reader"},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": "web-reader",
        },
        "subjects": [{"kind": "ServiceAccount", "name": "web-runner"}],
    },
]

# Every generated Service: no metadata.name.
STICKY = {"kind": "Service", "spec": {"sessionAffinity": "ClientIP"}}

# Made by the test, outside the project: the scheduler's and the volume binder's world.
PRIORITY_CLASS = "appspec-high"
STORAGE_CLASS = "appspec-manual"

WEB_POD: dict[str, Any] = {
    "sidecars": [
        {
            "name": "proxy",
            "image": {
                "repository": "example.test/shop/proxy",
                "tag": "2.1",
                "digest": "sha256:" + "cd" * 32,
                "pullPolicy": "IfNotPresent",
            },
            "command": ["/proxy"],
            "args": ["--upstream=127.0.0.1:8080"],
            "env": {
                "MODE": "sidecar",
                "TOKEN": {"secretKeyRef": {"name": "proxy", "key": "token", "optional": True}},
            },
            "envFrom": [
                {"configMapRef": {"name": "proxy-defaults", "optional": True}, "prefix": "P_"},
                {"secretRef": {"name": "proxy-tokens", "optional": True}},
            ],
            "ports": [
                {"name": "proxy", "containerPort": 8443, "protocol": "TCP"},
                {"name": "proxy-admin", "containerPort": 9901},
            ],
            "probes": {
                "readiness": {"path": "/ready", "port": "proxy-admin", "periodSeconds": 5},
                "liveness": True,
                "startup": {"command": ["/proxy", "--check"], "failureThreshold": 30},
            },
            "resources": {
                "requests": {"cpu": "50m", "memory": "32Mi"},
                "limits": {"cpu": "200m", "memory": "64Mi"},
            },
            "mounts": [
                {"name": "cache", "mountPath": "/cache", "subPath": "proxy", "readOnly": False}
            ],
            "securityContext": {
                "readOnlyRootFilesystem": False,
                "allowPrivilegeEscalation": False,
                "runAsUser": 1001,
                "runAsGroup": 1001,
                "capabilities": {"add": ["NET_BIND_SERVICE"]},
            },
        }
    ],
    # The image built from services/web, as the app's own in evaluation.
    "initContainers": [
        {
            "name": "warm-cache",
            "image": {"name": "web"},
            "mounts": [{"name": "cache", "mountPath": "/cache"}],
        }
    ],
    "volumes": [
        {"name": "cache", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
        {
            "name": "uploads",
            "persistentVolumeClaim": {"claimName": "web-uploads", "readOnly": True},
        },
        {
            "name": "certs",
            "secret": {
                "secretName": "web-certs",
                "items": [{"key": "tls.crt", "path": "cert.pem"}],
                "optional": True,
                "defaultMode": 0o440,
            },
        },
        {
            "name": "templates",
            "configMap": {
                "name": "web-templates",
                "items": [{"key": "page.html", "path": "page.html"}],
                "optional": True,
                "defaultMode": 0o444,
            },
        },
        {
            "name": "bundle",
            "projected": {
                "defaultMode": 0o440,
                "sources": [
                    {
                        "secret": {
                            "name": "web-certs",
                            "items": [{"key": "ca.crt", "path": "ca.pem"}],
                            "optional": True,
                        }
                    },
                    {
                        "configMap": {
                            "name": "web-templates",
                            "items": [{"key": "page.html", "path": "page.html"}],
                            "optional": True,
                        }
                    },
                    {
                        "downwardAPI": {
                            "items": [
                                {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}
                            ]
                        }
                    },
                    {
                        "serviceAccountToken": {
                            "path": "token",
                            "audience": "vault",
                            "expirationSeconds": 3600,
                        }
                    },
                ],
            },
        },
    ],
    "mounts": [
        {"name": "cache", "mountPath": "/var/cache/web", "subPath": "web", "readOnly": False},
        {"name": "uploads", "mountPath": "/uploads", "readOnly": True},
        {"name": "certs", "mountPath": "/etc/certs"},
        {"name": "templates", "mountPath": "/srv/templates"},
        {"name": "bundle", "mountPath": "/var/run/bundle"},
    ],
    "securityContext": {
        "runAsNonRoot": True,
        "runAsUser": 1000,
        "runAsGroup": 1000,
        "fsGroup": 2000,
        "seccompProfile": "RuntimeDefault",
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"add": ["NET_BIND_SERVICE"]},
    },
    "nodeSelector": {"kubernetes.io/os": "linux"},
    "affinity": {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}
                        ]
                    }
                ]
            }
        },
        "podAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 10,
                    "podAffinityTerm": {
                        "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "store"}},
                        "topologyKey": "kubernetes.io/hostname",
                    },
                }
            ]
        },
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 50,
                    "podAffinityTerm": {
                        "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
                        "topologyKey": "kubernetes.io/hostname",
                    },
                }
            ]
        },
    },
    "tolerations": [
        {"key": "dedicated", "operator": "Equal", "value": "shop", "effect": "NoSchedule"},
        {
            "key": "node.kubernetes.io/unreachable",
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 60,
        },
    ],
    "topologySpreadConstraints": [
        {
            "maxSkew": 1,
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "ScheduleAnyway",
        },
        {
            "maxSkew": 2,
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "DoNotSchedule",
            "minDomains": 1,
        },
    ],
    "priorityClassName": PRIORITY_CLASS,
    "service": {"type": "NodePort", "annotations": {"example.test/exposed": "node"}},
    "services": [
        {
            "name": "web-public",
            "type": "LoadBalancer",
            "annotations": {"example.test/lb": "external"},
            # project() picks a nodePort per namespace, so that runs never collide.
            "ports": [
                {
                    "name": "https",
                    "port": 443,
                    "targetPort": "http",
                    "protocol": "TCP",
                    "nodePort": 30443,
                }
            ],
        },
        {"name": "web-metrics", "ports": [{"name": "metrics", "port": 9090, "targetPort": 9090}]},
    ],
}

SPEC: dict[str, Any] = {
    "name": "web",
    "image": "example.test/shop/web:1.4.2",
    "component": "frontend",
    "partOf": "shop",
    "replicas": 2,
    # Synced only once the app db (a plain manifest, below) is Healthy.
    "dependsOn": ["db"],
    "ports": [
        {"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"},
        {"name": "metrics", "port": 9090},
        {"name": "discovery", "port": 5353, "protocol": "UDP"},
    ],
    "command": ["/bin/web"],
    "args": ["--listen=:8080"],
    "env": {
        "LOG_LEVEL": "info",
        "WORKERS": 4,
        "DEBUG": False,
        "SETTINGS": {"configMapKeyRef": {"name": "web-config", "key": "settings.ini"}},
        "PASSWORD": {"secretKeyRef": {"name": "web-db", "key": "password", "optional": True}},
        "POD_IP": {"fieldRef": {"fieldPath": "status.podIP"}},
        "URL": "http://$(POD_IP):8080",
    },
    "envFrom": [
        {"configMapRef": {"name": "shop-defaults", "optional": True}, "prefix": "SHOP_"},
        {"secretRef": {"name": "shop-tokens", "optional": True}},
    ],
    "resources": {
        "requests": {"cpu": "250m", "memory": "128Mi"},
        "limits": {"cpu": "1", "memory": "256Mi"},
    },
    "autoscaling": {
        "enabled": True,
        "minReplicas": 2,
        "maxReplicas": 6,
        "targetCPUUtilizationPercentage": 70,
        "targetMemoryUtilizationPercentage": 80,
    },
    "probes": {
        "readiness": {
            "path": "/ready",
            "port": "http",
            "scheme": "HTTP",
            "initialDelaySeconds": 2,
            "periodSeconds": 5,
            "timeoutSeconds": 2,
            "failureThreshold": 3,
            "successThreshold": 2,
        },
        "liveness": {"command": ["/bin/web", "check"], "periodSeconds": 20},
        "startup": {"port": 9090, "failureThreshold": 30},
    },
    "ingress": {
        "host": "web.example.test",
        "path": "/",
        "pathType": "Prefix",
        "port": "http",
        "className": "nginx",
        "tls": {"secretName": "web-tls"},
        "annotations": {"nginx.ingress.kubernetes.io/proxy-body-size": "8m"},
    },
    "podDisruptionBudget": {"minAvailable": 1},
    "configFiles": {
        "mountPath": "/etc/web",
        "files": {"settings.ini": "[server]\nport = 8080\n", "motd.txt": "hello\n"},
    },
    "serviceAccount": {
        "create": True,
        "name": "web-runner",
        "annotations": {"example.test/role": "web"},
    },
    "labels": {"team": "storefront"},
    "annotations": {"example.test/owner": "storefront@example.test"},
    "podAnnotations": {"example.test/scrape": "true"},
    **WEB_POD,
    "extraObjects": READER,
    "patches": [
        {
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"template": {"spec": {"terminationGracePeriodSeconds": 45}}},
        },
        STICKY,
    ],
    "promote": ["image", "env.LOG_LEVEL"],
    "environments": {
        ENV: {
            "image": {
                "repository": "example.test/shop/web",
                "tag": "1.5.0",
                "digest": "sha256:" + "ab" * 32,
                "pullPolicy": "IfNotPresent",
            },
            "env": {"LOG_LEVEL": "warn", "DEBUG": None},
            "autoscaling": {"maxReplicas": 8},
            "podDisruptionBudget": {"minAvailable": None, "maxUnavailable": "25%"},
            # Several hosts in production: the single host's fields make way.
            "ingress": {
                "host": None,
                "path": None,
                "pathType": None,
                "tls": None,
                "hosts": [
                    {
                        "host": "shop.example.test",
                        "paths": [
                            {"path": "/", "pathType": "Prefix", "port": "http"},
                            {"path": "/metrics", "pathType": "Exact", "port": "metrics"},
                        ],
                        "tls": {"secretName": "shop-tls"},
                    },
                    {"host": "www.shop.example.test", "tls": {"secretName": "shop-tls"}},
                ],
            },
            "component": "storefront",
            "partOf": None,
            "replicas": 3,
            "command": ["/bin/web", "--production"],
            "args": ["--listen=:8080", "--quiet"],
            "envFrom": [{"configMapRef": {"name": "shop-defaults", "optional": True}}],
            "resources": {"limits": {"memory": "512Mi"}},
            "probes": {"startup": False},
            "configFiles": {"files": {"motd.txt": "welcome\n"}},
            "serviceAccount": {"annotations": {"example.test/role": "web-production"}},
            "labels": {"tier": "one"},
            "annotations": {"example.test/stage": ENV},
            "podAnnotations": {"example.test/scrape": "false"},
            # Lists replace: the environment's list holds the base's objects too.
            "extraObjects": [
                *READER,
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "web-notes"},
                    "data": {"note": "production only"},
                },
            ],
            "patches": [
                {
                    "kind": "Deployment",
                    "spec": {"template": {"spec": {"terminationGracePeriodSeconds": 60}}},
                },
                STICKY,
            ],
            "ports": [
                {"name": "http", "port": 80, "targetPort": 8080},
                {"name": "metrics", "port": 9090},
            ],
        },
        # An environment that exercises the other form of image and turns autoscaling off.
        "evaluation": {
            "image": {"name": "web", "pullPolicy": "Always"},
            "autoscaling": {"enabled": False},
            "probes": {"readiness": True, "liveness": False},
            "serviceAccount": {"create": False, "name": "default"},
        },
    },
}


# A StatefulSet whose claim binds a volume the test makes.
STORE: dict[str, Any] = {
    "name": "store",
    "image": "example.test/shop/store:7.2",
    "workload": "StatefulSet",
    "dependsOn": ["db"],
    "replicas": 1,
    "ports": [{"name": "redis", "port": 6379}],
    "volumeClaimTemplates": [
        {
            "name": "data",
            "size": "1Gi",
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": STORAGE_CLASS,
        }
    ],
    "mounts": [{"name": "data", "mountPath": "/data"}],
    "securityContext": {},
    "podDisruptionBudget": {"maxUnavailable": 1},
}

# A queue consumer: pods, no Service.
QUEUE: dict[str, Any] = {
    "name": "queue",
    "image": "example.test/shop/queue:3",
    "workload": "Worker",
    "replicas": 2,
    "ports": [{"name": "metrics", "port": 9100}],
    "securityContext": {"readOnlyRootFilesystem": True},
    # Written with the values the API server stores as no field: the render leaves them out.
    "dependsOn": ["db"],
    "volumes": [
        {"name": "tmp", "emptyDir": {"medium": ""}},
        {
            "name": "uploads",
            "persistentVolumeClaim": {"claimName": "web-uploads", "readOnly": False},
        },
    ],
    "mounts": [
        {"name": "tmp", "mountPath": "/scratch"},
        {"name": "uploads", "mountPath": "/uploads"},
    ],
}

# Runs once; the sync waits until it has completed.
MIGRATE: dict[str, Any] = {
    "name": "migrate",
    "image": "example.test/shop/migrate:5",
    "workload": "Job",
    "args": ["--to=latest"],
    # A native sidecar: it does not keep the Job from completing, and may have probes.
    "sidecars": [
        {
            "name": "proxy",
            "image": "example.test/shop/proxy:2.1",
            "probes": {"readiness": {"command": ["/proxy", "--ready"]}},
        }
    ],
    "job": {
        "backoffLimit": 2,
        "activeDeadlineSeconds": 600,
        "completions": 1,
        "parallelism": 1,
        "restartPolicy": "Never",
    },
}

NIGHTLY: dict[str, Any] = {
    "name": "nightly",
    "image": "example.test/shop/report:1",
    "workload": "CronJob",
    "cronJob": {
        "schedule": "30 3 * * *",
        "timeZone": "Europe/Berlin",
        "concurrencyPolicy": "Forbid",
        "successfulJobsHistoryLimit": 2,
        "failedJobsHistoryLimit": 1,
        "startingDeadlineSeconds": 300,
        "suspend": False,
    },
    "job": {"backoffLimit": 1, "restartPolicy": "OnFailure"},
}

# A canary routed by ingress-nginx, with a background HTTP check: the first sync applies
# it as any Deployment (a rollout starts only with the next version).
FRONT: dict[str, Any] = {
    "name": "front",
    "image": "example.test/shop/front:1.0",
    "replicas": 2,
    "ports": [{"name": "http", "port": 8080}],
    "ingress": {"hosts": [{"host": "front.example.test"}]},
    "rollout": {
        "canary": {
            "trafficRouting": {"nginx": {"stableIngress": "front"}},
            "stableService": "front",
            "dynamicStableScale": True,
            "analysis": {
                "startingStep": 1,
                "templates": [
                    {"web": {"url": "http://front.example.test/healthz"}, "interval": "10s"}
                ],
            },
            "steps": [{"setWeight": 20}, {"pause": {"duration": "1m"}}],
        }
    },
}

APPS = {
    "web": SPEC,
    "store": STORE,
    "queue": QUEUE,
    "migrate": MIGRATE,
    "nightly": NIGHTLY,
    "front": FRONT,
}


def _ref(defs: dict[str, Any], node: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    ref = node.get("$ref")
    if ref is None:
        return node, None
    name = str(ref).rsplit("/", 1)[1]
    return defs[name], f"#{name}"


def schema_fields(schema: dict[str, Any]) -> set[str]:
    """Every field the schema describes, named by its place: a dotted path from the top,
    restarting at ``#definition`` for fields of a shared definition (a probe's ``path`` is
    ``#probe.path`` wherever a probe is used). An environment's overrides are the top
    fields again, so they are not listed apart."""
    defs = schema["$defs"]
    found: set[str] = set()
    visited: set[str] = set()

    def walk(node: dict[str, Any], prefix: str) -> None:
        node, restart = _ref(defs, node)
        if restart is not None:
            if restart in visited:
                return
            visited.add(restart)
            prefix = restart
        for key, sub in (node.get("properties") or {}).items():
            found.add(f"{prefix}.{key}".lstrip("."))
            if prefix or key != "environments":
                walk(sub, f"{prefix}.{key}".lstrip("."))
        for branch in (*node.get("anyOf", ()), *node.get("oneOf", ())):
            walk(branch, prefix)
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], f"{prefix}.*")
        if isinstance(node.get("items"), dict):
            walk(node["items"], f"{prefix}[]")

    walk(schema, "")
    return found


def spec_fields(schema: dict[str, Any], spec: dict[str, Any]) -> set[str]:
    """The fields ``spec`` (and each environment's overrides) sets, named as in
    ``schema_fields``. A null override counts: removing a field is using it."""
    defs = schema["$defs"]
    found: set[str] = set()

    def fits(node: dict[str, Any], value: object) -> bool:
        node, _ = _ref(defs, node)
        kinds = {"object": dict, "array": list}
        declared = node.get("type")
        if declared in kinds:
            return isinstance(value, kinds[declared])
        if declared is not None:
            return not isinstance(value, dict | list)
        return any(fits(b, value) for b in (*node.get("anyOf", ()), *node.get("oneOf", ())))

    def walk(node: dict[str, Any], value: object, prefix: str) -> None:
        node, restart = _ref(defs, node)
        prefix = restart or prefix
        branches = [*node.get("anyOf", ()), *node.get("oneOf", ())]
        for branch in branches:
            if fits(branch, value):
                walk(branch, value, prefix)
        properties = node.get("properties") or {}
        if isinstance(value, dict) and properties:
            for key, item in value.items():
                if key in properties:
                    found.add(f"{prefix}.{key}".lstrip("."))
                    if item is not None and (prefix or key != "environments"):
                        walk(properties[key], item, f"{prefix}.{key}".lstrip("."))
        elif isinstance(value, dict) and isinstance(node.get("additionalProperties"), dict):
            for item in value.values():
                walk(node["additionalProperties"], item, f"{prefix}.*")
        if isinstance(value, list) and isinstance(node.get("items"), dict):
            for item in value:
                walk(node["items"], item, f"{prefix}[]")

    walk(schema, spec, "")
    for overrides in spec.get("environments", {}).values():
        walk(schema, overrides, "")
    return found


# Specs that other cluster tests apply to the real API server: the example project's, whose
# apps stand on platform bases (test_example), a canary's (test_canary_rollout), one with
# surge limits (test_canary_surge), and blue-green ones (test_bluegreen_rollout).
ELSEWHERE = [
    *(
        yaml.safe_load(path.read_text())
        for path in sorted((Path(hakobu.__file__).parent / "example" / "apps").glob("*.yaml"))
    ),
    canary_spec("1.0", "http://127.0.0.1:9090"),
    surge_spec("1.0"),
    *(
        blue_green_spec("1.0", declared)
        for declared in (
            bluegreen.MANUAL,
            bluegreen.automatic("http://127.0.0.1:9090"),
            bluegreen.post_promotion("http://127.0.0.1:9090"),
        )
    ),
]


def test_the_specs_here_use_every_field_of_the_schema() -> None:
    schema = app_schema()
    described = schema_fields(schema)
    assert set(schema["properties"]) <= described
    assert {"#probe.path", "#keyRef.optional", "ingress.tls.secretName"} <= described
    assert {"#container.image.digest", "volumes[].projected.sources[].secret.items[].path"} <= (
        described
    )
    used = set().union(*(spec_fields(schema, spec) for spec in (*APPS.values(), *ELSEWHERE)))
    missing = described - used
    assert not missing, f"fields of the app spec schema this test does not use: {sorted(missing)}"


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def project(root: Path, namespace: str) -> Path:
    root.mkdir()
    (root / "hakobu.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "hakobu.dev/v1alpha1",
                "kind": "Project",
                "name": "shop",
                "apps": "apps",
                "output": "generated",
                "environments": {
                    "evaluation": {"namespace": f"{namespace}-eval"},
                    ENV: {"namespace": namespace},
                },
                "images": [
                    {"name": "web", "context": "services/web", "registry": "example.test/shop"}
                ],
            }
        )
    )
    (root / "services" / "web").mkdir(parents=True)
    (root / "services" / "web" / "Dockerfile").write_text("FROM scratch\nCOPY web /bin/web\n")
    (root / "services" / "web" / "web").write_text("#!/bin/sh\n")
    (root / "apps").mkdir()
    web = copy.deepcopy(SPEC)
    web["services"][0]["ports"][0]["nodePort"] = node_port(namespace)
    for name, spec in {**APPS, "web": web}.items():
        (root / "apps" / f"{name}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    (root / "apps" / "db").mkdir()
    (root / "apps" / "db" / "settings.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: db-settings\ndata:\n  size: small\n"
    )
    # The claim web mounts, bound to a volume the test makes.
    (root / "apps" / "db" / "uploads.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": "web-uploads"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": STORAGE_CLASS,
                    "resources": {"requests": {"storage": "1Gi"}},
                },
            }
        )
    )
    git(root, "init", "-q", "-b", "main")
    git(root, "-c", "user.email=ci@example.test", "-c", "user.name=CI", "add", "-A")
    git(root, "-c", "user.email=ci@example.test", "-c", "user.name=CI", "commit", "-qm", "web")
    return root


def node_port(namespace: str) -> int:
    return 30000 + int(hashlib.sha256(namespace.encode()).hexdigest(), 16) % 2700


def volume_for(namespace: str, claim: str) -> Object:
    """A volume bound ahead to one claim of ``namespace``: no provisioner runs here."""
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": f"{namespace}-{claim}"[:63]},
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": STORAGE_CLASS,
            "hostPath": {"path": f"/var/lib/volumes/{namespace}/{claim}"},
            "claimRef": {"namespace": namespace, "name": claim},
        },
    }


@pytest.fixture
def cluster_world(kube: KubeClient, namespace: str) -> Iterator[None]:
    """The PriorityClass web asks for and the volumes of the claims: what a platform team
    provides outside the project."""
    kube.apply(
        {
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": PRIORITY_CLASS},
            "value": 1000,
        },
        field_manager="appspec-test",
    )
    volumes = [volume_for(namespace, claim) for claim in ("web-uploads", "data-store-0")]
    for volume in volumes:
        kube.apply(volume, field_manager="appspec-test")
    yield
    for volume in volumes:
        kube.delete("v1", "PersistentVolume", volume["metadata"]["name"])


def contained(wanted: object, live: object, path: str = "") -> list[str]:
    """Where ``live`` lacks or differs from what ``wanted`` sets: what the API server dropped
    or changed of an object as it was rendered."""
    if isinstance(wanted, dict):
        if not isinstance(live, dict):
            return [f"{path}: not a mapping"]
        return [
            problem
            for key, value in wanted.items()
            for problem in contained(value, live.get(key), f"{path}.{key}")
        ]
    if isinstance(wanted, list):
        if not isinstance(live, list) or len(live) != len(wanted):
            return [f"{path}: {live!r} is not {wanted!r}"]
        return [
            problem
            for i, (w, v) in enumerate(zip(wanted, live, strict=True))
            for problem in contained(w, v, f"{path}[{i}]")
        ]
    return [] if wanted == live else [f"{path}: {live!r} is not {wanted!r}"]


def eventually(what: str, probe: Callable[[], Any], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := probe()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)
    return result


def assert_least_privilege(pod: Object) -> None:
    """The safe defaults, on the pod and on every container."""
    container, proxy = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    for each in (container, proxy, *pod["initContainers"]):
        assert each["securityContext"]["allowPrivilegeEscalation"] is False
        assert each["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert proxy["securityContext"]["runAsUser"] == 1001
    # The init container runs the image built from services/web.
    assert pod["initContainers"][0]["image"].startswith("example.test/shop/web:")


def assert_routes(live: dict[str, Object], namespace: str) -> None:
    # The Services: the app's own as a NodePort, and the extra ones on its pods.
    assert live["Service/web"]["spec"]["type"] == "NodePort"
    public = live["Service/web-public"]["spec"]
    assert public["type"] == "LoadBalancer"
    assert public["ports"][0]["nodePort"] == node_port(namespace)
    assert public["selector"] == live["Deployment/web"]["spec"]["selector"]["matchLabels"]

    # The Ingress routes the environment's hosts, over TLS, to ports the Service has.
    ingress = live["Ingress/web"]["spec"]
    assert ingress["tls"] == [
        {"hosts": ["shop.example.test", "www.shop.example.test"], "secretName": "shop-tls"}
    ]
    assert [rule["host"] for rule in ingress["rules"]] == [
        "shop.example.test",
        "www.shop.example.test",
    ]
    ports = {port["name"] for port in live["Service/web"]["spec"]["ports"]}
    for rule in ingress["rules"]:
        for route in rule["http"]["paths"]:
            assert route["backend"]["service"]["name"] == "web"
            assert route["backend"]["service"]["port"]["name"] in ports


def assert_state_and_runs(kube: KubeClient, live: dict[str, Object], namespace: str) -> None:
    # The StatefulSet's pod has its claim, bound to the volume made for it.
    stateful = live["StatefulSet/store"]
    assert stateful["spec"]["serviceName"] == "store-headless"
    assert live["Service/store-headless"]["spec"]["clusterIP"] == "None"
    claim = kube.get("v1", "PersistentVolumeClaim", "data-store-0", namespace)
    assert claim["status"]["phase"] == "Bound"
    assert claim["spec"]["volumeName"] == f"{namespace}-data-store-0"

    # The Job ran to completion before the sync ended; the CronJob waits for its hour.
    assert live["Job/migrate"]["status"]["succeeded"] == 1
    job_pod = live["Job/migrate"]["spec"]["template"]["spec"]
    assert job_pod["initContainers"][0]["restartPolicy"] == "Always"
    assert job_pod["initContainers"][0]["readinessProbe"]["exec"] == {
        "command": ["/proxy", "--ready"]
    }
    assert live["CronJob/nightly"]["spec"]["timeZone"] == "Europe/Berlin"


@pytest.mark.usefixtures("cluster_world")
def test_every_field_renders_to_objects_the_api_server_accepts(
    kube: KubeClient,
    namespace: str,
    local_cluster: ClusterInfo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = project(tmp_path / "shop", namespace)
    assert main(["render", "-C", str(root)]) == 0, capsys.readouterr().err
    rendered: dict[str, list[Object]] = {
        app: [
            yaml.safe_load(path.read_text())
            for path in sorted((root / "generated" / ENV / app).glob("*.yaml"))
        ]
        for app in APPS
    }
    kinds = {app: sorted(obj["kind"] for obj in objects) for app, objects in rendered.items()}
    assert kinds == {
        "web": [
            "ConfigMap",
            "ConfigMap",
            "Deployment",
            "HorizontalPodAutoscaler",
            "Ingress",
            "PodDisruptionBudget",
            "Role",
            "RoleBinding",
            "Service",
            "Service",
            "Service",
            "ServiceAccount",
        ],
        "store": ["PodDisruptionBudget", "Service", "Service", "StatefulSet"],
        "queue": ["Deployment"],
        "migrate": ["Job"],
        "nightly": ["CronJob"],
        "front": ["Deployment", "Ingress", "Service"],
    }
    capsys.readouterr()

    code = main(["sync", ENV, "-C", str(root), "--kubeconfig", local_cluster.kubeconfig])
    out, err = capsys.readouterr()
    assert code == 0, out + err

    # Accepted as rendered: every field the render set is stored as it was set.
    live: dict[str, Object] = {}
    for obj in (obj for objects in rendered.values() for obj in objects):
        meta = obj["metadata"]
        assert meta["namespace"] == namespace
        stored = kube.get(obj["apiVersion"], obj["kind"], meta["name"], namespace)
        assert contained(obj, stored) == [], f"{obj['kind']}/{meta['name']}"
        live[f"{obj['kind']}/{meta['name']}"] = stored

    # The overrides of the environment are what was applied.
    deployment = live["Deployment/web"]
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == "example.test/shop/web:1.5.0@sha256:" + "ab" * 32
    assert container["command"] == ["/bin/web", "--production"]
    assert pod["terminationGracePeriodSeconds"] == 60
    assert pod["serviceAccountName"] == "web-runner"
    assert live["HorizontalPodAutoscaler/web"]["spec"]["maxReplicas"] == 8
    assert live["PodDisruptionBudget/web"]["spec"] == {
        "maxUnavailable": "25%",
        "selector": deployment["spec"]["selector"],
    }
    assert live["Service/web"]["spec"]["sessionAffinity"] == "ClientIP"

    # The sidecar's probes check its own ports: one that names none, its first.
    proxy = pod["containers"][1]
    assert proxy["livenessProbe"]["tcpSocket"] == {"port": "proxy"}
    assert proxy["readinessProbe"]["httpGet"]["port"] == "proxy-admin"
    assert_least_privilege(pod)
    assert_routes(live, namespace)
    assert_state_and_runs(kube, live, namespace)

    # Healthy, object by object. The sync waited for what gates a rollout (the workloads'
    # pods available, the Job complete). An autoscaler without a metrics server turns
    # Degraded once it has tried to read them, and an Ingress or a LoadBalancer Service
    # stays Progressing without a controller that publishes addresses: the autoscaler is
    # checked for having found its Deployment instead, the Ingress and Services above.
    for ref, stored in live.items():
        if ref.startswith(("HorizontalPodAutoscaler/", "Ingress/")) or ref == "Service/web-public":
            continue
        assert assess(stored, HealthRules()).status is HealthStatus.HEALTHY, (
            ref,
            assess(stored, HealthRules()),
        )

    def autoscaler_found_its_target() -> bool:
        hpa = kube.get("autoscaling/v2", "HorizontalPodAutoscaler", "web", namespace)
        conditions = {c["type"]: c for c in (hpa.get("status") or {}).get("conditions") or []}
        able = conditions.get("AbleToScale")
        return able is not None and able["status"] == "True"

    eventually("the autoscaler to read its Deployment's scale", autoscaler_found_its_target)

    def budget_counts_the_pods() -> bool:
        pdb = kube.get("policy/v1", "PodDisruptionBudget", "web", namespace)
        return (pdb.get("status") or {}).get("expectedPods") == 2

    eventually("the disruption budget to count the app's pods", budget_counts_the_pods)

    # In sync: nothing left to apply.
    assert main(["diff", ENV, "-C", str(root), "--kubeconfig", local_cluster.kubeconfig]) == 0
