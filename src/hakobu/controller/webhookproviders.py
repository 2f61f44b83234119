"""What each git host sends with a push webhook: how it is signed and what a push names.

A provider answers, from the request alone: whether a secret signed it (on the raw bytes,
before anything is parsed), what identifies it for refusing a replay, what kind of event it
is, and — only once a signature verified — which repository and branches a push moved.
A signed payload is still read defensively: a field of the wrong type is ``BadPayload``
naming the field, never an exception from deep inside.

Headers are given with lower-case names.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qs, urlsplit

Headers = Mapping[str, str]

# Generic requests: how old a timestamp may be, and how far ahead of this clock.
MAX_AGE = 300.0
MAX_SKEW = 60.0

# A deleted branch is pushed "to" the zero id (SHA-1 or SHA-256 repositories).
_ZERO_IDS = frozenset({"0" * 40, "0" * 64})


class EventKind(StrEnum):
    PUSH = "push"
    PING = "ping"
    OTHER = "other"


@dataclass(frozen=True)
class Event:
    kind: EventKind
    name: str


@dataclass(frozen=True)
class Push:
    # Every URL the payload gives for the repository, as ``repository_key``s.
    repositories: frozenset[str]
    branches: frozenset[str]
    revision: str | None


@dataclass(frozen=True)
class Ignored:
    reason: str


class BadPayload(Exception):
    """A verified request whose body is not the JSON its provider sends."""


class Provider(ABC):
    """The parts every host shares; each host overrides what it does its own way."""

    name = ""
    # The header that carries the signature (or token), named in a 401's message.
    credential_header = ""
    event_headers: tuple[str, ...] = ()
    delivery_headers: tuple[str, ...] = ()
    push_events: frozenset[str] = frozenset()
    ping_events: frozenset[str] = frozenset()

    def credential(self, headers: Headers) -> str | None:
        return headers.get(self.credential_header)

    @abstractmethod
    def verify(self, headers: Headers, body: bytes, secret: bytes) -> bool:
        """Whether ``secret`` signed this request; compared in constant time."""

    def stale(self, headers: Headers, now: float) -> str | None:
        """Why a verified request is too old or too new to act on; None when it is not."""
        return None

    def replay_key(self, headers: Headers) -> str | None:
        """What a replay of this request repeats: the delivery id with the signature, as one
        event delivered to two webhooks with different secrets shares its id but not its
        signature. None when nothing identifies the request."""
        credential = self.credential(headers) or ""
        return f"{_first(headers, self.delivery_headers) or ''}\0{credential}"

    def event(self, headers: Headers) -> Event | None:
        name = _first(headers, self.event_headers)
        if name is None:
            return None
        if name in self.push_events:
            return Event(EventKind.PUSH, name)
        if name in self.ping_events:
            return Event(EventKind.PING, name)
        return Event(EventKind.OTHER, name)

    def delivery_id(self, headers: Headers) -> str | None:
        return _first(headers, self.delivery_headers)

    @abstractmethod
    def read(self, headers: Headers, body: bytes) -> Push | Ignored:
        """What a verified push moved, or why it asks for nothing; BadPayload when the
        body is not what this host sends."""


class GitHub(Provider):
    name = "github"
    credential_header = "x-hub-signature-256"
    event_headers = ("x-github-event",)
    delivery_headers = ("x-github-delivery",)
    push_events = frozenset({"push"})
    ping_events = frozenset({"ping"})

    def verify(self, headers: Headers, body: bytes, secret: bytes) -> bool:
        return _prefixed_hmac_matches(self.credential(headers), secret, body)

    def read(self, headers: Headers, body: bytes) -> Push | Ignored:
        payload = _Payload(decode(headers, body))
        repository = payload.mapping("repository")
        urls = repository.texts("clone_url", "ssh_url", "git_url", "html_url", "url", "svn_url")
        if payload.get("deleted") is True:
            return Ignored("the branch was deleted")
        return _ref_push(payload, urls)


class Gitea(Provider):
    """Gitea and Forgejo: Forgejo sends its own headers and Gitea's, with the same values."""

    name = "gitea"
    credential_header = "x-gitea-signature"
    event_headers = ("x-forgejo-event", "x-gitea-event")
    delivery_headers = ("x-forgejo-delivery", "x-gitea-delivery")
    push_events = frozenset({"push"})

    def credential(self, headers: Headers) -> str | None:
        # Where Forgejo's own header is present it is the one checked: a bad one is not
        # rescued by a good Gitea header beside it.
        return headers.get("x-forgejo-signature", headers.get("x-gitea-signature"))

    def verify(self, headers: Headers, body: bytes, secret: bytes) -> bool:
        # Gitea signs the JSON it sends, not the request body: in a form body that JSON is
        # URL-encoded in the payload field, which is taken out (not parsed) to check it.
        try:
            signed = _form_payload(body) if _is_form(headers) else body
        except BadPayload:
            return False
        return _hmac_matches(self.credential(headers), secret, (signed,))

    def read(self, headers: Headers, body: bytes) -> Push | Ignored:
        payload = _Payload(decode(headers, body))
        urls = payload.mapping("repository").texts("clone_url", "ssh_url", "html_url")
        return _ref_push(payload, urls)


