"""The ``oidc`` auth-provider of a kubeconfig user entry, as kubectl uses it.

The entry's ``id-token`` is sent as the bearer token while it is valid (its ``exp`` claim,
less ten seconds, as client-go reads it: the client does not verify the token, the API
server does). When it has expired, or the server answered 401, and the entry holds a
``refresh-token``, a new ID token is obtained from the issuer's token endpoint (found with
OpenID Connect discovery at ``idp-issuer-url``), as an OAuth 2 refresh-token grant with the
entry's client id and secret. The refreshed tokens live in memory; they are not written
back into the kubeconfig (kubectl writes them back).
"""

from __future__ import annotations

import base64
import binascii
import json
import ssl
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass

import httpx

from hakobu.cluster.credentials import CredentialsFailed

# client-go (oauth2) treats a token as expired this long before its exp claim.
EXPIRY_MARGIN = 10.0
_ISSUER_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


@dataclass(frozen=True)
class OidcProvider:
    """A user entry's ``auth-provider`` named ``oidc``, checked when it was loaded."""

    user: str
    issuer_url: str
    client_id: str
    client_secret: str | None
    id_token: str | None
    refresh_token: str | None
    # Trust for the issuer: its own authority, else the system's (True).
    issuer_verify: ssl.SSLContext | bool


class OidcCredentials(httpx.Auth):
    def __init__(self, provider: OidcProvider) -> None:
        self.provider = provider
        self._lock = threading.Lock()
        self._id_token = provider.id_token
        self._refresh_token = provider.refresh_token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._token(None)
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401 and self._refresh_token:
            fresh = self._token(token)
            if fresh != token:
                request.headers["Authorization"] = f"Bearer {fresh}"
                yield request

    def _token(self, rejected: str | None) -> str:
        with self._lock:
            current = self._id_token
            if current and current != rejected and not _expired(current):
                return current
            if not self._refresh_token:
                raise CredentialsFailed(
                    f"the ID token of user {self.provider.user!r} has expired and the entry "
                    "holds no refresh-token",
                    hint="log in again with your identity provider to get a new id-token",
                )
            self._id_token, self._refresh_token = self._refresh(self._refresh_token)
            return self._id_token

    def _refresh(self, refresh_token: str) -> tuple[str, str]:
        provider = self.provider
        who = f"refreshing the ID token of user {provider.user!r} at {provider.issuer_url}"
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        auth: httpx.BasicAuth | None = None
        if provider.client_secret:
            # RFC 6749 2.3.1: every server must take the client's credentials this way.
            auth = httpx.BasicAuth(provider.client_id, provider.client_secret)
        else:
            form["client_id"] = provider.client_id
        try:
            with httpx.Client(verify=provider.issuer_verify, timeout=_ISSUER_TIMEOUT) as http:
                discovery = http.get(
                    provider.issuer_url.rstrip("/") + "/.well-known/openid-configuration"
                )
                if discovery.status_code != 200:
                    raise CredentialsFailed(
                        f"{who}: OpenID discovery answered HTTP {discovery.status_code}"
                    )
                endpoint = _json(discovery, who).get("token_endpoint")
                if not isinstance(endpoint, str) or not endpoint:
                    raise CredentialsFailed(f"{who}: the discovery document has no token_endpoint")
                answer = http.post(endpoint, data=form, auth=auth or httpx.USE_CLIENT_DEFAULT)
        except httpx.HTTPError as e:
            raise CredentialsFailed(f"{who}: {e}") from e
        body = _json(answer, who)
        if answer.status_code != 200:
            # The OAuth error code and description name the problem and hold no token.
            said = " ".join(
                str(body.get(key))[:300]
                for key in ("error", "error_description")
                if body.get(key) is not None
            )
            raise CredentialsFailed(
                f"{who}: the token endpoint answered HTTP {answer.status_code}"
                + (f": {said}" if said else ""),
                hint="the refresh-token may have expired or been revoked: log in again",
            )
        id_token = body.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise CredentialsFailed(f"{who}: the token endpoint's answer holds no id_token")
        # An issuer that rotates refresh tokens sends a new one; others keep the old valid.
        rotated = body.get("refresh_token")
        return id_token, rotated if isinstance(rotated, str) and rotated else refresh_token


def _json(response: httpx.Response, who: str) -> dict[str, object]:
    try:
        body = response.json()
    except ValueError:
        raise CredentialsFailed(
            f"{who}: the issuer answered HTTP {response.status_code} without JSON"
        ) from None
    if not isinstance(body, dict):
        raise CredentialsFailed(f"{who}: the issuer answered JSON that is not an object")
    return body


def _expired(token: str) -> bool:
    """Whether a JWT's ``exp`` claim is past (with the margin); a token whose claims cannot
    be read is treated as expired, so it is refreshed rather than sent."""
    parts = token.split(".")
    if len(parts) != 3:
        return True
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError):
        return True
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if not isinstance(exp, int | float):
        return True
    return time.time() + EXPIRY_MARGIN >= exp
