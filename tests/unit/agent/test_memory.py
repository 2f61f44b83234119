"""Which recorded revision a starting agent takes as known good (pure part)."""

from __future__ import annotations

from hakobu.agent.memory import Recorded, last_good


def test_the_last_good_revision_is_the_newest_successful_record_marked_healthy() -> None:
    newest_first = [
        Recorded("hakobu-sync-dev-3", "c", succeeded=False, stayed_healthy=True),
        Recorded("hakobu-sync-dev-2", "b", succeeded=True, stayed_healthy=False),
        Recorded("hakobu-sync-dev-1", "a", succeeded=True, stayed_healthy=True),
    ]
    found = last_good(newest_first)
    assert found is not None and found.revision == "a"
    assert last_good(newest_first[:2]) is None
