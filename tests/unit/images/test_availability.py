"""Asking a registry whether a revision's images are there, without hammering it."""

from __future__ import annotations

import httpx

from hakobu.images.availability import ImageAvailability
from hakobu.images.registry import RegistryClient


def test_present_tags_are_remembered_and_absent_ones_asked_again_after_a_growing_pause() -> None:
    pushed: set[str] = set()
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        return httpx.Response(200 if request.url.path in pushed else 404)

    now = [0.0]
    with RegistryClient(transport=httpx.MockTransport(answer), credentials={}) as registry:
        availability = ImageAvailability(registry, clock=lambda: now[0])
        images = ["reg.test/shop/api:abc", "reg.test/shop/web:def"]
        pushed.add("/v2/shop/web/manifests/def")
        assert availability.missing(images) == {"reg.test/shop/api:abc": "not in the registry"}
        assert len(asked) == 2
        now[0] = 1.0  # within the pause: not asked again
        assert list(availability.missing(images)) == ["reg.test/shop/api:abc"]
        assert len(asked) == 2
        pushed.add("/v2/shop/api/manifests/abc")
        now[0] = 2.5
        assert availability.missing(images) == {}
        assert len(asked) == 3  # web was remembered
        assert availability.missing(images) == {}
        assert len(asked) == 3


def test_a_registry_that_cannot_answer_is_named() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500)

    with RegistryClient(transport=httpx.MockTransport(refuse), credentials={}) as registry:
        missing = ImageAvailability(registry).missing(["reg.test/shop/api:abc"])
    assert "HTTP 500" in missing["reg.test/shop/api:abc"]
