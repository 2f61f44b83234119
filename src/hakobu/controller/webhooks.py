"""Push webhooks: ``POST /hooks/<provider>`` asks for a pass of the Deliveries a push moved.

A request is answered in this order, and nothing is triggered unless it gets to the end:

1. an unknown provider is 404; a body above ``max_body`` is 413 (the route stops reading);
2. the signature is checked on the raw bytes against every distinct ``webhookSecret`` of
   the Deliveries; none verifies: 401;
3. a generic request outside its time window: 401; a delivery this replica already
   accepted: 409 (its signature is valid — it is not unauthenticated, only done);
4. pings are 200, other events 202 and ignored, with the reason;
5. the body is parsed (400 if it is not what the host sends); a tag push or a deleted
   branch is 202 and ignored; the repository and branch are matched against the Deliveries
   **whose own secret verified**, and each match gets ``hakobu.dev/reconcile-requested-at``
   set (``request``). Whichever replica holds the Delivery's shard sees that through its
   watch and acts, so the receiver needs no word with the replicas. 202 either way; 503
   when an annotation could not be written, and the delivery is then forgotten so the
   host's redelivery is accepted.

Only accepted deliveries are remembered (``SeenDeliveries``): GitHub's "Redeliver" reuses
the delivery id, and a redelivery of one that failed must go through, while one that
succeeded has nothing left to ask for.

``webhook_routes`` is the HTTP side, for the controller's Starlette app; ``WebhookReceiver``
is everything else and needs no cluster: it is given callables for the Deliveries (the
controller's cache of them), their secrets (``ClusterSecrets`` reads them through the API
server) and the request (``deliveries.request_reconcile``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hakobu.cluster.api import KubeApi
from hakobu.cluster.errors import NotFound
from hakobu.controller.delivery import Delivery, DeliveryRef
from hakobu.controller.webhookproviders import (
    PROVIDERS,
    BadPayload,
    EventKind,
    Ignored,
    Provider,
    Push,
    repository_key,
)

MAX_BODY = 1024 * 1024
# GitHub offers to redeliver what it sent in the past three days.
SEEN_TTL = 72 * 3600.0
SEEN_CAPACITY = 10_000
WEBHOOK_SECRET_KEY = "webhookSecret"  # noqa: S105 - the key's name, not a secret

_LOG = logging.getLogger(__name__)


class Result(StrEnum):
    """The ``result`` label of ``hakobu_webhook_requests_total``."""

    REQUESTED = "requested"
    UNMATCHED = "unmatched"
    IGNORED = "ignored"
    PING = "ping"
    UNAUTHORIZED = "unauthorized"
    STALE = "stale"
    REPLAYED = "replayed"
    INVALID = "invalid"
    TOO_LARGE = "too_large"
    FAILED = "failed"
    UNKNOWN_PROVIDER = "unknown_provider"


# The provider label of requests to a path no provider serves: a fixed value, so requests
# to made-up paths cannot grow the metric without bound.
UNKNOWN_PROVIDER = "unknown"


@dataclass(frozen=True)
class WebhookResult:
    status: int
    result: Result
    message: str
    requested: tuple[DeliveryRef, ...] = ()

    def body(self) -> dict[str, Any]:
        return {
            "result": self.result.value,
            "message": self.message,
            "requested": [str(ref) for ref in self.requested],
        }


class SeenDeliveries:
    """The deliveries accepted in the last ``ttl`` seconds, at most ``capacity`` (the oldest
    forgotten first). Thread-safe: requests are handled on a pool."""

    def __init__(self, ttl: float = SEEN_TTL, capacity: int = SEEN_CAPACITY) -> None:
        self.ttl, self.capacity = ttl, capacity
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def claim(self, key: str, now: float) -> bool:
        """Remember ``key``; False when it was already remembered (a replay)."""
        with self._lock:
            while self._seen:
                oldest, at = next(iter(self._seen.items()))
                if now - at < self.ttl and len(self._seen) < self.capacity:
                    break
                del self._seen[oldest]
            if key in self._seen:
                return False
            self._seen[key] = now
            return True

    def release(self, key: str) -> None:
        """Forget ``key``: what it asked for was not done, so a redelivery must be accepted."""
        with self._lock:
            self._seen.pop(key, None)


Deliveries = Callable[[], Iterable[Delivery]]
# The webhook secret of a Delivery's Secret (named by spec.secretRef; None when it has
# none), or None when there is no such secret.
SecretOf = Callable[[DeliveryRef, str | None], bytes | None]
RequestReconcile = Callable[[DeliveryRef], None]
Observe = Callable[[str, str], None]


class _Answer(Protocol):
    def __call__(
        self, status: int, result: Result, message: str, requested: Iterable[DeliveryRef] = ()
    ) -> WebhookResult: ...


@dataclass(frozen=True)
class _Incoming:
    provider: str
    host: Provider
    headers: dict[str, str]
    body: bytes
    answer: _Answer


class WebhookReceiver:
    def __init__(
        self,
        deliveries: Deliveries,
        secret: SecretOf,
        request: RequestReconcile,
        *,
        clock: Callable[[], float] = time.time,
        log: logging.Logger = _LOG,
        observe: Observe | None = None,
        seen: SeenDeliveries | None = None,
        max_body: int = MAX_BODY,
    ) -> None:
        self._deliveries, self._secret, self._request = deliveries, secret, request
        self._clock, self._log = clock, log
        self._observe: Observe = observe or (lambda provider, result: None)
        self._seen = seen or SeenDeliveries()
        self.max_body = max_body

    def serves(self, provider: str) -> bool:
        return provider in PROVIDERS

    def oversized(self, provider: str) -> WebhookResult:
        """The answer to a body above ``max_body``, which the route stopped reading."""
        if not self.serves(provider):
            return self._unknown(provider)
        return self._answer(
            provider,
            413,
            Result.TOO_LARGE,
            f"the body is larger than {self.max_body} bytes",
        )

    def handle(self, provider: str, headers: Mapping[str, str], body: bytes) -> WebhookResult:
        if not self.serves(provider):
            return self._unknown(provider)
        if len(body) > self.max_body:
            return self.oversized(provider)
        host = PROVIDERS[provider]
        lowered = {name.lower(): value for name, value in headers.items()}
        delivery = host.delivery_id(lowered)

        def answer(
            status: int, result: Result, message: str, requested: Iterable[DeliveryRef] = ()
        ) -> WebhookResult:
            return self._answer(
                provider, status, result, message, delivery=delivery, requested=requested
            )

        incoming = _Incoming(provider, host, lowered, body, answer)
        verified = self._authenticate(incoming)
        if isinstance(verified, WebhookResult):
            return verified
        now = self._clock()
        refusal = self._screen(incoming, now)
        if refusal is not None:
            return refusal
        return self._once(incoming, verified, now)

    def _authenticate(self, incoming: _Incoming) -> list[Delivery] | WebhookResult:
        """The Deliveries whose secret signed the request, or why there are none."""
        host, headers, answer = incoming.host, incoming.headers, incoming.answer
        if host.credential(headers) is None:
            return answer(
                401,
                Result.UNAUTHORIZED,
                f"no {host.credential_header} header: give the webhook the secret in the "
                f"Delivery's Secret, key {WEBHOOK_SECRET_KEY}",
            )
        verified, unreadable = self._verified(lambda s: host.verify(headers, incoming.body, s))
        if verified:
            return verified
        if unreadable:
            # The caller is not authenticated: which Deliveries exist is for the log only.
            self._log.warning(
                "webhook %s: the secrets of %s could not be read; no other matches",
                incoming.provider,
                ", ".join(map(str, unreadable)),
            )
            return answer(
                503,
                Result.FAILED,
                "a webhook secret could not be read and no other matches: redeliver later",
            )
        return answer(
            401, Result.UNAUTHORIZED, "the signature matches the webhookSecret of no Delivery"
        )

    def _screen(self, incoming: _Incoming, now: float) -> WebhookResult | None:
        """The answer to a verified request that is not a push to act on, or None."""
        host, headers, answer = incoming.host, incoming.headers, incoming.answer
        if (stale := host.stale(headers, now)) is not None:
            return answer(401, Result.STALE, stale)
        event = host.event(headers)
        if event is None:
            return answer(400, Result.INVALID, f"no {' or '.join(host.event_headers)} header")
        if event.kind is EventKind.PING:
            return answer(200, Result.PING, "pong")
        if event.kind is EventKind.OTHER:
            return answer(202, Result.IGNORED, f"ignored: {event.name} is not a push event")
        return None

    def _once(self, incoming: _Incoming, verified: list[Delivery], now: float) -> WebhookResult:
        """The push acted on, unless this replica already accepted it; a delivery that was
        not accepted (bad body, failed request) is forgotten again."""
        key = incoming.host.replay_key(incoming.headers)
        key = None if key is None else _digest(incoming.provider, key)
        if key is not None and not self._seen.claim(key, now):
            return incoming.answer(409, Result.REPLAYED, "this delivery was already accepted")
        outcome: WebhookResult | None = None
        try:
            push = incoming.host.read(incoming.headers, incoming.body)
        except BadPayload as e:
            outcome = incoming.answer(400, Result.INVALID, f"not a {incoming.provider} push: {e}")
        else:
            outcome = self._push(incoming, push, verified)
        finally:
            if key is not None and (outcome is None or outcome.status >= 400):
                self._seen.release(key)
        return outcome

    def _push(
        self, incoming: _Incoming, push: Push | Ignored, verified: list[Delivery]
    ) -> WebhookResult:
        provider, answer = incoming.provider, incoming.answer
        if isinstance(push, Ignored):
            return answer(202, Result.IGNORED, f"ignored: {push.reason}")
        matched = [
            d
            for d in verified
            if d.branch in push.branches and repository_key(d.url) in push.repositories
        ]
        what = f"{' or '.join(sorted(push.repositories))} branch {', '.join(sorted(push.branches))}"
        if not matched:
            return answer(202, Result.UNMATCHED, f"ignored: no Delivery follows {what}")
        requested: list[DeliveryRef] = []
        failed: list[str] = []
        for d in matched:
            try:
                self._request(d.ref)
            except NotFound:
                self._log.info("webhook %s: Delivery %s is gone", provider, d.ref)
                continue
            except Exception as e:  # noqa: BLE001 — one Delivery's failure spares the others
                self._log.warning("webhook %s: reconcile request for %s: %s", provider, d.ref, e)
                failed.append(str(d.ref))
                continue
            requested.append(d.ref)
        if failed:
            return answer(
                503,
                Result.FAILED,
                f"reconcile could not be requested for {', '.join(failed)}: redeliver later",
                requested,
            )
        return answer(202, Result.REQUESTED, f"reconcile requested for {what}", requested)

    def _verified(
        self, verify: Callable[[bytes], bool]
    ) -> tuple[list[Delivery], list[DeliveryRef]]:
        """The Deliveries whose own secret verifies the request, and those whose secret could
        not be read. Each distinct secret is tried once, and every one is tried."""
        by_secret: dict[bytes, list[Delivery]] = {}
        looked_up: dict[tuple[str, str], bytes | None] = {}
        unreadable: list[DeliveryRef] = []
        for d in self._deliveries():
            if d.secret_name is None:
                continue
            where = (d.ref.namespace, d.secret_name)
            if where not in looked_up:
                try:
                    looked_up[where] = self._secret(d.ref, d.secret_name)
                except Exception as e:  # noqa: BLE001 — the other Deliveries still count
                    self._log.warning("webhook secret of %s cannot be read: %s", d.ref, e)
                    unreadable.append(d.ref)
                    continue
            secret = looked_up[where]
            if secret:
                by_secret.setdefault(secret, []).append(d)
        verifying = [verify(secret) for secret in by_secret]
        verified = [
            d for ok, ds in zip(verifying, by_secret.values(), strict=True) if ok for d in ds
        ]
        return verified, unreadable

    def _unknown(self, provider: str) -> WebhookResult:
        return self._answer(
            UNKNOWN_PROVIDER,
            404,
            Result.UNKNOWN_PROVIDER,
            f"no webhook provider {provider[:64]!r}: expected one of {', '.join(PROVIDERS)}",
        )

    def _answer(
        self,
        provider: str,
        status: int,
        result: Result,
        message: str,
        *,
        delivery: str | None = None,
        requested: Iterable[DeliveryRef] = (),
    ) -> WebhookResult:
        self._observe(provider, result.value)
        level = logging.INFO if status < 400 else logging.WARNING
        # The id comes from a request that may not be authenticated: quoted and cut short,
        # so it cannot forge log lines.
        shown = repr(delivery[:80]) if delivery else "-"
        self._log.log(level, "webhook %s delivery %s: %d %s", provider, shown, status, message)
        return WebhookResult(status, result, message, tuple(requested))


def _digest(provider: str, key: str) -> str:
    # Kept as a digest: the key holds a signature, or GitLab's token, which stay out of memory.
    return hashlib.sha256(f"{provider}\0{key}".encode()).hexdigest()


# -- HTTP --------------------------------------------------------------------------------


def webhook_routes(receiver: WebhookReceiver) -> list[Route]:
    """``POST /hooks/{provider}``; other methods are answered 405 by Starlette."""

    async def hook(request: Request) -> Response:
        provider = str(request.path_params["provider"])
        body = await _read_at_most(request, receiver.max_body)
        if body is None:
            result = receiver.oversized(provider)
        else:
            # Reading secrets and writing annotations block: off the event loop.
            result = await run_in_threadpool(receiver.handle, provider, request.headers, body)
        return JSONResponse(result.body(), status_code=result.status)

    return [Route("/hooks/{provider}", hook, methods=["POST"])]


async def _read_at_most(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is known to exceed ``limit``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


# -- the cluster's side ------------------------------------------------------------------


class ClusterSecrets:
    """The ``webhookSecret`` key of a Delivery's Secret, read through the API server.

    An answer is kept ``ttl`` seconds, so a burst of webhooks does not read every Secret
    again; a rotated secret is in use at most that long after it is written."""

    def __init__(
        self,
        kube: KubeApi,
        *,
        ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        log: logging.Logger = _LOG,
    ) -> None:
        self._kube, self._ttl, self._clock, self._log = kube, ttl, clock, log
        self._cache: dict[tuple[str, str], tuple[float, bytes | None]] = {}
        self._lock = threading.Lock()

    def __call__(self, ref: DeliveryRef, name: str | None) -> bytes | None:
        if name is None:
            return None
        where = (ref.namespace, name)
        now = self._clock()
        with self._lock:
            cached = self._cache.get(where)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        value = self._read(ref, name)
        with self._lock:
            self._cache[where] = (now, value)
        return value

    def _read(self, ref: DeliveryRef, name: str) -> bytes | None:
        try:
            secret = self._kube.get("v1", "Secret", name, ref.namespace)
        except NotFound:
            self._log.info("Delivery %s: Secret %s/%s not found", ref, ref.namespace, name)
            return None
        encoded = (secret.get("data") or {}).get(WEBHOOK_SECRET_KEY)
        if not isinstance(encoded, str):
            return None
        try:
            return base64.b64decode(encoded, validate=True)
        except binascii.Error:
            self._log.warning(
                "Secret %s/%s: %s is not base64", ref.namespace, name, WEBHOOK_SECRET_KEY
            )
            return None
