"""What counts as drift in a watch event, and how repairs are spaced."""

from __future__ import annotations

from typing import Any

import pytest

from hakobu.controller.drift import Drift, DriftLimiter, drift_in


def event_object(*managers: tuple[str, str, str | None], labelled: bool = True) -> dict[str, Any]:
    labels = {"hakobu.dev/project": "shop", "hakobu.dev/environment": "dev"} if labelled else {}
    fields = [
        {
            "manager": name,
            "time": at,
            "operation": "Update",
            **({"subresource": sub} if sub else {}),
        }
        for name, at, sub in managers
    ]
    return {
        "kind": "ConfigMap",
        "metadata": {"name": "web", "namespace": "shop", "labels": labels, "managedFields": fields},
    }


def test_a_change_by_someone_else_is_drift_naming_them() -> None:
    obj = event_object(
        ("hakobu", "2026-12-03T10:00:00Z", None), ("kubectl-edit", "2026-12-03T10:05:00Z", None)
    )
    assert drift_in("MODIFIED", obj) == Drift(
        ("shop", "dev"), "ConfigMap shop/web was changed by kubectl-edit", "kubectl-edit"
    )


@pytest.mark.parametrize(
    "managers",
    [
        # hakobu's own apply.
        [("kubectl-edit", "2026-12-03T10:00:00Z", None), ("hakobu", "2026-12-03T10:05:00Z", None)],
        # A controller writing status.
        [
            ("hakobu", "2026-12-03T10:00:00Z", None),
            ("kube-controller-manager", "2026-12-03T10:05:00Z", "status"),
        ],
        [],
    ],
)
def test_no_drift(managers: list[tuple[str, str, str | None]]) -> None:
    assert drift_in("MODIFIED", event_object(*managers)) is None


def test_deletion_is_drift_and_unlabelled_objects_are_not_ours() -> None:
    deleted = drift_in("DELETED", event_object())
    assert deleted is not None and deleted.what == "ConfigMap shop/web was deleted"
    assert deleted.manager is None
    assert drift_in("DELETED", event_object(labelled=False)) is None
    assert drift_in("ADDED", event_object(("kubectl", "2026-12-03T10:05:00Z", None))) is None


def test_repairs_slow_down_and_a_fight_is_named() -> None:
    now = [0.0]
    limiter = DriftLimiter(first=1, longest=8, window=300, fight_after=3, clock=lambda: now[0])
    delays = []
    for _ in range(5):
        delays.append(limiter.delay("shop"))
        now[0] += 1
    assert delays == [1, 2, 4, 8, 8]
    assert limiter.fighting("shop")
    now[0] += 301
    assert not limiter.fighting("shop")
    assert limiter.delay("shop") == 1
