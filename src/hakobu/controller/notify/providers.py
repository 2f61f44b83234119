"""Sending one message: to a Slack-compatible incoming webhook, to a signed JSON webhook,
or by e-mail.

Every failure is a ``SendFailed`` that says whether trying again could help and why it
failed in words of our own — an HTTP library's or mail server's text may quote the URL or
the request, and the URL of an incoming webhook is its password.

The webhook's request, and how a receiver checks it::

    POST <url>
    Content-Type: application/json
    X-Hakobu-Event: sync-failed
    X-Hakobu-Delivery: 6f1c…            (one id per event and target, the same on retries)
    X-Hakobu-Timestamp: 1764755073      (when this attempt was sent, Unix seconds)
    X-Hakobu-Signature-256: sha256=<hex HMAC-SHA256(key, raw body)>

    {"id": "6f1c…", "sentAt": 1764755073, "kind": "sync-failed", "delivery": "shop/prod", …}

A receiver computes the HMAC of the raw body with its copy of the key and compares it with
``hmac.compare_digest`` before parsing anything; then it refuses a body whose ``sentAt`` is
more than a few minutes away from its clock, and an ``id`` it has already accepted within
that window. The id and the time are inside the signed body (the headers repeat them for
routing), so a replay cannot be given a fresh time without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import httpx

from hakobu.controller.notify.credentials import Endpoint, Smtp
from hakobu.controller.notify.events import Event

SIGNATURE_HEADER = "X-Hakobu-Signature-256"
EVENT_HEADER = "X-Hakobu-Event"
DELIVERY_HEADER = "X-Hakobu-Delivery"
TIMESTAMP_HEADER = "X-Hakobu-Timestamp"
# Answers that say "not now" rather than "no".
_TRANSIENT_STATUS = frozenset({408, 425, 429})
# The longest wait a receiver's Retry-After may ask for; longer is treated as this.
RETRY_AFTER_LONGEST = 300.0


@dataclass
class SendFailed(Exception):
    reason: str
    transient: bool
    # Seconds the receiver asked to be left alone (Retry-After), else 0.
    retry_after: float = 0.0

    def __str__(self) -> str:
        return self.reason


def signature(key: bytes, body: bytes) -> str:
    """The ``X-Hakobu-Signature-256`` value of ``body``."""
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def send_slack(client: httpx.Client, endpoint: Endpoint, text: str) -> None:
    """POST ``{"text": …}``, as Slack's incoming webhooks (and Mattermost's, Rocket.Chat's,
    and others that copied them) take it."""
    body = json.dumps({"text": text}, ensure_ascii=False).encode()
    _post(client, endpoint.url, body, {"Content-Type": "application/json"})


def webhook_body(event: Event, text: str, delivery_id: str, sent_at: int) -> bytes:
    payload: dict[str, Any] = {"id": delivery_id, "sentAt": sent_at, **_camel(event.fields())}
    payload["commitUrl"] = event.commit_url
    payload["text"] = text
    return json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()


def send_webhook(
    client: httpx.Client,
    endpoint: Endpoint,
    event: Event,
    text: str,
    *,
    delivery_id: str,
    sent_at: int,
) -> None:
    """POST the event as JSON, signed with the endpoint's key."""
    if endpoint.key is None:
        raise SendFailed("the webhook has no key to sign with", transient=False)
    body = webhook_body(event, text, delivery_id, sent_at)
    headers = {
        "Content-Type": "application/json",
        EVENT_HEADER: event.kind.value,
        DELIVERY_HEADER: delivery_id,
        TIMESTAMP_HEADER: str(sent_at),
        SIGNATURE_HEADER: signature(endpoint.key, body),
    }
    _post(client, endpoint.url, body, headers)


def send_email(smtp: Smtp, subject: str, text: str, timeout: float) -> None:
    """One plain-text message to every recipient."""
    message = EmailMessage()
    # A header is one line: a message's own line breaks must not start new headers.
    message["Subject"] = " ".join(subject.split())
    message["From"] = smtp.sender
    message["To"] = ", ".join(smtp.recipients)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=smtp.sender.rpartition("@")[2])
    message.set_content(text)
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=timeout) as server:
            if smtp.starttls:
                server.starttls(context=ssl.create_default_context(cadata=smtp.ca))
            if smtp.username and smtp.password:
                server.login(smtp.username, smtp.password)
            server.send_message(message)
    except smtplib.SMTPResponseException as e:
        # 4xx: the server is busy or greylisting; 5xx: it refuses.
        raise SendFailed(
            f"the mail server answered {e.smtp_code}", transient=400 <= e.smtp_code < 500
        ) from None
    except smtplib.SMTPRecipientsRefused:
        raise SendFailed("the mail server refused every recipient", transient=False) from None
    except smtplib.SMTPNotSupportedError:
        raise SendFailed("the mail server does not offer STARTTLS", transient=False) from None
    except ssl.SSLError as e:
        raise SendFailed(f"TLS with the mail server failed ({e.reason})", transient=False) from None
    except (smtplib.SMTPException, OSError) as e:
        raise SendFailed(
            f"the mail server could not be reached ({_kind(e)})", transient=True
        ) from None


def _post(client: httpx.Client, url: str, body: bytes, headers: dict[str, str]) -> None:
    try:
        response = client.post(url, content=body, headers=headers)
    except httpx.TimeoutException:
        raise SendFailed("no answer in time", transient=True) from None
    except httpx.UnsupportedProtocol:
        raise SendFailed("the URL's scheme is not http or https", transient=False) from None
    except httpx.TransportError as e:
        raise SendFailed(f"the connection failed ({_kind(e)})", transient=True) from None
    status = response.status_code
    if 200 <= status < 300:
        return
    raise SendFailed(
        f"the receiver answered HTTP {status}",
        transient=status >= 500 or status in _TRANSIENT_STATUS,
        retry_after=_retry_after(response),
    )


def _retry_after(response: httpx.Response) -> float:
    value = response.headers.get("Retry-After", "")
    if not value.isdigit():
        return 0.0
    return min(float(value), RETRY_AFTER_LONGEST)


def _camel(fields: dict[str, Any]) -> dict[str, Any]:
    """JSON keys as Kubernetes writes them: ``commit_url`` → ``commitUrl``."""
    out: dict[str, Any] = {}
    for key, value in fields.items():
        head, *rest = key.split("_")
        out[head + "".join(word.title() for word in rest)] = value
    return out


def _kind(error: BaseException) -> str:
    # The class name only: messages of connection errors can carry the address.
    return type(error).__name__
