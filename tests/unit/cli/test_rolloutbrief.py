"""A rollout beside its app in ``hakobu status``: the latest measurement only."""

from __future__ import annotations

from hakobu.cli.rolloutbrief import app_json, latest, rollout_lines
from hakobu.health import HealthStatus
from hakobu.model.bluegreen import BlueGreen
from hakobu.model.canary import parse_canary
from hakobu.releases.canary.analysis import Measurement, Verdict
from hakobu.releases.canary.bluegreen import BlueGreenRollout
from hakobu.releases.canary.engine import Rollout, RolloutState
from hakobu.sync.status import AppStatus, SyncState

CANARY = parse_canary(
    {
        "canary": {
            "steps": [
                {"setWeight": 25},
                {
                    "analysis": {
                        "address": "http://prometheus:9090",
                        "query": "ratio",
                        "successCondition": "result[0] >= 0.95",
                        "count": 3,
                    }
                },
                {"pause": {}},
            ]
        }
    },
    (),
)


def measured(*values: float) -> tuple[Measurement, ...]:
    return tuple(
        Measurement(Verdict.SUCCESSFUL, (v,), f"result {v} meets the condition", 100.0 + i)
        for i, v in enumerate(values)
    )


def rollout(state: RolloutState | None) -> Rollout:
    return Rollout("web", CANARY, state, 25, 3, 1, 1)


def test_only_the_latest_measurement_is_kept() -> None:
    state = RolloutState("abc", step=1, measurements=measured(0.97, 0.98))
    kept = latest(rollout(state)).state
    assert kept is not None and [m.values for m in kept.measurements] == [(0.98,)]
    assert kept.step == 1 and kept.hash == "abc"


def test_an_app_without_a_rollout_has_null() -> None:
    status = AppStatus("api", SyncState.SYNCED, HealthStatus.HEALTHY, (), ())
    assert app_json(status, None)["rollout"] is None
    assert app_json(status, None)["app"] == "api"


def test_an_app_with_a_rollout_has_its_step_weights_and_latest_measurement() -> None:
    status = AppStatus("web", SyncState.SYNCED, HealthStatus.PROGRESSING, (), ())
    state = RolloutState("abc", step=1, measurements=measured(0.97, 0.98))
    shown = app_json(status, rollout(state))["rollout"]
    assert (shown["phase"], shown["step"], shown["steps"], shown["weight"]) == (
        "Progressing",
        1,
        3,
        25,
    )
    assert (shown["stableReplicas"], shown["canaryReplicas"], shown["canaryReady"]) == (3, 1, 1)
    assert [m["values"] for m in shown["measurements"]] == [[0.98]]


def test_the_text_names_the_rollout_then_its_step_weights_and_measurement() -> None:
    state = RolloutState("abc", step=1, measurements=measured(0.97, 0.98))
    assert rollout_lines(rollout(state)) == [
        "rollout web: Progressing",
        "  step 2/3: analysis of 'ratio'",
        "  weight 25%: canary 1/1 ready, stable 3",
        "  measurement Successful: result 0.98 meets the condition",
    ]


def test_a_rollout_that_never_started_reads_healthy() -> None:
    assert rollout_lines(rollout(None))[0] == "rollout web: Healthy"


def test_a_blue_green_rollout_shows_its_stage_and_services() -> None:
    state = RolloutState("abc", step=1, phase="Paused", measurements=measured(0.91, 0.99))
    blue_green = BlueGreenRollout(
        "web", BlueGreen(auto_promotion_enabled=False), state, "promotion", "r1", "r2", 3, 3, 2
    )
    status = AppStatus("web", SyncState.SYNCED, HealthStatus.SUSPENDED, (), ())
    shown = app_json(status, blue_green)["rollout"]
    assert shown["strategy"] == "blueGreen"
    assert shown["stage"] == "promotion"
    assert (shown["activeService"], shown["previewService"]) == ("web", "web-preview")
    assert [m["values"] for m in shown["measurements"]] == [[0.99]]
    lines = rollout_lines(blue_green)
    assert lines[0] == "rollout web: Paused"
    assert any("active Service web → r1" in line for line in lines)
