"""An app is good when it is Synced and Healthy or Suspended, and in no other case."""

from __future__ import annotations

import pytest

from hakobu.health import HealthStatus
from hakobu.sync.status import AppStatus, SyncState


@pytest.mark.parametrize("sync", list(SyncState))
@pytest.mark.parametrize("health", list(HealthStatus))
def test_good_needs_both(sync: SyncState, health: HealthStatus) -> None:
    status = AppStatus("web", sync, health, (), ())
    expected = sync is SyncState.SYNCED and health in (
        HealthStatus.HEALTHY,
        HealthStatus.SUSPENDED,
    )
    assert status.good is expected
