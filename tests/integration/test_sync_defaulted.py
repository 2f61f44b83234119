"""Objects are Synced right after a sync, on the real control plane: a custom resource
whose atomic lists the server fills in by default (the Gateway API's HTTPRoute), and a
Deployment whose canary holds a new version, with and without a route.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from hakobu.cli.main import main
from hakobu.cluster.client import KubeClient
from hakobu.localcluster.controlplane import ClusterInfo
from tests.integration import test_canary_rollout
from tests.integration.test_canary_traffic import (
    HTTP_ROUTE,
    ROUTE_API,
    Shop,
    gateway_api,  # noqa: F401 (the fixture the tests name)
    gateway_rollout,
    git,
)


def status_of(root: Path, kubeconfig: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    main(["status", "production", "-C", str(root), "--kubeconfig", kubeconfig, "-o", "json"])
    apps: list[dict[str, Any]] = json.loads(capsys.readouterr().out)["apps"]
    return {app["app"]: app for app in apps}


def diff_code(root: Path, kubeconfig: str) -> int:
    return main(["diff", "production", "-C", str(root), "--kubeconfig", kubeconfig])


@pytest.mark.usefixtures("gateway_api")
def test_a_route_is_synced_after_its_sync(
    kube: KubeClient,
    namespace: str,
    local_cluster: ClusterInfo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = tmp_path / "routes"
    app = root / "apps" / "edge"
    app.mkdir(parents=True)
    (root / "hakobu.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "hakobu.dev/v1alpha1",
                "kind": "Project",
                "name": f"routes-{namespace[-6:]}",
                "apps": "apps",
                "output": "generated",
                "environments": {"production": {"namespace": namespace}},
            }
        )
    )
    (app / "route.yaml").write_text(yaml.safe_dump(HTTP_ROUTE))
    (app / "kustomization.yaml").write_text(yaml.safe_dump({"resources": ["route.yaml"]}))
    git(root, "init", "-q", "-b", "main")
    assert main(["render", "-C", str(root)]) == 0
    git(root, "add", "-A")
    git(root, "commit", "-qm", "edge")
    kubeconfig = local_cluster.kubeconfig
    assert main(["sync", "production", "-C", str(root), "--kubeconfig", kubeconfig]) == 0

    # The server filled in the route's lists: the comparison must not count that.
    live = kube.get(ROUTE_API, "HTTPRoute", "web", namespace)
    assert live["spec"]["parentRefs"][0]["kind"] == "Gateway"
    assert live["spec"]["rules"][0]["backendRefs"][0]["weight"] == 1
    edge = status_of(root, kubeconfig, capsys)["edge"]
    assert (edge["sync"], edge["differing"]) == ("Synced", [])
    assert diff_code(root, kubeconfig) == 0

    # A change inside the atomic list is still one.
    changed = json.loads(json.dumps(HTTP_ROUTE))
    changed["spec"]["rules"][0]["backendRefs"][0]["port"] = 8080
    (app / "route.yaml").write_text(yaml.safe_dump(changed))
    assert main(["render", "-C", str(root)]) == 0
    git(root, "commit", "-qam", "port")
    edge = status_of(root, kubeconfig, capsys)["edge"]
    assert edge["sync"] == "OutOfSync"
    assert edge["differing"] == [f"HTTPRoute/{namespace}/web (update)"]
    assert diff_code(root, kubeconfig) == 1


@pytest.mark.usefixtures("gateway_api")
def test_a_held_canary_and_its_route_are_synced_after_the_sync(
    namespace: str,
    local_cluster: ClusterInfo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shop = Shop(
        tmp_path / "shop", namespace, local_cluster.kubeconfig, HTTP_ROUTE, gateway_rollout()
    )
    shop.release("1.0")
    web = status_of(shop.root, shop.kubeconfig, capsys)["web"]
    assert (web["sync"], web["differing"]) == ("Synced", [])

    # 1.1 is held by the rollout, which has not taken a step: git's version is applied.
    shop.release("1.1")
    web = status_of(shop.root, shop.kubeconfig, capsys)["web"]
    assert (web["sync"], web["differing"]) == ("Synced", [])
    assert diff_code(shop.root, shop.kubeconfig) == 0


def test_a_held_canary_is_synced_before_the_rollout_takes_a_step(
    namespace: str,
    local_cluster: ClusterInfo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # No step is taken, so the analysis's Prometheus is never asked.
    shop = test_canary_rollout.Shop(
        tmp_path / "shop", namespace, local_cluster.kubeconfig, "http://127.0.0.1:9"
    )
    shop.release("1.0")
    shop.release("1.1")
    web = status_of(shop.root, shop.kubeconfig, capsys)["web"]
    assert (web["sync"], web["differing"]) == ("Synced", [])
    assert diff_code(shop.root, shop.kubeconfig) == 0
