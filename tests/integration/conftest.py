"""Fixtures that give integration tests a real Kubernetes control plane.

One cluster serves the whole session; each test gets its own namespace. The cluster's state
directory is fixed (not a temporary one) so that a run killed half-way leaves leftovers the
next run finds by that path and stops before starting afresh.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import NotFound, TooManyRequests
from hakobu.cluster.kubeconfig import load
from hakobu.controller.install import release_deliveries
from hakobu.localcluster import controlplane
from hakobu.localcluster.controlplane import ClusterInfo
from hakobu.model.usercache import cache_root


def _progress(message: str) -> None:
    print(f"[local cluster] {message}", file=sys.stderr, flush=True)


@pytest.fixture(scope="session")
def local_cluster() -> Iterator[ClusterInfo]:
    state_dir = Path(os.environ.get("HAKOBU_TEST_CLUSTER_DIR", cache_root() / "test-cluster"))
    controlplane.down(state_dir)
    started = time.monotonic()
    info, _ = controlplane.up(state_dir, _progress)
    _progress(
        f"build {info.timings['build']:.1f}s, start {info.timings['start']:.1f}s "
        f"(total {time.monotonic() - started:.1f}s)"
    )
    yield info
    controlplane.down(state_dir)


@pytest.fixture
def kube(local_cluster: ClusterInfo) -> Iterator[KubeClient]:
    with KubeClient(load(Path(local_cluster.kubeconfig))) as client:
        yield client


@pytest.fixture
def namespace(kube: KubeClient, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace whose default ServiceAccount exists (so Pods are admitted)."""
    base = request.node.name.lower().replace("_", "-")[:40].strip("-")
    name = f"{base}-{uuid.uuid4().hex[:6]}"
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    deadline = time.monotonic() + 30
    while True:
        try:
            kube.get("v1", "ServiceAccount", "default", name)
            break
        except NotFound:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    yield name
    # Its Deliveries go with it even when no controller runs any more to let them go
    # (a Delivery CRD just re-created answers 429 a moment: nothing of it to let go).
    with contextlib.suppress(TooManyRequests):
        release_deliveries(kube, lambda _: None, name)
    kube.delete("v1", "Namespace", name, propagation="Background")


def widget_crd(group: str, schema: dict[str, object]) -> dict[str, object]:
    """A namespaced CustomResourceDefinition of kind Widget in ``group``, version v1."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                }
            ],
        },
    }
