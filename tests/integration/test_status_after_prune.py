"""An app removed from git is gone from ``hakobu status`` once a sync has pruned it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from hakobu.cli.main import main
from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import NotFound
from hakobu.localcluster.controlplane import ClusterInfo
from tests.integration.test_sync import Repo, configmap, deployment, wait_deleted

pytestmark = pytest.mark.cluster


@pytest.fixture
def repo(tmp_path: Path, namespace: str) -> Repo:
    return Repo(tmp_path / "project", namespace)


def status(
    info: ClusterInfo, repo: Repo, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, dict[str, Any]]]:
    capsys.readouterr()
    code = main(
        ["status", "dev", "-C", str(repo.root), "--kubeconfig", info.kubeconfig, "-o", "json"]
    )
    listed = json.loads(capsys.readouterr().out)["apps"]
    return code, {str(app["app"]): app for app in listed}


def sync(info: ClusterInfo, repo: Repo, *options: str) -> int:
    return main(["sync", "dev", "-C", str(repo.root), "--kubeconfig", info.kubeconfig, *options])


def test_a_pruned_app_leaves_status(
    kube: KubeClient,
    repo: Repo,
    namespace: str,
    local_cluster: ClusterInfo,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for app in ("web", "api"):
        repo.put(app, deployment(app, f"{app}:1"))
        repo.put(app, configmap(f"{app}-settings", mode="fast"))
    repo.commit("web and api")
    assert sync(local_cluster, repo) == 0
    code, apps = status(local_cluster, repo, capsys)
    assert code == 0
    assert sorted(apps) == ["api", "web"]

    shutil.rmtree(repo.root / "generated" / "dev" / "api")
    repo.commit("api retired")
    # Until a sync prunes it, the app is still there and says what is left to do.
    assert sync(local_cluster, repo) == 0
    code, apps = status(local_cluster, repo, capsys)
    assert code == 1
    assert apps["api"]["sync"] != "Synced"
    assert sorted(apps["api"]["differing"]) == [
        f"ConfigMap/{namespace}/api-settings (prune)",
        f"Deployment.apps/{namespace}/api (prune)",
    ]

    assert sync(local_cluster, repo, "--prune") == 0
    with pytest.raises(NotFound):
        wait_deleted(kube, namespace, "Deployment", "api")

    code, apps = status(local_cluster, repo, capsys)
    assert sorted(apps) == ["web"]
    assert code == 0
    # Nor is it named by the next sync, which has nothing of it to do.
    capsys.readouterr()
    assert sync(local_cluster, repo, "--prune") == 0
    assert "api" not in capsys.readouterr().out
