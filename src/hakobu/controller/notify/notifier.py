"""The notifier the reconciler calls: ``notify(event, settings)`` returns at once.

A sync must never wait for, or fail because of, a chat server. So ``notify`` only files the
event: it filters the targets that want it, drops it when the same news (``Event.key``:
Delivery, revision, kind) was already filed, and queues one job per target; a worker thread
does the sending. When more jobs wait than ``Policy.capacity`` — every endpoint down for a long
time — new events are dropped with a warning rather than letting memory grow.

A send that fails for a reason that may pass (no connection, a timeout, HTTP 5xx or 429, a
Secret that could not be read) is tried again after an exponentially growing, jittered
delay (``hakobu.cluster.retry.Backoff``; a receiver's Retry-After is honoured), up to
``Policy.attempts`` times, and then given up on with one log line. Retries wait in a
schedule, not in the worker, so one endpoint that is down delays no other.

Nothing this module logs holds a URL, a key or a password: reasons are written in our own
words, and each line is scrubbed of the values of the target's Secret before it is logged.
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import time
import uuid
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from hakobu.cluster.retry import Backoff
from hakobu.controller.notify import message
from hakobu.controller.notify.credentials import (
    SecretReader,
    Settings,
    Smtp,
    Unavailable,
    Unusable,
    settings,
)
from hakobu.controller.notify.events import Event, EventKind
from hakobu.controller.notify.providers import (
    SendFailed,
    send_email,
    send_slack,
    send_webhook,
)
from hakobu.model.notifications import Notifications, Provider, Target

Log = Callable[[str], None]
# 2 s, 4 s, … up to 2 minutes between tries, each drawn from its upper half.
RETRY_BACKOFF = Backoff(first=2.0, factor=2.0, longest=120.0)


@dataclass(frozen=True)
class Policy:
    # Tries per message, the first included: with RETRY_BACKOFF, two to four minutes.
    attempts: int = 8
    backoff: Backoff = RETRY_BACKOFF
    # Seconds for one HTTP request or one SMTP conversation step.
    timeout: float = 5.0
    # Jobs (one per event and target) waiting to be sent or retried, at most.
    capacity: int = 1000
    # Events remembered to refuse the same news twice.
    remembered: int = 10_000


@dataclass
class _Job:
    event: Event
    target: Target
    # The webhook's X-Hakobu-Delivery: one per event and target, the same on every retry.
    delivery_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    attempt: int = 0


class Notifier:
    def __init__(
        self,
        secrets: SecretReader,
        *,
        log: Log,
        policy: Policy = Policy(),
        client: httpx.Client | None = None,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self._secrets = secrets
        self._log = log
        self.policy = policy
        self._client = client or httpx.Client(timeout=policy.timeout, follow_redirects=False)
        self._draw = draw
        self._wake = threading.Condition()
        self._ready: deque[_Job] = deque()
        # (due, tie-breaker, job): retries waiting for their time.
        self._scheduled: list[tuple[float, int, _Job]] = []
        self._order = itertools.count()
        self._busy = 0
        self._seen: OrderedDict[tuple[str, str, EventKind, str], None] = OrderedDict()
        self._closing: float | None = None
        self._counts: Counter[str] = Counter()
        self._thread = threading.Thread(target=self._work, name="hakobu-notify", daemon=True)
        self._thread.start()

    def notify(self, event: Event, notifications: Notifications) -> None:
        """File ``event`` for the targets of ``notifications`` that want it; never blocks,
        never raises."""
        try:
            self._file(event, notifications)
        except Exception as e:  # noqa: BLE001 - a notification must never fail its caller
            # Only the error's class: whatever was passed in may not even be an Event.
            self._log(f"notify: an event was not filed: {type(e).__name__}")

    def counts(self) -> dict[str, int]:
        """Messages ``sent``, ``failed`` (given up on), ``dropped`` (queue full or closed)
        and events ``repeated`` (the same news again), since the start."""
        with self._wake:
            return dict(self._counts)

    def close(self, timeout: float = 10.0) -> None:
        """Send what is waiting for up to ``timeout`` seconds, then stop; what is left is
        logged as not sent."""
        with self._wake:
            if self._closing is None:
                self._closing = time.monotonic() + timeout
            self._wake.notify_all()
        # A send under way ends within its own timeout.
        self._thread.join(timeout + self.policy.timeout * 3)
        self._client.close()

    def __enter__(self) -> Notifier:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # The caller's side.

    def _file(self, event: Event, notifications: Notifications) -> None:
        targets = [t for t in notifications.targets if t.wants(event.kind, event.environment)]
        if not targets:
            return
        if event.commit_url is None:
            event = replace(event, commit_url=notifications.commit_link(event.revision))
        with self._wake:
            if event.key in self._seen:
                self._seen.move_to_end(event.key)
                self._counts["repeated"] += 1
                return
            pending = len(self._ready) + len(self._scheduled) + self._busy
            if self._closing is not None:
                dropped = "the notifier is closed"
            elif pending + len(targets) > self.policy.capacity:
                dropped = "too many messages wait"
            else:
                self._seen[event.key] = None
                while len(self._seen) > self.policy.remembered:
                    self._seen.popitem(last=False)
                self._ready.extend(_Job(event, target) for target in targets)
                self._wake.notify()
                return
            self._counts["dropped"] += len(targets)
        # Not remembered: the same news filed later, when there is room, is sent.
        self._log(f"notify: {_about(event)} dropped: {dropped}")

    # The worker's side.

    def _work(self) -> None:
        while (job := self._next()) is not None:
            self._attempt(job)
            with self._wake:
                self._busy -= 1

    def _next(self) -> _Job | None:
        with self._wake:
            while True:
                now = time.monotonic()
                if self._closing is not None and now >= self._closing:
                    self._abandon()
                    return None
                job = self._due(now)
                if job is not None:
                    self._busy += 1
                    return job
                if self._closing is not None and not self._scheduled:
                    return None
                wait = self._scheduled[0][0] - now if self._scheduled else None
                if self._closing is not None:
                    left = self._closing - now
                    wait = left if wait is None else min(wait, left)
                self._wake.wait(wait)

    def _due(self, now: float) -> _Job | None:
        if self._ready:
            return self._ready.popleft()
        if self._scheduled and self._scheduled[0][0] <= now:
            return heapq.heappop(self._scheduled)[2]
        return None

    def _abandon(self) -> None:
        left = [*self._ready, *(job for _, _, job in self._scheduled)]
        self._ready.clear()
        self._scheduled.clear()
        if left:
            self._counts["failed"] += len(left)
            self._log(f"notify: stopping with {len(left)} message(s) not sent")

    def _attempt(self, job: _Job) -> None:
        event, target = job.event, job.target
        hidden: tuple[str, ...] = ()
        try:
            config = settings(
                target, event.namespace, self._secrets(event.namespace, target.secret)
            )
            hidden = config.hidden
            self._send(job, config)
        except SendFailed as e:
            self._failed(job, e.reason, hidden, transient=e.transient, after=e.retry_after)
        except Unavailable as e:
            self._failed(job, str(e), hidden, transient=True)
        except Unusable as e:
            self._failed(job, str(e), hidden, transient=False)
        except Exception as e:  # noqa: BLE001 - the worker outlives any one message
            self._failed(job, f"unexpected {type(e).__name__}", hidden, transient=False)
        else:
            with self._wake:
                self._counts["sent"] += 1
            if job.attempt:
                self._say(f"{_to(job)}: {_about(event)} sent at attempt {job.attempt + 1}", hidden)

    def _send(self, job: _Job, config: Settings) -> None:
        event, target = job.event, job.target
        if isinstance(config, Smtp):
            send_email(config, event.title + _place(event), self._text(job), self.policy.timeout)
        elif target.provider is Provider.SLACK:
            send_slack(self._client, config, self._text(job, slack=True))
        else:
            send_webhook(
                self._client,
                config,
                event,
                self._text(job),
                delivery_id=job.delivery_id,
                sent_at=int(time.time()),
            )

    def _text(self, job: _Job, *, slack: bool = False) -> str:
        event, target = job.event, job.target
        if target.template is None:
            link = _slack_link if slack else (lambda url, _: url)
            escape = _slack_escape if slack else (lambda text: text)
            return message.default_text(_escaped(event, escape), link)
        context: dict[str, Any] = event.fields()
        if slack:
            # The template's own text may use Slack's markup; what the event carries (an
            # error message quoting a repository) may not ping a channel.
            context = {k: _slack_escape(v) if isinstance(v, str) else v for k, v in context.items()}
            context["apps"] = [_slack_escape(app) for app in event.apps]
        try:
            return message.render(target.template, context)
        except message.TemplateFailed as e:
            self._log(f"notify: {_to(job)}: template failed, default text sent: {e}")
            return self._text(replace(job, target=replace(target, template=None)), slack=slack)

    def _failed(
        self,
        job: _Job,
        reason: str,
        hidden: tuple[str, ...],
        *,
        transient: bool,
        after: float = 0.0,
    ) -> None:
        with self._wake:
            if transient and job.attempt + 1 < self.policy.attempts:
                delay = max(self.policy.backoff.delay(job.attempt, self._draw()), after)
                job.attempt += 1
                heapq.heappush(self._scheduled, (time.monotonic() + delay, next(self._order), job))
                self._wake.notify()
                return
            self._counts["failed"] += 1
        tries = f"after {job.attempt + 1} attempts" if job.attempt else "(not retried)"
        self._say(f"{_to(job)}: {_about(job.event)} not sent {tries}: {reason}", hidden)

    def _say(self, line: str, hidden: tuple[str, ...]) -> None:
        for value in hidden:
            line = line.replace(value, "[hidden]")
        self._log(f"notify: {line}")


def _about(event: Event) -> str:
    return f"{event.kind} of {event.delivery} at {event.short}"


def _to(job: _Job) -> str:
    return f"{job.target.name} ({job.target.provider})"


def _place(event: Event) -> str:
    return f": {event.delivery} ({event.environment}) at {event.short}"


def _escaped(event: Event, escape: Callable[[str], str]) -> Event:
    return replace(
        event,
        delivery=escape(event.delivery),
        environment=escape(event.environment),
        message=escape(event.message),
        apps=tuple(escape(app) for app in event.apps),
    )


def _slack_escape(text: str) -> str:
    """What Slack's markup gives meaning to (``<!channel>``, links), made plain text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_link(url: str, label: str) -> str:
    return f"<{url}|{label}>"
