"""dependsOn on the real control plane: rendered from app specs and plain manifests, synced
in order, and a failing dependency skipping what depends on it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from hakobu.cli.main import main
from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import NotFound
from hakobu.health import HealthRules, HealthStatus, assess
from hakobu.localcluster.controlplane import ClusterInfo
from hakobu.model.project import load_project
from hakobu.sync import SyncOptions, read_desired, sync
from hakobu.sync.run import Outcome, SyncResult

pytestmark = pytest.mark.cluster

FAILING_POD = {"pod-container-running-failed.stage.kwok.x-k8s.io": "true"}


def project(root: Path, namespace: str, apps: dict[str, Any], depends_on: dict[str, Any]) -> Path:
    """``apps``: name → an app spec (a mapping) or plain manifests (a list of objects)."""
    (root / "apps").mkdir(parents=True)
    project_file: dict[str, Any] = {
        "apiVersion": "hakobu.dev/v1alpha1",
        "kind": "Project",
        "name": "shop",
        "environments": {"dev": {"namespace": namespace}},
    }
    if depends_on:
        project_file["dependsOn"] = depends_on
    (root / "hakobu.yaml").write_text(yaml.safe_dump(project_file))
    for name, content in apps.items():
        if isinstance(content, dict):
            (root / "apps" / f"{name}.yaml").write_text(yaml.safe_dump(content))
        else:
            (root / "apps" / name).mkdir()
            for obj in content:
                file = root / "apps" / name / f"{obj['metadata']['name']}.yaml"
                file.write_text(yaml.safe_dump(obj))
    assert main(["render", "-C", str(root)]) == 0
    return root


def spec(name: str, *depends_on: str, replicas: int = 2) -> dict[str, Any]:
    found: dict[str, Any] = {"name": name, "image": f"example.test/{name}:1", "replicas": replicas}
    if depends_on:
        found["dependsOn"] = list(depends_on)
    return found


def failing_job(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "metadata": {"labels": FAILING_POD},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "main", "image": "busybox:1.36"}],
                },
            },
        },
    }


def configmap(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"a": "b"}}


def run(kube: KubeClient, root: Path, progress: Any = lambda _: None) -> SyncResult:
    loaded = load_project(root)
    env = loaded.environment("dev")
    desired = read_desired(loaded, env)
    return sync(kube, loaded, env, desired, options=SyncOptions(timeout=90), progress=progress)


def test_web_is_applied_once_db_is_healthy(
    kube: KubeClient,
    local_cluster: ClusterInfo,
    tmp_path: Path,
    namespace: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = project(tmp_path, namespace, {"db": spec("db"), "web": spec("web", "db")}, {})
    # Read in web's own thread, just before its first wave is applied.
    db_when_web_applied: list[HealthStatus] = []
    progress: list[str] = []

    def record(message: str) -> None:
        progress.append(message)
        if message.startswith("web: Sync wave") and "applying" in message:
            db = kube.get("apps/v1", "Deployment", "db", namespace)
            db_when_web_applied.append(assess(db, HealthRules()).status)

    result = run(kube, root, record)

    assert result.succeeded, result
    assert db_when_web_applied == [HealthStatus.HEALTHY]
    assert "web: waiting for db" in progress
    db = kube.get("apps/v1", "Deployment", "db", namespace)
    web = kube.get("apps/v1", "Deployment", "web", namespace)
    assert web["metadata"]["annotations"]["hakobu.dev/depends-on"] == "db"
    available = next(c for c in db["status"]["conditions"] if c["type"] == "Available")
    # Seconds only, on both sides: web did not come before db was available.
    assert web["metadata"]["creationTimestamp"] >= available["lastTransitionTime"]

    capsys.readouterr()
    assert (
        main(
            [
                "status",
                "dev",
                "-C",
                str(root),
                "-o",
                "json",
                "--kubeconfig",
                local_cluster.kubeconfig,
            ]
        )
        == 0
    )
    statuses = {s["app"]: s for s in json.loads(capsys.readouterr().out)["apps"]}
    assert statuses["web"]["depends_on"] == ["db"]
    assert statuses["web"]["waiting_for"] == []


def test_a_failing_dependency_skips_its_dependents_and_nothing_else(
    kube: KubeClient,
    local_cluster: ClusterInfo,
    tmp_path: Path,
    namespace: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = project(
        tmp_path,
        namespace,
        {
            "migrate": [failing_job("migrate")],
            "api": spec("api", "migrate", replicas=1),
            "report": [configmap("report")],
            "cache": spec("cache", replicas=1),
        },
        {"report": ["api"]},
    )

    result = run(kube, root)

    apps = {a.app: a for a in result.apps}
    assert not result.succeeded
    assert apps["migrate"].result is Outcome.FAILED, apps["migrate"]
    assert apps["cache"].result is Outcome.SUCCEEDED, apps["cache"]
    assert apps["api"].result is Outcome.SKIPPED
    assert (
        apps["api"]
        .messages[0]
        .startswith(f"waiting for migrate: Failed (Job/{namespace}/migrate failed: Degraded")
    )
    assert apps["report"].result is Outcome.SKIPPED
    assert apps["report"].messages[0].startswith("waiting for api: Skipped")
    for kind, name in (("Deployment", "api"), ("ConfigMap", "report")):
        with pytest.raises(NotFound):
            kube.get("apps/v1" if kind == "Deployment" else "v1", kind, name, namespace)
    assert assess(kube.get("apps/v1", "Deployment", "cache", namespace), HealthRules()).status is (
        HealthStatus.HEALTHY
    )

    capsys.readouterr()
    assert main(["status", "dev", "-C", str(root), "--kubeconfig", local_cluster.kubeconfig]) == 1
    shown = capsys.readouterr().out
    assert "api: OutOfSync, Missing\n  waiting for migrate (Synced, Degraded)\n" in shown, shown
