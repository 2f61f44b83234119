"""Credentials from an exec plugin, as kubectl runs one (``client.authentication.k8s.io``
``v1`` and ``v1beta1``).

The plugin is run when a request needs a credential and none is cached, or the cached one
has passed its ``expirationTimestamp``, or the server answered 401 to it; one run at a time
per user entry, so concurrent requests share a single run. It gets the environment of
hakobu plus the entry's ``env``, and ``KUBERNETES_EXEC_INFO``: the request, saying whether a
person can answer prompts (standard input is a terminal and the entry allows it) and, with
``provideClusterInfo``, the cluster's connection settings. A plugin that needs a person
(``interactiveMode: Always``) is refused where none can answer. Its standard error is kept
and shown when it fails; its standard output, which holds the credential, never is.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import ssl
import subprocess
import sys
import tempfile
import threading
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx

from hakobu.cluster.credentials import CredentialsFailed

API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
InteractiveMode = Literal["Never", "IfAvailable", "Always"]
INTERACTIVE_MODES: tuple[InteractiveMode, ...] = ("Never", "IfAvailable", "Always")

# A plugin run with no person to answer it that has not finished by then is stuck (waiting
# for a browser login nobody will complete); a controller's worker must not wait forever.
UNATTENDED_TIMEOUT = 120.0
# The end of the plugin's standard error is what says why it failed.
_STDERR_SHOWN = 4000


@dataclass(frozen=True)
class ExecPlugin:
    """A user entry's ``exec``, checked when the kubeconfig was loaded."""

    user: str
    command: str
    args: tuple[str, ...]
    env: Mapping[str, str]
    api_version: str
    interactive_mode: InteractiveMode
    provide_cluster_info: bool
    install_hint: str | None
    # The connection settings given to the plugin with provideClusterInfo (JSON-ready).
    cluster: Mapping[str, Any] | None


@dataclass(frozen=True)
class _Credential:
    token: str | None
    certificate: bytes | None
    key: bytes | None
    expires: datetime.datetime | None

    def expired(self) -> bool:
        return self.expires is not None and datetime.datetime.now(datetime.UTC) >= self.expires


class ExecCredentials(httpx.Auth):
    """Runs ``plugin`` for a bearer token or a client certificate, cached until it expires."""

    def __init__(
        self,
        plugin: ExecPlugin,
        ssl_context: ssl.SSLContext | bool,
        *,
        interactive: bool,
    ) -> None:
        self.plugin = plugin
        self._ssl_context = ssl_context
        # A person can answer the plugin: hakobu is not unattended here, standard input is
        # a terminal and the entry does not forbid prompts.
        self._interactive = (
            interactive and plugin.interactive_mode != "Never" and stdin_is_terminal()
        )
        self._lock = threading.Lock()
        self._cached: _Credential | None = None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        credential = self._current(None)
        self._apply(credential, request)
        response = yield request
        if response.status_code == 401:
            # The credential was revoked or rotated before its stated expiry: ask again once.
            fresh = self._current(credential)
            if fresh is not credential:
                self._apply(fresh, request)
                yield request

    def _current(self, rejected: _Credential | None) -> _Credential:
        with self._lock:
            cached = self._cached
            if cached is not None and cached is not rejected and not cached.expired():
                return cached
            self._cached = self._run()
            return self._cached

    def _apply(self, credential: _Credential, request: httpx.Request) -> None:
        if credential.token is not None:
            request.headers["Authorization"] = f"Bearer {credential.token}"
        else:
            request.headers.pop("Authorization", None)

    def _run(self) -> _Credential:
        plugin = self.plugin
        spec: dict[str, Any] = {"interactive": self._interactive}
        if plugin.provide_cluster_info and plugin.cluster is not None:
            spec["cluster"] = plugin.cluster
        info = {"apiVersion": plugin.api_version, "kind": "ExecCredential", "spec": spec}
        env = {**os.environ, **plugin.env, "KUBERNETES_EXEC_INFO": json.dumps(info, default=str)}
        who = f"the exec plugin of user {plugin.user!r} ({plugin.command})"
        try:
            done = subprocess.run(
                [plugin.command, *plugin.args],
                env=env,
                # A person answers prompts on the terminal; otherwise nothing can be read.
                stdin=None if self._interactive else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=None if self._interactive else subprocess.PIPE,
                timeout=None if self._interactive else UNATTENDED_TIMEOUT,
                check=False,
            )
        except FileNotFoundError:
            raise CredentialsFailed(
                f"{who}: the command was not found",
                hint=plugin.install_hint or "install it, or correct the path in the kubeconfig",
            ) from None
        except PermissionError:
            raise CredentialsFailed(f"{who}: the command is not executable") from None
        except subprocess.TimeoutExpired:
            raise CredentialsFailed(
                f"{who} did not finish within {UNATTENDED_TIMEOUT:g}s",
                hint="a plugin that waits for a login cannot be used unattended",
            ) from None
        if done.returncode != 0:
            stderr = (done.stderr or b"").decode("utf-8", errors="replace").strip()
            if self._interactive:
                said = " (what it wrote to stderr is above)"
            elif stderr:
                said = f":\n{stderr[-_STDERR_SHOWN:]}"
            else:
                said = " and wrote nothing to stderr"
            raise CredentialsFailed(f"{who} failed with exit status {done.returncode}{said}")
        credential = _parse(done.stdout, plugin.api_version, who)
        if credential.certificate is not None and credential.key is not None:
            _load_certificate(self._ssl_context, credential, who)
        return credential


def stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except ValueError:  # closed
        return False


def _parse(stdout: bytes, api_version: str, who: str) -> _Credential:
    # Messages name fields only: the output holds the credential.
    try:
        document = json.loads(stdout)
    except (ValueError, UnicodeDecodeError):
        raise CredentialsFailed(f"{who} printed no JSON ExecCredential on stdout") from None
    if not isinstance(document, dict) or document.get("kind") != "ExecCredential":
        raise CredentialsFailed(f"{who} printed JSON that is not an ExecCredential")
    if document.get("apiVersion") != api_version:
        raise CredentialsFailed(
            f"{who} answered with apiVersion {str(document.get('apiVersion'))[:80]!r}, "
            f"not {api_version!r} as the kubeconfig asks"
        )
    status = document.get("status")
    if not isinstance(status, dict):
        raise CredentialsFailed(f"{who} printed an ExecCredential without a status")
    token = status.get("token")
    certificate, key = status.get("clientCertificateData"), status.get("clientKeyData")
    if token and (not isinstance(token, str) or not _header_safe(token)):
        raise CredentialsFailed(
            f"{who}: status.token is not a string a bearer token can be (printable ASCII)"
        )
    if (certificate is None) != (key is None):
        raise CredentialsFailed(
            f"{who}: status holds one of clientCertificateData and clientKeyData without the other"
        )
    if not token and certificate is None:
        raise CredentialsFailed(f"{who}: status holds neither a token nor clientCertificateData")
    if certificate is not None and not (isinstance(certificate, str) and isinstance(key, str)):
        raise CredentialsFailed(f"{who}: clientCertificateData and clientKeyData must be PEM text")
    expires = None
    stamp = status.get("expirationTimestamp")
    if stamp is not None:
        try:
            expires = datetime.datetime.fromisoformat(str(stamp))
        except ValueError:
            raise CredentialsFailed(
                f"{who}: status.expirationTimestamp is not an RFC 3339 time"
            ) from None
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=datetime.UTC)
    return _Credential(
        token or None,
        certificate.encode() if isinstance(certificate, str) else None,
        key.encode() if isinstance(key, str) else None,
        expires,
    )


def _header_safe(token: str) -> bool:
    return bool(token) and all(33 <= ord(c) < 127 for c in token)


def _load_certificate(context: ssl.SSLContext | bool, credential: _Credential, who: str) -> None:
    if not isinstance(context, ssl.SSLContext):
        raise CredentialsFailed(
            f"{who} returned a client certificate, which only an https:// server can be sent"
        )
    # Connections opened from now on present it; the ssl module reads files only.
    with tempfile.TemporaryDirectory() as tmp:
        cert_path, key_path = Path(tmp) / "client.crt", Path(tmp) / "client.key"
        cert_path.write_bytes(credential.certificate or b"")
        key_path.touch(mode=0o600)
        key_path.write_bytes(credential.key or b"")
        try:
            context.load_cert_chain(str(cert_path), str(key_path))
        except ssl.SSLError:
            raise CredentialsFailed(
                f"{who}: clientCertificateData and clientKeyData are not PEM, or the key "
                "does not belong to the certificate"
            ) from None


def certificate_authority_data(pem: bytes) -> str:
    """The CA as the plugin's cluster info carries it: base64, as Go encodes []byte."""
    return base64.b64encode(pem).decode()
