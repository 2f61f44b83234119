"""A project's health rule for a custom resource, against the real API server: a sync waits
until the rule calls the object Healthy, and ``hakobu status`` reports the rule's verdict.

The Widget's status is set through its status subresource, as its controller would."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import NotFound, TooManyRequests
from hakobu.localcluster.controlplane import ClusterInfo
from hakobu.model.project import load_project
from hakobu.sync import SyncOptions, read_desired, sync
from tests.integration.conftest import widget_crd
from tests.integration.test_sync import Repo, cli

pytestmark = pytest.mark.cluster

RULE = {
    "apiVersion": "{group}/v1",
    "kind": "Widget",
    "inProgress": "has(status.phase) && status.phase == 'Starting'",
    "failed": "has(status.phase) && status.phase == 'Jammed'",
    "current": "has(status.phase) && status.phase == 'Turning'",
}


def set_phase(kube: KubeClient, group: str, namespace: str, phase: str, message: str) -> None:
    path = kube.resource(f"{group}/v1", "Widget").object_path("w", namespace)
    kube.request(
        "PATCH",
        f"{path}/status",
        body={"status": {"phase": phase, "message": message}},
        content_type="application/merge-patch+json",
    )


def test_a_project_rule_decides_sync_waits_and_status(
    kube: KubeClient,
    tmp_path: Path,
    namespace: str,
    local_cluster: ClusterInfo,
    capsys: pytest.CaptureFixture[str],
) -> None:
    group = f"{namespace}.example.com"
    crd = widget_crd(group, {"type": "object", "x-kubernetes-preserve-unknown-fields": True})
    spec: dict[str, Any] = crd["spec"]  # type: ignore[assignment]
    spec["versions"][0]["subresources"] = {"status": {}}
    kube.apply(crd, field_manager="test")
    try:
        _served(kube, group, namespace)
        repo = Repo(tmp_path / "project", namespace)
        project_file = yaml.safe_load((repo.root / "hakobu.yaml").read_text())
        project_file["health"] = [{**RULE, "apiVersion": f"{group}/v1"}]
        (repo.root / "hakobu.yaml").write_text(yaml.safe_dump(project_file))
        repo.put("gears", {"apiVersion": f"{group}/v1", "kind": "Widget",
                           "metadata": {"name": "w"}, "spec": {"teeth": 12}})  # fmt: skip
        repo.commit("a widget, judged by the project's rule")

        waiting: list[str] = []

        def progress(message: str) -> None:
            # The sync's own thread, while it waits: the controller starts the widget.
            if f"waiting for Widget/{namespace}/w" in message and not waiting:
                waiting.append(message)
                set_phase(kube, group, namespace, "Turning", "12 teeth turning")

        project = load_project(repo.root)
        env = project.environment("dev")
        result = sync(
            kube,
            project,
            env,
            read_desired(project, env),
            options=SyncOptions(timeout=60),
            progress=progress,
        )
        assert result.succeeded, result
        assert waiting == [
            f"gears: waiting for Widget/{namespace}/w: Progressing waiting for Widget to be "
            "current (hakobu.yaml health[0])"
        ], waiting

        capsys.readouterr()
        assert cli(local_cluster, repo, "status") == 0
        assert "gears: Synced, Healthy" in capsys.readouterr().out

        set_phase(kube, group, namespace, "Jammed", "a tooth broke")
        assert cli(local_cluster, repo, "status") == 1
        shown = capsys.readouterr().out
        assert "gears: Synced, Degraded" in shown, shown
        assert f"Widget/{namespace}/w Degraded: a tooth broke" in shown, shown
    finally:
        kube.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", f"widgets.{group}")


def _served(kube: KubeClient, group: str, namespace: str) -> None:
    """Until Widgets can be listed: a CRD just established answers 429 a moment."""
    deadline = time.monotonic() + 30
    while True:
        try:
            kube.list(f"{group}/v1", "Widget", namespace)
        except (NotFound, TooManyRequests):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
        else:
            return
