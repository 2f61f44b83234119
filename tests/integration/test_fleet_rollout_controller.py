"""The delivery controller steps a fleet's tiered rollout after its sync passes, against the
real control plane and a bare git remote: it gives the later tier its own copy of the
template, promotes it once the first tier has soaked (a commit it pushes, then syncs), and
halts at a Degraded first-tier instance, told as a FleetHalted event, with nothing pushed."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from hakobu.cli.main import main
from hakobu.cluster.client import KubeClient
from hakobu.localcluster.controlplane import ClusterInfo
from tests.integration.controllerkit import (
    Controller,
    create_delivery,
    data,
    running_controller,
    wait_until,
)
from tests.integration.test_fleet_rollout import CONFIG, FAILING_JOB

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def controller(
    local_cluster: ClusterInfo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Controller]:
    with running_controller(local_cluster, tmp_path_factory.mktemp("controller")) as running:
        yield running


class Remote:
    """A bare remote and a person's clone of it holding a fleet of two shops."""

    def __init__(self, root: Path, namespace: str) -> None:
        self.bare, self.work = root / "remote.git", root / "work"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(self.bare)], check=True)
        subprocess.run(["git", "clone", "-q", str(self.bare), str(self.work)], check=True)
        self.git("config", "user.email", "ci@example.com")
        self.git("config", "user.name", "CI")
        project = {
            "apiVersion": "hakobu.dev/v1alpha1",
            "kind": "Project",
            "name": namespace,
            "environments": {"dev": {"namespace": namespace}},
        }
        (self.work / "hakobu.yaml").write_text(yaml.safe_dump(project))
        fleet = self.work / "apps" / "shops"
        (fleet / "template").mkdir(parents=True)
        (fleet / "fleet.yaml").write_text(
            "tiers: [canary, stable]\nrollout: {soak: 2s, environment: dev}\n"
        )
        (fleet / "template" / "config.yaml.j2").write_text(CONFIG)
        for shop, tier in (("berlin", "canary"), ("paris", "stable")):
            assert main(["fleet", "-C", str(self.work), "add", "shops", shop, tier]) == 0
        self.publish("two shops", first=True)

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(self.work), *args], check=True, capture_output=True, text=True
        ).stdout.strip()

    def publish(self, message: str, *, first: bool = False) -> None:
        """Render and commit everything, on top of what the remote has, and push."""
        if not first:
            self.git("pull", "-q", "--rebase", "--autostash", "origin", "main")
        assert main(["render", "-C", str(self.work)]) == 0
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        self.git("push", "-q", "origin", "HEAD:main")

    def subject(self) -> str:
        return subprocess.run(
            ["git", "-C", str(self.bare), "log", "-1", "--format=%s", "main"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()


def _told(kube: KubeClient, namespace: str, reason: str) -> list[str]:
    events = kube.list("v1", "Event", namespace).items
    return [str(e.get("message", "")) for e in events if e.get("reason") == reason]


def test_the_controller_promotes_after_the_soak_and_halts_at_a_degraded_instance(
    controller: Controller, kube: KubeClient, tmp_path: Path, namespace: str
) -> None:
    remote = Remote(tmp_path, namespace)
    create_delivery(
        kube,
        namespace,
        "shop",
        repository={"url": str(remote.bare)},
        environment="dev",
        interval="2s",
    )
    wait_until(
        "the later tier gets its own copy of the template",
        lambda: remote.subject() == "pin fleet shops: stable keep the template they render",
        seconds=90,
    )

    (remote.work / "apps/shops/template/config.yaml.j2").write_text(CONFIG + "  release: '2'\n")
    remote.publish("release 2")
    wait_until(
        "the first tier runs release 2",
        lambda: (data(kube, namespace, "shops-berlin") or {}).get("release") == "2",
    )
    wait_until(
        "the controller promotes the next tier after the soak",
        lambda: remote.subject() == "promote fleet shops: canary → stable",
        seconds=90,
    )
    wait_until(
        "and syncs it",
        lambda: (data(kube, namespace, "shops-paris") or {}).get("release") == "2",
    )
    assert any("promoted canary → stable" in m for m in _told(kube, namespace, "Promoted"))

    (remote.work / "apps/shops/template/migrate.yaml.j2").write_text(FAILING_JOB)
    remote.publish("a migration that fails")
    halted = wait_until(
        "the halt is told",
        lambda: [m for m in _told(kube, namespace, "FleetHalted") if "berlin" in m],
        seconds=90,
    )
    assert "fleet shops: rollout halted: tier canary: instance berlin is Degraded" in halted[0]
    # Passes (every 2s) and soaks (2s) go by: nothing moves past the Degraded tier, and the
    # halt is not told again.
    time.sleep(8)
    assert remote.subject() == "a migration that fails"
    assert len(_told(kube, namespace, "FleetHalted")) == 1
