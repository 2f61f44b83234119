"""Canary rollouts driven by ``hakobu controller`` on the real control plane: kwok runs the
Pods, a real Prometheus scrapes an exporter the test sets, the project lives in a bare git
remote.

The controller advances the rollout after its passes; bad metrics abort it and, with
``autoRollback``, the controller commits the revert; a controller killed with ``kill -9``
mid-pause resumes at the same step; a new commit during a rollout replaces the canary and
restarts the steps from the same stable version. A blue-green rollout is driven too, and
its abort reverted in the same way.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from hakobu.cli.main import main
from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import NotFound
from hakobu.localcluster.controlplane import ClusterInfo
from hakobu.releases.canary.engine import RolloutState
from tests.integration.controllerkit import (
    Controller,
    create_delivery,
    install_rbac,
    push_body,
    start_controller,
    status,
    wait_until,
)
from tests.integration.prometheuskit import Exporter, Prometheus, prometheus_scraping

pytestmark = pytest.mark.cluster

QUERY = "canary_success_ratio and (time() - timestamp(canary_success_ratio) < 2)"
ANALYSIS = {
    "query": QUERY,
    "successCondition": "result[0] >= 0.95",
    "failureCondition": "result[0] < 0.8",
}


class Metric:
    """The exporter's value, as Prometheus answers it, and where Prometheus is."""

    def __init__(self, exporter: Exporter, prometheus: Prometheus) -> None:
        self.exporter, self.address = exporter, prometheus.address
        self._prometheus = prometheus

    def set(self, value: float) -> None:
        self.exporter.value = value
        wait_until(f"Prometheus answers {value}", lambda: self._prometheus.has(QUERY, value), 30)


@pytest.fixture
def metric(tmp_path: Path) -> Iterator[Metric]:
    exporter = Exporter()
    directory = tmp_path / "prometheus"
    directory.mkdir()
    with prometheus_scraping(exporter, directory) as prometheus:
        yield Metric(exporter, prometheus)


class Shop:
    """A bare remote and a clone of it where app specs are rendered, committed, pushed."""

    def __init__(self, root: Path, namespace: str, environment: dict[str, Any]) -> None:
        self.bare, self.work = root / "remote.git", root / "work"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(self.bare)], check=True)
        self.work.mkdir()
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "ci@example.com")
        self.git("config", "user.name", "CI")
        self.git("remote", "add", "origin", str(self.bare))
        project = {
            "apiVersion": "hakobu.dev/v1alpha1",
            "kind": "Project",
            "name": f"shop-{namespace[-6:]}",
            "apps": "apps",
            "output": "generated",
            "environments": {"production": {"namespace": namespace, **environment}},
        }
        (self.work / "hakobu.yaml").write_text(yaml.safe_dump(project))
        (self.work / "apps").mkdir()

    def git(self, *args: str, cwd: Path | None = None) -> str:
        return subprocess.run(
            ["git", "-C", str(cwd or self.work), *args], check=True, capture_output=True, text=True
        ).stdout.strip()

    def release(
        self, tag: str, steps: list[dict[str, Any]], rollout: dict[str, Any] | None = None
    ) -> str:
        """Render, commit and push ``tag`` with a canary of ``steps``, or ``rollout``."""
        spec = {
            "name": "web",
            "image": f"example.test/shop/web:{tag}",
            "replicas": 10,
            "ports": [{"name": "http", "port": 80, "targetPort": 8080}],
            "probes": {"readiness": False, "liveness": False},
            "rollout": rollout or {"canary": {"steps": steps}},
        }
        (self.work / "apps" / "web.yaml").write_text(yaml.safe_dump(spec))
        assert main(["render", "-C", str(self.work)]) == 0
        self.git("add", "-A")
        self.git("commit", "-qm", f"web {tag}")
        self.git("push", "-q", "origin", "main")
        return self.git("rev-parse", "HEAD")

    def remote_head(self) -> tuple[str, str]:
        """The remote branch's newest commit and its subject."""
        line = self.git("log", "-1", "--format=%H %s", "main", cwd=self.bare)
        revision, subject = line.split(" ", 1)
        return revision, subject

    def remote_file(self, path: str) -> str:
        return self.git("show", f"main:{path}", cwd=self.bare)


