"""The notifier against real local receivers: payloads, signatures, retries, dedup, filters,
and logs that never show where a message went or what signed it."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime

from hakobu.cluster.retry import Backoff
from hakobu.controller.notify import Event, EventKind, Notifier, Policy
from hakobu.controller.notify.credentials import Unavailable, Unusable
from hakobu.model.notifications import Notifications, ResourceFields, parse_notifications
from tests.unit.controller.notify.receivers import closed_port, receiving

REVISION = "0123456789abcdef0123456789abcdef01234567"
KEY = b"webhook-signing-key-7f3a"
# Quick retries: the schedule, not its length, is under test.
QUICK = Policy(attempts=3, backoff=Backoff(first=0.01, factor=2.0, longest=0.05), timeout=2.0)
# For real server processes: a TLS handshake on a loaded machine can take seconds.
PATIENT = replace(QUICK, timeout=30.0)


def event(kind: EventKind = EventKind.SYNC_FAILED, **changes: object) -> Event:
    fields: dict[str, object] = {
        "kind": kind,
        "delivery": "shop/production",
        "environment": "production",
        "revision": REVISION,
        "message": "apply of Deployment web failed",
        "apps": ("web",),
        "at": datetime(2026, 12, 3, 9, 30, tzinfo=UTC),
    }
    fields.update(changes)
    return Event(**fields)  # type: ignore[arg-type]


def settings(*targets: dict[str, object], commit_url: str | None = None) -> Notifications:
    section: dict[str, object] = {"targets": list(targets)}
    if commit_url:
        section["commitUrl"] = commit_url
    return parse_notifications(ResourceFields("Delivery shop/production"), (), section)


def target(name: str, provider: str, **more: object) -> dict[str, object]:
    return {"name": name, "provider": provider, "secretRef": {"name": name}, **more}


class Secrets:
    """Secrets by (namespace, name), as the API server would return their items."""

    def __init__(self, **secrets: dict[str, bytes]) -> None:
        self.secrets = {("shop", name): items for name, items in secrets.items()}
        self.failures = 0

    def __call__(self, namespace: str, name: str) -> Mapping[str, bytes]:
        if self.failures:
            self.failures -= 1
            raise Unavailable(f"Secret {namespace}/{name} could not be read (ServerError)")
        if (namespace, name) not in self.secrets:
            raise Unusable(f"Secret {namespace}/{name} does not exist")
        return self.secrets[namespace, name]


class Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, line: str) -> None:
        with self.lock:
            self.lines.append(line)

    @property
    def text(self) -> str:
        with self.lock:
            return "\n".join(self.lines)


def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)


@contextmanager
def notifier(secrets: Secrets, policy: Policy = QUICK) -> Iterator[tuple[Notifier, Lines]]:
    lines = Lines()
    instance = Notifier(secrets, log=lines, policy=policy)
    try:
        yield instance, lines
    finally:
        instance.close(timeout=5)


def test_a_slack_message_links_the_commit() -> None:
    with receiving("/services/T0/B0/s3cr3t-token") as chat:
        secrets = Secrets(chat={"url": chat.url.encode()})
        config = settings(
            target("chat", "slack"), commit_url="https://git.example/shop/commit/{revision}"
        )
        with notifier(secrets) as (notify, _):
            notify.notify(event(message="quota <!channel> & more"), config)
            [request] = chat.wait_for(1)
    assert request.path == "/services/T0/B0/s3cr3t-token"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.body) == {
        "text": "Sync failed: shop/production (production) at 0123456789ab\n"
        # What the event carries cannot ping a channel.
        "quota &lt;!channel&gt; &amp; more\n"
        "apps: web\n"
        f"<https://git.example/shop/commit/{REVISION}|0123456789ab>"
    }


def verify(received_body: bytes, header: str, key: bytes) -> bool:
    """What a receiver does: the HMAC of the raw bytes, compared in constant time."""
    expected = "sha256=" + hmac.new(key, received_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


def test_a_webhook_is_signed_over_its_raw_body() -> None:
    with receiving() as hook:
        secrets = Secrets(audit={"url": hook.url.encode(), "key": KEY})
        with notifier(secrets) as (notify, _):
            notify.notify(event(EventKind.PROMOTED), settings(target("audit", "webhook")))
            [request] = hook.wait_for(1)
    headers = request.headers
    assert verify(request.body, headers["x-hakobu-signature-256"], KEY)
    assert not verify(request.body, headers["x-hakobu-signature-256"], b"another key")
    assert not verify(request.body + b" ", headers["x-hakobu-signature-256"], KEY)
    body = json.loads(request.body)
    assert headers["x-hakobu-event"] == "promoted"
    assert headers["x-hakobu-delivery"] == body["id"]
    assert headers["x-hakobu-timestamp"] == str(body["sentAt"])
    assert body["kind"] == "promoted"
    assert body["delivery"] == "shop/production"
    assert body["revision"] == REVISION
    assert body["apps"] == ["web"]
    assert body["at"] == "2026-12-03T09:30:00Z"
    assert body["commitUrl"] is None
    assert body["text"].startswith("Promoted: shop/production (production) at 0123456789ab")


def test_notify_returns_while_the_receiver_holds_the_request() -> None:
    with receiving() as hook:
        hook.open.clear()
        secrets = Secrets(audit={"url": hook.url.encode(), "key": KEY})
        with notifier(secrets) as (notify, _):
            notify.notify(event(), settings(target("audit", "webhook")))
            # The first request is held by the receiver; notify still returns at once.
            notify.notify(event(EventKind.SYNC_STARTED), settings(target("audit", "webhook")))
            assert hook.received == []
            hook.open.set()
            assert len(hook.wait_for(2)) == 2


def test_a_receiver_that_is_down_is_retried_then_logged_once() -> None:
    url = f"http://127.0.0.1:{closed_port()}/hooks/s3cr3t-path"
    secrets = Secrets(audit={"url": url.encode(), "key": KEY})
    with notifier(secrets) as (notify, lines):
        notify.notify(event(), settings(target("audit", "webhook")))
    assert notify.counts() == {"failed": 1}
    [line] = lines.lines
    assert line == (
        "notify: audit (webhook): sync-failed of shop/production at 0123456789ab not sent "
        "after 3 attempts: the connection failed (ConnectError)"
    )


def test_answers_that_may_pass_are_retried_with_the_same_delivery_id() -> None:
    with receiving() as hook:
        hook.answers = [503, 429]
        secrets = Secrets(audit={"url": hook.url.encode(), "key": KEY})
        with notifier(secrets) as (notify, lines):
            notify.notify(event(), settings(target("audit", "webhook")))
            received = hook.wait_for(3)
        assert len(received) == 3
        assert len({r.headers["x-hakobu-delivery"] for r in received}) == 1
        assert all(verify(r.body, r.headers["x-hakobu-signature-256"], KEY) for r in received)
        assert notify.counts() == {"sent": 1}
        assert lines.lines == [
            "notify: audit (webhook): sync-failed of shop/production at 0123456789ab sent at "
            "attempt 3"
        ]


def test_a_refusal_is_not_retried() -> None:
    with receiving() as hook:
        hook.answers = [404]
        secrets = Secrets(chat={"url": hook.url.encode()})
        with notifier(secrets) as (notify, lines):
            notify.notify(event(), settings(target("chat", "slack")))
        assert len(hook.received) == 1
    assert lines.text.endswith("not sent (not retried): the receiver answered HTTP 404")


def test_a_secret_that_cannot_be_read_now_is_retried_and_a_missing_one_is_not() -> None:
    with receiving() as hook:
        secrets = Secrets(chat={"url": hook.url.encode()})
        secrets.failures = 2
        config = settings(target("chat", "slack"), target("gone", "slack"))
        with notifier(secrets) as (notify, lines):
            notify.notify(event(), config)
            hook.wait_for(1)
    assert notify.counts() == {"sent": 1, "failed": 1}
    assert "gone (slack): sync-failed of shop/production at 0123456789ab not sent " in lines.text
    assert "Secret shop/gone does not exist" in lines.text


def test_the_same_news_is_sent_once() -> None:
    with receiving() as hook:
        secrets = Secrets(chat={"url": hook.url.encode()})
        config = settings(target("chat", "slack"))
        with notifier(secrets) as (notify, _):
            for _ in range(3):
                notify.notify(event(), config)
            notify.notify(event(revision="f" * 40), config)
            notify.notify(event(EventKind.SYNC_STARTED), config)
            notify.notify(event(delivery="shop/evaluation"), config)
            hook.wait_for(4)
        assert len(hook.received) == 4
        assert notify.counts() == {"sent": 4, "repeated": 2}


def test_previews_of_two_branches_at_one_commit_are_two_pieces_of_news() -> None:
    with receiving() as hook:
        secrets = Secrets(chat={"url": hook.url.encode()})
        config = settings(target("chat", "slack"))
        with notifier(secrets) as (notify, _):
            for branch in ("feature/a", "feature/b", "feature/a"):
                notify.notify(event(EventKind.PREVIEW_UP, message=f"preview of {branch}"), config)
            hook.wait_for(2)
        assert len(hook.received) == 2
        assert notify.counts() == {"sent": 2, "repeated": 1}


def test_what_is_remembered_is_bounded() -> None:
    with receiving() as hook:
        secrets = Secrets(chat={"url": hook.url.encode()})
        config = settings(target("chat", "slack"))
        policy = Policy(remembered=2, backoff=QUICK.backoff)
        with notifier(secrets, policy) as (notify, _):
            first = event()
            notify.notify(first, config)
            notify.notify(event(revision="a" * 40), config)
            notify.notify(event(revision="b" * 40), config)
            # The oldest was forgotten, so it is news again.
            notify.notify(first, config)
            hook.wait_for(4)
        assert len(hook.received) == 4


def test_targets_hear_only_the_events_and_environments_they_asked_for() -> None:
    with receiving("/all") as everything, receiving("/failures") as failures:
        secrets = Secrets(
            everything={"url": everything.url.encode()}, failures={"url": failures.url.encode()}
        )
        config = settings(
            target("everything", "slack"),
            target(
                "failures",
                "slack",
                events=["sync-failed", "rollback-committed"],
                environments=["production"],
            ),
        )
        with notifier(secrets) as (notify, _):
            notify.notify(event(EventKind.SYNC_STARTED), config)
            notify.notify(event(EventKind.SYNC_FAILED), config)
            notify.notify(
                event(EventKind.SYNC_FAILED, delivery="shop/eval", environment="evaluation"),
                config,
            )
            everything.wait_for(3)
            failures.wait_for(1)
        firsts = [json.loads(r.body)["text"].splitlines()[0] for r in failures.received]
    assert firsts == ["Sync failed: shop/production (production) at 0123456789ab"]
    assert len(everything.received) == 3


def test_a_template_writes_the_message() -> None:
    template = (
        "{{ title }} in {{ environment }}: {{ message }}\n"
        "{% for app in apps %}- {{ app }}\n{% endfor %}{{ commit_url }}"
    )
    with receiving() as hook:
        secrets = Secrets(chat={"url": hook.url.encode()})
        config = settings(
            target("chat", "slack", template=template),
            commit_url="https://git.example/c/{revision}",
        )
        with notifier(secrets) as (notify, _):
            notify.notify(event(apps=("web", "<worker>")), config)
            [request] = hook.wait_for(1)
    assert json.loads(request.body)["text"] == (
        "Sync failed in production: apply of Deployment web failed\n"
        f"- web\n- &lt;worker&gt;\nhttps://git.example/c/{REVISION}"
    )


def test_a_hostile_template_is_stopped_and_the_default_text_sent() -> None:
    hostile = "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"
    with receiving() as hook:
        secrets = Secrets(chat={"url": hook.url.encode()})
        config = settings(target("chat", "slack", template=hostile))
        with notifier(secrets) as (notify, lines):
            notify.notify(event(), config)
            [request] = hook.wait_for(1)
    text = json.loads(request.body)["text"]
    assert text.startswith("Sync failed: shop/production (production) at 0123456789ab")
    assert (
        "notify: chat (slack): template failed, default text sent: line 1 of the template: "
        "LimitExceeded" in lines.text
    )


def test_logs_never_show_urls_or_keys() -> None:
    token = "T0AAAA/B0BBBB/XyZsecretTokenValue"
    down = f"http://127.0.0.1:{closed_port()}/services/{token}"
    with receiving(f"/refusing/{token}") as refusing:
        refusing.answers = [400]
        secrets = Secrets(
            down={"url": down.encode(), "key": KEY},
            refusing={"url": refusing.url.encode()},
            badkey={"url": refusing.url.encode(), "key": b""},
            broken={"url": refusing.url.encode()},
        )
        config = settings(
            target("down", "webhook"),
            target("refusing", "slack"),
            target("badkey", "webhook"),
            # A template that fails quoting the event, which holds no secret.
            target("broken", "slack", template="{{ nope }}"),
        )
        with notifier(secrets) as (notify, lines):
            notify.notify(event(), config)
            refusing.wait_for(2)
    logged = lines.text
    assert [line.split(":")[1] for line in lines.lines] == [
        " refusing (slack)",
        " badkey (webhook)",
        " broken (slack)",
        " down (webhook)",
    ]
    for secret in (token, "127.0.0.1", KEY.decode(), down, refusing.url, "services"):
        assert secret not in logged


def test_a_full_queue_drops_with_a_warning_and_never_blocks() -> None:
    with receiving() as hook:
        hook.open.clear()
        secrets = Secrets(chat={"url": hook.url.encode()})
        config = settings(target("chat", "slack"))
        policy = Policy(capacity=1, backoff=QUICK.backoff)
        with notifier(secrets, policy) as (notify, lines):
            notify.notify(event(), config)
            notify.notify(event(EventKind.SYNC_STARTED), config)
            hook.open.set()
            hook.wait_for(1)
            until(lambda: notify.counts().get("sent") == 1)
            # What was dropped is not remembered: filed again once there is room, it goes.
            notify.notify(event(EventKind.SYNC_STARTED), config)
            hook.wait_for(2)
        assert notify.counts() == {"sent": 2, "dropped": 1}
        assert lines.lines == [
            "notify: sync-started of shop/production at 0123456789ab dropped: too many "
            "messages wait"
        ]


def test_close_sends_what_waits_and_later_events_are_dropped() -> None:
    with receiving() as hook:
        secrets = Secrets(chat={"url": hook.url.encode()})
        config = settings(target("chat", "slack"))
        lines = Lines()
        notify = Notifier(secrets, log=lines, policy=QUICK)
        for kind in (EventKind.SYNC_STARTED, EventKind.SYNC_SUCCEEDED, EventKind.PROMOTED):
            notify.notify(event(kind), config)
        notify.close(timeout=5)
        assert len(hook.received) == 3
        notify.notify(event(EventKind.DRIFT_REPAIRED), config)
    assert notify.counts() == {"sent": 3, "dropped": 1}
    assert lines.lines[-1].endswith("dropped: the notifier is closed")


def test_close_gives_up_on_retries_past_its_time() -> None:
    url = f"http://127.0.0.1:{closed_port()}/hook"
    secrets = Secrets(audit={"url": url.encode(), "key": KEY})
    slow = Policy(attempts=5, backoff=Backoff(first=60.0, longest=60.0), timeout=2.0)
    lines = Lines()
    notify = Notifier(secrets, log=lines, policy=slow)
    notify.notify(event(), settings(target("audit", "webhook")))
    notify.close(timeout=0.5)
    assert notify.counts() == {"failed": 1}
    assert lines.lines == ["notify: stopping with 1 message(s) not sent"]


def test_notify_never_raises_into_its_caller() -> None:
    with notifier(Secrets()) as (notify, lines):
        notify.notify("not an event", settings(target("chat", "slack")))  # type: ignore[arg-type]
    assert lines.lines == ["notify: an event was not filed: AttributeError"]
