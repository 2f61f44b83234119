"""The project `hakobu init` writes, rendered and synced to the bundled cluster, as a new user
would: every app of every environment ends Healthy and stays so."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from hakobu.cluster.client import KubeClient
from hakobu.localcluster.controlplane import ClusterInfo

pytestmark = pytest.mark.cluster

# The autoscaler controller evaluates every 15 s, and an autoscaler without metrics turns
# Degraded 25-30 s after it is created here: watch longer than that.
_WATCH = 45.0


def hakobu(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hakobu", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_the_example_project_is_healthy_on_the_bundled_cluster(
    tmp_path: Path, local_cluster: ClusterInfo, kube: KubeClient, namespace: str
) -> None:
    root = tmp_path / "shop"
    assert hakobu(tmp_path, "init", "shop").returncode == 0
    project = root / "hakobu.yaml"
    project.write_text(
        project.read_text()
        .replace("namespace: shop-eval", f"namespace: {namespace}")
        .replace("namespace: shop\n", f"namespace: {namespace}-prod\n")
    )
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "A new hakobu project"], check=True)
    rendered = hakobu(root, "render")
    assert rendered.returncode == 0, rendered.stderr
    kubeconfig = ("--kubeconfig", local_cluster.kubeconfig)
    # The platform installs the kinds its bases use once per cluster, as the demo does;
    # left in place like any cluster-wide definition.
    install_definitions(kube, root / "platform" / "crds")
    try:
        for env in ("evaluation", "production"):
            synced = hakobu(root, "sync", env, *kubeconfig)
            assert synced.returncode == 0, synced.stdout + synced.stderr
        deadline = time.monotonic() + _WATCH
        while True:
            for env in ("evaluation", "production"):
                status = hakobu(root, "status", env, "-o", "json", *kubeconfig)
                apps = {app["app"]: app for app in json.loads(status.stdout)["apps"]}
                assert sorted(apps) == ["api", "redis", "web", "worker"]
                for app in apps.values():
                    assert (app["sync"], app["health"]) == ("Synced", "Healthy"), app
            if time.monotonic() > deadline:
                break
            time.sleep(5)
        # web moves to the next version of its base: a ServiceMonitor and a NetworkPolicy.
        upgraded = hakobu(root, "bases", "upgrade", "web", "--to", "2")
        assert upgraded.returncode == 0, upgraded.stderr
        assert "(1 apps rendered, 3 from cache)" in upgraded.stdout
        synced = hakobu(root, "sync", "evaluation", *kubeconfig)
        assert synced.returncode == 0, synced.stdout + synced.stderr
        monitor = kube.get("monitoring.coreos.com/v1", "ServiceMonitor", "web", namespace)
        assert monitor["spec"]["endpoints"] == [{"port": "http", "path": "/metrics"}]
        kube.get("networking.k8s.io/v1", "NetworkPolicy", "web", namespace)
        status = hakobu(root, "status", "evaluation", "-o", "json", *kubeconfig)
        web = next(a for a in json.loads(status.stdout)["apps"] if a["app"] == "web")
        assert (web["sync"], web["health"]) == ("Synced", "Healthy"), web
    finally:
        kube.delete("v1", "Namespace", f"{namespace}-prod", propagation="Background")


def install_definitions(kube: KubeClient, directory: Path) -> None:
    for path in sorted(directory.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        kube.apply(crd, field_manager="platform")
        deadline = time.monotonic() + 30
        while True:
            live = kube.get(
                "apiextensions.k8s.io/v1", "CustomResourceDefinition", crd["metadata"]["name"]
            )
            conditions = (live.get("status") or {}).get("conditions") or []
            if any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
                break
            assert time.monotonic() < deadline, f"{path.name} is not established"
            time.sleep(0.2)
