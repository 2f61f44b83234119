"""The notifications section: what is accepted, and errors that say file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from hakobu.model.notifications import (
    EventKind,
    Notifications,
    Provider,
    ResourceFields,
    parse_notifications,
)
from hakobu.model.project import load_project
from hakobu.model.source import SourceError

PROJECT = """\
apiVersion: hakobu.dev/v1alpha1
kind: Project
name: shop
environments:
  production:
    namespace: shop
  evaluation:
    namespace: shop-eval
"""

SECTION = """\
notifications:
  commitUrl: https://git.example/shop/commit/{revision}
  targets:
  - name: team-chat
    provider: slack
    secretRef: {name: shop-chat}
    events: [sync-failed, health-degraded]
    environments: [production]
  - name: audit
    provider: webhook
    secretRef: {name: shop.audit}
    template: |
      {{ environment }}: {{ message }}
"""


def load(tmp_path: Path, section: str) -> Notifications:
    (tmp_path / "hakobu.yaml").write_text(PROJECT + section)
    return load_project(tmp_path).notifications


def test_a_project_without_notifications_has_none(tmp_path: Path) -> None:
    assert load(tmp_path, "") == Notifications()


def test_targets_with_their_filters(tmp_path: Path) -> None:
    section = load(tmp_path, SECTION)
    chat, audit = section.targets
    assert chat.provider is Provider.SLACK
    assert chat.secret == "shop-chat"
    assert chat.events == {EventKind.SYNC_FAILED, EventKind.HEALTH_DEGRADED}
    assert chat.wants(EventKind.SYNC_FAILED, "production")
    assert not chat.wants(EventKind.SYNC_FAILED, "evaluation")
    assert not chat.wants(EventKind.SYNC_STARTED, "production")
    # Left out: every event, every environment.
    assert audit.events == frozenset(EventKind)
    assert audit.wants(EventKind.PROMOTED, "evaluation")
    assert audit.template == "{{ environment }}: {{ message }}\n"
    assert audit.origin.line == 20
    assert section.commit_link("ab" * 20) == f"https://git.example/shop/commit/{'ab' * 20}"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "provider: slack",
            "provider: teams",
            "hakobu.yaml:13: notifications.targets[0].provider: expected one of slack, "
            "webhook, email, found 'teams'",
        ),
        (
            "[sync-failed, health-degraded]",
            "[sync-failed, deployed]",
            "hakobu.yaml:15: notifications.targets[0].events[1]: expected one of sync-started",
        ),
        (
            "[production]",
            "[staging]",
            "hakobu.yaml:16: notifications.targets[0].environments[0]: no environment named "
            "'staging' (the project defines: evaluation, production)",
        ),
        ("name: audit", "name: team-chat", "targets[1].name: 'team-chat' names two targets"),
        ("{name: shop-chat}", "shop-chat", "targets[0].secretRef: expected {name: <Secret>}"),
        ("{name: shop-chat}", "{name: Shop}", "targets[0].secretRef.name: expected a Secret"),
        ("events: [sync-failed, health-degraded]", "events: []", "expected a non-empty list"),
        ("{revision}", "{sha}", "notifications.commitUrl: expected an http(s) URL"),
        ("commitUrl: https:", "commitUrl: file:", "notifications.commitUrl: expected an http"),
        ("    template: |", "    colour: |", "targets[1].colour: unknown field"),
        ("  commitUrl", "  commitURL", "hakobu.yaml:10: notifications.commitURL: unknown field"),
    ],
)
def test_mistakes_name_file_line_and_field(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert old in SECTION
    with pytest.raises(SourceError) as raised:
        load(tmp_path, SECTION.replace(old, new, 1))
    assert expected in raised.value.message


def test_a_delivery_spec_is_located_by_the_resource() -> None:
    where = ResourceFields("Delivery shop/production")
    spec = {"targets": [{"name": "chat", "provider": "slack", "secretRef": {"name": "x"}}]}
    parsed = parse_notifications(where, ("spec", "notifications"), spec)
    assert parsed.targets[0].origin.file == "Delivery shop/production"
    spec["targets"][0]["provider"] = "pager"
    with pytest.raises(SourceError, match=r"^Delivery shop/production: spec\.notifications"):
        parse_notifications(where, ("spec", "notifications"), spec)


def test_a_delivery_goes_over_its_project(tmp_path: Path) -> None:
    project = load(tmp_path, SECTION)
    where = ResourceFields("Delivery shop/production")
    delivery = parse_notifications(
        where,
        ("spec", "notifications"),
        {"targets": [{"name": "audit", "provider": "email", "secretRef": {"name": "mail"}}]},
    )
    combined = delivery.over(project)
    assert [(t.name, t.provider) for t in combined.targets] == [
        ("team-chat", Provider.SLACK),
        ("audit", Provider.EMAIL),
    ]
    assert combined.commit_url == project.commit_url