class Forgejo(Gitea):
    name = "forgejo"
    credential_header = "x-forgejo-signature"


class GitLab(Provider):
    name = "gitlab"
    credential_header = "x-gitlab-token"
    event_headers = ("x-gitlab-event",)
    # Idempotency-Key is kept across GitLab's retries of one delivery; the webhook UUID
    # (older GitLab) is per request.
    delivery_headers = ("idempotency-key", "x-gitlab-webhook-uuid")
    push_events = frozenset({"Push Hook"})

    def verify(self, headers: Headers, body: bytes, secret: bytes) -> bool:
        token = self.credential(headers)
        if token is None:
            return False
        # Digests of equal length, so the comparison does not even reveal the length.
        given = hashlib.sha256(token.encode()).digest()
        return hmac.compare_digest(given, hashlib.sha256(secret).digest())

    def replay_key(self, headers: Headers) -> str | None:
        # The token is the same on every request: without an id there is nothing to tell a
        # replay from the next push.
        delivery = self.delivery_id(headers)
        return None if delivery is None else super().replay_key(headers)

    def read(self, headers: Headers, body: bytes) -> Push | Ignored:
        payload = _Payload(decode(headers, body))
        project = payload.mapping("project").texts(
            "git_http_url", "git_ssh_url", "web_url", "http_url", "ssh_url", "url"
        )
        repository = payload.mapping("repository").texts(
            "git_http_url", "git_ssh_url", "homepage", "url"
        )
        return _ref_push(payload, project | repository)


class Bitbucket(Provider):
    """Bitbucket Cloud."""

    name = "bitbucket"
    credential_header = "x-hub-signature"
    event_headers = ("x-event-key",)
    delivery_headers = ("x-request-uuid",)
    push_events = frozenset({"repo:push"})
    ping_events = frozenset({"diagnostics:ping"})

    def verify(self, headers: Headers, body: bytes, secret: bytes) -> bool:
        return _prefixed_hmac_matches(self.credential(headers), secret, body)

    def read(self, headers: Headers, body: bytes) -> Push | Ignored:
        payload = _Payload(decode(headers, body))
        repository = payload.mapping("repository")
        links = repository.mapping("links")
        urls = links.mapping("html").texts("href")
        if not urls:
            raise BadPayload("repository.links.html.href: expected the repository's URL")
        branches: set[str] = set()
        revision = None
        for change in payload.mapping("push").items("changes"):
            new = change.get("new")
            # A deleted branch has no "new" side.
            if new is None:
                continue
            moved = _Payload(new, change.where + ".new")
            if moved.text("type") == "branch":
                branches.add(moved.text("name"))
                revision = revision or moved.mapping("target").optional_text("hash")
        if not branches:
            return Ignored("no branch moved: only tags, or deletions")
        return Push(frozenset(repository_key(u) for u in urls), frozenset(branches), revision)


