"""Apply policies and recreating what the server refuses as immutable, on the real control
plane: its own validation decides what is immutable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import NotFound
from hakobu.localcluster.controlplane import ClusterInfo
from tests.integration.test_sync import Repo, cli, configmap, deployment, live, service

pytestmark = pytest.mark.cluster

RECREATE = {"hakobu.dev/recreate": "true"}


@pytest.fixture
def repo(tmp_path: Path, namespace: str) -> Repo:
    return Repo(tmp_path / "project", namespace)


def job(name: str, image: str, **annotations: str) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "annotations": annotations},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "main", "image": image}],
                },
            },
        },
    }


def annotated(obj: dict[str, Any], **annotations: str) -> dict[str, Any]:
    obj["metadata"].setdefault("annotations", {}).update(annotations)
    return obj


def scale_web(kube: KubeClient, namespace: str, replicas: int) -> None:
    """What `kubectl scale` (or an autoscaler) does to Deployment web: the scale
    subresource, as field manager kubectl-scale."""
    kube.request(
        "PATCH",
        f"/apis/apps/v1/namespaces/{namespace}/deployments/web/scale",
        params={"fieldManager": "kubectl-scale"},
        body={"spec": {"replicas": replicas}},
        content_type="application/merge-patch+json",
    )


def uid(kube: KubeClient, namespace: str, kind: str, name: str) -> str:
    return str(live(kube, namespace, kind, name)["metadata"]["uid"])


def test_a_jobs_new_template_fails_without_opt_in_and_is_recreated_with_it(
    kube: KubeClient,
    repo: Repo,
    namespace: str,
    local_cluster: ClusterInfo,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo.put("tasks", job("seed", "busybox:1.36"))
    repo.commit("seed job")
    assert cli(local_cluster, repo, "sync") == 0
    first = uid(kube, namespace, "Job", "seed")
    capsys.readouterr()

    repo.put("tasks", job("seed", "busybox:1.37"))
    repo.commit("new image")
    assert cli(local_cluster, repo, "diff") == 1
    shown = capsys.readouterr().out
    assert "field is immutable" in shown and 'hakobu.dev/recreate: "true"' in shown
    assert cli(local_cluster, repo, "sync") == 1
    refused = capsys.readouterr().out
    assert "field is immutable" in refused and 'hakobu.dev/recreate: "true"' in refused
    assert uid(kube, namespace, "Job", "seed") == first

    repo.put("tasks", job("seed", "busybox:1.37", **RECREATE))
    repo.commit("allow recreating it")
    assert cli(local_cluster, repo, "diff") == 1
    shown = capsys.readouterr().out
    assert f"recreate Job/{namespace}/seed" in shown and "image: busybox:1.37" in shown
    assert cli(local_cluster, repo, "sync", "--dry-run") == 0
    assert "1 recreated" in capsys.readouterr().out
    assert uid(kube, namespace, "Job", "seed") == first

    assert cli(local_cluster, repo, "sync") == 0
    out = capsys.readouterr().out
    assert "1 recreated" in out and f"Job/{namespace}/seed recreated" in out
    seed = live(kube, namespace, "Job", "seed")
    assert seed["metadata"]["uid"] != first
    assert seed["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:1.37"
    assert cli(local_cluster, repo, "status") == 0


def test_a_deployments_new_selector_is_recreated_but_an_invalid_manifest_never(
    kube: KubeClient,
    repo: Repo,
    namespace: str,
    local_cluster: ClusterInfo,
    capsys: pytest.CaptureFixture[str],
) -> None:
    web = deployment("web", "nginx:1.27", **RECREATE)
    repo.put("web", web)
    repo.commit("web")
    assert cli(local_cluster, repo, "sync") == 0
    first = uid(kube, namespace, "Deployment", "web")

    # A value the server refuses however the object came to be: nothing is deleted.
    broken = deployment("web", "nginx:1.27", **RECREATE)
    broken["spec"]["replicas"] = -1
    repo.put("web", broken)
    repo.commit("broken")
    capsys.readouterr()
    assert cli(local_cluster, repo, "sync") == 1
    out = capsys.readouterr().out
    assert "spec.replicas" in out and "recreated" not in out
    assert uid(kube, namespace, "Deployment", "web") == first

    moved = deployment("web", "nginx:1.27", **RECREATE)
    moved["spec"]["selector"]["matchLabels"]["tier"] = "front"
    moved["spec"]["template"]["metadata"]["labels"]["tier"] = "front"
    repo.put("web", moved)
    repo.commit("new selector")
    assert cli(local_cluster, repo, "sync") == 0
    assert f"Deployment/{namespace}/web recreated" in capsys.readouterr().out
    now = live(kube, namespace, "Deployment", "web")
    assert now["metadata"]["uid"] != first
    assert now["spec"]["selector"]["matchLabels"] == {"app": "web", "tier": "front"}
    assert now["status"].get("availableReplicas") == 2


def test_if_not_present_leaves_a_hand_edited_object_alone(
    kube: KubeClient,
    repo: Repo,
    namespace: str,
    local_cluster: ClusterInfo,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo.put("web", annotated(configmap("tuning", level="1"), **{"hakobu.dev/ssa": "IfNotPresent"}))
    repo.commit("tuning")
    assert cli(local_cluster, repo, "sync") == 0
    kube.request(
        "PATCH",
        f"/api/v1/namespaces/{namespace}/configmaps/tuning",
        params={"fieldManager": "kubectl-edit"},
        body={"data": {"level": "9"}},
        content_type="application/strategic-merge-patch+json",
    )
    repo.put("web", annotated(configmap("tuning", level="2"), **{"hakobu.dev/ssa": "IfNotPresent"}))
    repo.commit("git changes it too")

    assert cli(local_cluster, repo, "diff") == 0
    assert cli(local_cluster, repo, "sync") == 0
    assert live(kube, namespace, "ConfigMap", "tuning")["data"] == {"level": "9"}
    capsys.readouterr()
    assert cli(local_cluster, repo, "status") == 0
    assert "web: Synced" in capsys.readouterr().out


def test_ignore_is_neither_applied_nor_pruned(
    kube: KubeClient, repo: Repo, namespace: str, local_cluster: ClusterInfo
) -> None:
    repo.put("web", configmap("kept", v="1"))
    repo.put("web", annotated(configmap("elsewhere", v="1"), **{"hakobu.dev/ssa": "Ignore"}))
    repo.commit("one ignored")
    assert cli(local_cluster, repo, "sync") == 0
    with pytest.raises(NotFound):
        live(kube, namespace, "ConfigMap", "elsewhere")

    # Applied once, then handed over: git's next change is not applied, and removing it
    # from git does not delete it.
    repo.put("web", configmap("handed-over", v="1"))
    repo.commit("handed-over")
    assert cli(local_cluster, repo, "sync") == 0
    repo.put("web", annotated(configmap("handed-over", v="2"), **{"hakobu.dev/ssa": "Ignore"}))
    repo.commit("ignore it")
    assert cli(local_cluster, repo, "sync", "--prune") == 0
    assert live(kube, namespace, "ConfigMap", "handed-over")["data"] == {"v": "1"}
    repo.remove("web", "ConfigMap", "handed-over")
    repo.commit("gone from git")
    assert cli(local_cluster, repo, "sync", "--prune") == 0
    assert live(kube, namespace, "ConfigMap", "handed-over")["data"] == {"v": "1"}
    assert cli(local_cluster, repo, "status") == 0


def test_merge_leaves_replicas_to_whoever_scaled_and_applies_the_rest(
    kube: KubeClient,
    repo: Repo,
    namespace: str,
    local_cluster: ClusterInfo,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo.put("web", deployment("web", "nginx:1.27", **{"hakobu.dev/ssa": "Merge"}))
    repo.commit("web")
    assert cli(local_cluster, repo, "sync") == 0
    scale_web(kube, namespace, 3)
    capsys.readouterr()
    # Synced (not Drifted), though maybe still Progressing towards 3 replicas.
    cli(local_cluster, repo, "status")
    assert "web: Synced" in capsys.readouterr().out

    repo.put("web", deployment("web", "nginx:1.28", **{"hakobu.dev/ssa": "Merge"}))
    repo.commit("new image")
    assert cli(local_cluster, repo, "sync") == 0
    web = live(kube, namespace, "Deployment", "web")
    assert web["spec"]["replicas"] == 3
    assert web["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"
    assert cli(local_cluster, repo, "diff") == 0


def test_a_service_made_headless_is_recreated(
    kube: KubeClient,
    repo: Repo,
    namespace: str,
    local_cluster: ClusterInfo,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo.put("web", annotated(service("web"), **RECREATE))
    repo.commit("web")
    assert cli(local_cluster, repo, "sync") == 0
    assigned = live(kube, namespace, "Service", "web")["spec"]["clusterIP"]
    assert assigned != "None"

    # The server says "may not change once set", not "immutable": it is the create dry
    # run that tells such a change from a wrong manifest.
    headless = annotated(service("web"), **RECREATE)
    headless["spec"]["clusterIP"] = "None"
    repo.put("web", headless)
    repo.commit("headless")
    capsys.readouterr()
    assert cli(local_cluster, repo, "diff") == 1
    assert f"recreate Service/{namespace}/web" in capsys.readouterr().out
    assert cli(local_cluster, repo, "sync") == 0
    assert live(kube, namespace, "Service", "web")["spec"]["clusterIP"] == "None"
    assert cli(local_cluster, repo, "diff") == 0
