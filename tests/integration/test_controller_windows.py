"""A Delivery whose environment a sync window closes: held, said so in its conditions, and
synced as the window closes, well before its next poll."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import NotFound
from hakobu.localcluster.controlplane import ClusterInfo
from tests.integration.controllerkit import (
    Controller,
    condition,
    create_delivery,
    running_controller,
    status,
    wait_until,
)
from tests.integration.test_agent import Remote
from tests.integration.test_sync import configmap

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def controller(
    local_cluster: ClusterInfo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Controller]:
    with running_controller(local_cluster, tmp_path_factory.mktemp("controller")) as running:
        yield running


def test_a_delivery_waits_for_its_sync_window_and_syncs_as_it_closes(
    controller: Controller, kube: KubeClient, tmp_path: Path, namespace: str
) -> None:
    remote = Remote(tmp_path, namespace)
    # A deny window that opened at the start of this minute and closes 20 to 60 seconds
    # from now; the Delivery polls hourly, so only the window's end can bring its sync.
    now = datetime.now(UTC)
    seconds = max(60, now.second + 20)
    project = yaml.safe_load((remote.work / "hakobu.yaml").read_text())
    project["environments"]["dev"]["syncWindows"] = [
        {"kind": "deny", "schedule": f"{now.minute} {now.hour} * * *", "duration": f"{seconds}s"}
    ]
    (remote.work / "hakobu.yaml").write_text(yaml.safe_dump(project))
    remote.put("dev", "web", configmap("web", colour="blue"))
    revision = remote.push("blue, in a deny window")
    create_delivery(
        kube, namespace, "shop", repository={"url": str(remote.bare)}, environment="dev"
    )

    ready = wait_until(
        "held by the window",
        lambda: (
            (c := condition(kube, namespace, "shop", "Ready")).get("reason") == "SyncWindowClosed"
            and c
        ),
    )
    assert ready["status"] == "False"
    assert ready["message"].startswith("deny window syncWindows[0] ('")
    assert "syncs run again at" in ready["message"]
    assert condition(kube, namespace, "shop", "Synced")["reason"] == "SyncWindowClosed"
    with pytest.raises(NotFound):
        kube.get("v1", "ConfigMap", "web", namespace)

    wait_until(
        "applied as the window closes",
        lambda: status(kube, namespace, "shop").get("lastAppliedRevision") == revision,
        seconds=120,
    )
    assert kube.get("v1", "ConfigMap", "web", namespace)["data"] == {"colour": "blue"}
    assert condition(kube, namespace, "shop", "Ready")["status"] == "True"
