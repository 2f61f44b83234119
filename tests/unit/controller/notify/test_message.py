"""Message text: the default, templates in the sandbox, and template mistakes located."""

from __future__ import annotations

import pytest

from hakobu.controller.notify.message import (
    MESSAGE_CHARS,
    TemplateFailed,
    check,
    default_text,
    render,
)
from hakobu.model.notifications import ResourceFields, parse_notifications
from hakobu.model.source import SourceError
from tests.unit.controller.notify.test_notifier import event


def test_the_default_text_says_what_where_and_which_commit() -> None:
    assert default_text(event(commit_url="https://git.example/c/1")) == (
        "Sync failed: shop/production (production) at 0123456789ab\n"
        "apply of Deployment web failed\n"
        "apps: web\n"
        "https://git.example/c/1"
    )
    assert default_text(event(message="", apps=())) == (
        "Sync failed: shop/production (production) at 0123456789ab"
    )


def test_a_template_sees_the_events_fields() -> None:
    text = render(
        "{{ kind }}|{{ title }}|{{ short }}|{{ apps | join(',') }}|{{ at }}",
        event(apps=("web", "worker")).fields(),
    )
    assert text == "sync-failed|Sync failed|0123456789ab|web,worker|2026-12-03T09:30:00Z"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ missing }}", "line 1 of the template: UndefinedError: 'missing' is undefined"),
        ("ok\n{{ kind.__class__ }}", "line 2 of the template: SecurityError"),
        ("{% include 'hakobu.yaml' %}", "IncludeRefused: a notification template cannot"),
        ("{{ 'x' * 10**9 }}", "LimitExceeded: the operator * would make a value"),
        ("{% for i in range(50000) %}{{ i }}{% endfor %}", "LimitExceeded"),
        ("{% macro m(n) %}{{ m(n) }}{% endmacro %}{{ m(1) }}", "LimitExceeded"),
        ("{{ kind", "line 1 of the template: unexpected end of template"),
    ],
)
def test_a_hostile_or_broken_template_is_stopped(template: str, expected: str) -> None:
    with pytest.raises(TemplateFailed) as raised:
        render(template, event().fields())
    assert expected in str(raised.value)


def test_a_long_message_is_cut() -> None:
    text = render("{% for i in range(3000) %}word {% endfor %}", {})
    assert len(text) == MESSAGE_CHARS
    assert text.endswith("…")


def test_check_reports_a_template_that_does_not_compile_at_its_field() -> None:
    where = ResourceFields("Delivery shop/production")
    good = {"name": "a", "provider": "slack", "secretRef": {"name": "a"}, "template": "{{ k }}"}
    bad = {**good, "name": "b", "template": "fine\n{% if %}"}
    check(parse_notifications(where, ("spec", "notifications"), {"targets": [good]}))
    with pytest.raises(SourceError) as raised:
        check(parse_notifications(where, ("spec", "notifications"), {"targets": [good, bad]}))
    assert raised.value.message == (
        "Delivery shop/production: spec.notifications.targets[1].template: line 2 of the "
        "template: Expected an expression, got 'end of statement block'"
    )
