"""The controller's HTTP endpoints, served by uvicorn in a thread of their own.

``/healthz`` answers 200 while every thread of the controller runs (a liveness probe
restarts a replica whose loop died); ``/readyz`` answers 200 once the first list of
Deliveries has arrived (before that, a webhook could not be matched); ``/metrics`` is
Prometheus' text format. Webhook routes are mounted beside them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route


def application(
    registry: CollectorRegistry,
    *,
    alive: Callable[[], bool],
    ready: Callable[[], bool],
    routes: Sequence[BaseRoute] = (),
) -> Starlette:
    async def metrics(_: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    async def healthz(_: Request) -> Response:
        if alive():
            return PlainTextResponse("ok\n")
        return PlainTextResponse("a controller thread has stopped\n", status_code=500)

    async def readyz(_: Request) -> Response:
        if ready():
            return PlainTextResponse("ok\n")
        return PlainTextResponse("Deliveries not listed yet\n", status_code=503)

    return Starlette(
        routes=[
            Route("/metrics", metrics),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            *routes,
        ]
    )


class Server:
    """uvicorn on ``host:port`` in a daemon thread; ``port`` 0 picks a free one."""

    def __init__(self, app: Starlette, host: str, port: int) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="http", daemon=True)

    def start(self, timeout: float = 10.0) -> int:
        """Start serving; the port it listens on."""
        self._thread.start()
        deadline = threading.Event()
        for _ in range(int(timeout * 20)):
            if self._server.started:
                break
            if not self._thread.is_alive():
                raise OSError("the HTTP server did not start (is the port in use?)")
            deadline.wait(0.05)
        else:
            raise OSError(f"the HTTP server did not start within {timeout:g}s")
        sockets = self._server.servers[0].sockets
        return int(sockets[0].getsockname()[1])

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
