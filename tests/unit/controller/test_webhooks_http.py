"""The webhook routes in a real HTTP server on loopback, as a git host reaches them."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from hakobu.controller.webhooks import WebhookReceiver, webhook_routes
from tests.unit.controller import webhook_payloads as hooks
from tests.unit.controller.test_webhooks import SHOP, Harness, delivery, ref


@contextlib.contextmanager
def serving(receiver: WebhookReceiver) -> Iterator[str]:
    """The receiver's routes served by uvicorn on 127.0.0.1 (a free port), in a thread."""
    app = Starlette(routes=webhook_routes(receiver))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def harness() -> Harness:
    return Harness(
        delivery("shop", "git@github.com:acme/shop-deploy.git"),
        delivery("billing", "git@github.com:acme/billing-deploy.git"),
    )


@pytest.fixture
def base(harness: Harness) -> Iterator[str]:
    with serving(harness.receiver) as url:
        yield url


def test_a_signed_push_over_http(harness: Harness, base: str) -> None:
    hook = hooks.github(SHOP)
    response = httpx.post(f"{base}/hooks/github", headers=hook.headers, content=hook.body)
    assert response.status_code == 202
    assert response.json() == {
        "result": "requested",
        "message": "reconcile requested for github.com/acme/shop-deploy branch main",
        "requested": ["shop/shop"],
    }
    assert harness.requested == [ref("shop")]
    again = httpx.post(f"{base}/hooks/github", headers=hook.headers, content=hook.body)
    assert again.status_code == 409
    assert harness.requested == [ref("shop")]


def test_a_bad_signature_over_http(harness: Harness, base: str) -> None:
    hook = hooks.github(b"guess")
    response = httpx.post(f"{base}/hooks/github", headers=hook.headers, content=hook.body)
    assert response.status_code == 401
    assert response.json()["result"] == "unauthorized"
    assert harness.requested == []


def test_methods_paths_and_sizes(harness: Harness, base: str) -> None:
    assert httpx.get(f"{base}/hooks/github").status_code == 405
    assert httpx.put(f"{base}/hooks/github", content=b"{}").status_code == 405
    assert httpx.post(f"{base}/hooks/svn", content=b"{}").status_code == 404
    assert httpx.post(f"{base}/hooks", content=b"{}").status_code == 404
    hook = hooks.github(SHOP)
    big = b" " * (1024 * 1024 + 1)
    declared = httpx.post(f"{base}/hooks/github", headers=hook.headers, content=big)
    assert declared.status_code == 413

    def chunks() -> Iterator[bytes]:
        for _ in range(17):
            yield b" " * 65536

    # Without a Content-Length the route stops reading once the limit is passed.
    streamed = httpx.post(f"{base}/hooks/github", headers=hook.headers, content=chunks())
    assert streamed.status_code == 413
    assert harness.requested == []
    assert harness.secret_reads == []
    assert [result for _, result in harness.observed] == [
        "unknown_provider",
        "too_large",
        "too_large",
    ]
