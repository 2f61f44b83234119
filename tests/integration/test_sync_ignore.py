"""ignoreDifferences against the real API server: replicas that `kubectl scale` (or an
autoscaler) set through the scale subresource are neither drift nor taken back, by a
JSON pointer or by the manager that owns them, while the rest of git is applied."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hakobu.cluster.client import KubeClient
from hakobu.localcluster.controlplane import ClusterInfo
from tests.integration.test_sync import Repo, cli, deployment, live
from tests.integration.test_sync_policy import scale_web

pytestmark = pytest.mark.cluster


@pytest.fixture(
    params=[
        {"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]},
        {"group": "apps", "kind": "Deployment", "name": "web",
         "managedFieldsManagers": ["kubectl-scale"]},
    ],
    ids=["pointer", "manager"],
)  # fmt: skip
def repo(request: pytest.FixtureRequest, tmp_path: Path, namespace: str) -> Repo:
    """A project whose environment dev ignores the rule's fields."""
    made = Repo(tmp_path / "project", namespace)
    project = yaml.safe_load((made.root / "hakobu.yaml").read_text())
    project["environments"]["dev"]["ignoreDifferences"] = [request.param]
    (made.root / "hakobu.yaml").write_text(yaml.safe_dump(project))
    return made


def test_replicas_scaled_by_another_stay_while_git_applies_the_rest(
    kube: KubeClient,
    repo: Repo,
    namespace: str,
    local_cluster: ClusterInfo,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo.put("web", deployment("web", "nginx:1.27"))
    repo.commit("web")
    assert cli(local_cluster, repo, "sync") == 0
    assert live(kube, namespace, "Deployment", "web")["spec"]["replicas"] == 2
    scale_web(kube, namespace, 3)
    capsys.readouterr()
    cli(local_cluster, repo, "status")
    assert "web: Synced" in capsys.readouterr().out

    repo.put("web", deployment("web", "nginx:1.28"))
    repo.commit("new image")
    assert cli(local_cluster, repo, "sync", "--force-conflicts") == 0
    web = live(kube, namespace, "Deployment", "web")
    assert web["spec"]["replicas"] == 3
    assert web["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"
    capsys.readouterr()
    assert cli(local_cluster, repo, "diff") == 0, capsys.readouterr().out
