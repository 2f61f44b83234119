"""E-mail to a real SMTP server process on loopback (aiosmtpd): what arrives, over plain
SMTP and over STARTTLS, and what is logged when it cannot be sent."""

from __future__ import annotations

from email.message import Message
from pathlib import Path

from hakobu.controller.notify import EventKind, Notifier
from hakobu.localcluster.pki import create_pki
from tests.unit.controller.notify.receivers import closed_port
from tests.unit.controller.notify.smtpserver import SmtpServer, smtp_server
from tests.unit.controller.notify.test_notifier import (
    PATIENT,
    REVISION,
    Lines,
    Secrets,
    event,
    settings,
    target,
)

LINK = "https://git.example/shop/commit/{revision}"


def mail_items(server: SmtpServer, **more: bytes) -> dict[str, bytes]:
    return {
        "host": server.host.encode(),
        "port": str(server.port).encode(),
        "from": b"hakobu <hakobu@shop.example>",
        "to": b"ops@shop.example, Dev Team <dev@shop.example>",
        "starttls": b"false",
        **more,
    }


def send(secrets: Secrets, kind: EventKind = EventKind.ROLLBACK_COMMITTED) -> Lines:
    lines = Lines()
    notifier = Notifier(secrets, log=lines, policy=PATIENT)
    notifier.notify(
        event(kind, message="web turned Degraded; rolled back"),
        settings(target("mail", "email"), commit_url=LINK),
    )
    notifier.close(timeout=60)
    return lines


def body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def test_a_message_arrives_with_subject_sender_recipients_and_the_commit_link(
    tmp_path: Path,
) -> None:
    with smtp_server(tmp_path) as server:
        lines = send(Secrets(mail=mail_items(server)))
        assert lines.lines == []
        [message] = server.messages(1)
    assert message["Subject"] == "Rolled back: shop/production (production) at 0123456789ab"
    assert message["From"] == "hakobu@shop.example"
    assert message["To"] == "ops@shop.example, dev@shop.example"
    assert message["X-RcptTo"] == "ops@shop.example, dev@shop.example"
    assert body(message) == (
        "Rolled back: shop/production (production) at 0123456789ab\n"
        "web turned Degraded; rolled back\n"
        "apps: web\n"
        f"https://git.example/shop/commit/{REVISION}\n"
    )


def test_starttls_with_the_servers_own_certificate_authority(tmp_path: Path) -> None:
    pki = create_pki(tmp_path / "pki")
    tls = ("--tlscert", str(pki.serving_cert), "--tlskey", str(pki.serving_key))
    with smtp_server(tmp_path, *tls) as server:
        items = mail_items(server, starttls=b"true", ca=pki.ca_cert.read_bytes())
        lines = send(Secrets(mail=items))
        assert lines.lines == []
        [message] = server.messages(1)
        # Without the CA the server's certificate is not trusted: refused, not retried.
        untrusted = send(Secrets(mail=mail_items(server, starttls=b"true")))
    assert lines.lines == []
    assert message["Subject"].startswith("Rolled back: shop/production")
    assert untrusted.lines == [
        "notify: mail (email): rollback-committed of shop/production at 0123456789ab not "
        "sent (not retried): TLS with the mail server failed (CERTIFICATE_VERIFY_FAILED)"
    ]


def test_starttls_asked_of_a_server_without_it_is_refused(tmp_path: Path) -> None:
    with smtp_server(tmp_path) as server:
        lines = send(Secrets(mail=mail_items(server, starttls=b"true")))
        assert server.messages(0) == []
    assert lines.text.endswith("(not retried): the mail server does not offer STARTTLS")


def test_a_mail_server_that_is_down_is_retried_then_logged(tmp_path: Path) -> None:
    down = SmtpServer("127.0.0.1", closed_port(), tmp_path)
    lines = send(Secrets(mail=mail_items(down, password=b"hunter2-smtp", username=b"hakobu")))
    assert lines.lines == [
        "notify: mail (email): rollback-committed of shop/production at 0123456789ab not "
        "sent after 3 attempts: the mail server could not be reached (ConnectionRefusedError)"
    ]


def test_a_login_is_not_sent_in_the_clear_across_a_network(tmp_path: Path) -> None:
    remote = SmtpServer("mail.shop.example", 25, tmp_path)
    items = mail_items(remote, username=b"hakobu", password=b"hunter2-smtp")
    lines = send(Secrets(mail=items))
    assert lines.lines == [
        "notify: mail (email): rollback-committed of shop/production at 0123456789ab not "
        "sent (not retried): Secret shop/mail: a login needs starttls: true, except to a "
        "server on this machine"
    ]
