"""A target's Secret: read through KubeApi, checked item by item, never quoted."""

from __future__ import annotations

import base64

import pytest

from hakobu.cluster.errors import Forbidden, ServerError
from hakobu.controller.notify.credentials import (
    Endpoint,
    Smtp,
    Unavailable,
    Unusable,
    kube_secrets,
    settings,
)
from hakobu.model.notifications import Provider, Target
from tests.fakes.kube import FakeKube
from tests.unit.controller.notify.test_notifier import settings as section
from tests.unit.controller.notify.test_notifier import target


def one(provider: str) -> Target:
    return section(target("t", provider)).targets[0]


def secret_store() -> FakeKube:
    kube = FakeKube()
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    data = {
        "url": base64.b64encode(b"https://chat.example/hook/s3cr3t").decode(),
        "key": base64.b64encode(b"k3y").decode(),
    }
    kube.create(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "t", "namespace": "shop"}}
        | {"data": data}
    )
    return kube


def test_a_secret_is_read_and_decoded() -> None:
    read = kube_secrets(secret_store())
    assert read("shop", "t") == {"url": b"https://chat.example/hook/s3cr3t", "key": b"k3y"}
    assert settings(one("webhook"), "shop", read("shop", "t")) == Endpoint(
        "https://chat.example/hook/s3cr3t", b"k3y"
    )
    assert settings(one("slack"), "shop", read("shop", "t")) == Endpoint(
        "https://chat.example/hook/s3cr3t"
    )


def test_what_reading_can_fail_with() -> None:
    kube = secret_store()
    read = kube_secrets(kube)
    with pytest.raises(Unusable, match=r"^Secret shop/gone does not exist$"):
        read("shop", "gone")
    kube.fail("get", "Secret", "t", Forbidden(403, "Forbidden", "no", {}))
    with pytest.raises(Unusable, match=r"may not be read by the controller"):
        read("shop", "t")
    kube.fail("get", "Secret", "t", ServerError(500, "InternalError", "etcd", {}))
    with pytest.raises(Unavailable, match=r"could not be read \(ServerError\)"):
        read("shop", "t")


@pytest.mark.parametrize(
    ("provider", "items", "expected"),
    [
        ("slack", {}, "Secret shop/t: item 'url' is missing"),
        ("slack", {"url": b"ftp://x/y"}, "item 'url' is not an http(s) URL"),
        ("slack", {"url": b"\xff"}, "item 'url' is not UTF-8 text"),
        ("webhook", {"url": b"https://x/y"}, "item 'key' (the HMAC key) is missing or empty"),
        ("email", {"host": b"mx"}, "item 'from' is missing"),
        ("email", {"host": b"mx", "port": b"99999"}, "item 'port' is not a port number"),
        ("email", {"host": b"mx", "from": b"nobody"}, "item 'from' holds something that is not"),
        (
            "email",
            {"host": b"mx", "from": b"a@b.c", "to": b"d@e.f", "starttls": b"maybe"},
            "item 'starttls' must be true or false",
        ),
        (
            "email",
            {"host": b"mx", "from": b"a@b.c", "to": b"d@e.f", "username": b"u"},
            "items 'username' and 'password' go together",
        ),
    ],
)
def test_a_secret_that_does_not_say_how_to_send(
    provider: str, items: dict[str, bytes], expected: str
) -> None:
    with pytest.raises(Unusable) as raised:
        settings(one(provider), "shop", items)
    assert expected in str(raised.value)
    for value in items.values():
        if len(value) > 3:
            assert value.decode("utf-8", "replace") not in str(raised.value)


def test_mail_settings_and_what_a_log_is_scrubbed_of() -> None:
    items = {
        "host": b"127.0.0.1",
        "from": b"hakobu@shop.example",
        "to": b"a@shop.example,b@shop.example",
        "starttls": b"false",
        "username": b"hakobu",
        "password": b"hunter2-smtp",
    }
    smtp = settings(one("email"), "shop", items)
    assert smtp == Smtp(
        "127.0.0.1",
        587,
        "hakobu@shop.example",
        ("a@shop.example", "b@shop.example"),
        False,
        "hakobu",
        "hunter2-smtp",
    )
    assert smtp.hidden == ("hunter2-smtp",)
    assert Endpoint("https://x.example/s3cr3t", b"k3y-long").hidden == (
        "https://x.example/s3cr3t",
        "k3y-long",
    )
    assert one("email").provider is Provider.EMAIL
