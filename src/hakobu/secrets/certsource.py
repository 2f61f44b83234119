"""Where sealing and opening keys come from: files given, else the cluster.

The certificate that seals is, in order: a certificate file; else the one the running
controller serves (``certificate.controller_certificate``); else, when no controller answers
(no such Service, or nothing behind it), the newest key Secret in the controller's namespace,
which is what the controller would seal with. The private keys that open are key files,
else every key Secret in that namespace.

The cluster is reached only when the files do not decide, through ``connect`` — so sealing
with a certificate file needs no cluster at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from hakobu.errors import OperationFailed
from hakobu.secrets.certificate import DEFAULT_CONTROLLER_NAME, RawApi, controller_certificate
from hakobu.secrets.keys import load_private_key_files, read_input
from hakobu.secrets.keystore import DEFAULT_NAMESPACE, KeyStore, SecretApi


class KeysApi(RawApi, SecretApi, Protocol):
    """The part of a Kubernetes client used here; ``KubeClient`` satisfies it."""


Connect = Callable[[], AbstractContextManager[KeysApi]]


@dataclass(frozen=True)
class Controller:
    """The Sealed Secrets controller: the namespace of its keys and its Service."""

    namespace: str = DEFAULT_NAMESPACE
    name: str = DEFAULT_CONTROLLER_NAME


def sealing_certificate(cert: Path | None, controller: Controller, connect: Connect) -> bytes:
    """``cert``, else the controller's own answer, else the newest key in its namespace."""
    if cert is not None:
        return read_input(cert, "the certificate cannot be read")
    with connect() as kube:
        try:
            return controller_certificate(kube, controller.namespace, controller.name)
        except OperationFailed as e:
            if not _no_controller(e):
                raise
            # No such Service, or no controller answering behind it: its keys still tell.
            return KeyStore(kube, controller.namespace).newest().certificate_pem


def private_keys(
    key_files: Sequence[Path], controller: Controller, connect: Connect
) -> list[RSAPrivateKey]:
    """The keys of ``key_files``, else every key the controller keeps."""
    if key_files:
        return load_private_key_files(key_files)
    with connect() as kube:
        store = KeyStore(kube, controller.namespace)
        keys = store.read()
        if not keys:
            store.newest()  # says there is none, and what to do
        return [key.private_key for key in keys]


def _no_controller(error: OperationFailed) -> bool:
    # This package does not import hakobu.cluster, whose errors carry the API status: 404
    # (no Service) or a 5xx from the service proxy (no Pod behind it). An unreachable API
    # server carries none and is no reason to look elsewhere.
    status = getattr(error, "status_code", None)
    return isinstance(status, int) and (status == 404 or status >= 500)
