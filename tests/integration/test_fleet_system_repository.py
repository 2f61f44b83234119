"""A FleetInstance written into a system repository that pins the application repository:
the controller renders it from the pinned commit's template, commits only the instance and
its output, and the Delivery of the system repository reports it Healthy."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from hakobu.cluster.client import KubeClient
from hakobu.localcluster.controlplane import ClusterInfo
from tests.integration.controllerkit import (
    Controller,
    create_delivery,
    running_controller,
    wait_until,
)
from tests.integration.test_agent import Remote
from tests.integration.test_fleet_controller import _served, healthy, in_git, instance
from tests.integration.test_sync import live
from tests.unit.releases.test_fleetcommit import TEMPLATE

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def controller(
    local_cluster: ClusterInfo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Controller]:
    with (
        running_controller(local_cluster, tmp_path_factory.mktemp("controller")) as running,
        KubeClient.from_kubeconfig(Path(local_cluster.kubeconfig)) as kube,
    ):
        wait_until("FleetInstances are served", lambda: _served(kube))
        yield running


def test_an_instance_in_a_system_repository_renders_from_the_pin(
    controller: Controller, kube: KubeClient, tmp_path: Path, namespace: str
) -> None:
    app = Remote(tmp_path / "app", namespace)
    fleet = app.work / "apps" / "shops"
    (fleet / "template").mkdir(parents=True)
    (fleet / "fleet.yaml").write_text("tiers: [canary]\nvalues:\n  host: ''\n")
    (fleet / "template" / "shop.yaml.j2").write_text(TEMPLATE)
    app.push("a fleet of shops")
    pinned = app.git("rev-parse", "HEAD")
    # A later template the pin does not name: the fleet must not render it.
    (fleet / "template" / "shop.yaml.j2").write_text(TEMPLATE.replace("tier:", "stage:"))
    app.push("a template not pinned yet")

    system = Remote(tmp_path / "system", namespace)
    project = yaml.safe_load((system.work / "hakobu.yaml").read_text())
    project["source"] = {"repository": app.bare.as_uri(), "revision": pinned}
    (system.work / "hakobu.yaml").write_text(yaml.safe_dump(project))
    (system.work / "apps" / "shops" / "instances").mkdir(parents=True)
    (system.work / "apps" / "shops" / "instances" / ".keep").write_text("")
    system.push("a system repository pinning the fleet's template")
    create_delivery(
        kube, namespace, "shop", repository={"url": str(system.bare)}, environment="dev", prune=True
    )

    instance(kube, namespace, "berlin", values={"host": "berlin.example.com"})
    wait_until("berlin is Healthy", lambda: healthy(kube, namespace, "berlin"))
    assert live(kube, namespace, "ConfigMap", "shops-berlin")["data"] == {
        "host": "berlin.example.com",
        "tier": "canary",
    }
    assert in_git(system, "apps/shops/instances/berlin.yaml") is not None
    files = subprocess.run(
        ["git", "-C", str(system.bare), "ls-tree", "-r", "--name-only", "main"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert not [f for f in files if "template" in f or f.endswith("fleet.yaml")]
