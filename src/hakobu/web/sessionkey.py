"""The key session cookies are signed with, shared by every replica of the controller.

Replicas sit behind one Service, so a browser's next request may reach another replica than
the one it signed in at: all must sign with one key. It lives in a Secret in the
controller's namespace, made by the first replica that finds none (a create that loses the
race reads the winner's), and read by every replica at start. Deleting the Secret and
restarting the replicas signs everyone out. The key is never logged.
"""

from __future__ import annotations

import base64
import secrets

from hakobu.cluster.api import KubeApi
from hakobu.cluster.errors import AlreadyExists, Forbidden, NotFound
from hakobu.controller.install import SESSION_SECRET as SECRET
from hakobu.errors import OperationFailed

KEY = "key"
_BYTES = 32


def shared_key(kube: KubeApi, namespace: str, labels: dict[str, str] | None = None) -> bytes:
    """The key in Secret ``SECRET`` of ``namespace``, made (random) when there is none."""
    try:
        return _read(kube, namespace)
    except NotFound:
        pass
    made = base64.b64encode(secrets.token_bytes(_BYTES)).decode()
    try:
        kube.create(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": SECRET, "namespace": namespace, "labels": labels or {}},
                "type": "Opaque",
                "data": {KEY: made},
            }
        )
    except AlreadyExists:
        # Another replica made it first: its key is the one.
        return _read(kube, namespace)
    except Forbidden as e:
        raise OperationFailed(
            f"cannot create Secret {namespace}/{SECRET}, the dashboard's session key: {e.message}",
            hint="run `hakobu install` again (its Role lets the controller create it), or "
            "start the controller with --dashboard off",
        ) from e
    return base64.b64decode(made)


def _read(kube: KubeApi, namespace: str) -> bytes:
    secret = kube.get("v1", "Secret", SECRET, namespace)
    value = (secret.get("data") or {}).get(KEY, "")
    try:
        key = base64.b64decode(value, validate=True)
    except ValueError:
        key = b""
    if len(key) < _BYTES:
        raise OperationFailed(
            f"Secret {namespace}/{SECRET}: key {KEY} must hold at least {_BYTES} random bytes",
            hint=f"delete it (kubectl delete secret -n {namespace} {SECRET}) and restart the "
            "controller's replicas: the first makes a new one",
        )
    return key