class Cluster:
    """What the test reads of the app and its Delivery."""

    def __init__(self, kube: KubeClient, namespace: str) -> None:
        self.kube, self.namespace = kube, namespace

    def deployment(self, name: str = "web") -> dict[str, Any] | None:
        try:
            return self.kube.get("apps/v1", "Deployment", name, self.namespace)
        except NotFound:
            return None

    def image(self, name: str = "web") -> str | None:
        found = self.deployment(name)
        if found is None:
            return None
        return str(found["spec"]["template"]["spec"]["containers"][0]["image"])

    def replicas(self) -> tuple[int, int]:
        """(stable, canary) replicas as the Deployments declare them."""
        stable, canary = self.deployment(), self.deployment("web-canary")
        return (
            (stable or {}).get("spec", {}).get("replicas", 0),
            (canary or {}).get("spec", {}).get("replicas", 0),
        )

    def state(self) -> RolloutState | None:
        found = self.deployment()
        text = ((found or {}).get("metadata", {}).get("annotations") or {}).get(
            "hakobu.dev/rollout-state"
        )
        return RolloutState.from_json(text) if text else None

    def at(self, step: int, phase: str) -> RolloutState | None:
        state = self.state()
        return state if state is not None and (state.step, state.phase) == (step, phase) else None

    def events(self) -> list[tuple[str, str]]:
        return [
            (e.get("reason", ""), e.get("message", ""))
            for e in self.kube.list("v1", "Event", self.namespace).items
            if e.get("involvedObject", {}).get("kind") == "Delivery"
        ]


@pytest.fixture
def cluster(kube: KubeClient, namespace: str) -> Cluster:
    return Cluster(kube, namespace)


@pytest.fixture
def identity(local_cluster: ClusterInfo, kube: KubeClient, tmp_path: Path) -> Path:
    return install_rbac(kube, Path(local_cluster.kubeconfig), tmp_path / "serviceaccount")


@pytest.fixture
def controller(local_cluster: ClusterInfo, identity: Path, tmp_path: Path) -> Iterator[Controller]:
    running = start_controller(local_cluster.server, identity, tmp_path / "controller")
    yield running
    running.stop()


def deliver(kube: KubeClient, shop: Shop, cluster: Cluster, revision: str) -> None:
    """The Delivery of production, at ``revision`` (1.0, the first version: no rollout)."""
    create_delivery(
        kube,
        cluster.namespace,
        "shop",
        repository={"url": str(shop.bare)},
        environment="production",
    )
    wait_until(
        "1.0 applied",
        lambda: status(kube, cluster.namespace, "shop").get("lastAppliedRevision") == revision,
    )
    assert cluster.image() == "example.test/shop/web:1.0"
    assert cluster.replicas() == (10, 0)


def app_sync(local_cluster: ClusterInfo, shop: Shop, capsys: pytest.CaptureFixture[str]) -> str:
    """The app's sync state as ``hakobu status`` reads it now, against the work tree (the
    commit the remote has)."""
    capsys.readouterr()
    words = ["status", "production", "-C", str(shop.work), "-o", "json"]
    main([*words, "--kubeconfig", local_cluster.kubeconfig])
    apps: list[dict[str, Any]] = json.loads(capsys.readouterr().out)["apps"]
    return str(next(app["sync"] for app in apps if app["app"] == "web"))


def push(controller: Controller, shop: Shop, revision: str) -> None:
    answer = controller.hook("github", push_body(str(shop.bare), revision))
    assert answer.status_code == 202, answer.text


