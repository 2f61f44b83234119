"""The certificate a running controller seals with, fetched as kubeseal fetches it.

The controller serves its newest certificate at ``/v1/cert.pem`` on its HTTP port. From
outside the cluster that port is reached through the API server's service proxy,
``/api/v1/namespaces/<ns>/services/http:<service>:<port name>/proxy/v1/cert.pem``, with the
port named as the controller's Service names its first port (``http`` in the upstream
chart). Reading it needs only ``get`` on that Service and its proxy, not on the key Secrets.
"""

from __future__ import annotations

from typing import Any, Protocol

from hakobu.errors import OperationFailed
from hakobu.secrets.keys import load_certificate

DEFAULT_CONTROLLER_NAME = "sealed-secrets-controller"
CERT_PATH = "/v1/cert.pem"


class RawApi(Protocol):
    """The part of a Kubernetes client used here: one raw request."""

    def request(self, method: str, path: str, *, accept: str | None = None) -> Any: ...


def controller_certificate(api: RawApi, namespace: str, service: str) -> bytes:
    """The controller's certificate (PEM) through the service proxy; checked before use."""
    described = api.request("GET", f"/api/v1/namespaces/{namespace}/services/{service}")
    ports = (described.get("spec") or {}).get("ports") or []
    if not ports:
        raise OperationFailed(
            f"Service {namespace}/{service} has no port to reach the controller on",
            hint="give the Service the controller's HTTP port (8080), or pass --cert",
        )
    port = ports[0].get("name") or str(ports[0].get("port"))
    body = api.request(
        "GET",
        f"/api/v1/namespaces/{namespace}/services/http:{service}:{port}/proxy{CERT_PATH}",
        accept="application/x-pem-file, */*",
    )
    pem = body.encode() if isinstance(body, str) else b""
    where = f"the controller {namespace}/{service}"
    load_certificate(pem, where)
    return pem
