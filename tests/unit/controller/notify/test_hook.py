"""The manager's hook: a pass's report becomes an event for the project's targets."""

from __future__ import annotations

import json
from pathlib import Path

from hakobu.controller.delivery import Delivery, parse
from hakobu.controller.notify.hook import delivery_hook, project_notifications
from hakobu.model.notifications import Notifications
from tests.unit.controller.notify.receivers import receiving
from tests.unit.controller.notify.test_notifier import REVISION, Lines, Secrets, notifier

PROJECT = """\
apiVersion: hakobu.dev/v1alpha1
kind: Project
name: shop
environments:
  production: {namespace: shop}
notifications:
  commitUrl: https://git.example/shop/commit/{revision}
  targets:
  - name: chat
    provider: slack
    secretRef: {name: chat}
    template: "{{ title }} {{ short }}"
"""


def delivery() -> Delivery:
    return parse(
        {
            "metadata": {"namespace": "shop", "name": "production"},
            "spec": {
                "repository": {"url": "https://git.example/shop.git"},
                "environment": "production",
            },
        }
    )


def test_a_pass_report_reaches_the_projects_targets(tmp_path: Path) -> None:
    (tmp_path / "hakobu.yaml").write_text(PROJECT)
    lines = Lines()
    with receiving() as chat, notifier(Secrets(chat={"url": chat.url.encode()})) as (notify, _):
        hook = delivery_hook(notify, lambda _: project_notifications(tmp_path), lines)
        hook(delivery(), "rollback-committed", REVISION, "web Degraded", ("web",))
        hook(delivery(), "deployed", REVISION, "", ())
        [request] = chat.wait_for(1)
    assert json.loads(request.body) == {"text": "Rolled back 0123456789ab"}
    assert lines.lines == ["notify: shop/production: no such event 'deployed'"]


def test_settings_that_cannot_be_read_cost_the_event_only(tmp_path: Path) -> None:
    (tmp_path / "hakobu.yaml").write_text(PROJECT.replace("{{ short }}", "{{ short"))
    lines = Lines()
    with notifier(Secrets()) as (notify, _):
        hook = delivery_hook(notify, lambda _: project_notifications(tmp_path), lines)
        hook(delivery(), "sync-failed", REVISION, "", ())

        def broken(_: Delivery) -> Notifications:
            raise OSError("disk")

        delivery_hook(notify, broken, lines)(delivery(), "sync-failed", REVISION, "", ())
    [first, second] = lines.lines
    assert first.startswith("notify: shop/production: sync-failed not sent: ")
    assert first.endswith(
        "hakobu.yaml:12: notifications.targets[0].template: line 1 of the template: "
        "unexpected end of template, expected 'end of print statement'."
    )
    assert second == "notify: shop/production: sync-failed not sent: OSError"
