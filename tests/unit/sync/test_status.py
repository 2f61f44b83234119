"""An app is good when it is Synced (or suspended, left alone as asked) and Healthy or
Suspended, and in no other case."""

from __future__ import annotations

import pytest

from hakobu.health import HealthStatus
from hakobu.model.fleet import SUSPEND_ANNOTATION, suspended
from hakobu.sync.status import AppStatus, SyncState


@pytest.mark.parametrize("sync", list(SyncState))
@pytest.mark.parametrize("health", list(HealthStatus))
def test_good_needs_both(sync: SyncState, health: HealthStatus) -> None:
    status = AppStatus("web", sync, health, (), ())
    expected = sync in (SyncState.SYNCED, SyncState.SUSPENDED) and health in (
        HealthStatus.HEALTHY,
        HealthStatus.SUSPENDED,
    )
    assert status.good is expected


def test_an_app_is_suspended_when_each_of_its_objects_says_so() -> None:
    def config(name: str, annotations: dict[str, str]) -> dict[str, object]:
        metadata = {"name": name, "annotations": annotations}
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata}

    on = {SUSPEND_ANNOTATION: "true"}
    assert suspended([config("a", on), config("b", on)])
    assert not suspended([config("a", on), config("b", {})])
    assert not suspended([config("a", {SUSPEND_ANNOTATION: "false"})])
    assert not suspended([])
