"""A real git server over HTTP for tests: git's own http-backend behind Basic auth."""

from __future__ import annotations

import base64
import hmac
import subprocess
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

BACKEND = "/usr/lib/git-core/git-http-backend"


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def _app(root: Path, username: str, password: str, requests: list[str]) -> Any:
    expected = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        given = environ.get("HTTP_AUTHORIZATION", "")
        requests.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']} auth={bool(given)}")
        if not hmac.compare_digest(given, expected):
            start_response("401 Unauthorized", [("WWW-Authenticate", 'Basic realm="git"')])
            return [b"authentication required\n"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        cgi = {
            "GIT_PROJECT_ROOT": str(root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REMOTE_USER": username,
            "REQUEST_METHOD": environ["REQUEST_METHOD"],
            "PATH_INFO": environ["PATH_INFO"],
            "QUERY_STRING": environ.get("QUERY_STRING", ""),
            "CONTENT_TYPE": environ.get("CONTENT_TYPE", ""),
            "CONTENT_LENGTH": str(len(body)),
        }
        if environ.get("HTTP_GIT_PROTOCOL"):
            cgi["GIT_PROTOCOL"] = environ["HTTP_GIT_PROTOCOL"]
        output = subprocess.run([BACKEND], input=body, env=cgi, capture_output=True, check=True)
        head, _, payload = output.stdout.partition(b"\r\n\r\n")
        headers = [tuple(line.split(": ", 1)) for line in head.decode().split("\r\n") if line]
        status = next((value for name, value in headers if name == "Status"), "200 OK")
        start_response(status, [(n, v) for n, v in headers if n != "Status"])
        return [payload]

    return app


@contextmanager
def serve(root: Path, username: str, password: str) -> Iterator[tuple[str, list[str]]]:
    """``http://127.0.0.1:PORT`` serving the bare repositories under ``root``, and the log
    of requests (method, path, whether credentials came with it)."""
    requests: list[str] = []
    server = make_server(
        "127.0.0.1", 0, _app(root, username, password, requests), WSGIServer, _Quiet
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", requests
    finally:
        server.shutdown()
        server.server_close()
