"""The manager's ``notify`` hook: what a pass reports, as an ``Event`` for the Delivery's
targets.

The manager hands over (Delivery, kind, revision, message, apps); which targets hear of it
is for ``settings`` to say — typically the ``notifications:`` of the project the Delivery
follows (``project_notifications`` of its checkout), under its own ``spec.notifications``.
Like ``Notifier.notify``, the hook never raises: settings that cannot be read are logged
and cost that event only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hakobu.controller.delivery import Delivery
from hakobu.controller.notify import message
from hakobu.controller.notify.events import Event, EventKind
from hakobu.controller.notify.notifier import Log, Notifier
from hakobu.errors import HakobuError
from hakobu.model.notifications import Notifications
from hakobu.model.project import load_project

Hook = Callable[[Delivery, str, str, str, tuple[str, ...]], None]


def project_notifications(root: Path) -> Notifications:
    """The ``notifications:`` of the project at ``root``, templates compiled; a
    SourceError at the file, line and field otherwise."""
    notifications = load_project(root).notifications
    message.check(notifications)
    return notifications


def delivery_hook(
    notifier: Notifier, settings: Callable[[Delivery], Notifications], log: Log
) -> Hook:
    def hook(
        delivery: Delivery, kind: str, revision: str, text: str, apps: tuple[str, ...]
    ) -> None:
        try:
            event_kind = EventKind(kind)
        except ValueError:
            log(f"notify: {delivery.ref}: no such event {kind!r}")
            return
        try:
            notifications = settings(delivery)
        except HakobuError as e:
            log(f"notify: {delivery.ref}: {event_kind} not sent: {e.message}")
            return
        except Exception as e:  # noqa: BLE001 - a notification must never fail a pass
            log(f"notify: {delivery.ref}: {event_kind} not sent: {type(e).__name__}")
            return
        event = Event(event_kind, str(delivery.ref), delivery.environment, revision, text, apps)
        notifier.notify(event, notifications)

    return hook
