"""A canary rollout on the app page, in a real browser against the real control plane: the
step, the weights as a bar, the replicas of each side; an abort, a retry and a promotion
through its form."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import Page, expect

from hakobu.cli.main import main
from hakobu.cluster.client import KubeClient
from hakobu.localcluster.controlplane import ClusterInfo
from hakobu.model.canary import Analysis
from hakobu.model.project import load_project
from hakobu.releases.canary.analysis import Measurement
from hakobu.releases.canary.engine import advance
from hakobu.web.local import LocalDashboard
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.cluster


def spec(tag: str) -> dict[str, Any]:
    return {
        "name": "web",
        "image": f"example.test/shop/web:{tag}",
        "replicas": 4,
        "probes": {"readiness": False, "liveness": False},
        "rollout": {"canary": {"steps": [{"setWeight": 25}, {"pause": {}}]}},
    }


def release(root: Path, tag: str, kubeconfig: str) -> None:
    (root / "apps" / "web.yaml").write_text(yaml.safe_dump(spec(tag)))
    assert main(["render", "-C", str(root)]) == 0
    for words in (["add", "-A"], ["commit", "-qm", tag]):
        subprocess.run(
            [
                "git",
                "-C",
                str(root),
                "-c",
                "user.email=ci@example.test",
                "-c",
                "user.name=CI",
                *words,
            ],
            check=True,
            capture_output=True,
        )
    assert main(["sync", "production", "-C", str(root), "--kubeconfig", kubeconfig]) == 0


def no_analysis(analysis: Analysis) -> Measurement:
    raise AssertionError(f"this rollout has no analysis step, yet {analysis} was measured")


def shop(root: Path, namespace: str, kubeconfig: str) -> None:
    """The shop at 1.0, then 1.1 synced: the rollout of 1.1 waits for its first step."""
    (root / "apps").mkdir(parents=True)
    project = {
        "apiVersion": "hakobu.dev/v1alpha1",
        "kind": "Project",
        "name": f"shop-{namespace[-6:]}",
        "apps": "apps",
        "output": "generated",
        "environments": {"production": {"namespace": namespace}},
    }
    (root / "hakobu.yaml").write_text(yaml.safe_dump(project))
    subprocess.run(["git", "-C", str(root), "init", "-q", "-b", "main"], check=True)
    release(root, "1.0", kubeconfig)
    release(root, "1.1", kubeconfig)


class Clock:
    """Advances the rollout a second of its time per pass, so a pause passes at once."""

    def __init__(self, kube: KubeClient, namespace: str) -> None:
        self.kube, self.namespace, self.now = kube, namespace, time.time()

    def until(self, phase: str) -> None:
        deadline = time.monotonic() + 90
        while (
            state := advance(self.kube, self.namespace, "web", self.now, no_analysis).state
        ) is None or state.phase != phase:
            assert time.monotonic() < deadline, f"not {phase} within 90s: {state}"
            self.now += 1
            time.sleep(0.5)


def test_the_app_page_shows_the_canarys_step_and_weights(
    page: Page, kube: KubeClient, namespace: str, local_cluster: ClusterInfo, tmp_path: Path
) -> None:
    root = tmp_path / "shop"
    shop(root, namespace, local_cluster.kubeconfig)
    clock = Clock(kube, namespace)
    clock.until("Paused")

    local = LocalDashboard(load_project(root), kube, port=0, interval=0.2)
    url = local.start()
    try:
        page.goto(url)
        expect(page.locator("#app[data-ready=true]")).to_be_visible()
        page.goto(url.split("/signin")[0] + "/env/production/app/web")
        panel = page.locator("section.rollout")
        expect(panel).to_be_visible(timeout=30_000)
        expect(panel.locator(".rollout-state")).to_contain_text("Paused")
        expect(panel.locator(".rollout-step")).to_have_text("step 2/2")
        expect(panel.locator(".weights .canary")).to_have_text("canary 25%")
        expect(panel.locator(".weights .stable")).to_have_text("stable 75%")
        expect(panel.locator(".replicas")).to_contain_text("canary 1/1 ready · stable 3 replicas")
        expect(panel.locator("button[value=retry]")).to_have_count(0)
        # Waiting for a person: the app is Synced and Suspended.
        expect(page.locator(".badge.health-Suspended").first).to_be_visible()
        screenshot(page, "rollout-paused")

        # Aborted through the form, at once: the stable side takes every replica; only a
        # retry is offered, which starts again from the first step.
        panel.locator("button[value=abort]").click()
        expect(panel.locator(".rollout-state")).to_contain_text("Degraded")
        expect(panel.locator(".rollout-state")).to_contain_text("aborted by request")
        expect(panel.locator(".weights .stable")).to_have_text("stable 100%")
        expect(panel.locator("button[value=promote]")).to_have_count(0)
        screenshot(page, "rollout-aborted")
        panel.locator("button[value=retry]").click()
        expect(page.locator(".rollout-result")).to_have_text("retry requested")
        clock.until("Paused")
        page.reload()
        expect(panel.locator(".weights .canary")).to_have_text("canary 25%")

        # Promoted through the form: recorded on the Deployment, acted on at the next step.
        panel.locator("button[value=promote]").click()
        expect(page.locator(".rollout-result")).to_have_text("promote requested")
        clock.until("Healthy")
        page.reload()
        expect(panel.locator(".rollout-state")).to_contain_text("Healthy")
        expect(panel.locator(".rollout-state")).to_contain_text("promoted")
        expect(panel.locator(".weights .stable")).to_have_text("stable 100%")
        expect(panel.locator(".weights .canary")).to_have_count(0)
        # Nothing left to ask of a rollout that ended.
        expect(panel.locator("form.rollout-actions")).to_have_count(0)
        # Promoted as the sync applies it: the app is Synced, not Drifted.
        expect(page.locator(".badge.sync-Synced").first).to_be_visible()
        expect(page.locator(".badge.sync-Drifted")).to_have_count(0)
        screenshot(page, "rollout-promoted")
    finally:
        local.stop()
