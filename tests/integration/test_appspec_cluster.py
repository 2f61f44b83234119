"""An app spec that uses every field of its schema, rendered and synced to the real API server.

The API server is the judge of what an app spec expands to: every object must be accepted
as rendered (no validation error, no field dropped), and the controllers must find what
the objects point at (the autoscaler its Deployment, the disruption budget its pods). A
coverage check ties the spec to the schema, so a field added to the schema without being
exercised here fails this test.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from hakobu.cli.main import main
from hakobu.cluster.client import KubeClient
from hakobu.health import HealthStatus, assess
from hakobu.localcluster.controlplane import ClusterInfo
from hakobu.model.appspec_schema import app_schema
from hakobu.model.objects import Object

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
            "ingress": {"host": "shop.example.test"},
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


def test_the_spec_here_uses_every_field_of_the_schema() -> None:
    schema = app_schema()
    described = schema_fields(schema)
    assert set(schema["properties"]) <= described
    assert {"#probe.path", "#keyRef.optional", "ingress.tls.secretName"} <= described
    missing = described - spec_fields(schema, SPEC)
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
    (root / "apps" / "web.yaml").write_text(yaml.safe_dump(SPEC, sort_keys=False))
    (root / "apps" / "db").mkdir()
    (root / "apps" / "db" / "settings.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: db-settings\ndata:\n  size: small\n"
    )
    git(root, "init", "-q", "-b", "main")
    git(root, "-c", "user.email=ci@example.test", "-c", "user.name=CI", "add", "-A")
    git(root, "-c", "user.email=ci@example.test", "-c", "user.name=CI", "commit", "-qm", "web")
    return root


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


def test_every_field_renders_to_objects_the_api_server_accepts(
    kube: KubeClient,
    namespace: str,
    local_cluster: ClusterInfo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = project(tmp_path / "shop", namespace)
    assert main(["render", "-C", str(root)]) == 0, capsys.readouterr().err
    rendered: list[Object] = [
        yaml.safe_load(path.read_text())
        for path in sorted((root / "generated" / ENV / "web").glob("*.yaml"))
    ]
    kinds = sorted(obj["kind"] for obj in rendered)
    assert kinds == [
        "ConfigMap",
        "ConfigMap",
        "Deployment",
        "HorizontalPodAutoscaler",
        "Ingress",
        "PodDisruptionBudget",
        "Role",
        "RoleBinding",
        "Service",
        "ServiceAccount",
    ]
    capsys.readouterr()

    code = main(["sync", ENV, "-C", str(root), "--kubeconfig", local_cluster.kubeconfig])
    out, err = capsys.readouterr()
    assert code == 0, out + err

    # Accepted as rendered: every field the render set is stored as it was set.
    live: dict[str, Object] = {}
    for obj in rendered:
        meta = obj["metadata"]
        assert meta["namespace"] == namespace
        stored = kube.get(obj["apiVersion"], obj["kind"], meta["name"], namespace)
        assert contained(obj, stored) == [], f"{obj['kind']}/{meta['name']}"
        live[f"{obj['kind']}/{meta['name']}"] = stored

    # The overrides of the environment are what was applied.
    deployment = live["Deployment/web"]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
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

    # The Ingress routes the environment's host, over TLS, to a port the Service has.
    ingress = live["Ingress/web"]["spec"]
    assert ingress["tls"] == [{"hosts": ["shop.example.test"], "secretName": "web-tls"}]
    (rule,) = ingress["rules"]
    assert rule["host"] == "shop.example.test"
    (route,) = rule["http"]["paths"]
    assert route["backend"]["service"]["name"] == "web"
    ports = {port["name"] for port in live["Service/web"]["spec"]["ports"]}
    assert route["backend"]["service"]["port"]["name"] in ports

    # Healthy, object by object. The sync waited for what gates a rollout (the Deployment's
    # pods available). An autoscaler without a metrics server turns Degraded once it has
    # tried to read them, and an Ingress stays Progressing without an ingress controller:
    # the autoscaler is checked for having found its Deployment instead, the Ingress above.
    for ref, stored in live.items():
        if ref.startswith(("HorizontalPodAutoscaler/", "Ingress/")):
            continue
        assert assess(stored).status is HealthStatus.HEALTHY, (ref, assess(stored))

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
