"""Canaries through a traffic router on the real control plane (the Gateway API's own CRDs,
kwok running the Pods), and analyses by HTTP checks in the background.

The route's weights and the replicas of both sides are checked at every step: the canary
runs its weight's share, the stable side keeps every replica, and promotion and abort give
the stable Service all the traffic.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from hakobu.cli.main import main
from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import NotFound
from hakobu.cluster.kubeconfig import load
from hakobu.localcluster.controlplane import ClusterInfo
from hakobu.localcluster.gatewayapi import gateway_api_crds
from hakobu.releases.canary import providers
from hakobu.releases.canary.engine import Rollout, advance, status
from tests.integration.checkserver import CheckServer, check_server
from tests.integration.controllerkit import wait_until

CRD_API = "apiextensions.k8s.io/v1"
ROUTE_API = "gateway.networking.k8s.io/v1"
OpenShop = Callable[[dict[str, Any], dict[str, Any]], "Harness"]
STEPS = [{"setWeight": 20}, {"pause": {}}, {"setWeight": 60}, {"pause": {}}]


@pytest.fixture(scope="module")
def gateway_api(local_cluster: ClusterInfo) -> None:
    with KubeClient(load(Path(local_cluster.kubeconfig))) as kube:
        names = []
        for crd in gateway_api_crds():
            kube.apply(crd, field_manager="test", force=True)
            names.append(crd["metadata"]["name"])

        def established() -> bool:
            for name in names:
                conditions = (
                    kube.get(CRD_API, "CustomResourceDefinition", name).get("status") or {}
                ).get("conditions") or []
                if not any(
                    c["type"] == "Established" and c["status"] == "True" for c in conditions
                ):
                    return False
            return True

        wait_until("the Gateway API CRDs are established", established, 60)


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(root), "-c", "user.email=ci@example.test", "-c", "user.name=CI", *args],
        check=True,
        capture_output=True,
    )


def deployment(tag: str, rollout: dict[str, Any]) -> dict[str, Any]:
    labels = {"app": "web"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "annotations": {"hakobu.dev/rollout": json.dumps(rollout)}},
        "spec": {
            "replicas": 5,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "web", "image": f"example.test/shop/web:{tag}"}]},
            },
        },
    }


SERVICE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "web"},
    "spec": {
        "selector": {"app": "web"},
        "ports": [{"name": "http", "port": 80, "targetPort": 8080}],
    },
}
HTTP_ROUTE = {
    "apiVersion": ROUTE_API,
    "kind": "HTTPRoute",
    "metadata": {"name": "web"},
    "spec": {
        "parentRefs": [{"name": "shop"}],
        "rules": [{"backendRefs": [{"name": "web", "port": 80}]}],
    },
}
INGRESS = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "Ingress",
    "metadata": {"name": "web"},
    "spec": {
        "ingressClassName": "nginx",
        "rules": [
            {
                "host": "web.example.test",
                "http": {
                    "paths": [
                        {
                            "path": "/",
                            "pathType": "Prefix",
                            "backend": {"service": {"name": "web", "port": {"number": 80}}},
                        }
                    ]
                },
            }
        ],
    },
}


class Shop:
    """A kustomize app ``web``: its Deployment declares the canary, beside a Service and
    the route the canary steers."""

    def __init__(
        self,
        root: Path,
        namespace: str,
        kubeconfig: str,
        route: dict[str, Any],
        rollout: dict[str, Any],
    ) -> None:
        self.root, self.namespace, self.kubeconfig = root, namespace, kubeconfig
        self.route, self.rollout = route, rollout
        (root / "apps" / "web").mkdir(parents=True)
        (root / "hakobu.yaml").write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "hakobu.dev/v1alpha1",
                    "kind": "Project",
                    "name": f"shop-{namespace[-6:]}",
                    "apps": "apps",
                    "output": "generated",
                    "environments": {"production": {"namespace": namespace}},
                }
            )
        )
        git(root, "init", "-q", "-b", "main")

    def release(self, tag: str) -> None:
        app = self.root / "apps" / "web"
        files = {
            "deployment.yaml": deployment(tag, self.rollout),
            "service.yaml": SERVICE,
            "route.yaml": self.route,
        }
        for name, obj in files.items():
            (app / name).write_text(yaml.safe_dump(obj))
        (app / "kustomization.yaml").write_text(yaml.safe_dump({"resources": sorted(files)}))
        assert main(["render", "-C", str(self.root)]) == 0
        git(self.root, "add", "-A")
        git(self.root, "commit", "-qm", tag)
        assert self.sync() == 0

    def sync(self) -> int:
        return main(["sync", "production", "-C", str(self.root), "--kubeconfig", self.kubeconfig])


class Harness:
    def __init__(self, kube: KubeClient, shop: Shop) -> None:
        self.kube, self.shop, self.namespace = kube, shop, shop.namespace
        self.client = httpx.Client()
        self.now = time.time()

    def step(self) -> Rollout:
        # Time runs two seconds per pass, so pauses and intervals pass without sleeping.
        self.now += 2
        return advance(
            self.kube, self.namespace, "web", self.now, lambda a: providers.measure(self.client, a)
        )

    def until(self, phase: str, step: int | None = None) -> Rollout:
        deadline = time.monotonic() + 90
        while True:
            rollout = self.step()
            state = rollout.state
            if state is not None and state.phase == phase and step in (None, state.step):
                return rollout
            assert time.monotonic() < deadline, f"not {phase} within 90s: {rollout}"
            time.sleep(0.3)

    def get(self, api_version: str, kind: str, name: str) -> dict[str, Any] | None:
        try:
            return self.kube.get(api_version, kind, name, self.namespace)
        except NotFound:
            return None

    def image(self, name: str = "web") -> str:
        live = self.get("apps/v1", "Deployment", name)
        assert live is not None
        return str(live["spec"]["template"]["spec"]["containers"][0]["image"])

    def stable_selector(self) -> dict[str, str]:
        service = self.get("v1", "Service", "web")
        assert service is not None
        return dict(service["spec"]["selector"])

    def stable_hash(self) -> str:
        [current] = [
            rs
            for rs in self.kube.list("apps/v1", "ReplicaSet", self.namespace).items
            if rs["metadata"]["ownerReferences"][0]["name"] == "web"
            and rs["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":1.0")
        ]
        return str(current["metadata"]["labels"]["pod-template-hash"])

    def route_weights(self) -> dict[str, int]:
        route = self.get(ROUTE_API, "HTTPRoute", "web")
        assert route is not None
        [rule] = route["spec"]["rules"]
        return {ref["name"]: ref.get("weight", 1) for ref in rule["backendRefs"]}

    def canary_ingress(self) -> tuple[dict[str, str], set[str]]:
        ingress = self.get("networking.k8s.io/v1", "Ingress", "web-canary")
        assert ingress is not None
        annotations = ingress["metadata"]["annotations"]
        backends = {
            path["backend"]["service"]["name"]
            for rule in ingress["spec"]["rules"]
            for path in rule["http"]["paths"]
        }
        return annotations, backends

    def cli(self, *words: str) -> int:
        return main(
            [
                *words,
                "production",
                "web",
                "-C",
                str(self.shop.root),
                "--kubeconfig",
                self.shop.kubeconfig,
            ]
        )

    def promote(self) -> None:
        assert self.cli("rollout", "promote") == 0


@pytest.fixture
def open_shop(
    kube: KubeClient, namespace: str, local_cluster: ClusterInfo, tmp_path: Path
) -> Iterator[Callable[[dict[str, Any], dict[str, Any]], Harness]]:
    """Opens the shop at 1.0 with the given route object and rollout declaration."""
    opened: list[Harness] = []

    def open_shop(route: dict[str, Any], rollout: dict[str, Any]) -> Harness:
        shop = Shop(tmp_path / "shop", namespace, local_cluster.kubeconfig, route, rollout)
        shop.release("1.0")
        opened.append(Harness(kube, shop))
        return opened[-1]

    yield open_shop
    for harness in opened:
        harness.client.close()


def gateway_rollout(**extra: Any) -> dict[str, Any]:
    plugins = {"argoproj-labs/gatewayAPI": {"httpRoute": "web"}}
    return {"canary": {"steps": STEPS, "trafficRouting": {"plugins": plugins}, **extra}}


@pytest.mark.usefixtures("gateway_api")
def test_http_route_weights_follow_every_step(
    open_shop: OpenShop, capsys: pytest.CaptureFixture[str]
) -> None:
    harness = open_shop(HTTP_ROUTE, gateway_rollout())
    assert harness.route_weights() == {"web": 1}
    harness.shop.release("1.1")

    # setWeight 20 of 5 replicas: the canary runs 1, the stable side keeps all 5, and the
    # route sends 20% to web-canary once the canary's pod is ready.
    paused = harness.until("Paused", step=1)
    assert (paused.weight, paused.canary_replicas, paused.stable_replicas) == (20, 1, 5)
    assert harness.route_weights() == {"web": 80, "web-canary": 20}
    service = harness.get("v1", "Service", "web-canary")
    assert service is not None
    assert service["spec"]["selector"] == {"app": "web", "hakobu.dev/canary": "true"}
    assert harness.image("web-canary") == "example.test/shop/web:1.1"
    # The stable Service selects the stable pods only (theirs is 1.0's ReplicaSet's hash).
    assert harness.stable_selector() == {"app": "web", "pod-template-hash": harness.stable_hash()}

    # A sync meanwhile (the controller's, or a person's) holds what the rollout routed.
    assert harness.shop.sync() == 0
    assert harness.route_weights() == {"web": 80, "web-canary": 20}
    capsys.readouterr()
    main(
        [
            "status",
            "production",
            "-C",
            str(harness.shop.root),
            "--kubeconfig",
            harness.shop.kubeconfig,
        ]
    )
    # The stable Service, pinned by the rollout, is not drifted: the sync holds the pin.
    assert f"Service/{harness.namespace}/web (update)" not in capsys.readouterr().out
    assert harness.stable_selector() == {"app": "web", "pod-template-hash": harness.stable_hash()}

    harness.promote()
    paused = harness.until("Paused", step=3)
    assert (paused.weight, paused.canary_replicas, paused.stable_replicas) == (60, 3, 5)
    assert harness.route_weights() == {"web": 40, "web-canary": 60}

    # Promoted: the stable Deployment runs 1.1 and takes all the traffic back.
    harness.promote()
    done = harness.until("Healthy")
    assert (done.stable_replicas, done.canary_replicas) == (5, 0)
    assert harness.image() == "example.test/shop/web:1.1"
    assert harness.route_weights() == {"web": 100, "web-canary": 0}
    assert harness.stable_selector() == {"app": "web"}
    # The next sync puts the route back as git has it, without a conflict.
    assert harness.shop.sync() == 0
    assert harness.route_weights() == {"web": 1}


@pytest.mark.usefixtures("gateway_api")
def test_an_abort_sends_the_route_back_to_stable(open_shop: OpenShop) -> None:
    harness = open_shop(HTTP_ROUTE, gateway_rollout())
    harness.shop.release("1.1")
    harness.until("Paused", step=1)
    assert harness.route_weights() == {"web": 80, "web-canary": 20}
    assert harness.cli("rollout", "abort") == 1
    assert harness.route_weights() == {"web": 100, "web-canary": 0}
    assert harness.stable_selector() == {"app": "web"}
    wait_until(
        "the canary is gone", lambda: harness.get("apps/v1", "Deployment", "web-canary") is None
    )
    assert harness.image() == "example.test/shop/web:1.0"


def test_nginx_canary_ingress_weight_follows_every_step(open_shop: OpenShop) -> None:
    rollout = {"canary": {"steps": STEPS, "trafficRouting": {"nginx": {"stableIngress": "web"}}}}
    harness = open_shop(INGRESS, rollout)
    harness.shop.release("1.1")

    paused = harness.until("Paused", step=1)
    assert (paused.canary_replicas, paused.stable_replicas) == (1, 5)
    annotations, backends = harness.canary_ingress()
    assert annotations["nginx.ingress.kubernetes.io/canary"] == "true"
    assert annotations["nginx.ingress.kubernetes.io/canary-weight"] == "20"
    assert backends == {"web-canary"}
    # The stable Ingress is as git has it.
    stable = harness.get("networking.k8s.io/v1", "Ingress", "web")
    assert stable is not None
    assert "nginx.ingress.kubernetes.io/canary" not in (stable["metadata"].get("annotations") or {})

    harness.promote()
    harness.until("Paused", step=3)
    assert harness.canary_ingress()[0]["nginx.ingress.kubernetes.io/canary-weight"] == "60"

    harness.promote()
    harness.until("Healthy")
    assert harness.canary_ingress()[0]["nginx.ingress.kubernetes.io/canary-weight"] == "0"
    assert harness.image() == "example.test/shop/web:1.1"


@pytest.fixture
def server() -> Iterator[CheckServer]:
    with check_server() as served:
        yield served


@pytest.mark.usefixtures("gateway_api")
def test_a_failing_background_check_aborts_mid_rollout(
    open_shop: OpenShop, server: CheckServer, capsys: pytest.CaptureFixture[str]
) -> None:
    check = {
        "web": {"url": server.url, "headers": [{"key": "Authorization", "value": "Bearer s3cret"}]},
        "interval": "1s",
    }
    rollout = gateway_rollout(analysis={"templates": [check], "startingStep": 1})
    harness = open_shop(HTTP_ROUTE, rollout)
    harness.shop.release("1.1")

    # 2xx passes: the rollout goes on past step 1, measured while it pauses.
    harness.until("Paused", step=1)
    harness.promote()
    harness.until("Paused", step=3)
    assert server.seen and server.seen[-1]["Authorization"] == "Bearer s3cret"
    assert harness.route_weights() == {"web": 40, "web-canary": 60}

    # The check starts failing while the rollout waits at step 3: the next measurement
    # aborts it, the route goes back to stable and the canary away.
    # `hakobu rollout run` drives it on from here, measuring in real time; it returns at a
    # pause for a person, so it starts once the next background measurement is due.
    server.status = 500
    [last] = status(harness.kube, harness.namespace, "web").background
    wait_until("a background measurement is due", lambda: time.time() >= last.at + 1, 5)
    assert harness.cli("rollout", "run") == 1
    aborted = status(harness.kube, harness.namespace, "web")
    assert aborted.state is not None and aborted.state.step == 3
    assert aborted.state.message == (
        f"aborted: background analysis Failed: GET {server.url} answered HTTP 500"
    )
    assert "s3cret" not in aborted.state.message
    assert harness.route_weights() == {"web": 100, "web-canary": 0}
    assert (aborted.weight, aborted.stable_replicas) == (0, 5)
    wait_until(
        "the canary is gone", lambda: harness.get("apps/v1", "Deployment", "web-canary") is None
    )
    assert harness.image() == "example.test/shop/web:1.0"

    capsys.readouterr()
    assert harness.cli("rollout", "status") == 1
    out = capsys.readouterr().out
    assert f"  background measurement Failed: GET {server.url} answered HTTP 500\n" in out + "\n"


@pytest.mark.usefixtures("gateway_api")
def test_an_inconclusive_background_check_pauses_until_promoted(
    open_shop: OpenShop, server: CheckServer
) -> None:
    check = {
        "web": {"url": server.url, "jsonPath": "{$.ratio}"},
        "successCondition": "result[0] >= 0.95",
        "failureCondition": "result[0] < 0.8",
        "interval": "1s",
    }
    server.body = {"ratio": 0.9}
    harness = open_shop(HTTP_ROUTE, gateway_rollout(analysis={"templates": [check]}))
    harness.shop.release("1.1")

    # Neither condition holds: the rollout pauses where it is, the canary keeps its share.
    waiting = harness.until("Inconclusive")
    assert waiting.state is not None and waiting.state.step == 0
    assert waiting.state.message == (
        f"background analysis Inconclusive: GET {server.url} answered HTTP 200: [0.9] does "
        "not meet successCondition 'result[0] >= 0.95'"
    )
    assert harness.until("Inconclusive").state == waiting.state

    # Promoted past it, with a good value now: measured afresh, the rollout goes on.
    server.body = {"ratio": 0.99}
    harness.promote()
    paused = harness.until("Paused", step=1)
    assert [m.values for m in paused.background] == [(0.99,)]
    assert harness.route_weights() == {"web": 80, "web-canary": 20}
