"""The identity a Pod is given: its ServiceAccount's token, the cluster's CA and its
namespace, where the kubelet mounts them, and the API server's address in the environment
(as client-go's ``rest.InClusterConfig`` reads them)."""

from __future__ import annotations

import os
import ssl
from pathlib import Path

from hakobu.cluster.kubeconfig import Connection
from hakobu.errors import InvalidInput

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


def in_pod() -> bool:
    """Whether this process runs in a Pod: the kubelet sets these for every container."""
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and bool(
        os.environ.get("KUBERNETES_SERVICE_PORT")
    )


def connection() -> Connection:
    host = os.environ.get("KUBERNETES_SERVICE_HOST", "")
    port = os.environ.get("KUBERNETES_SERVICE_PORT", "")
    if not host or not port:
        raise InvalidInput(
            "not running in a Pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are unset",
            hint="outside a cluster, pass --kubeconfig (or set $KUBECONFIG)",
        )
    token, ca = SERVICE_ACCOUNT / "token", SERVICE_ACCOUNT / "ca.crt"
    for file in (token, ca):
        if not file.is_file():
            raise InvalidInput(
                f"in a Pod, but {file} is missing",
                hint="the Pod's ServiceAccount token must be mounted "
                "(automountServiceAccountToken must not be false)",
            )
    context = ssl.create_default_context(cafile=str(ca))
    # An IPv6 address goes in brackets, as in any URL.
    server = f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"
    return Connection(server, context, None, "in-cluster", token_file=token)


def namespace() -> str:
    """The Pod's namespace, from the file beside its token."""
    try:
        return (SERVICE_ACCOUNT / "namespace").read_text().strip()
    except OSError as e:
        raise InvalidInput(
            f"cannot read {SERVICE_ACCOUNT / 'namespace'}: {e.strerror}",
            hint="pass the namespace explicitly",
        ) from e
