"""Write kubeconfig files for the local control plane's users."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import yaml

from hakobu.localcluster.pki import ClientIdentity, Pki


def write_kubeconfig(
    path: Path,
    *,
    server: str,
    pki: Pki,
    identity: ClientIdentity,
    context: str,
    embed: bool,
) -> None:
    """Write a kubeconfig for ``identity``; ``embed`` inlines the PEM data so the file is
    self-contained (for people, who copy it around), otherwise it references the PKI files."""
    if embed:
        cluster: dict[str, Any] = {
            "server": server,
            "certificate-authority-data": _b64(pki.ca_cert),
        }
        user: dict[str, Any] = {
            "client-certificate-data": _b64(pki.client_cert(identity)),
            "client-key-data": _b64(pki.client_key(identity)),
        }
    else:
        cluster = {"server": server, "certificate-authority": str(pki.ca_cert)}
        user = {
            "client-certificate": str(pki.client_cert(identity)),
            "client-key": str(pki.client_key(identity)),
        }
    # Named after the context too: kubectl merges the files of KUBECONFIG=a:b by name, the
    # first file's entry winning, so two clusters' admins must not share one.
    user_name = f"{identity.user}@{context}"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": cluster}],
        "users": [{"name": user_name, "user": user}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": user_name}}],
        "current-context": context,
        "preferences": {},
    }
    path.touch(mode=0o600)
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()
