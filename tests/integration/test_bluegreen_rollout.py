"""A blue-green rollout on the real control plane: kwok runs the Pods, a real Prometheus
judges the preview.

At every pass the Services' selectors are checked against the pods they select: the app's
(active) Service selects only the running version until the switch, the preview Service
only the new one; an abort puts both back on the running version.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from hakobu.cli.main import main
from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import NotFound
from hakobu.localcluster.controlplane import ClusterInfo
from hakobu.model.canary import PENDING_ANNOTATION
from hakobu.model.rollout import REVISION_LABEL
from hakobu.releases.canary.bluegreen import BlueGreenRollout
from hakobu.releases.canary.prometheus import measure
from hakobu.releases.canary.strategy import advance, status
from tests.integration.controllerkit import wait_until
from tests.integration.prometheuskit import Exporter, Prometheus, prometheus_scraping

QUERY = "canary_success_ratio and (time() - timestamp(canary_success_ratio) < 2)"
OLD, NEW = "example.test/shop/web:1.0", "example.test/shop/web:1.1"


@pytest.fixture
def exporter() -> Exporter:
    return Exporter()


@pytest.fixture
def prometheus(exporter: Exporter, tmp_path: Path) -> Iterator[Prometheus]:
    directory = tmp_path / "prometheus"
    directory.mkdir()
    with prometheus_scraping(exporter, directory) as prometheus:
        yield prometheus


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(root), "-c", "user.email=ci@example.test", "-c", "user.name=CI", *args],
        check=True,
        capture_output=True,
    )


def image(obj: dict[str, Any]) -> str:
    spec = obj["spec"]
    pod = spec["template"]["spec"] if "template" in spec else spec
    return str(pod["containers"][0]["image"])


def spec(tag: str, blue_green: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "web",
        "image": f"example.test/shop/web:{tag}",
        "replicas": 4,
        "ports": [{"name": "http", "port": 80, "targetPort": 8080}],
        "probes": {"readiness": False, "liveness": False},
        "rollout": {"blueGreen": blue_green},
    }


def analysis(address: str, failure: bool = True) -> dict[str, Any]:
    declared = {"address": address, "query": QUERY, "successCondition": "result[0] >= 0.95"}
    return {**declared, "failureCondition": "result[0] < 0.8"} if failure else declared


# What the tests declare, for the schema coverage test (test_appspec_cluster) as well.
MANUAL = {"autoPromotionEnabled": False, "previewReplicaCount": 2, "scaleDownDelaySeconds": 5}


def automatic(address: str) -> dict[str, Any]:
    return {
        "activeService": "web",
        "previewService": "web-next",
        "autoPromotionSeconds": 3,
        "scaleDownDelaySeconds": 2,
        "prePromotionAnalysis": analysis(address),
    }


def post_promotion(address: str) -> dict[str, Any]:
    return {"postPromotionAnalysis": analysis(address, failure=False)}


class Shop:
    def __init__(self, root: Path, namespace: str, kubeconfig: str) -> None:
        self.root, self.namespace, self.kubeconfig = root, namespace, kubeconfig
        root.mkdir()
        (root / "hakobu.yaml").write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "hakobu.dev/v1alpha1",
                    "kind": "Project",
                    "name": f"shop-{namespace[-6:]}",
                    "apps": "apps",
                    "output": "generated",
                    "environments": {"production": {"namespace": namespace}},
                }
            )
        )
        (root / "apps").mkdir()
        git(root, "init", "-q", "-b", "main")

    def release(self, tag: str, blue_green: dict[str, Any]) -> None:
        (self.root / "apps" / "web.yaml").write_text(yaml.safe_dump(spec(tag, blue_green)))
        assert main(["render", "-C", str(self.root)]) == 0
        git(self.root, "add", "-A")
        git(self.root, "commit", "-qm", tag)
        assert self.cli("sync", "production") == 0

    def cli(self, *words: str) -> int:
        return main([*words, "-C", str(self.root), "--kubeconfig", self.kubeconfig])


class Harness:
    def __init__(self, kube: KubeClient, shop: Shop, exporter: Exporter, prom: Prometheus):
        self.kube, self.namespace, self.shop = kube, shop.namespace, shop
        self.exporter, self.prometheus = exporter, prom
        self.client = httpx.Client()
        self.now = time.time()

    def metric(self, value: float | None) -> None:
        self.exporter.value = value
        wait_until(f"Prometheus answers {value}", lambda: self.prometheus.has(QUERY, value), 30)

    def step(self) -> BlueGreenRollout:
        # Time runs a second per pass, so delays pass without sleeping.
        self.now += 1
        rollout = advance(
            self.kube, self.namespace, "web", self.now, lambda a: measure(self.client, a)
        )
        assert isinstance(rollout, BlueGreenRollout)
        self.check_services(rollout)
        return rollout

    def until(self, phase: str, stage: str | None = None) -> BlueGreenRollout:
        deadline = time.monotonic() + 90
        while True:
            rollout = self.step()
            state = rollout.state
            if state is not None and state.phase == phase and stage in (None, rollout.stage):
                return rollout
            assert time.monotonic() < deadline, f"not {phase} within 90s: {rollout}"
            time.sleep(0.3)

    def deployment(self, name: str = "web") -> dict[str, Any] | None:
        try:
            return self.kube.get("apps/v1", "Deployment", name, self.namespace)
        except NotFound:
            return None

    def stable_image_is(self, expected: str) -> bool:
        deployment = self.deployment()
        return deployment is not None and image(deployment) == expected

    def selector(self, service: str) -> dict[str, str]:
        live = self.kube.get("v1", "Service", service, self.namespace)
        return dict(live["spec"]["selector"])

    def images_behind(self, service: str) -> set[str]:
        """The images of the pods ``service`` selects."""
        selector = ",".join(f"{k}={v}" for k, v in self.selector(service).items())
        pods = self.kube.list("v1", "Pod", namespace=self.namespace, label_selector=selector)
        return {image(pod) for pod in pods.items if not pod["metadata"].get("deletionTimestamp")}

    def check_services(self, rollout: BlueGreenRollout) -> None:
        """Each Service selects one version's pods: the revision it names."""
        for service, revision in (
            (rollout.blue_green.active("web"), rollout.active_revision),
            (rollout.blue_green.preview("web"), rollout.preview_revision),
        ):
            assert self.selector(service).get(REVISION_LABEL) == revision
            if revision is not None:
                assert len(self.images_behind(service)) <= 1, (service, rollout)

    def revision(self, name: str = "web") -> str:
        deployment = self.deployment(name)
        assert deployment is not None
        return str(deployment["spec"]["template"]["metadata"]["labels"][REVISION_LABEL])


