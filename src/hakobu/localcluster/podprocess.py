"""A process on this machine that sees what a Pod of the local cluster sees.

The local cluster's nodes run no containers, so a controller meant for a Pod runs here as
a process, given its identity exactly where a Pod reads it: a ServiceAccount token (asked
of the API server with a TokenRequest, as the kubelet does), the cluster's CA and the
namespace, bind-mounted at ``/var/run/secrets/kubernetes.io/serviceaccount`` in a mount
namespace of its own (``unshare``: root is needed), with ``KUBERNETES_SERVICE_HOST`` and
``_PORT`` pointing at the API server. Other processes on the machine see nothing of it.
"""

from __future__ import annotations

import base64
import os
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import yaml

from hakobu.cluster.api import KubeApi
from hakobu.cluster.incluster import SERVICE_ACCOUNT
from hakobu.errors import OperationFailed


def service_account_files(
    kube: KubeApi, kubeconfig: Path, namespace: str, service_account: str, directory: Path
) -> Path:
    """``token``, ``ca.crt`` and ``namespace`` for ``service_account``, written to
    ``directory`` as the kubelet writes them; the directory."""
    answer = kube.request(
        "POST",
        f"/api/v1/namespaces/{namespace}/serviceaccounts/{service_account}/token",
        body={
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": 3600},
        },
    )
    config = yaml.safe_load(kubeconfig.read_text())
    ca = base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"])
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "token").write_text(answer["status"]["token"])
    (directory / "ca.crt").write_bytes(ca)
    (directory / "namespace").write_text(namespace)
    return directory


def start(
    argv: Sequence[str],
    server: str,
    identity: Path,
    *,
    env: Mapping[str, str] | None = None,
    stdout: IO[bytes] | int | None = None,
    stderr: IO[bytes] | int | None = None,
) -> subprocess.Popen[bytes]:
    """``argv`` started as if in a Pod whose ServiceAccount files are in ``identity``."""
    if os.geteuid() != 0:
        raise OperationFailed("running a process with a Pod's identity needs root (unshare)")
    address = urlsplit(server)
    environment = {key: value for key, value in (env or os.environ).items() if key != "KUBECONFIG"}
    environment["KUBERNETES_SERVICE_HOST"] = address.hostname or "127.0.0.1"
    environment["KUBERNETES_SERVICE_PORT"] = str(address.port or 443)
    script = (
        f"mkdir -p {SERVICE_ACCOUNT} && mount --bind {shlex.quote(str(identity))} "
        f"{SERVICE_ACCOUNT} && exec {shlex.join(argv)}"
    )
    return subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        env=environment,
        stdout=stdout,
        stderr=stderr,
    )
