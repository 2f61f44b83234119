"""The controller leaves a suspended fleet instance alone (its rendered objects carry
``hakobu.dev/suspend: "true"``) while it applies the rest of the revision, and the
Delivery's status shows the instance Suspended."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hakobu.cluster.client import KubeClient
from hakobu.localcluster.controlplane import ClusterInfo
from hakobu.model.fleet import SUSPEND_ANNOTATION
from tests.integration.controllerkit import (
    Controller,
    condition,
    create_delivery,
    data,
    push_body,
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


def suspended(obj: dict[str, Any]) -> dict[str, Any]:
    obj["metadata"]["annotations"] = {SUSPEND_ANNOTATION: "true"}
    return obj


def test_a_suspended_instance_is_left_alone_and_shown_suspended(
    controller: Controller, kube: KubeClient, tmp_path: Path, namespace: str
) -> None:
    remote = Remote(tmp_path, namespace)
    remote.put("dev", "web", configmap("web", colour="blue"))
    remote.put("dev", "shops-berlin", configmap("shops-berlin", host="a.test"))
    first = remote.push("web and berlin")
    create_delivery(
        kube, namespace, "shop", repository={"url": str(remote.bare)}, environment="dev"
    )
    wait_until(
        "applied", lambda: status(kube, namespace, "shop").get("lastAppliedRevision") == first
    )

    remote.put("dev", "web", configmap("web", colour="green"))
    remote.put("dev", "shops-berlin", suspended(configmap("shops-berlin", host="b.test")))
    second = remote.push("berlin suspended")
    assert controller.hook("github", push_body(str(remote.bare), second)).status_code == 202
    wait_until(
        "applied",
        lambda: status(kube, namespace, "shop").get("lastAppliedRevision") == second,
        seconds=30,
    )
    assert data(kube, namespace, "web") == {"colour": "green"}
    assert data(kube, namespace, "shops-berlin") == {"host": "a.test"}
    assert status(kube, namespace, "shop")["apps"] == [
        {
            "name": "shops-berlin",
            "sync": "Suspended",
            "health": "Healthy",
            # What its resume will change.
            "message": f"ConfigMap/{namespace}/shops-berlin (update)",
        },
        {"name": "web", "sync": "Synced", "health": "Healthy"},
    ]
    assert condition(kube, namespace, "shop", "Ready")["status"] == "True"
