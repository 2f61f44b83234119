"""Rollback, promotion and history against the real control plane, from real git repos."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pygit2
import pytest
import yaml

from hakobu.cluster.client import KubeClient
from hakobu.errors import OperationFailed
from hakobu.localcluster.controlplane import ClusterInfo
from hakobu.model.clusters import Cluster
from hakobu.model.project import load_project
from hakobu.releases import apply_promotion, plan_tier
from hakobu.render.environment import render_environment, write_environment
from hakobu.sync import SyncOptions, read_desired, sync, write_record
from tests.unit.releases.test_rollback import Shop, hakobu

pytestmark = pytest.mark.cluster


def deploy(kube: KubeClient, shop: Shop, env: str = "dev") -> None:
    project = load_project(shop.root)
    environment = project.environment(env)
    desired = read_desired(project, environment, shop.head())
    result = sync(kube, project, environment, desired, options=SyncOptions(timeout=90))
    assert result.succeeded, result
    write_record(kube, environment.namespace, result)


def pod_images(kube: KubeClient, namespace: str) -> set[str]:
    """The images of the web Pods that are not going away, once only one image is left."""
    deadline = time.monotonic() + 60
    while True:
        pods = kube.list("v1", "Pod", namespace).items
        images = {
            pod["spec"]["containers"][0]["image"]
            for pod in pods
            if pod["metadata"]["name"].startswith("web-")
            and not pod["metadata"].get("deletionTimestamp")
        }
        if len(images) == 1 or time.monotonic() > deadline:
            return images
        time.sleep(0.2)


@pytest.fixture
def shop(tmp_path: Path, namespace: str) -> Shop:
    # prod shares the namespace: these tests never deploy it.
    return Shop(tmp_path / "shop", dev=namespace, prod=namespace)


def test_rollback_then_sync_restores_the_previous_pods(
    kube: KubeClient,
    local_cluster: ClusterInfo,
    shop: Shop,
    namespace: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shop.render_and_commit("web 1.27")
    deploy(kube, shop)
    shop.set_image("nginx:1.28")
    shop.render_and_commit("web 1.28")
    deploy(kube, shop)
    assert pod_images(kube, namespace) == {"nginx:1.28"}

    assert hakobu("rollback", "dev", "-C", str(shop.root), "-m", "1.28 is slow") == 0
    deploy(kube, shop)

    assert pod_images(kube, namespace) == {"nginx:1.27"}
    capsys.readouterr()
    kubeconfig = local_cluster.kubeconfig
    assert (
        hakobu("history", "dev", "-C", str(shop.root), "--kubeconfig", kubeconfig, "-o", "json")
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["cluster"] is None
    newest, middle, oldest = report["commits"]
    assert newest["subject"].startswith("rollback dev to")
    assert [s["result"] for s in newest["syncs"]] == ["Succeeded"]
    assert newest["health"] == "Healthy"
    assert [s["result"] for s in middle["syncs"]] == ["Succeeded"]
    assert middle["health"] is None and oldest["subject"] == "web 1.27"
    assert report["other_syncs"] == []

    # Rendered but not committed: a sync of the work tree has no revision to be listed under.
    shop.set_image("nginx:1.29")
    project = load_project(shop.root)
    dev = project.environment("dev")
    desired, rendered = render_environment(project, dev)
    write_environment(project, dev, desired, rendered)
    worktree = sync(kube, project, dev, read_desired(project, dev), options=SyncOptions(timeout=90))
    write_record(kube, namespace, worktree)
    assert hakobu("history", "dev", "-C", str(shop.root), "--kubeconfig", kubeconfig) == 0
    out = capsys.readouterr().out
    assert "syncs of revisions not listed above:" in out and "worktree  Succeeded" in out


def test_promotion_waits_for_a_healthy_source(
    kube: KubeClient,
    local_cluster: ClusterInfo,
    shop: Shop,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shop.write(
        "apps/web.yaml",
        shop.read("apps/web.yaml").replace(
            "environments:\n", "environments:\n  dev: {image: 'nginx:1.28'}\n"
        ),
    )
    before = shop.render_and_commit("dev runs 1.28")
    root, kubeconfig = str(shop.root), local_cluster.kubeconfig

    assert hakobu("promote", "dev", "prod", "-C", root, "--kubeconfig", kubeconfig) == 1
    out = capsys.readouterr().out
    assert "dev is not Synced and Healthy" in out and "web: OutOfSync" in out
    assert shop.head() == before

    deploy(kube, shop)
    assert hakobu("promote", "dev", "prod", "-C", root, "--kubeconfig", kubeconfig) == 0

    assert shop.git("rev-parse", "HEAD~1") == before
    assert "image: nginx:1.28" in shop.read("generated/prod/web/deployment-web.yaml")
    assert "replicas: 2" in shop.read("generated/prod/web/deployment-web.yaml")


def test_promotion_moves_exactly_the_declared_values(
    kube: KubeClient, local_cluster: ClusterInfo, shop: Shop
) -> None:
    web = shop.read("apps/web.yaml").replace(
        "environments:\n",
        "env: {LOG: info, FEATURE: 'off'}\npromote: [image, env.FEATURE]\nenvironments:\n"
        "  dev:\n    image: nginx:1.28\n    env: {FEATURE: 'on'}\n    replicas: 3\n",
    )
    shop.write("apps/web.yaml", web)
    before = shop.render_and_commit("dev runs 1.28 with FEATURE on, and 3 replicas")
    deploy(kube, shop)

    root, kubeconfig = str(shop.root), local_cluster.kubeconfig
    assert hakobu("promote", "dev", "prod", "-C", root, "--kubeconfig", kubeconfig) == 0

    assert shop.git("rev-parse", "HEAD~1") == before
    dev, prod = (
        yaml.safe_load(shop.read(f"generated/{env}/web/deployment-web.yaml"))
        for env in ("dev", "prod")
    )
    dev_container, prod_container = (
        d["spec"]["template"]["spec"]["containers"][0] for d in (dev, prod)
    )
    assert prod_container["image"] == dev_container["image"] == "nginx:1.28"
    assert prod_container["env"] == dev_container["env"]
    assert {"name": "FEATURE", "value": "on"} in prod_container["env"]
    # replicas is not declared promotable: prod keeps its own.
    assert (dev["spec"]["replicas"], prod["spec"]["replicas"]) == (3, 2)
    changed = shop.git("show", "--name-only", "--format=", "HEAD").splitlines()
    assert "apps/web.yaml" in changed
    assert all(p == "apps/web.yaml" or p.startswith("generated/prod/") for p in changed)
    assert not shop.stale("prod") and not shop.stale("dev")


def test_a_tier_branch_advances_only_by_promotion(
    kube: KubeClient, local_cluster: ClusterInfo, shop: Shop, tmp_path: Path
) -> None:
    first = shop.render_and_commit("web 1.27")
    shop.git("branch", "tier-1")
    remote = tmp_path / "remote.git"
    pygit2.init_repository(str(remote), bare=True)
    shop.git("remote", "add", "origin", str(remote))
    shop.git("push", "-q", "origin", "main", "tier-1")
    shop.set_image("nginx:1.28")
    tested = shop.render_and_commit("web 1.28")
    project = load_project(shop.root)
    repo = pygit2.Repository(str(shop.root))
    tiers = {"dev": "main", "prod": "tier-1"}

    def connect(cluster: Cluster | None) -> KubeClient:
        assert cluster is None
        return KubeClient.from_kubeconfig(Path(local_cluster.kubeconfig))

    def promote() -> str:
        plan = plan_tier(
            repo,
            project=project,
            source=project.environment("dev"),
            target=project.environment("prod"),
            tiers=tiers,
            push_to="origin",
        )
        result = apply_promotion(project, plan, connect=connect)
        assert result.advance is not None
        return result.advance.how

    with pytest.raises(OperationFailed, match="not Synced and Healthy"):
        promote()
    assert shop.git("rev-parse", "tier-1") == first

    deploy(kube, shop)
    assert promote() == "fast-forward"

    assert shop.git("rev-parse", "tier-1") == tested
    assert shop.git("--git-dir", str(remote), "rev-parse", "tier-1") == tested
    assert shop.head() == tested
    assert promote() == "up-to-date"
