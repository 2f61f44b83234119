"""The text of a notification: a default per event, or the target's template.

A template comes from a repository (``hakobu.yaml``) or a Delivery, so it runs in render's
sandbox (``hakobu.render.sandbox``) with bounds sized for a message rather than a manifest,
and reads no files. A template that fails when an event arrives costs that message its
wording, not its delivery: the default text is sent and the failure is logged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jinja2

from hakobu.controller.notify.events import Event
from hakobu.model.notifications import Notifications
from hakobu.render.budget import Budget, Limits
from hakobu.render.inputs import Inputs
from hakobu.render.sandbox import AppLoader, IncludeRefused, TemplateSandbox

# A message is read by a person: a few thousand characters is already too long.
MESSAGE_CHARS = 8000
LIMITS = Limits(
    value_chars=64 << 10,
    output_chars=MESSAGE_CHARS,
    written_chars=64 << 10,
    steps=20_000,
    depth=16,
    int_bits=1 << 12,
    seconds=0.5,
)


class TemplateFailed(Exception):
    """A message template that did not compile or run; its message says where and why."""


class _NoFiles(AppLoader):
    """Message templates are one text: ``include``, ``import`` and ``extends`` are refused."""

    def __init__(self) -> None:
        super().__init__(Path("/nonexistent"), Inputs())

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        raise IncludeRefused("a notification template cannot include, import or extend files")


def default_text(event: Event, link: Callable[[str, str], str] = lambda url, _: url) -> str:
    """``Sync failed: shop/production (production) at 0123456789ab`` and what happened.

    ``link(url, label)`` writes the commit link as the target's format wants it.
    """
    lines = [f"{event.title}: {event.delivery} ({event.environment}) at {event.short}"]
    if event.message:
        lines.append(event.message)
    if event.apps:
        lines.append("apps: " + ", ".join(event.apps))
    if event.commit_url:
        lines.append(link(event.commit_url, event.short))
    return "\n".join(lines)


def render(template: str, context: Mapping[str, Any]) -> str:
    """``template`` with ``context``, bounded; TemplateFailed with the line otherwise."""
    sandbox = TemplateSandbox(_NoFiles(), Budget(LIMITS), {})
    try:
        text = sandbox.from_string(template).render(dict(context))
    except jinja2.TemplateSyntaxError as e:
        raise TemplateFailed(f"line {e.lineno} of the template: {e.message}") from None
    except Exception as e:  # noqa: BLE001 - any failure of a template is the template's
        raise TemplateFailed(f"{_line(e)}{type(e).__name__}: {_first_line(e)}") from None
    return truncate(text)


def check(notifications: Notifications) -> None:
    """Compile every target's template; a SourceError at the template's field otherwise.

    Run when the settings are read, so a mistake is reported where it was written rather
    than found when the first event arrives.
    """
    for target in notifications.targets:
        if target.template is None:
            continue
        sandbox = TemplateSandbox(_NoFiles(), Budget(LIMITS), {})
        try:
            sandbox.from_string(target.template)
        except jinja2.TemplateSyntaxError as e:
            raise target.origin.error(
                f"line {e.lineno} of the template: {e.message}",
                hint="the template is Jinja; its variables are the event's fields",
            ) from None


def truncate(text: str) -> str:
    if len(text) <= MESSAGE_CHARS:
        return text
    return text[: MESSAGE_CHARS - 1] + "…"


def _line(error: Exception) -> str:
    """``line N: `` of the template's frame in ``error``'s traceback, if it has one."""
    line = None
    traceback = error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == "<template>":
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return f"line {line} of the template: " if line else ""


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else "no message"