def test_bad_metrics_abort_and_the_controller_commits_the_revert(
    controller: Controller,
    cluster: Cluster,
    tmp_path: Path,
    metric: Metric,
) -> None:
    kube, namespace = cluster.kube, cluster.namespace
    shop = Shop(tmp_path / "shop", namespace, {"autoRollback": {"window": 600}})
    steps: list[dict[str, Any]] = [
        {"setWeight": 41},
        {"analysis": {"address": metric.address, **ANALYSIS}},
        {"setWeight": 70},
        {"pause": {}},
    ]
    deliver(kube, shop, cluster, shop.release("1.0", steps))

    metric.set(0.5)
    bad = shop.release("1.1", steps)
    push(controller, shop, bad)
    # setWeight 41 of 10: a canary of 5 runs 1.1 beside the stable 1.0.
    canary = wait_until("the canary runs", lambda: cluster.deployment("web-canary"))
    assert canary["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":1.1")
    assert canary["spec"]["replicas"] == 5
    assert cluster.image() == "example.test/shop/web:1.0"

    # The analysis fails: the canary goes, the stable version takes every replica back.
    aborted = wait_until("aborted", lambda: cluster.at(1, "Degraded"))
    assert aborted.message == "aborted: [0.5] meets failureCondition 'result[0] < 0.8'"
    wait_until("the canary is gone", lambda: cluster.deployment("web-canary") is None)
    assert cluster.replicas() == (10, 0)
    assert cluster.image() == "example.test/shop/web:1.0"

    # autoRollback: the revert is a commit on the remote, of the app's output and inputs.
    revert, subject = wait_until(
        "the revert is pushed",
        lambda: (head := shop.remote_head())[0] != bad and head,
    )
    assert subject.startswith("rollback production/web to "), subject
    assert "example.test/shop/web:1.0" in shop.remote_file("apps/web.yaml")
    assert "example.test/shop/web:1.1" not in shop.remote_file(
        "generated/production/web/deployment-web.yaml"
    )
    body = shop.git("log", "-1", "--format=%B", "main", cwd=shop.bare)
    assert "reverted the canary" in body and "meets failureCondition" in body

    # The next sync applies the revert: git describes what runs, and no rollout starts.
    wait_until(
        "the revert is applied",
        lambda: status(kube, namespace, "shop").get("lastAppliedRevision") == revert,
    )
    wait_until(
        "web is Healthy",
        lambda: (
            status(kube, namespace, "shop").get("apps")
            == [{"name": "web", "sync": "Synced", "health": "Healthy"}]
        ),
    )
    stable = cluster.deployment()
    assert stable is not None
    assert "hakobu.dev/canary-pending" not in stable["metadata"]["annotations"]
    assert cluster.replicas() == (10, 0)
    assert cluster.image() == "example.test/shop/web:1.0"
    reasons = [reason for reason, _ in cluster.events()]
    assert "RolloutAborted" in reasons and "RollbackCommitted" in reasons


def test_a_blue_green_abort_is_driven_and_reverted_by_the_controller(
    controller: Controller,
    cluster: Cluster,
    tmp_path: Path,
    metric: Metric,
) -> None:
    kube, namespace = cluster.kube, cluster.namespace
    shop = Shop(tmp_path / "shop", namespace, {"autoRollback": {"window": 600}})
    declared = {
        "blueGreen": {
            "previewReplicaCount": 2,
            "prePromotionAnalysis": {"address": metric.address, **ANALYSIS},
        }
    }
    deliver(kube, shop, cluster, shop.release("1.0", [], declared))

    metric.set(0.5)
    bad = shop.release("1.1", [], declared)
    push(controller, shop, bad)
    preview = wait_until("the preview runs", lambda: cluster.deployment("web-preview"))
    assert preview["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":1.1")
    aborted = wait_until("aborted", lambda: cluster.at(1, "Degraded"))
    assert aborted.message == "aborted: [0.5] meets failureCondition 'result[0] < 0.8'"
    wait_until("the preview is gone", lambda: cluster.deployment("web-preview") is None)
    assert cluster.image() == "example.test/shop/web:1.0"

    # The revert finds 1.0 by the digest the sync recorded (revision label included).
    revert, subject = wait_until(
        "the revert is pushed",
        lambda: (head := shop.remote_head())[0] != bad and head,
    )
    assert subject.startswith("rollback production/web to "), subject
    assert "example.test/shop/web:1.0" in shop.remote_file("apps/web.yaml")
    body = shop.git("log", "-1", "--format=%B", "main", cwd=shop.bare)
    assert "reverted the blue-green rollout" in body
    wait_until(
        "web is Synced and Healthy on the revert",
        lambda: (
            status(kube, namespace, "shop").get("lastAppliedRevision") == revert
            and status(kube, namespace, "shop").get("apps")
            == [{"name": "web", "sync": "Synced", "health": "Healthy"}]
        ),
    )
    stable = cluster.deployment()
    assert stable is not None
    assert "hakobu.dev/canary-pending" not in stable["metadata"]["annotations"]
    assert cluster.image() == "example.test/shop/web:1.0"
    reasons = [reason for reason, _ in cluster.events()]
    assert "RolloutAborted" in reasons and "RollbackCommitted" in reasons


def test_a_blue_green_promotion_by_the_controller_leaves_the_app_synced(
    controller: Controller,
    cluster: Cluster,
    tmp_path: Path,
    local_cluster: ClusterInfo,
    capsys: pytest.CaptureFixture[str],
) -> None:
    kube = cluster.kube
    shop = Shop(tmp_path / "shop", cluster.namespace, {})
    declared = {"blueGreen": {"previewReplicaCount": 2, "scaleDownDelaySeconds": 1}}
    deliver(kube, shop, cluster, shop.release("1.0", [], declared))

    push(controller, shop, shop.release("1.1", [], declared))
    wait_until(
        "1.1 promoted",
        lambda: (
            (s := cluster.state()) is not None
            and s.phase == "Healthy"
            and cluster.image() == "example.test/shop/web:1.1"
        ),
        seconds=90,
    )
    assert app_sync(local_cluster, shop, capsys) == "Synced"
    stable = cluster.deployment()
    assert stable is not None
    assert "hakobu.dev/canary-pending" not in stable["metadata"]["annotations"]
    wait_until("the preview is gone", lambda: cluster.deployment("web-preview") is None)


def test_a_controller_killed_mid_pause_resumes_at_the_same_step(
    *,
    local_cluster: ClusterInfo,
    identity: Path,
    cluster: Cluster,
    tmp_path: Path,
    metric: Metric,
    capsys: pytest.CaptureFixture[str],
) -> None:
    kube = cluster.kube
    shop = Shop(tmp_path / "shop", cluster.namespace, {})
    steps: list[dict[str, Any]] = [
        {"setWeight": 41},
        {"pause": {"duration": "45s"}},
        {"setWeight": 70},
        {"analysis": {"address": metric.address, "interval": "2s", "count": 2, **ANALYSIS}},
    ]
    metric.set(0.99)
    first = start_controller(local_cluster.server, identity, tmp_path / "first")
    try:
        deliver(kube, shop, cluster, shop.release("1.0", steps))
        push(first, shop, shop.release("1.1", steps))
        paused = wait_until("paused at step 2", lambda: cluster.at(1, "Paused"), seconds=90)
        wait_until("5 canary, 6 stable", lambda: cluster.replicas() == (6, 5))
    finally:
        first.kill()

    # Another replica takes the shard over once the killed one's Lease runs out, reads the
    # state from the Deployment, and goes on with the same pause (not a new one).
    second = start_controller(local_cluster.server, identity, tmp_path / "second")
    try:
        resumed = wait_until(
            "the pause is over",
            lambda: (s := cluster.state()) is not None and s.step >= 2 and s,
            seconds=120,
        )
        assert resumed.hash == paused.hash
        # The pause ran from when the first replica started it: 45 s in all, not 45 s more
        # after the takeover.
        assert paused.step_started is not None and resumed.step_started is not None
        assert 45 <= resumed.step_started - paused.step_started < 60
        done = wait_until("promoted", lambda: cluster.at(4, "Healthy"), seconds=90)
        assert done.message == "promoted"
        # Promoted as the sync applies it: Synced at once, not Drifted until a sync.
        assert app_sync(local_cluster, shop, capsys) == "Synced"
        wait_until("the canary is gone", lambda: cluster.deployment("web-canary") is None)
        assert cluster.replicas() == (10, 0)
        assert cluster.image() == "example.test/shop/web:1.1"
        log = second.log.read_text()
        assert "canary of app web promoted" in log
    finally:
        second.stop()
    reasons = [reason for reason, _ in cluster.events()]
    assert "RolloutPromoted" in reasons


def test_a_new_commit_replaces_the_canary_and_restarts_the_steps(
    controller: Controller,
    cluster: Cluster,
    tmp_path: Path,
    local_cluster: ClusterInfo,
) -> None:
    kube = cluster.kube
    shop = Shop(tmp_path / "shop", cluster.namespace, {})
    steps: list[dict[str, Any]] = [
        {"setWeight": 41},
        {"pause": {}},
        {"setWeight": 70},
        {"pause": {}},
    ]
    deliver(kube, shop, cluster, shop.release("1.0", steps))

    push(controller, shop, shop.release("1.1", steps))
    wait_until(
        "1.1 paused at 41%", lambda: cluster.replicas() == (6, 5) and cluster.at(1, "Paused")
    )
    assert cluster.image("web-canary") == "example.test/shop/web:1.1"
    promote = [
        "rollout", "promote", "production", "web", "-C", str(shop.work),
        "--kubeconfig", local_cluster.kubeconfig,
    ]  # fmt: skip
    # Promoted by hand: the controller sees the request on the Deployment and goes on.
    assert main(promote) == 0
    first = wait_until("1.1 paused at step 4", lambda: cluster.at(3, "Paused"))
    assert cluster.replicas() == (3, 7)

    # 1.2 arrives while 1.1 is at 70%: it replaces the canary, the steps start again from
    # the first, and the stable version (1.0) takes its replicas back at once.
    push(controller, shop, shop.release("1.2", steps))
    second = wait_until(
        "1.2 paused at step 2",
        lambda: (s := cluster.at(1, "Paused")) is not None and s.hash != first.hash and s,
    )
    assert cluster.image("web-canary") == "example.test/shop/web:1.2"
    assert cluster.image() == "example.test/shop/web:1.0"
    wait_until("5 canary, 6 stable", lambda: cluster.replicas() == (6, 5))
    # The Delivery: git's version is applied (held for the rollout), which waits for a person.
    suspended = wait_until(
        "web Synced and Suspended",
        lambda: [
            app
            for app in status(kube, cluster.namespace, "shop").get("apps") or []
            if (app["name"], app["sync"], app["health"]) == ("web", "Synced", "Suspended")
        ],
    )
    assert suspended[0]["message"].endswith("web canary step 2/4 Paused")

    assert main(promote) == 0
    wait_until("1.2 paused at step 4", lambda: cluster.at(3, "Paused"))
    assert main(promote) == 0
    done = wait_until("promoted", lambda: cluster.at(4, "Healthy"))
    assert done.hash == second.hash
    wait_until("the canary is gone", lambda: cluster.deployment("web-canary") is None)
    assert cluster.replicas() == (10, 0)
    assert cluster.image() == "example.test/shop/web:1.2"