class Generic(Provider):
    """hakobu's own format, for anything that can compute an HMAC::

    X-Hakobu-Timestamp: <unix seconds>
    X-Hakobu-Signature-256: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>
    {"repository": URL, "branch": NAME, "revision": optional}

    The timestamp is signed, so a captured request cannot be sent again with a fresh one.
    """

    name = "generic"
    credential_header = "x-hakobu-signature-256"
    timestamp_header = "x-hakobu-timestamp"

    def verify(self, headers: Headers, body: bytes, secret: bytes) -> bool:
        given = self.credential(headers)
        timestamp = headers.get(self.timestamp_header)
        if given is None or timestamp is None or not given.startswith("sha256="):
            return False
        return _hmac_matches(
            given.removeprefix("sha256="), secret, (f"{timestamp}.".encode(), body)
        )

    def stale(self, headers: Headers, now: float) -> str | None:
        text = headers.get(self.timestamp_header, "")
        if not re.fullmatch(r"[0-9]{1,12}", text):
            return f"X-Hakobu-Timestamp: expected Unix seconds, found {text!r}"
        age = now - int(text)
        if age > MAX_AGE:
            return f"X-Hakobu-Timestamp is {age:.0f}s old; at most {MAX_AGE:.0f}s is accepted"
        if age < -MAX_SKEW:
            return (
                f"X-Hakobu-Timestamp is {-age:.0f}s ahead of this clock; at most "
                f"{MAX_SKEW:.0f}s is accepted"
            )
        return None

    def replay_key(self, headers: Headers) -> str | None:
        # The signature covers the timestamp, so it alone tells one request from the next.
        return self.credential(headers)

    def event(self, headers: Headers) -> Event | None:
        return Event(EventKind.PUSH, "push")

    def read(self, headers: Headers, body: bytes) -> Push | Ignored:
        payload = _Payload(_json(body))
        return Push(
            frozenset({repository_key(payload.text("repository"))}),
            frozenset({payload.text("branch")}),
            payload.optional_text("revision"),
        )


PROVIDERS: dict[str, Provider] = {
    p.name: p for p in (GitHub(), GitLab(), Gitea(), Forgejo(), Bitbucket(), Generic())
}


# -- repositories ------------------------------------------------------------------------

_DEFAULT_PORTS = {"https": 443, "http": 80, "ssh": 22, "git+ssh": 22, "ssh+git": 22, "git": 9418}
# git's scp-like syntax: [user@]host:path, where the path does not start with "//".
_SCP_LIKE = re.compile(r"(?:[^@/:]+@)?(?P<host>[^@/:]+):(?!//)(?P<path>.*)")


def repository_key(url: str) -> str:
    """``url`` reduced to what identifies a repository, so the forms a host and a Delivery
    may use for one repository compare equal: the scheme, a user name or password, a
    ``.git`` suffix, trailing slashes and the scheme's default port are dropped; host and
    path are compared without case, as the hosts route them (and a wrong match only costs
    one extra pass, where a missed one leaves a push waiting for the next poll)."""
    text = url.strip()
    scp = _SCP_LIKE.fullmatch(text)
    if "://" in text:
        parts = urlsplit(text)
        host = parts.hostname or ""
        try:
            port = parts.port
        except ValueError:
            port = None
        if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
            host = f"{host}:{port}"
        path = parts.path
    elif scp is not None:
        host, path = scp["host"], scp["path"]
    else:
        host, path = "", text
    path = path.strip("/").removesuffix(".git").rstrip("/")
    return f"{host}/{path}".casefold()


