"""Webhook secrets read from the Secret a Delivery names, kept for a while, never guessed."""

from __future__ import annotations

import base64

from hakobu.controller.delivery import DeliveryRef
from hakobu.controller.webhooks import ClusterSecrets
from tests.fakes.kube import FakeKube

SHOP = DeliveryRef("shop", "production")


def kube_with(data: dict[str, str]) -> FakeKube:
    kube = FakeKube()
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "git", "namespace": "shop"},
            "data": data,
        }
    )
    return kube


def encoded(value: bytes) -> str:
    return base64.b64encode(value).decode()


def test_the_webhook_secret_key_is_read_byte_for_byte() -> None:
    kube = kube_with({"webhookSecret": encoded(b"s3cret\n"), "password": encoded(b"pw")})
    assert ClusterSecrets(kube)(SHOP, "git") == b"s3cret\n"


def test_no_secret_missing_secret_missing_key_or_bad_data_give_none() -> None:
    kube = kube_with({"password": encoded(b"pw")})
    secrets = ClusterSecrets(kube)
    assert secrets(SHOP, None) is None
    assert secrets(SHOP, "absent") is None
    assert secrets(SHOP, "git") is None
    assert ClusterSecrets(kube_with({"webhookSecret": "not base64!"}))(SHOP, "git") is None


def test_an_answer_is_kept_for_its_time_then_read_again() -> None:
    kube = kube_with({"webhookSecret": encoded(b"old")})
    now = [0.0]
    secrets = ClusterSecrets(kube, ttl=30, clock=lambda: now[0])
    assert secrets(SHOP, "git") == b"old"
    live = kube.get("v1", "Secret", "git", "shop")
    kube.apply(
        {**live, "data": {"webhookSecret": encoded(b"new")}}, field_manager="test", force=True
    )
    now[0] = 29
    # Still the value read at 0, though the Secret changed: it was not read again.
    assert secrets(SHOP, "git") == b"old"
    now[0] = 30
    assert secrets(SHOP, "git") == b"new"
