"""A signed push, posted over HTTP, annotates exactly the Delivery that follows the pushed
repository and branch on a real API server; a bad signature or a replay annotates nothing."""

from __future__ import annotations

import base64
import time

import httpx
import pytest

from hakobu.cluster.client import KubeClient
from hakobu.controller.crd import delivery_crd
from hakobu.controller.deliveries import (
    create_delivery,
    delivery_object,
    list_deliveries,
    request_reconcile,
)
from hakobu.controller.delivery import (
    API_VERSION,
    KIND,
    RECONCILE_REQUESTED_AT,
    Delivery,
    DeliveryRef,
    parse,
)
from hakobu.controller.webhooks import ClusterSecrets, WebhookReceiver
from tests.unit.controller import webhook_payloads as hooks
from tests.unit.controller.test_webhooks_http import serving

SECRET = b"integration-webhook-secret"

pytestmark = pytest.mark.cluster


def install_delivery_crd(kube: KubeClient) -> None:
    crd = delivery_crd()
    kube.apply(crd, field_manager="hakobu-tests", force=True)
    deadline = time.monotonic() + 60
    while True:
        live = kube.get(
            "apiextensions.k8s.io/v1", "CustomResourceDefinition", crd["metadata"]["name"]
        )
        conditions = (live.get("status") or {}).get("conditions") or []
        if any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
            break
        assert time.monotonic() < deadline, "the Delivery CRD was not established"
        time.sleep(0.1)
    kube.refresh_discovery()


def annotations_of(kube: KubeClient, namespace: str, name: str) -> dict[str, str]:
    live = kube.get(API_VERSION, KIND, name, namespace)
    return dict(live["metadata"].get("annotations") or {})


def test_a_signed_github_push_annotates_the_matching_delivery(
    kube: KubeClient, namespace: str
) -> None:
    install_delivery_crd(kube)
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "deploy-git", "namespace": namespace},
            "data": {"webhookSecret": base64.b64encode(SECRET).decode()},
        }
    )
    for name, repo in [("shop", "shop-deploy"), ("billing", "billing-deploy")]:
        create_delivery(
            kube,
            delivery_object(
                DeliveryRef(namespace, name),
                url=f"git@github.com:acme/{repo}.git",
                environment="production",
                secret="deploy-git",
            ),
        )

    observed: list[tuple[str, str]] = []

    def deliveries() -> list[Delivery]:
        return [parse(obj) for obj in list_deliveries(kube, namespace)]

    receiver = WebhookReceiver(
        deliveries,
        ClusterSecrets(kube),
        lambda ref: request_reconcile(kube, ref),
        observe=lambda provider, result: observed.append((provider, result)),
    )
    with serving(receiver) as base:
        forged = hooks.github(b"a guess")
        refused = httpx.post(f"{base}/hooks/github", headers=forged.headers, content=forged.body)
        assert refused.status_code == 401
        assert RECONCILE_REQUESTED_AT not in annotations_of(kube, namespace, "shop")

        hook = hooks.github(SECRET)
        response = httpx.post(f"{base}/hooks/github", headers=hook.headers, content=hook.body)
        assert response.status_code == 202, response.text
        assert response.json()["requested"] == [f"{namespace}/shop"]
        requested_at = annotations_of(kube, namespace, "shop").get(RECONCILE_REQUESTED_AT)
        assert requested_at is not None and requested_at.endswith("Z")

        replayed = httpx.post(f"{base}/hooks/github", headers=hook.headers, content=hook.body)
        assert replayed.status_code == 409

    assert annotations_of(kube, namespace, "shop").get(RECONCILE_REQUESTED_AT) == requested_at
    assert RECONCILE_REQUESTED_AT not in annotations_of(kube, namespace, "billing")
    assert observed == [("github", "unauthorized"), ("github", "requested"), ("github", "replayed")]
