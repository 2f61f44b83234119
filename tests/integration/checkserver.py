"""A small local HTTP server an HTTP check asks: the test sets its status and JSON body."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class CheckServer:
    """Answers every request with ``status`` and ``body`` as JSON; keeps the headers seen."""

    status: int = 200
    body: Any = field(default_factory=lambda: {"ok": True})
    seen: list[dict[str, str]] = field(default_factory=list)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/healthz"

    def start(self) -> None:
        served = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                served.seen.append(dict(self.headers))
                payload = json.dumps(served.body).encode()
                self.send_response(served.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@contextmanager
def check_server() -> Iterator[CheckServer]:
    server = CheckServer()
    server.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()
