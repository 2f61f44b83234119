"""Read a kubeconfig file into the connection settings of its current context."""

from __future__ import annotations

import base64
import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hakobu.errors import InvalidInput


@dataclass(frozen=True)
class Connection:
    """Everything needed to talk to one API server as one user."""

    server: str
    ssl_context: ssl.SSLContext | bool
    token: str | None
    context_name: str


def default_kubeconfig_path() -> Path:
    first = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
    return Path(first) if first else Path.home() / ".kube" / "config"


def load(path: Path | None = None, context: str | None = None) -> Connection:
    """Load ``path`` (default: $KUBECONFIG or ~/.kube/config) for ``context`` (default: current)."""
    path = path or default_kubeconfig_path()
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise InvalidInput(
            f"kubeconfig {path} does not exist",
            hint="pass --kubeconfig, set KUBECONFIG, or start one with `hakobu cluster up`",
        ) from None
    except yaml.YAMLError as e:
        raise InvalidInput(f"kubeconfig {path} is not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise InvalidInput(f"kubeconfig {path}: expected a mapping at the top level")

    name = context or data.get("current-context")
    if not name:
        raise InvalidInput(f"kubeconfig {path} has no current-context", hint="pass --context")
    ctx = _named(data, "contexts", name, path)["context"]
    cluster = _named(data, "clusters", ctx.get("cluster"), path)["cluster"]
    user = _named(data, "users", ctx.get("user"), path).get("user") or {}
    base = path.parent

    server = cluster.get("server")
    if not isinstance(server, str) or not server:
        raise InvalidInput(f"kubeconfig {path}: cluster of context {name!r} has no server")
    if not server.startswith("https://"):
        return Connection(server.rstrip("/"), False, user.get("token"), name)

    context_ssl = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if cluster.get("insecure-skip-tls-verify"):
        context_ssl.check_hostname = False
        context_ssl.verify_mode = ssl.CERT_NONE
    elif "certificate-authority-data" in cluster:
        ca = base64.b64decode(cluster["certificate-authority-data"]).decode()
        context_ssl.load_verify_locations(cadata=ca)
    elif "certificate-authority" in cluster:
        context_ssl.load_verify_locations(cafile=str(base / cluster["certificate-authority"]))
    _load_client_cert(context_ssl, user, base)
    token = user.get("token")
    if token is None and "tokenFile" in user:
        token = (base / user["tokenFile"]).read_text().strip()
    return Connection(server.rstrip("/"), context_ssl, token, name)


def _named(data: dict[str, Any], section: str, name: Any, path: Path) -> dict[str, Any]:
    for entry in data.get(section) or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            return entry
    raise InvalidInput(f"kubeconfig {path}: no entry named {name!r} in {section}")


def _load_client_cert(context_ssl: ssl.SSLContext, user: dict[str, Any], base: Path) -> None:
    if "client-certificate" in user and "client-key" in user:
        context_ssl.load_cert_chain(
            str(base / user["client-certificate"]), str(base / user["client-key"])
        )
    elif "client-certificate-data" in user and "client-key-data" in user:
        # The ssl module reads certificates only from files: write them to a private
        # directory that lives just as long as the load.
        with tempfile.TemporaryDirectory() as tmp:
            cert, key = Path(tmp) / "client.crt", Path(tmp) / "client.key"
            cert.write_bytes(base64.b64decode(user["client-certificate-data"]))
            key.touch(mode=0o600)
            key.write_bytes(base64.b64decode(user["client-key-data"]))
            context_ssl.load_cert_chain(str(cert), str(key))