# -- reading payloads --------------------------------------------------------------------


def decode(headers: Headers, body: bytes) -> Any:
    """The JSON a host sent, as ``application/json`` or (GitHub's default, also offered by
    Gitea) ``application/x-www-form-urlencoded`` with the JSON in ``payload``."""
    return _json(_form_payload(body) if _is_form(headers) else body)


def _is_form(headers: Headers) -> bool:
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    return content_type == "application/x-www-form-urlencoded"


def _form_payload(body: bytes) -> bytes:
    try:
        form = parse_qs(body.decode(), strict_parsing=True)
    except (UnicodeDecodeError, ValueError) as e:
        raise BadPayload(f"the form body cannot be read: {e}") from None
    values = form.get("payload")
    if not values:
        raise BadPayload("the form body has no payload field")
    return values[0].encode()


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as e:
        raise BadPayload(f"the body is not JSON: {e}") from None


class _Payload:
    """One mapping of a payload, with its place in it for messages."""

    def __init__(self, data: Any, where: str = "") -> None:
        if not isinstance(data, dict):
            raise BadPayload(f"{where or 'the body'}: expected a JSON object")
        self.data: dict[str, Any] = data
        self.where = where

    def _name(self, field: str) -> str:
        return f"{self.where}.{field}" if self.where else field

    def get(self, field: str) -> Any:
        return self.data.get(field)

    def mapping(self, field: str) -> _Payload:
        return _Payload(self.data.get(field), self._name(field))

    def items(self, field: str) -> list[_Payload]:
        value = self.data.get(field)
        if not isinstance(value, list):
            raise BadPayload(f"{self._name(field)}: expected a list")
        return [_Payload(v, f"{self._name(field)}[{i}]") for i, v in enumerate(value)]

    def text(self, field: str) -> str:
        value = self.data.get(field)
        if not isinstance(value, str) or not value:
            raise BadPayload(f"{self._name(field)}: expected a non-empty string")
        return value

    def optional_text(self, field: str) -> str | None:
        return self.text(field) if self.data.get(field) is not None else None

    def texts(self, *fields: str) -> frozenset[str]:
        """The non-empty strings among ``fields``; others are left out, not refused, as
        hosts differ in which of these URLs they send."""
        return frozenset(v for f in fields if isinstance(v := self.data.get(f), str) and v)


def _ref_push(payload: _Payload, urls: Iterable[str]) -> Push | Ignored:
    """A push payload of the GitHub shape: ``ref``, ``after`` and the repository's URLs."""
    ref = payload.text("ref")
    if ref.startswith("refs/tags/"):
        return Ignored(f"{ref} is a tag")
    if not ref.startswith("refs/heads/"):
        return Ignored(f"{ref} is not a branch")
    after = payload.optional_text("after")
    if after in _ZERO_IDS:
        return Ignored(f"{ref} was deleted")
    keys = frozenset(repository_key(u) for u in urls)
    if not keys:
        raise BadPayload("repository: expected the repository's URLs")
    return Push(keys, frozenset({ref.removeprefix("refs/heads/")}), after)


# -- signatures --------------------------------------------------------------------------


def _prefixed_hmac_matches(given: str | None, secret: bytes, body: bytes) -> bool:
    if given is None or not given.startswith("sha256="):
        return False
    return _hmac_matches(given.removeprefix("sha256="), secret, (body,))


def _hmac_matches(given_hex: str | None, secret: bytes, content: Iterable[bytes]) -> bool:
    if given_hex is None:
        return False
    try:
        given = bytes.fromhex(given_hex)
    except ValueError:
        return False
    mac = hmac.new(secret, digestmod=hashlib.sha256)
    for part in content:
        mac.update(part)
    return hmac.compare_digest(mac.digest(), given)


def _first(headers: Headers, names: Iterable[str]) -> str | None:
    for name in names:
        value = headers.get(name)
        if value is not None:
            return value
    return None
