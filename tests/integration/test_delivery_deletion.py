"""Deleting a Delivery, and uninstalling the controller, against the real control plane.

A Delivery with prune deletes what it deployed before it goes (hakobu's finalizer holds it
until then); without prune, or suspended, what it deployed stays. ``hakobu uninstall``
leaves no Delivery waiting on a controller that is gone, and ``--cascade`` has every
Delivery with prune delete what it deployed before the controller is removed; that part
runs on a control plane of its own, since it deletes every Delivery in the cluster.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from hakobu.cli.main import main
from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import NotFound
from hakobu.cluster.kubeconfig import load
from hakobu.controller.delivery import API_VERSION, FINALIZER
from hakobu.controller.install import CRD_NAME
from hakobu.localcluster import controlplane
from hakobu.localcluster.controlplane import ClusterInfo
from hakobu.model.usercache import cache_root
from tests.integration.controllerkit import (
    SYSTEM,
    Controller,
    create_delivery,
    data,
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


def deliver(kube: KubeClient, remote: Remote, namespace: str, name: str, **spec: object) -> None:
    """A Delivery ``name`` of ``dev`` (ConfigMaps web and api, coloured ``name``), once
    applied."""
    remote.put("dev", "web", configmap("web", colour=name))
    remote.put("dev", "api", configmap("api", colour=name))
    revision = remote.push(name)
    create_delivery(
        kube, namespace, name, repository={"url": str(remote.bare)}, environment="dev", **spec
    )
    wait_until(
        f"{name} is applied",
        lambda: status(kube, namespace, name).get("lastAppliedRevision") == revision,
    )


def delivery_gone(kube: KubeClient, namespace: str, name: str) -> bool:
    try:
        kube.get(API_VERSION, "Delivery", name, namespace)
    except NotFound:
        return True
    return False


def inventories(kube: KubeClient, namespace: str) -> list[str]:
    found = kube.list("v1", "ConfigMap", namespace, label_selector="hakobu.dev/inventory")
    return [item["metadata"]["name"] for item in found.items]


def test_a_delivery_with_prune_deletes_what_it_deployed_before_it_goes(
    controller: Controller, kube: KubeClient, tmp_path: Path, namespace: str
) -> None:
    theirs = configmap("not-hakobus", colour="red")
    kube.create({**theirs, "metadata": {"name": "not-hakobus", "namespace": namespace}})
    deliver(kube, Remote(tmp_path, namespace), namespace, "shop", prune=True)
    finalizers = kube.get(API_VERSION, "Delivery", "shop", namespace)["metadata"]["finalizers"]
    assert finalizers == [FINALIZER]
    assert inventories(kube, namespace) == ["hakobu-inventory-api", "hakobu-inventory-web"]

    kube.delete(API_VERSION, "Delivery", "shop", namespace, propagation="Background")
    wait_until("the Delivery is gone", lambda: delivery_gone(kube, namespace, "shop"))
    assert data(kube, namespace, "web") is None
    assert data(kube, namespace, "api") is None
    assert inventories(kube, namespace) == []
    # Only what hakobu's inventories listed went.
    assert data(kube, namespace, "not-hakobus") == {"colour": "red"}


def test_without_prune_or_while_suspended_what_it_deployed_stays(
    controller: Controller, kube: KubeClient, tmp_path: Path, namespace: str
) -> None:
    remote = Remote(tmp_path, namespace)
    deliver(kube, remote, namespace, "kept")
    kube.delete(API_VERSION, "Delivery", "kept", namespace, propagation="Background")
    wait_until("the Delivery is gone", lambda: delivery_gone(kube, namespace, "kept"))
    assert data(kube, namespace, "web") == {"colour": "kept"}

    deliver(kube, remote, namespace, "paused", prune=True)
    kube.request(
        "PATCH",
        f"/apis/{API_VERSION}/namespaces/{namespace}/deliveries/paused",
        body={"spec": {"suspend": True}},
        content_type="application/merge-patch+json",
    )
    wait_until(
        "reported Suspended",
        lambda: any(
            c.get("reason") == "Suspended" for c in status(kube, namespace, "paused")["conditions"]
        ),
    )
    kube.delete(API_VERSION, "Delivery", "paused", namespace, propagation="Background")
    wait_until("the Delivery is gone", lambda: delivery_gone(kube, namespace, "paused"))
    assert data(kube, namespace, "web") == {"colour": "paused"}


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[ClusterInfo]:
    base = Path(os.environ.get("HAKOBU_TEST_CLUSTER_DIR", cache_root() / "test-cluster"))
    state_dir = base.with_name(base.name + "-uninstall")
    controlplane.down(state_dir)
    info, _ = controlplane.up(state_dir, lambda _: None)
    try:
        yield info
    finally:
        controlplane.down(state_dir)


def test_uninstall_leaves_no_delivery_waiting_and_cascade_deletes_what_they_deployed(
    own_cluster: ClusterInfo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kubeconfig = Path(own_cluster.kubeconfig)
    cluster = ("--kubeconfig", str(kubeconfig))
    with KubeClient(load(kubeconfig)) as kube:
        for name in ("shop", "blog"):
            kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})

        # A plain uninstall: the Delivery and what it deployed stay, and deleting the
        # Delivery afterwards does not wait for a controller.
        with running_controller(own_cluster, tmp_path / "first"):
            deliver(kube, Remote(tmp_path / "blog", "blog"), "blog", "blog", prune=True)
        assert main(["uninstall", "--namespace", SYSTEM, *cluster]) == 0
        assert "finalizers" not in kube.get(API_VERSION, "Delivery", "blog", "blog")["metadata"]
        kube.delete(API_VERSION, "Delivery", "blog", "blog", propagation="Background")
        wait_until("the Delivery is gone", lambda: delivery_gone(kube, "blog", "blog"))
        assert data(kube, "blog", "web") == {"colour": "blog"}

        # --cascade: each Delivery with prune deletes what it deployed, then the rest goes.
        with running_controller(own_cluster, tmp_path / "second"):
            deliver(kube, Remote(tmp_path / "shop", "shop"), "shop", "shop", prune=True)
            deliver(kube, Remote(tmp_path / "kept", "blog"), "blog", "kept")
            capsys.readouterr()
            assert main(["uninstall", "--namespace", SYSTEM, "--cascade", *cluster]) == 0
        err = capsys.readouterr().err
        assert "deleting Delivery shop/shop" in err and "deleting Delivery blog/kept" in err
        assert data(kube, "shop", "web") is None and inventories(kube, "shop") == []
        assert data(kube, "blog", "web") == {"colour": "kept"}
        wait_until(
            "the CRD is gone",
            lambda: (
                not any(
                    crd["metadata"]["name"] == CRD_NAME
                    for crd in kube.list(
                        "apiextensions.k8s.io/v1", "CustomResourceDefinition"
                    ).items
                )
            ),
        )
        for kind in ("ClusterRole", "ClusterRoleBinding"):
            names = [
                item["metadata"]["name"]
                for item in kube.list("rbac.authorization.k8s.io/v1", kind).items
            ]
            assert not [name for name in names if name.startswith("hakobu-")], names
