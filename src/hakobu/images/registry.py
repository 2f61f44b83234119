"""Asking an OCI distribution registry whether a tag exists.

``HEAD /v2/<name>/manifests/<tag>`` with the Accept headers of OCI and Docker manifests
and indexes: 200 means present, 404 absent. Authentication follows the distribution
spec's challenge: on 401 the ``WWW-Authenticate`` header asks either for Basic
credentials or for a Bearer token from a realm (fetched with the credentials when there
are any, anonymously otherwise, for ``repository:<name>:pull``). Credentials come from
the ``auths`` of the Docker or containers auth files (``docker login``, ``podman login``);
credential helpers are not consulted.

Like Docker, a registry on a loopback address is tried over HTTPS first and then over
plain HTTP.

Errors::

    OperationFailed
    ├── RegistryUnreachable     no connection (offline, DNS, TLS)
    └── RegistryError           the registry answered, but not with yes or no
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from hakobu.errors import InvalidInput, OperationFailed

MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
_LOOPBACK = re.compile(r"^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$")
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


class RegistryUnreachable(OperationFailed):
    pass


class RegistryError(OperationFailed):
    pass


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str


def split_repository(repository: str) -> tuple[str, str]:
    """``registry.example.com/shop/web`` → (``registry.example.com``, ``shop/web``)."""
    host, _, name = repository.partition("/")
    return host, name


def find_credentials(host: str, env: Mapping[str, str] | None = None) -> Credentials | None:
    """The login for ``host`` in the auth files ``docker login`` and ``podman login`` write."""
    env = os.environ if env is None else env
    files = []
    if env.get("REGISTRY_AUTH_FILE"):
        files.append(Path(env["REGISTRY_AUTH_FILE"]))
    if env.get("XDG_RUNTIME_DIR"):
        files.append(Path(env["XDG_RUNTIME_DIR"]) / "containers" / "auth.json")
    docker_config = env.get("DOCKER_CONFIG") or str(Path(env.get("HOME", "~")) / ".docker")
    files.append(Path(docker_config) / "config.json")
    for file in files:
        found = _credentials_in(file, host)
        if found is not None:
            return found
    return None


def _credentials_in(file: Path, host: str) -> Credentials | None:
    try:
        data = json.loads(file.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise InvalidInput(f"{file}: cannot read registry logins: {e}") from None
    auths = data.get("auths") if isinstance(data, dict) else None
    if not isinstance(auths, dict):
        return None
    for key, value in auths.items():
        if _auth_host(key) != host or not isinstance(value, dict):
            continue
        if isinstance(value.get("auth"), str):
            try:
                decoded = base64.b64decode(value["auth"]).decode()
            except ValueError:
                raise InvalidInput(f"{file}: auths.{key}.auth is not base64") from None
            username, _, password = decoded.partition(":")
            return Credentials(username, password)
        if isinstance(value.get("username"), str) and isinstance(value.get("password"), str):
            return Credentials(value["username"], value["password"])
    return None


def _auth_host(key: str) -> str:
    # Entries are written as "host", "https://host" or "https://host/v1/".
    return key.removeprefix("https://").removeprefix("http://").split("/", 1)[0]


class RegistryClient:
    """Checks for tags; one connection pool and one token per repository, thread-safe."""

    def __init__(
        self,
        *,
        timeout: float = 5.0,
        credentials: Mapping[str, Credentials | None] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(timeout=timeout, transport=transport, follow_redirects=True)
        self._credentials = credentials
        self._schemes: dict[str, str] = {}
        self._tokens: dict[str, str] = {}

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def has_tag(self, repository: str, tag: str) -> bool:
        host, name = split_repository(repository)
        path = f"/v2/{name}/manifests/{tag}"
        headers = {"Accept": ", ".join(MANIFEST_TYPES)}
        token = self._tokens.get(repository)
        if token:
            headers["Authorization"] = token
        response = self._request("HEAD", host, path, headers)
        if response.status_code == 401:
            headers["Authorization"] = self._authorize(host, name, response)
            self._tokens[repository] = headers["Authorization"]
            response = self._request("HEAD", host, path, headers)
        if response.status_code == 200:
            return True
        if response.status_code == 404:
            return False
        if response.status_code in (401, 403):
            raise RegistryError(
                f"{host} refused to show {name}:{tag} (HTTP {response.status_code})",
                hint=f"log in with `docker login {host}` (or check the account's pull rights)",
            )
        raise RegistryError(
            f"{host} answered HTTP {response.status_code} for {name}:{tag}",
            hint="check that the registry speaks the OCI distribution API (/v2/)",
        )

    def _credentials_for(self, host: str) -> Credentials | None:
        if self._credentials is not None:
            return self._credentials.get(host)
        return find_credentials(host)

    def _authorize(self, host: str, name: str, challenge: httpx.Response) -> str:
        header = challenge.headers.get("www-authenticate", "")
        scheme, _, rest = header.partition(" ")
        credentials = self._credentials_for(host)
        if scheme.lower() == "basic":
            if credentials is None:
                raise RegistryError(
                    f"{host} needs a login to show {name}",
                    hint=f"log in with `docker login {host}`",
                )
            return _basic(credentials)
        if scheme.lower() != "bearer":
            raise RegistryError(f"{host} asks for unsupported authentication {header!r}")
        params = dict(_CHALLENGE_PARAM.findall(rest))
        if "realm" not in params:
            raise RegistryError(f"{host} sent a Bearer challenge without a realm: {header!r}")
        query = {"scope": f"repository:{name}:pull"}
        if "service" in params:
            query["service"] = params["service"]
        auth_headers = {"Authorization": _basic(credentials)} if credentials else {}
        try:
            response = self._http.get(params["realm"], params=query, headers=auth_headers)
        except httpx.HTTPError as e:
            raise RegistryUnreachable(f"token service of {host} unreachable: {e}") from e
        if response.status_code in (401, 403):
            raise RegistryError(
                f"{host}'s token service refused the login for {name}",
                hint=f"log in again with `docker login {host}`",
            )
        try:
            body = response.json()
            token = body.get("token") or body["access_token"]
        except (ValueError, KeyError, AttributeError):
            raise RegistryError(
                f"{host}'s token service answered HTTP {response.status_code} without a token"
            ) from None
        return f"Bearer {token}"

    def _request(
        self, method: str, host: str, path: str, headers: dict[str, str]
    ) -> httpx.Response:
        schemes = [self._schemes[host]] if host in self._schemes else ["https"]
        if host not in self._schemes and _LOOPBACK.match(host):
            schemes.append("http")
        error: Exception | None = None
        for scheme in schemes:
            try:
                response = self._http.request(method, f"{scheme}://{host}{path}", headers=headers)
            except httpx.HTTPError as e:
                error = e
                continue
            self._schemes[host] = scheme
            return response
        raise RegistryUnreachable(
            f"registry {host} is unreachable: {error}",
            hint="check the network, or the registry's address in hakobu.yaml",
        ) from error


def _basic(credentials: Credentials) -> str:
    pair = f"{credentials.username}:{credentials.password}".encode()
    return "Basic " + base64.b64encode(pair).decode()
