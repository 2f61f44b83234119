"""The local control plane is real Kubernetes: workloads, server-side apply, CRDs, watches."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from hakobu.cluster.client import KubeClient, WatchEvent
from hakobu.cluster.errors import Conflict
from hakobu.localcluster.controlplane import ClusterInfo
from hakobu.localcluster.toolchain import KUBERNETES_VERSION
from hakobu.model.objects import Object
from tests.integration.conftest import widget_crd

pytestmark = pytest.mark.cluster


def _eventually(check: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(0.2)


def test_server_reports_the_pinned_release(kube: KubeClient, local_cluster: ClusterInfo) -> None:
    version = kube.request("GET", "/version")
    assert version["gitVersion"] == KUBERNETES_VERSION
    assert local_cluster.server.startswith("https://127.0.0.1:")


def test_deployment_reaches_three_ready_pods(kube: KubeClient, namespace: str) -> None:
    deployment: Object = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
        },
    }
    kube.apply(deployment, field_manager="test")

    def ready_replicas() -> bool:
        live = kube.get("apps/v1", "Deployment", "web", namespace)
        return bool((live.get("status") or {}).get("readyReplicas") == 3)

    _eventually(ready_replicas)
    pods = kube.list("v1", "Pod", namespace, label_selector="app=web").items
    assert len(pods) == 3
    for pod in pods:
        assert pod["spec"]["nodeName"] == "kwok-node-0"
        conditions = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
        assert conditions["Ready"] == "True"
    replica_sets = kube.list("apps/v1", "ReplicaSet", namespace).items
    assert [rs["metadata"]["ownerReferences"][0]["name"] for rs in replica_sets] == ["web"]


def test_server_side_apply_conflict_is_refused_then_forced(
    kube: KubeClient, namespace: str
) -> None:
    def config(value: str) -> Object:
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": namespace},
            "data": {"level": value},
        }

    kube.apply(config("info"), field_manager="alice")
    with pytest.raises(Conflict) as refused:
        kube.apply(config("debug"), field_manager="bob")
    assert refused.value.status_code == 409
    assert "alice" in refused.value.message

    applied = kube.apply(config("debug"), field_manager="bob", force=True)
    assert applied["data"] == {"level": "debug"}
    managers = {m["manager"] for m in applied["metadata"]["managedFields"]}
    assert "bob" in managers
    assert "alice" not in managers  # forcing took alice's only field away


def test_custom_resource_definition_becomes_established(kube: KubeClient, namespace: str) -> None:
    group = f"{namespace}.example.com"
    crd = widget_crd(
        group,
        {
            "type": "object",
            "properties": {"spec": {"type": "object", "properties": {"size": {"type": "integer"}}}},
        },
    )
    kube.apply(crd, field_manager="test")
    try:

        def established() -> bool:
            live = kube.get(
                "apiextensions.k8s.io/v1", "CustomResourceDefinition", f"widgets.{group}"
            )
            conditions = (live.get("status") or {}).get("conditions") or []
            return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)

        _eventually(established)
        widget: Object = {
            "apiVersion": f"{group}/v1",
            "kind": "Widget",
            "metadata": {"name": "small", "namespace": namespace},
            "spec": {"size": 3},
        }
        kube.apply(widget, field_manager="test")
        listed = kube.list(f"{group}/v1", "Widget", namespace).items
        assert [(w["metadata"]["name"], w["spec"]["size"]) for w in listed] == [("small", 3)]
    finally:
        kube.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", f"widgets.{group}")


def test_watch_receives_added_modified_deleted(kube: KubeClient, namespace: str) -> None:
    start = kube.list("v1", "ConfigMap", namespace).resource_version
    events: list[WatchEvent] = []

    def collect() -> None:
        for event in kube.watch(
            "v1",
            "ConfigMap",
            namespace,
            resource_version=start,
            field_selector="metadata.name=watched",
            timeout_seconds=30,
        ):
            events.append(event)
            if event.type == "DELETED":
                return

    watcher = threading.Thread(target=collect)
    watcher.start()
    cm: Object = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "watched", "namespace": namespace},
        "data": {"v": "1"},
    }
    kube.apply(cm, field_manager="test")
    cm["data"] = {"v": "2"}
    kube.apply(cm, field_manager="test")
    kube.delete("v1", "ConfigMap", "watched", namespace, propagation="Background")
    watcher.join(timeout=40)
    assert not watcher.is_alive()
    assert [e.type for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    assert events[1].object["data"] == {"v": "2"}
