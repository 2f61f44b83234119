"""Where a target sends, read from its Secret when a message goes out.

Each target names a Secret in its Delivery's namespace (no other namespace can be named, so
a Delivery reaches only the Secrets its own namespace holds). Its items:

- ``slack``: ``url``, the incoming webhook;
- ``webhook``: ``url`` and ``key``, the HMAC-SHA256 key the body is signed with;
- ``email``: ``host``, ``port`` (default 587), ``from``, ``to`` (addresses separated by
  commas), ``starttls`` (default ``true``), ``username`` with ``password`` to log in, and
  ``ca``: certificates (PEM) to trust for the server instead of the system's.

The Secret is read for every message, so a rotated key or a moved endpoint takes effect at
once. The values read here are what logs must never show: errors name the Secret and the
item, never its content, and ``Settings.hidden`` lists what a log line is scrubbed of.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parseaddr

from hakobu.cluster.api import KubeApi
from hakobu.cluster.errors import Forbidden, NotFound
from hakobu.errors import HakobuError
from hakobu.model.notifications import Provider, Target

# (namespace, name) → the Secret's items, decoded.
SecretReader = Callable[[str, str], Mapping[str, bytes]]
DEFAULT_SMTP_PORT = 587


class Unusable(Exception):
    """The Secret is missing or does not say how to send: trying again will not help."""


class Unavailable(Exception):
    """The Secret could not be read just now (the API server is away): worth a retry."""


@dataclass(frozen=True)
class Endpoint:
    url: str
    # The webhook's HMAC key; None for a Slack-compatible hook.
    key: bytes | None = None

    @property
    def hidden(self) -> tuple[str, ...]:
        key = self.key.decode("utf-8", "replace") if self.key else ""
        return _secretive(self.url, key)


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    starttls: bool
    username: str | None
    password: str | None
    # PEM certificates the server's must chain to; None: the system's trust store.
    ca: str | None = None

    @property
    def hidden(self) -> tuple[str, ...]:
        return _secretive(self.password or "")


Settings = Endpoint | Smtp


def kube_secrets(api: KubeApi) -> SecretReader:
    """A ``SecretReader`` over the API server."""

    def read(namespace: str, name: str) -> Mapping[str, bytes]:
        where = f"Secret {namespace}/{name}"
        try:
            secret = api.get("v1", "Secret", name, namespace)
        except NotFound:
            raise Unusable(f"{where} does not exist") from None
        except Forbidden:
            raise Unusable(f"{where} may not be read by the controller") from None
        except HakobuError as e:
            raise Unavailable(f"{where} could not be read ({type(e).__name__})") from None
        items: dict[str, bytes] = {}
        for item, value in (secret.get("data") or {}).items():
            try:
                items[item] = base64.b64decode(value, validate=True)
            except (binascii.Error, TypeError):
                raise Unusable(f"{where}: item {item!r} is not base64") from None
        return items

    return read


def settings(target: Target, namespace: str, items: Mapping[str, bytes]) -> Settings:
    """What ``target`` needs from its Secret's ``items``; Unusable naming the item."""
    where = f"Secret {namespace}/{target.secret}"
    if target.provider is Provider.EMAIL:
        return _smtp(where, items)
    url = _text(where, items, "url")
    if not url.startswith(("https://", "http://")) or any(c.isspace() for c in url):
        raise Unusable(f"{where}: item 'url' is not an http(s) URL")
    if target.provider is Provider.WEBHOOK:
        key = items.get("key")
        if not key:
            raise Unusable(f"{where}: item 'key' (the HMAC key) is missing or empty")
        return Endpoint(url, key)
    return Endpoint(url)


def _smtp(where: str, items: Mapping[str, bytes]) -> Smtp:
    host = _text(where, items, "host")
    port_text = _text(where, items, "port", str(DEFAULT_SMTP_PORT))
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise Unusable(f"{where}: item 'port' is not a port number")
    sender = _address(where, "from", _text(where, items, "from"))
    recipients = tuple(_address(where, "to", part) for part in _text(where, items, "to").split(","))
    starttls_text = _text(where, items, "starttls", "true").lower()
    if starttls_text not in ("true", "false"):
        raise Unusable(f"{where}: item 'starttls' must be true or false")
    starttls = starttls_text == "true"
    username = _text(where, items, "username", "") or None
    password = _text(where, items, "password", "") or None
    if (username is None) != (password is None):
        raise Unusable(f"{where}: items 'username' and 'password' go together")
    if username and not starttls and not _loopback(host):
        # A password sent in the clear across a network is a password given away.
        raise Unusable(f"{where}: a login needs starttls: true, except to a server on this machine")
    ca = _text(where, items, "ca", "") or None
    return Smtp(host, int(port_text), sender, recipients, starttls, username, password, ca)


def _text(where: str, items: Mapping[str, bytes], item: str, default: str | None = None) -> str:
    value = items.get(item)
    if value is None:
        if default is None:
            raise Unusable(f"{where}: item {item!r} is missing")
        return default
    try:
        return value.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise Unusable(f"{where}: item {item!r} is not UTF-8 text") from None


def _address(where: str, item: str, text: str) -> str:
    _, address = parseaddr(text.strip())
    local, at, domain = address.rpartition("@")
    if not (local and at and domain) or any(c in address for c in "\r\n"):
        raise Unusable(f"{where}: item {item!r} holds something that is not an e-mail address")
    return address


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _secretive(*values: str) -> tuple[str, ...]:
    # Scrubbing a one- or two-character value out of a log line would scrub letters of
    # words; no real URL, key or password is that short.
    return tuple(v for v in values if len(v) >= 4)
