"""Notifications: what happens to a Delivery, told to chat, to webhooks and by e-mail.

::

    notifier = Notifier(kube_secrets(api), log=log)
    notifications = delivery_settings.over(project.notifications)
    message.check(notifications)            # a template that does not compile, at its line
    notifier.notify(Event(EventKind.SYNC_FAILED, "shop/production", "production",
                          revision, "apply of Deployment web failed"), notifications)
    notifier.close()

``notify`` returns at once and never raises; a worker thread sends, retries and logs.
``delivery_hook(notifier, settings, log)`` is the manager's ``notify`` hook over it.
Modules: ``events`` (what happened), ``message`` (its text: a default, or the target's
sandboxed template), ``credentials`` (where to send, from the target's Secret),
``providers`` (Slack-compatible, signed webhook, e-mail), ``notifier`` (queue, dedup,
retries), ``hook`` (a pass's report as an event).
"""

from hakobu.controller.notify import message
from hakobu.controller.notify.credentials import SecretReader, kube_secrets
from hakobu.controller.notify.events import Event, EventKind
from hakobu.controller.notify.hook import delivery_hook, project_notifications
from hakobu.controller.notify.notifier import Notifier, Policy
from hakobu.controller.notify.providers import signature

__all__ = [
    "Event",
    "EventKind",
    "Notifier",
    "Policy",
    "SecretReader",
    "delivery_hook",
    "kube_secrets",
    "message",
    "project_notifications",
    "signature",
]
