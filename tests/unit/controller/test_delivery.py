"""Reading a Delivery's spec: defaults, and refusals that name the field."""

from __future__ import annotations

from typing import Any

import pytest

from hakobu.controller.delivery import RECONCILE_REQUESTED_AT, InvalidDelivery, parse
from hakobu.model.duration import parse_duration


def delivery(spec: Any, **metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": "hakobu.dev/v1alpha1",
        "kind": "Delivery",
        "metadata": {"name": "shop", "namespace": "team", "generation": 3, **metadata},
        "spec": spec,
    }


def test_defaults() -> None:
    parsed = parse(delivery({"repository": {"url": "/srv/shop.git"}, "environment": "prod"}))
    assert str(parsed.ref) == "team/shop"
    assert (parsed.branch, parsed.path, parsed.interval, parsed.timeout) == ("main", ".", 180, 300)
    assert not parsed.suspend and not parsed.prune
    assert parsed.auto_rollback_window is None and parsed.secret_name is None
    assert parsed.generation == 3 and parsed.reconcile_requested_at is None


def test_every_field() -> None:
    parsed = parse(
        delivery(
            {
                "repository": {"url": "ssh://git@x/shop", "branch": "release", "path": "deploy"},
                "environment": "staging",
                "secretRef": {"name": "shop-git"},
                "interval": "1m30s",
                "timeout": "2m",
                "suspend": True,
                "prune": True,
                "autoRollback": {"window": "10m"},
                "cluster": {"secretRef": {"name": "eu-west"}},
                "keysNamespace": "sealing",
            },
            annotations={RECONCILE_REQUESTED_AT: "2026-12-03T10:00:00Z"},
        )
    )
    assert (parsed.url, parsed.branch, parsed.path) == ("ssh://git@x/shop", "release", "deploy")
    assert (parsed.interval, parsed.timeout, parsed.auto_rollback_window) == (90, 120, 600)
    assert parsed.suspend and parsed.prune
    assert (parsed.secret_name, parsed.cluster_secret) == ("shop-git", "eu-west")
    assert parsed.keys_namespace == "sealing"
    assert parsed.reconcile_requested_at == "2026-12-03T10:00:00Z"


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"environment": "prod"}, "spec.repository"),
        ({"repository": {"url": ""}, "environment": "prod"}, "spec.repository.url"),
        ({"repository": {"url": "x"}}, "spec.environment"),
        ({"repository": {"url": "x"}, "environment": "p", "interval": "5"}, "spec.interval"),
        ({"repository": {"url": "x"}, "environment": "p", "timeout": "0s"}, "spec.timeout"),
        ({"repository": {"url": "x"}, "environment": "p", "prune": "yes"}, "spec.prune"),
        (
            {"repository": {"url": "x"}, "environment": "p", "cluster": {"secretRef": {}}},
            "spec.cluster.secretRef.name",
        ),
    ],
)
def test_refusals_name_the_field(spec: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidDelivery, match=rf"Delivery team/shop: {field}: expected"):
        parse(delivery(spec))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("1m30s", 90), ("1.5h", 5400), ("250ms", 0.25), ("1h2m3s", 3723)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5", "m", "5x", "1m 30s", "-5s", "s5"])
def test_not_durations(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


def test_notifications_of_its_own_are_read_with_hakobu_yaml_rules() -> None:
    spec = {
        "repository": {"url": "x"},
        "environment": "p",
        "notifications": {
            "targets": [{"name": "chat", "provider": "slack", "secretRef": {"name": "chat"}}]
        },
    }
    parsed = parse(delivery(spec))
    assert [t.name for t in parsed.notifications.targets] == ["chat"]
    spec["notifications"] = {"targets": [{"name": "x", "provider": "pager"}]}
    with pytest.raises(InvalidDelivery, match=r"spec\.notifications\.targets\[0\]\.provider"):
        parse(delivery(spec))
