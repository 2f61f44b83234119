"""A real Prometheus scraping an exporter whose value the test sets."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.integration.controllerkit import wait_until


@dataclass
class Exporter:
    """``/metrics`` answers ``canary_success_ratio`` with ``value`` (none while None)."""

    value: float | None = None
    server: ThreadingHTTPServer = field(init=False)

    def __post_init__(self) -> None:
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = b""
                if exporter.value is not None:
                    body = f"canary_success_ratio {exporter.value}\n".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"


@dataclass(frozen=True)
class Prometheus:
    address: str

    def has(self, query: str, expected: float | None) -> bool:
        """Whether ``query`` answers ``expected`` now (no samples when None)."""
        try:
            answer = httpx.get(f"{self.address}/api/v1/query", params={"query": query})
        except httpx.HTTPError:
            return False
        if answer.status_code != 200:
            return False
        result = answer.json()["data"]["result"]
        if expected is None:
            return not result
        return bool(result) and float(result[0]["value"][1]) == expected


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def prometheus_scraping(exporter: Exporter, directory: Path) -> Iterator[Prometheus]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus is not installed: `apt-get install prometheus`")
    config = {
        "global": {"scrape_interval": "1s"},
        "scrape_configs": [
            {"job_name": "canary", "static_configs": [{"targets": [exporter.target]}]}
        ],
    }
    (directory / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
    port = _free_port()
    log = (directory / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={directory / 'prometheus.yml'}",
            f"--storage.tsdb.path={directory / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    prometheus = Prometheus(f"http://127.0.0.1:{port}")
    try:
        wait_until("Prometheus is up", lambda: prometheus.has("up", 1.0), seconds=60)
        yield prometheus
    finally:
        process.terminate()
        process.wait(30)
        log.close()
        exporter.server.shutdown()
