"""Notifications with their Secrets in a real API server: e-mail to an SMTP server process
and signed webhooks on loopback, a rotated Secret taking effect at the next message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hakobu.cluster.client import KubeClient
from hakobu.controller.notify import EventKind, Notifier, kube_secrets
from tests.unit.controller.notify.receivers import receiving
from tests.unit.controller.notify.smtpserver import smtp_server
from tests.unit.controller.notify.test_notifier import (
    KEY,
    PATIENT,
    REVISION,
    Lines,
    event,
    settings,
    target,
    verify,
)

pytestmark = pytest.mark.cluster


def secret(kube: KubeClient, namespace: str, name: str, items: dict[str, str]) -> None:
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace},
            "stringData": items,
        },
        field_manager="test",
        force=True,
    )


def test_mail_and_webhooks_from_secrets_in_the_deliverys_namespace(
    kube: KubeClient, namespace: str, tmp_path: Path
) -> None:
    config = settings(
        target("mail", "email", events=["rollback-committed"]),
        target("audit", "webhook"),
        target("missing", "slack"),
        commit_url="https://git.example/shop/commit/{revision}",
    )
    lines = Lines()
    delivery = f"{namespace}/production"
    with smtp_server(tmp_path) as mail, receiving("/a") as first, receiving("/b") as second:
        secret(
            kube,
            namespace,
            "mail",
            {
                "host": mail.host,
                "port": str(mail.port),
                "from": "hakobu@shop.example",
                "to": "ops@shop.example",
                "starttls": "false",
            },
        )
        secret(kube, namespace, "audit", {"url": first.url, "key": KEY.decode()})
        notifier = Notifier(kube_secrets(kube), log=lines, policy=PATIENT)
        try:
            notifier.notify(event(EventKind.ROLLBACK_COMMITTED, delivery=delivery), config)
            [message] = mail.messages(1)
            [signed] = first.wait_for(1)
            # The Secret is read per message: a moved endpoint gets the next one.
            secret(kube, namespace, "audit", {"url": second.url, "key": KEY.decode()})
            notifier.notify(event(EventKind.SYNC_SUCCEEDED, delivery=delivery), config)
            [moved] = second.wait_for(1)
        finally:
            notifier.close(timeout=10)
    # A long subject is folded over lines, as RFC 5322 has it.
    subject = " ".join(message["Subject"].split())
    assert subject == f"Rolled back: {delivery} (production) at 0123456789ab"
    assert f"https://git.example/shop/commit/{REVISION}" in str(message.get_payload())
    for request, kind in ((signed, "rollback-committed"), (moved, "sync-succeeded")):
        assert verify(request.body, request.headers["x-hakobu-signature-256"], KEY)
        assert json.loads(request.body)["kind"] == kind
    assert len(first.received) == 1
    assert lines.lines == [
        f"notify: missing (slack): rollback-committed of {delivery} at 0123456789ab not sent "
        f"(not retried): Secret {namespace}/missing does not exist",
        f"notify: missing (slack): sync-succeeded of {delivery} at 0123456789ab not sent "
        f"(not retried): Secret {namespace}/missing does not exist",
    ]
    assert notifier.counts() == {"sent": 3, "failed": 2}
