"""``hakobu delivery`` against a real API server: the CRD's schema, status subresource and
printer columns, and what a person is told."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from hakobu.cli.main import main
from hakobu.cli.output import Progress
from hakobu.cluster.client import KubeClient
from hakobu.controller.crd import delivery_crd
from hakobu.controller.delivery import RECONCILE_REQUESTED_AT
from hakobu.localcluster.controlplane import ClusterInfo
from hakobu.localcluster.gobuild import ensure_tool
from hakobu.localcluster.toolchain import KUBERNETES

pytestmark = pytest.mark.cluster

API = "hakobu.dev/v1alpha1"


def wait_served(kube: KubeClient, served: bool) -> None:
    deadline = time.monotonic() + 30
    while ((API, "Delivery") in kube.refresh_discovery()) != served:
        assert time.monotonic() < deadline, f"Deliveries still {'not ' if served else ''}served"
        time.sleep(0.2)


@pytest.fixture
def crd(kube: KubeClient) -> Iterator[None]:
    kube.apply(delivery_crd(), field_manager="hakobu-install")
    wait_served(kube, True)
    yield


def hakobu(capsys: pytest.CaptureFixture[str], kubeconfig: str, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([*args, "--kubeconfig", kubeconfig])
    out, err = capsys.readouterr()
    return code, out, err


def kubectl(info: ClusterInfo, *args: str) -> str:
    binary = ensure_tool(KUBERNETES, Progress(quiet=True)).binary("kubectl")
    return subprocess.run(
        [str(binary), f"--kubeconfig={info.kubeconfig}", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def rows(table: str) -> list[list[str]]:
    return [line.split() for line in table.strip().splitlines()]


@pytest.mark.usefixtures("crd")
def test_create_list_suspend_resume_reconcile(
    kube: KubeClient, namespace: str, local_cluster: ClusterInfo, capsys: pytest.CaptureFixture[str]
) -> None:
    config = local_cluster.kubeconfig
    code, out, _ = hakobu(
        capsys,
        config,
        *("delivery", "create", "shop", "--repo", "https://git.test/shop.git", "--env", "prod"),
        *("--interval", "1m30s", "--prune", "--secret", "shop-git", "--auto-rollback", "10m"),
        *("--branch", "release", "--path", "deploy", "-n", namespace),
    )
    assert code == 0 and out == f"delivery {namespace}/shop created\n"
    stored = kube.get(API, "Delivery", "shop", namespace)
    assert stored["spec"] == {
        "repository": {"url": "https://git.test/shop.git", "branch": "release", "path": "deploy"},
        "environment": "prod",
        "interval": "1m30s",
        "prune": True,
        "suspend": False,  # the CRD's default, filled in by the API server
        "secretRef": {"name": "shop-git"},
        "autoRollback": {"window": "10m"},
    }

    code, _, err = hakobu(
        capsys,
        config,
        *("delivery", "create", "shop", "--repo", "u", "--env", "prod", "-n", namespace),
    )
    assert code == 1 and "already exists" in err

    # What the controller would report, through the status subresource.
    kube.request(
        "PATCH",
        f"/apis/{API}/namespaces/{namespace}/deliveries/shop/status",
        body={
            "status": {
                "revision": "abc1234",
                "sync": "OutOfSync",
                "health": "Degraded",
                "conditions": [
                    condition("Ready", "False", "clone failed"),
                    condition("Stalled", "True", "secret shop-git not found"),
                ],
            }
        },
        content_type="application/merge-patch+json",
    )
    code, out, _ = hakobu(capsys, config, "delivery", "list", "-n", namespace)
    header, row = out.strip().splitlines()
    assert header.split() == [
        "NAME", "ENV", "REVISION", "SYNC", "HEALTH", "READY", "AGE", "MESSAGE"
    ]  # fmt: skip
    assert row.split()[:6] == ["shop", "prod", "abc1234", "OutOfSync", "Degraded", "False"]
    assert row.endswith("secret shop-git not found")

    printed = rows(kubectl(local_cluster, "get", "deliveries", "-n", namespace))
    assert printed[0] == ["NAME", "ENV", "REVISION", "SYNC", "HEALTH", "READY", "AGE"]
    assert printed[1][:5] == ["shop", "prod", "abc1234", "OutOfSync", "Degraded"]
    assert rows(kubectl(local_cluster, "get", "dlv", "-n", namespace, "-o", "name")) == [
        ["delivery.hakobu.dev/shop"]
    ]

    code, out, _ = hakobu(capsys, config, "delivery", "list", "-A", "-o", "json")
    listed = [d for d in json.loads(out) if d["namespace"] == namespace]
    assert [(d["name"], d["ready"], d["message"]) for d in listed] == [
        ("shop", "False", "secret shop-git not found")
    ]
    code, out, _ = hakobu(capsys, config, "delivery", "list", "-A")
    assert out.splitlines()[0].split()[:2] == ["NAMESPACE", "NAME"]
    assert [namespace, "shop", "prod"] in [r[:3] for r in rows(out)]

    assert hakobu(capsys, config, "delivery", "suspend", "shop", "-n", namespace)[0] == 0
    assert kube.get(API, "Delivery", "shop", namespace)["spec"]["suspend"] is True
    _, out, _ = hakobu(capsys, config, "delivery", "list", "-n", namespace)
    assert rows(out)[1][3] == "Suspended"
    code, out, _ = hakobu(capsys, config, "delivery", "resume", "shop", "-n", namespace)
    assert (code, out) == (0, f"delivery {namespace}/shop resumed\n")
    assert kube.get(API, "Delivery", "shop", namespace)["spec"]["suspend"] is False

    before = datetime.now(UTC)
    code, out, _ = hakobu(capsys, config, "delivery", "reconcile", "shop", "-n", namespace)
    assert code == 0 and out.startswith(f"annotated delivery {namespace}/shop with ")
    first = requested_at(kube, namespace)
    assert before <= datetime.fromisoformat(first) <= datetime.now(UTC)
    assert first in out
    hakobu(capsys, config, "delivery", "reconcile", "shop", "-n", namespace)
    assert requested_at(kube, namespace) > first


def condition(kind: str, status: str, message: str) -> dict[str, Any]:
    return {
        "type": kind,
        "status": status,
        "reason": "Test",
        "message": message,
        "lastTransitionTime": "2026-01-01T00:00:00Z",
    }


def requested_at(kube: KubeClient, namespace: str) -> str:
    annotations = kube.get(API, "Delivery", "shop", namespace)["metadata"]["annotations"]
    value: str = annotations[RECONCILE_REQUESTED_AT]
    return value


@pytest.mark.usefixtures("crd")
def test_unknown_delivery_and_bad_flags(
    namespace: str, local_cluster: ClusterInfo, capsys: pytest.CaptureFixture[str]
) -> None:
    config = local_cluster.kubeconfig
    for command in ("reconcile", "suspend", "resume"):
        code, _, err = hakobu(capsys, config, "delivery", command, "gone", "-n", namespace)
        assert code == 1
        assert f'Delivery "gone" not found in namespace "{namespace}"' in err
    with pytest.raises(SystemExit) as exited:
        hakobu(
            capsys,
            config,
            "delivery",
            "create",
            "x",
            "--repo",
            "u",
            "--env",
            "e",
            "--interval",
            "5",
        )
    assert exited.value.code == 2
    code, _, err = hakobu(
        capsys,
        config,
        "delivery",
        "create",
        "Bad_Name",
        "--repo",
        "u",
        "--env",
        "e",
        "-n",
        namespace,
    )
    assert code == 2 and "metadata.name" in err


@pytest.mark.usefixtures("crd")
def test_the_namespace_defaults_to_the_kubeconfig_context(
    namespace: str, local_cluster: ClusterInfo, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = yaml.safe_load(Path(local_cluster.kubeconfig).read_text())
    for context in config["contexts"]:
        context["context"]["namespace"] = namespace
    scoped = tmp_path / "kubeconfig"
    scoped.write_text(yaml.safe_dump(config))
    code, out, _ = hakobu(
        capsys, str(scoped), "delivery", "create", "web", "--repo", "u", "--env", "prod"
    )
    assert (code, out) == (0, f"delivery {namespace}/web created\n")
    _, out, _ = hakobu(capsys, str(scoped), "delivery", "list")
    assert [r[0] for r in rows(out)] == ["NAME", "web"]
    _, out, _ = hakobu(
        capsys, str(scoped), "delivery", "create", "w2", "--repo", "u", "--env", "e", "--dry-run"
    )
    assert yaml.safe_load(out)["metadata"] == {"name": "w2", "namespace": namespace}


@pytest.mark.usefixtures("crd")
def test_without_the_crd_the_user_is_told_to_install(
    kube: KubeClient, namespace: str, local_cluster: ClusterInfo, capsys: pytest.CaptureFixture[str]
) -> None:
    kube.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", "deliveries.hakobu.dev")
    wait_served(kube, False)
    config = local_cluster.kubeconfig
    try:
        for args in (
            ("list", "-A"),
            ("reconcile", "shop", "-n", namespace),
            ("create", "shop", "--repo", "u", "--env", "e", "-n", namespace),
        ):
            code, _, err = hakobu(capsys, config, "delivery", *args)
            assert code == 1, args
            assert "Delivery CRD is not installed" in err and "hakobu install" in err, args
    finally:
        kube.apply(delivery_crd(), field_manager="hakobu-install")
        wait_served(kube, True)