@pytest.fixture
def shop(namespace: str, local_cluster: ClusterInfo, tmp_path: Path) -> Shop:
    return Shop(tmp_path / "shop", namespace, local_cluster.kubeconfig)


@pytest.fixture
def harness(
    kube: KubeClient, shop: Shop, exporter: Exporter, prometheus: Prometheus
) -> Iterator[Harness]:
    harness = Harness(kube, shop, exporter, prometheus)
    yield harness
    harness.client.close()


def test_manual_promotion_switches_the_active_service_then_retires_the_old_pods(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    declared = MANUAL
    harness.shop.release("1.0", declared)
    old = harness.revision()
    # Before any rollout both Services select the app's pods: there is one version.
    assert REVISION_LABEL not in harness.selector("web")
    wait_until("1.0 runs", lambda: harness.images_behind("web") == {OLD})

    # A new version: the sync keeps 1.0 and leaves 1.1 to the rollout.
    harness.shop.release("1.1", declared)
    stable = harness.deployment()
    assert stable is not None and image(stable) == OLD
    assert f'"{NEW}"' in stable["metadata"]["annotations"][PENDING_ANNOTATION]

    # The preview: 2 replicas of 1.1; the active Service stays on 1.0.
    first = harness.step()
    assert first.stage == "preview" and (first.preview_replicas, first.replicas) == (2, 4)
    assert first.active_revision == old and first.preview_revision not in (None, old)
    new = first.preview_revision
    paused = harness.until("Paused")
    assert paused.stage == "promotion" and paused.preview_ready == 2
    wait_until("the preview serves 1.1", lambda: harness.images_behind("web-preview") == {NEW})
    assert harness.images_behind("web") == {OLD}

    # A restarted process reads the same stage; more passes leave it waiting for a person.
    again = status(harness.kube, harness.namespace, "web")
    assert again.state is not None and (again.state.phase, again.state.step) == ("Paused", 1)
    assert harness.step().stage == "promotion"
    capsys.readouterr()
    assert harness.shop.cli("status", "production") == 0
    assert f"Deployment/{harness.namespace}/web blue-green promotion (2/5) Paused" in (
        capsys.readouterr().out
    )

    # Promoted: the preview grows to 4, then the active Service selects 1.1; 1.0 stays up
    # for the scale-down delay.
    assert harness.shop.cli("rollout", "promote", "production", "web") == 0
    switched = harness.until("Progressing", "scaleDownDelay")
    assert (switched.active_revision, switched.preview_revision) == (new, new)
    assert switched.preview_replicas == 4
    assert harness.images_behind("web") == {NEW}
    assert harness.stable_image_is(OLD)

    # After the delay the Deployment takes 1.1 and the preview goes.
    done = harness.until("Healthy")
    assert (done.active_revision, done.preview_revision) == (new, new)
    assert harness.stable_image_is(NEW) and harness.revision() == new
    wait_until("the preview is gone", lambda: harness.deployment("web-preview") is None)
    wait_until("1.0 is gone", lambda: harness.images_behind("web") == {NEW})
    capsys.readouterr()
    assert harness.shop.cli("rollout", "status", "production", "web") == 0
    assert capsys.readouterr().out.startswith("web: Healthy — promoted\n")

    # Promoted as the sync applies it: the app is Synced at once, not Drifted until the
    # next sync, and nothing is left pending.
    promoted = harness.deployment()
    assert promoted is not None
    assert PENDING_ANNOTATION not in promoted["metadata"]["annotations"]
    capsys.readouterr()
    assert harness.shop.cli("status", "production") == 0
    assert "web: Synced, Healthy" in capsys.readouterr().out

    # A sync of the same commit changes nothing: git describes what runs.
    assert harness.shop.cli("sync", "production") == 0
    assert "web: Succeeded — 0 created, 0 updated," in capsys.readouterr().out
    assert harness.selector("web").get(REVISION_LABEL) == new


def test_automatic_promotion_after_a_passing_pre_promotion_analysis(harness: Harness) -> None:
    declared = automatic(harness.prometheus.address)
    harness.shop.release("1.0", declared)
    old = harness.revision()
    harness.metric(0.99)
    harness.shop.release("1.1", declared)

    seen: list[tuple[str | None, str | None, str | None]] = []
    deadline = time.monotonic() + 90
    while (rollout := harness.step()).state is None or rollout.state.phase != "Healthy":
        assert rollout.state is not None and rollout.state.phase != "Degraded", rollout
        seen.append((rollout.stage, rollout.active_revision, rollout.preview_revision))
        assert time.monotonic() < deadline, rollout
        time.sleep(0.3)
    new = rollout.active_revision
    assert new not in (None, old) and rollout.preview_revision == new
    # The preview came first; the analysis passed (a pass may measure as soon as the
    # preview is ready, so it need not rest there); the rollout waited autoPromotionSeconds
    # (a second per pass); the active Service moved to the new version only then, and never
    # back.
    stages = [stage for stage, _, _ in seen]
    assert stages[0] == "preview" and stages.count("promotion") >= 2
    for stage, active, preview in seen:
        before = stage in ("preview", "prePromotionAnalysis", "promotion", "switch")
        assert active == (old if before else new), seen
        assert preview == new, seen
    assert harness.stable_image_is(NEW)


def test_bad_pre_promotion_analysis_aborts_and_the_active_service_stays(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    declared = {
        "scaleDownDelaySeconds": 3,
        "prePromotionAnalysis": analysis(harness.prometheus.address),
    }
    harness.shop.release("1.0", declared)
    old = harness.revision()
    harness.metric(0.5)
    harness.shop.release("1.1", declared)
    aborted = harness.until("Degraded")
    assert aborted.state is not None
    assert aborted.state.message == "aborted: [0.5] meets failureCondition 'result[0] < 0.8'"
    assert (aborted.active_revision, aborted.preview_revision) == (old, old)
    assert harness.stable_image_is(OLD)
    wait_until("the preview is gone", lambda: harness.deployment("web-preview") is None)
    assert harness.images_behind("web") == {OLD}
    # Later passes leave it aborted: nothing is promoted behind a person's back.
    assert harness.step().state == aborted.state

    capsys.readouterr()
    assert harness.shop.cli("rollout", "status", "production", "web") == 1
    out = capsys.readouterr().out
    assert "measurement Failed: [0.5] meets failureCondition 'result[0] < 0.8'" in out
    assert harness.shop.cli("status", "production") == 1
    out = capsys.readouterr().out
    assert "web: Synced, Degraded" in out
    assert (
        f"Deployment/{harness.namespace}/web blue-green prePromotionAnalysis (2/6) Degraded: "
        "aborted: [0.5] meets failureCondition"
    ) in out

    # Retried with good metrics, it goes all the way.
    harness.metric(0.99)
    assert harness.shop.cli("rollout", "retry", "production", "web") == 0
    done = harness.until("Healthy")
    assert done.active_revision not in (None, old)
    assert harness.stable_image_is(NEW)


def test_bad_post_promotion_analysis_switches_back(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    declared = post_promotion(harness.prometheus.address)
    harness.shop.release("1.0", declared)
    old = harness.revision()
    harness.metric(0.5)
    harness.shop.release("1.1", declared)
    # `hakobu rollout run` drives it in real time: preview, promotion at once, the switch,
    # then the analysis fails while the old version still runs.
    capsys.readouterr()
    assert harness.shop.cli("rollout", "run", "production", "web") == 1
    out = capsys.readouterr().out
    assert "web: Degraded — aborted: [0.5] does not meet successCondition" in out
    assert "stage 4/6: postPromotionAnalysis" in out
    aborted = status(harness.kube, harness.namespace, "web")
    assert isinstance(aborted, BlueGreenRollout)
    assert (aborted.active_revision, aborted.preview_revision) == (old, old)
    harness.check_services(aborted)
    assert harness.stable_image_is(OLD) and harness.revision() == old
    wait_until("the preview is gone", lambda: harness.deployment("web-preview") is None)
    wait_until("1.0 serves", lambda: harness.images_behind("web") == {OLD})


def test_a_run_killed_while_waiting_to_promote_resumes_at_the_same_stage(
    harness: Harness,
) -> None:
    declared = {"autoPromotionSeconds": 3600, "scaleDownDelaySeconds": 1}
    harness.shop.release("1.0", declared)
    harness.shop.release("1.1", declared)
    shop = harness.shop
    where = ["-C", str(shop.root), "--kubeconfig", shop.kubeconfig]
    # SIGKILL (kill -9) below: nothing of the run's process gets to clean up.
    run = subprocess.Popen(
        [sys.executable, "-m", "hakobu", "rollout", "run", "production", "web", *where],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:

        def waiting() -> bool:
            state = status(harness.kube, harness.namespace, "web").state
            return state is not None and state.phase == "Paused"

        wait_until("the run waits to promote", waiting, 60)
    finally:
        run.kill()
        run.wait()
    paused = status(harness.kube, harness.namespace, "web")
    assert isinstance(paused, BlueGreenRollout) and paused.state is not None
    assert paused.stage == "promotion" and paused.preview_ready == 4
    started = paused.state.step_started
    assert started is not None

    # Another process picks it up where it was: the wait counts from the same start.
    harness.now = started + 10
    assert harness.step().state == paused.state
    harness.now = started + 3600
    switched = harness.until("Progressing", "scaleDownDelay")
    assert switched.active_revision == paused.preview_revision
    assert harness.until("Healthy").active_revision == paused.preview_revision
    assert harness.stable_image_is(NEW)


def test_a_newer_commit_supersedes_the_version_in_preview(harness: Harness) -> None:
    declared = {"autoPromotionEnabled": False, "scaleDownDelaySeconds": 1}
    harness.shop.release("1.0", declared)
    old = harness.revision()
    harness.shop.release("1.1", declared)
    first = harness.until("Paused")
    # 1.2 arrives while 1.1 waits in preview: the rollout starts again with 1.2, and the
    # active Service never leaves 1.0 meanwhile.
    harness.shop.release("1.2", declared)
    again = harness.until("Paused")
    assert again.preview_revision not in (None, old, first.preview_revision)
    assert again.active_revision == old
    preview = harness.deployment("web-preview")
    assert preview is not None and image(preview) == "example.test/shop/web:1.2"
    wait_until(
        "the preview serves 1.2",
        lambda: harness.images_behind("web-preview") == {"example.test/shop/web:1.2"},
    )
    assert harness.shop.cli("rollout", "promote", "production", "web") == 0
    done = harness.until("Healthy")
    assert done.active_revision == again.preview_revision
    assert harness.stable_image_is("example.test/shop/web:1.2")
