"""A sync record fits in its ConfigMap however many apps the environment has."""

from __future__ import annotations

import json

from hakobu.sync.record import MAX_RECORD_BYTES, recorded_json
from hakobu.sync.run import AppResult, Outcome, SyncResult


def _app(n: int, result: Outcome = Outcome.SUCCEEDED, messages: tuple[str, ...] = ()) -> AppResult:
    return AppResult(
        app=f"shops-shop-{n:05d}",
        result=result,
        created=3,
        updated=0,
        unchanged=0,
        pruned=0,
        hooks=0,
        messages=messages,
        durations={"PreSync": 0.0, "Sync": 1.5, "PostSync": 0.0},
    )


def _result(apps: list[AppResult]) -> SyncResult:
    return SyncResult(
        project="shops",
        env="production",
        revision="0" * 40,
        started="2026-01-01T00:00:00+00:00",
        dry_run=False,
        result=Outcome.FAILED,
        applied=3 * len(apps),
        pruned=0,
        unchanged=0,
        apps=tuple(apps),
    )


def test_a_small_record_holds_every_app() -> None:
    data = json.loads(recorded_json(_result([_app(n) for n in range(3)])))
    assert [app["app"] for app in data["apps"]] == [f"shops-shop-{n:05d}" for n in range(3)]
    assert "apps_left_out" not in data


def test_a_large_record_keeps_the_apps_with_something_to_say_and_fits() -> None:
    apps = [_app(n) for n in range(5000)]
    apps[7] = _app(7, Outcome.FAILED, ("Deployment/shops/x timed out",))
    apps[9] = _app(9, messages=("warning: deprecated",))
    text = recorded_json(_result(apps))
    assert len(text.encode()) <= MAX_RECORD_BYTES
    data = json.loads(text)
    assert [app["app"] for app in data["apps"]] == ["shops-shop-00007", "shops-shop-00009"]
    assert data["apps_left_out"] == 4998
    assert data["applied"] == 15000


def test_thousands_of_failed_apps_are_cut_to_fit() -> None:
    failed = ("Deployment/shops/x failed: " + "x" * 400,)
    text = recorded_json(_result([_app(n, Outcome.FAILED, failed) for n in range(5000)]))
    assert len(text.encode()) <= MAX_RECORD_BYTES
    data = json.loads(text)
    assert 0 < len(data["apps"]) < 5000
    assert data["apps_left_out"] == 5000 - len(data["apps"])
