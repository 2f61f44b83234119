"""A canary rollout on the real control plane: kwok runs the Pods, a real Prometheus judges.

The replica counts of both sides are checked at every step; good metrics promote, bad
ones abort, an empty result pauses; the state survives a restart because it lives on the
Deployment.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from hakobu.cli.main import main
from hakobu.cli.rollout import PROMOTION_REQUESTED
from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import NotFound
from hakobu.localcluster.controlplane import ClusterInfo
from hakobu.model.canary import PENDING_ANNOTATION
from hakobu.releases.canary.engine import Rollout, advance, status
from hakobu.releases.canary.prometheus import measure
from tests.integration.controllerkit import wait_until
from tests.integration.prometheuskit import Exporter, Prometheus, prometheus_scraping

QUERY = "canary_success_ratio and (time() - timestamp(canary_success_ratio) < 2)"


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


def spec(tag: str, address: str) -> dict[str, Any]:
    return {
        "name": "web",
        "image": f"example.test/shop/web:{tag}",
        "replicas": 10,
        "ports": [{"name": "http", "port": 80, "targetPort": 8080}],
        "probes": {"readiness": False, "liveness": False},
        "rollout": {
            "canary": {
                "steps": [
                    {"setWeight": 41},
                    {
                        "analysis": {
                            "address": address,
                            "query": QUERY,
                            "successCondition": "result[0] >= 0.95",
                            "failureCondition": "result[0] < 0.8",
                        }
                    },
                    {"setWeight": 70},
                    {"pause": {}},
                ]
            }
        },
    }


class Shop:
    def __init__(self, root: Path, namespace: str, kubeconfig: str, address: str) -> None:
        self.root, self.namespace, self.kubeconfig, self.address = (
            root,
            namespace,
            kubeconfig,
            address,
        )
        root.mkdir()
        (root / "hakobu.yaml").write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "hakobu.dev/v1alpha1",
                    "kind": "Project",
                    # One project per test: the same app of another test's project is
                    # another app.
                    "name": f"shop-{namespace[-6:]}",
                    "apps": "apps",
                    "output": "generated",
                    "environments": {"production": {"namespace": namespace}},
                }
            )
        )
        (root / "apps").mkdir()
        git(root, "init", "-q", "-b", "main")

    def release(self, tag: str) -> None:
        (self.root / "apps" / "web.yaml").write_text(yaml.safe_dump(spec(tag, self.address)))
        assert main(["render", "-C", str(self.root)]) == 0
        git(self.root, "add", "-A")
        git(self.root, "commit", "-qm", tag)
        code = main(["sync", "production", "-C", str(self.root), "--kubeconfig", self.kubeconfig])
        assert code == 0


def image(deployment: dict[str, Any]) -> str:
    return str(deployment["spec"]["template"]["spec"]["containers"][0]["image"])


class Harness:
    """The shop on the cluster, at 1.0, with Prometheus scraping the exporter."""

    def __init__(
        self, kube: KubeClient, namespace: str, shop: Shop, exporter: Exporter, prom: Prometheus
    ) -> None:
        self.kube, self.namespace, self.shop = kube, namespace, shop
        self.exporter, self.prometheus = exporter, prom
        self.client = httpx.Client()
        self.now = time.time()

    def metric(self, value: float | None) -> None:
        self.exporter.value = value
        wait_until(f"Prometheus answers {value}", lambda: self.prometheus.has(QUERY, value), 30)

    def step(self) -> Rollout:
        # Time runs a second per step, so pauses and intervals pass without sleeping.
        self.now += 1
        return advance(
            self.kube, self.namespace, "web", self.now, lambda a: measure(self.client, a)
        )

    def until(self, phase: str) -> Rollout:
        deadline = time.monotonic() + 90
        while (rollout := self.step()).state is None or rollout.state.phase != phase:
            assert time.monotonic() < deadline, f"not {phase} within 90s: {rollout}"
            time.sleep(0.5)
        return rollout

    def deployment(self, name: str = "web") -> dict[str, Any] | None:
        try:
            return self.kube.get("apps/v1", "Deployment", name, self.namespace)
        except NotFound:
            return None

    def stable_image(self) -> str:
        stable = self.deployment()
        assert stable is not None
        return image(stable)

    def app_status(self, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
        """The app as ``hakobu status -o json`` shows it."""
        capsys.readouterr()
        words = ["status", "production", "-C", str(self.shop.root), "-o", "json"]
        main([*words, "--kubeconfig", self.shop.kubeconfig])
        apps: list[dict[str, Any]] = json.loads(capsys.readouterr().out)["apps"]
        return next(app for app in apps if app["app"] == "web")

    def cli(self, *words: str) -> int:
        return main(
            [
                *words,
                "production",
                "web",
                "-C",
                str(self.shop.root),
                "--kubeconfig",
                self.shop.kubeconfig,
            ]
        )


@pytest.fixture
def shop(
    namespace: str, local_cluster: ClusterInfo, tmp_path: Path, prometheus: Prometheus
) -> Shop:
    return Shop(tmp_path / "shop", namespace, local_cluster.kubeconfig, prometheus.address)


@pytest.fixture
def harness(
    kube: KubeClient, namespace: str, shop: Shop, exporter: Exporter, prometheus: Prometheus
) -> Iterator[Harness]:
    shop.release("1.0")
    harness = Harness(kube, namespace, shop, exporter, prometheus)
    stable = harness.deployment()
    assert stable is not None and image(stable) == "example.test/shop/web:1.0"
    assert stable["spec"]["replicas"] == 10
    yield harness
    harness.client.close()


def test_good_metrics_promote_the_canary_step_by_step(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    # A new version: the sync keeps 1.0 running and leaves 1.1 to the rollout.
    harness.metric(0.99)
    harness.shop.release("1.1")
    stable = harness.deployment()
    assert stable is not None and image(stable) == "example.test/shop/web:1.0"
    assert '"example.test/shop/web:1.1"' in stable["metadata"]["annotations"][PENDING_ANNOTATION]

    # setWeight 41 of 10 replicas: 5 canary, 6 stable (each side rounded up); the stable
    # side keeps its 10 until the canary's 5 are ready.
    first = harness.step()
    assert (first.weight, first.canary_replicas, first.stable_replicas) == (41, 5, 10)
    canary = harness.deployment("web-canary")
    assert canary is not None and image(canary) == "example.test/shop/web:1.1"
    assert harness.stable_image() == "example.test/shop/web:1.0"

    # A ready canary (then 5 and 6, as the Inconclusive test sees) and good metrics: on to
    # setWeight 70 (7 canary, 3 stable), and the pause.
    paused = harness.until("Paused")
    assert paused.state is not None and paused.state.step == 3
    assert (paused.weight, paused.canary_replicas, paused.stable_replicas) == (70, 7, 3)

    # A restarted process reads the same step from the Deployment.
    again = status(harness.kube, harness.namespace, "web")
    assert again.state is not None and (again.state.step, again.state.phase) == (3, "Paused")
    resumed = harness.step().state
    assert resumed is not None and (resumed.step, resumed.phase) == (3, "Paused")

    # Promoted by hand: the stable Deployment takes 1.1 and every replica; the canary goes.
    capsys.readouterr()
    assert harness.cli("rollout", "promote") == 0
    assert f"web: Paused\n{PROMOTION_REQUESTED}\n" in capsys.readouterr().out
    done = harness.until("Healthy")
    assert (done.stable_replicas, done.canary_replicas) == (10, 0)
    assert harness.stable_image() == "example.test/shop/web:1.1"
    wait_until("the canary is gone", lambda: harness.deployment("web-canary") is None)
    capsys.readouterr()
    assert harness.cli("rollout", "status") == 0
    assert capsys.readouterr().out.startswith("web: Healthy — promoted\n")

    # Promoted as the sync applies it: the app is Synced at once, not Drifted until the
    # next sync, and nothing is left pending.
    promoted = harness.deployment()
    assert promoted is not None
    assert PENDING_ANNOTATION not in promoted["metadata"]["annotations"]
    app = harness.app_status(capsys)
    assert app["sync"] == "Synced", app
    # A sync of the same commit changes nothing.
    words = ["sync", "production", "-C", str(harness.shop.root)]
    assert main([*words, "--kubeconfig", harness.shop.kubeconfig]) == 0
    assert "web: Succeeded — 0 created, 0 updated," in capsys.readouterr().out


def test_bad_metrics_abort_and_the_stable_version_keeps_every_replica(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    harness.metric(0.5)
    harness.shop.release("1.1")
    first = harness.step()
    assert (first.weight, first.canary_replicas, first.stable_replicas) == (41, 5, 10)
    aborted = harness.until("Degraded")
    assert aborted.state is not None
    assert aborted.state.message == "aborted: [0.5] meets failureCondition 'result[0] < 0.8'"
    assert (aborted.weight, aborted.stable_replicas) == (0, 10)
    assert harness.stable_image() == "example.test/shop/web:1.0"
    wait_until("the canary is gone", lambda: harness.deployment("web-canary") is None)
    # Later passes leave it aborted: nothing is promoted behind a person's back.
    assert harness.step().state == aborted.state

    capsys.readouterr()
    assert harness.cli("rollout", "status") == 1
    out = capsys.readouterr().out
    assert "web: Degraded — aborted: [0.5] meets failureCondition" in out
    assert "measurement Failed: [0.5] meets failureCondition 'result[0] < 0.8'" in out

    # hakobu status: the app is Degraded, with the step and the failing measurement.
    status_code = main(
        [
            "status",
            "production",
            "-C",
            str(harness.shop.root),
            "--kubeconfig",
            harness.shop.kubeconfig,
        ]
    )
    out = capsys.readouterr().out
    assert status_code == 1
    # Synced: git's version is applied, held for the rollout, which Degrades the app.
    assert "web: Synced, Degraded" in out
    assert (
        f"Deployment/{harness.namespace}/web canary step 2/4 Degraded: aborted: [0.5] meets "
        "failureCondition 'result[0] < 0.8'"
    ) in out


def test_no_samples_pause_the_rollout_until_retried(harness: Harness) -> None:
    harness.metric(None)
    harness.shop.release("1.1")
    waiting = harness.until("Inconclusive")
    assert waiting.state is not None and waiting.state.step == 1
    assert waiting.state.message == "the query returned no samples"
    assert (waiting.canary_replicas, waiting.stable_replicas) == (5, 6)
    assert harness.stable_image() == "example.test/shop/web:1.0"

    harness.metric(0.99)
    assert harness.cli("rollout", "retry") == 0
    paused = harness.until("Paused")
    assert paused.state is not None and paused.state.step == 3
    assert (paused.canary_replicas, paused.stable_replicas) == (7, 3)

    # Aborted by hand: the canary is taken away at once, without waiting for a pass.
    assert harness.cli("rollout", "abort") == 1
    aborted = status(harness.kube, harness.namespace, "web")
    assert aborted.state is not None and aborted.state.message == "aborted by request"
    assert (aborted.weight, aborted.stable_replicas) == (0, 10)
    wait_until("the canary is gone", lambda: harness.deployment("web-canary") is None)


def test_status_shows_the_rollouts_step_weights_and_latest_measurement(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    harness.metric(0.99)
    harness.shop.release("1.1")
    harness.until("Paused")
    words = ["status", "production", "-C", str(harness.shop.root)]
    words += ["--kubeconfig", harness.shop.kubeconfig]
    capsys.readouterr()

    # Paused for a person: the app is Synced and Suspended (nothing wrong), and shows where
    # its rollout stands.
    assert main([*words, "-o", "json"]) == 0
    [app] = json.loads(capsys.readouterr().out)["apps"]
    assert (app["app"], app["health"]) == ("web", "Suspended")
    rollout = app["rollout"]
    assert {k: rollout[k] for k in ("phase", "step", "steps", "weight")} == {
        "phase": "Paused",
        "step": 3,
        "steps": 4,
        "weight": 70,
    }
    assert (rollout["canaryReplicas"], rollout["stableReplicas"]) == (7, 3)
    # Measurements are the current analysis step's: the analysis passed, the pause has none.
    assert rollout["measurements"] == []

    assert main(words) == 0
    text = capsys.readouterr().out
    assert "  rollout web: Paused\n    step 4/4: pause until promoted\n" in text
    assert "    weight 70%: canary 7/7 ready, stable 3\n" in text


def test_status_shows_an_aborted_rollout_with_its_failing_measurement(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    harness.metric(0.5)
    harness.shop.release("1.1")
    harness.until("Degraded")
    words = ["status", "production", "-C", str(harness.shop.root)]
    words += ["--kubeconfig", harness.shop.kubeconfig]
    capsys.readouterr()

    assert main([*words, "-o", "json"]) == 1
    [app] = json.loads(capsys.readouterr().out)["apps"]
    rollout = app["rollout"]
    assert (app["health"], rollout["phase"], rollout["step"]) == ("Degraded", "Degraded", 1)
    assert (rollout["weight"], rollout["canaryReplicas"], rollout["stableReplicas"]) == (0, 0, 10)
    [measurement] = rollout["measurements"]
    assert (measurement["verdict"], measurement["values"]) == ("Failed", [0.5])

    assert main(words) == 1
    text = capsys.readouterr().out
    assert "  rollout web: Degraded — aborted: [0.5] meets failureCondition" in text
    assert "\n    measurement Failed: [0.5] meets failureCondition 'result[0] < 0.8'\n" in text


def test_rollout_run_advances_until_a_person_must_act(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    harness.metric(0.99)
    harness.shop.release("1.1")
    # From the first step to the pause until promoted: the analysis passes on the way.
    capsys.readouterr()
    assert harness.cli("rollout", "run") == 0
    out = capsys.readouterr().out
    assert out.startswith("web: Paused"), out
    paused = status(harness.kube, harness.namespace, "web")
    assert paused.state is not None and (paused.state.step, paused.state.phase) == (3, "Paused")
    assert (paused.canary_replicas, paused.stable_replicas) == (7, 3)
    assert harness.stable_image() == "example.test/shop/web:1.0"

    # Promoted, run again goes to the end.
    assert harness.cli("rollout", "promote") == 0
    capsys.readouterr()
    assert harness.cli("rollout", "run") == 0
    assert capsys.readouterr().out.startswith("web: Healthy — promoted\n")
    assert harness.stable_image() == "example.test/shop/web:1.1"
    done = status(harness.kube, harness.namespace, "web")
    assert (done.stable_replicas, done.canary_replicas) == (10, 0)


def test_rollout_run_stops_at_an_abort_with_exit_code_1(harness: Harness) -> None:
    harness.metric(0.5)
    harness.shop.release("1.1")
    assert harness.cli("rollout", "run") == 1
    aborted = status(harness.kube, harness.namespace, "web")
    assert aborted.state is not None and aborted.state.phase == "Degraded"
    assert (aborted.weight, aborted.stable_replicas) == (0, 10)
    assert harness.stable_image() == "example.test/shop/web:1.0"
