"""Signed session cookies: who signed in, until when, and the page's CSRF token.

The cookie holds the user's name and groups as a TokenReview returned them, signed with
HMAC-SHA256 under a key only the server knows; a changed byte, or an expired session,
reads as no session at all. The CSRF token is random per session: the page reads it from
the API and sends it back in a header, which a form on another site cannot do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

import orjson

COOKIE = "hakobu_session"
DEFAULT_LIFETIME = 8 * 3600.0


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class Session:
    user: User
    expires: float
    csrf: str


class Signer:
    def __init__(self, key: bytes | None = None, *, lifetime: float = DEFAULT_LIFETIME) -> None:
        self._key = key if key is not None else secrets.token_bytes(32)
        self.lifetime = lifetime

    def new(self, user: User, *, now: float | None = None, until: float | None = None) -> Session:
        """A session for ``user``, ending after the lifetime or at ``until`` (the token's
        own expiry), whichever comes first."""
        start = time.time() if now is None else now
        expires = start + self.lifetime
        if until is not None:
            expires = min(expires, until)
        return Session(user, expires, secrets.token_urlsafe(24))

    def dump(self, session: Session) -> str:
        user = session.user
        payload = orjson.dumps(
            {
                "u": user.name,
                "g": list(user.groups),
                "i": user.uid,
                "x": {k: list(v) for k, v in user.extra},
                "e": session.expires,
                "c": session.csrf,
            }
        )
        body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        return f"{body}.{self._sign(body)}"

    def load(self, cookie: str, *, now: float | None = None) -> Session | None:
        body, _, signature = cookie.partition(".")
        if not signature or not hmac.compare_digest(signature, self._sign(body)):
            return None
        try:
            data: dict[str, Any] = orjson.loads(
                base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            )
            user = User(
                str(data["u"]),
                tuple(str(g) for g in data["g"]),
                str(data["i"]),
                tuple((str(k), tuple(str(v) for v in vs)) for k, vs in data["x"].items()),
            )
            session = Session(user, float(data["e"]), str(data["c"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        if session.expires <= (time.time() if now is None else now):
            return None
        return session

    def _sign(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()


def token_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT (a ServiceAccount or OIDC token), else None.

    Read without checking the signature: the API server has just accepted the token in a
    TokenReview, and the claim only shortens the session to the token's own life."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, int | float) else None
