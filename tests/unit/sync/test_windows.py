"""Whether a sync may run at a moment: fixed clocks, midnight, time zones and DST."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from hakobu.model.project import Environment
from hakobu.model.syncwindows import SyncWindow, WindowKind
from hakobu.sync.windows import WindowClosed, admit_manual, window_state


def window(
    kind: str,
    schedule: str,
    hours: float,
    *,
    zone: str = "UTC",
    manual: bool = False,
    index: int = 0,
) -> SyncWindow:
    return SyncWindow(index, WindowKind(kind), schedule, f"{hours:g}h", hours * 3600, zone, manual)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_no_windows_leave_every_sync_free() -> None:
    state = window_state([], utc("2026-12-03 14:00"))
    assert (state.automatic, state.manual, state.reason, state.reopens) == (True, True, None, None)


def test_a_deny_window_closes_from_its_start_until_its_end() -> None:
    deny = [window("deny", "0 22 * * *", 1)]
    assert window_state(deny, utc("2026-12-03 21:59:59")).automatic
    inside = window_state(deny, utc("2026-12-03 22:00"))
    assert not inside.automatic and not inside.manual
    assert inside.reopens == utc("2026-12-03 23:00")
    assert inside.closing == tuple(deny)
    assert inside.message() == (
        "deny window syncWindows[0] ('0 22 * * *' for 1h) is open from 2026-12-03 22:00 UTC "
        "to 2026-12-03 23:00 UTC; syncs run again at 2026-12-03 23:00 UTC"
    )
    assert window_state(deny, utc("2026-12-03 23:00")).automatic


def test_a_window_spanning_midnight() -> None:
    deny = [window("deny", "0 22 * * *", 4)]
    state = window_state(deny, utc("2026-12-04 01:30"))
    assert not state.automatic
    assert state.open[0].start == utc("2026-12-03 22:00")
    assert state.reopens == utc("2026-12-04 02:00")
    assert window_state(deny, utc("2026-12-04 02:00")).automatic


def test_outside_every_allow_window_is_closed_until_the_next_one_opens() -> None:
    allows = [window("allow", "0 2 * * *", 2), window("allow", "0 14 * * 6", 1, index=1)]
    assert window_state(allows, utc("2026-12-03 03:59")).automatic
    state = window_state(allows, utc("2026-12-03 04:00"))
    assert not state.automatic
    assert state.reopens == utc("2026-12-04 02:00")
    assert state.closing == tuple(allows)
    assert state.reason == (
        "outside every allow window; the next, allow window syncWindows[0] ('0 2 * * *' for "
        "2h), opens at 2026-12-04 02:00 UTC"
    )


def test_deny_wins_over_an_open_allow_window() -> None:
    windows = [window("allow", "0 0 * * *", 24), window("deny", "0 12 * * *", 1, index=1)]
    state = window_state(windows, utc("2026-12-03 12:30"))
    assert not state.automatic
    assert [o.window.index for o in state.open] == [0, 1]
    assert state.closing == (windows[1],)
    assert state.reopens == utc("2026-12-03 13:00")


def test_overlapping_deny_windows_reopen_when_the_last_closes() -> None:
    windows = [window("deny", "0 9 * * *", 2), window("deny", "30 10 * * *", 2, index=1)]
    assert window_state(windows, utc("2026-12-03 09:30")).reopens == utc("2026-12-03 12:30")


def test_reopening_needs_no_deny_and_an_open_allow() -> None:
    # The allow window opens at 02:00 while a deny window holds until 02:30.
    windows = [window("allow", "0 2 * * *", 1), window("deny", "30 1 * * *", 1, index=1)]
    state = window_state(windows, utc("2026-12-03 05:00"))
    assert state.reopens == utc("2026-12-04 02:30")


def test_a_deny_window_always_open_never_reopens() -> None:
    started = time.monotonic()
    state = window_state([window("deny", "* * * * *", 1)], utc("2026-12-03 05:00"))
    assert time.monotonic() - started < 10
    assert state.reopens is None
    assert state.message().endswith("it does not open within 366 days")


def test_manual_syncs_pass_when_every_closing_window_says_so() -> None:
    at = utc("2026-12-03 22:30")
    one = [window("deny", "0 22 * * *", 1, manual=True)]
    assert window_state(one, at).manual
    both = [*one, window("deny", "0 21 * * *", 2, index=1)]
    assert not window_state(both, at).manual
    allows = [window("allow", "0 2 * * *", 1, manual=True)]
    state = window_state(allows, at)
    assert (state.automatic, state.manual) == (False, True)


def test_time_zone_of_the_schedule() -> None:
    deny = [window("deny", "0 22 * * *", 1, zone="America/New_York")]
    # 22:30 EST is 03:30 UTC the next day.
    state = window_state(deny, utc("2026-12-04 03:30"))
    assert not state.automatic
    assert state.reopens == utc("2026-12-04 04:00")
    assert "from 2026-12-03 22:00 EST (03:00 UTC) to 2026-12-03 23:00 EST (04:00 UTC)" in str(
        state.reason
    )
    assert window_state(deny, utc("2026-12-03 22:30")).automatic


def test_a_window_in_the_hour_the_clock_skips_opens_as_it_resumes() -> None:
    # Europe/Berlin, 2026-03-29: 02:00 CET becomes 03:00 CEST (01:00 UTC); 02:30 never is.
    deny = [window("deny", "30 2 * * *", 1, zone="Europe/Berlin")]
    state = window_state(deny, utc("2026-03-29 01:30"))
    assert not state.automatic
    assert state.open[0].start == utc("2026-03-29 01:00")
    assert state.reopens == utc("2026-03-29 02:00")
    # The days around it open at 02:30 local as usual.
    assert window_state(deny, utc("2026-03-28 01:45")).open[0].start == utc("2026-03-28 01:30")
    assert window_state(deny, utc("2026-03-30 00:45")).open[0].start == utc("2026-03-30 00:30")


def test_a_duration_is_elapsed_time_across_the_change() -> None:
    # Opens 01:00 CET (00:00 UTC); two hours later the clock says 04:00 CEST.
    deny = [window("deny", "0 1 * * *", 2, zone="Europe/Berlin")]
    state = window_state(deny, utc("2026-03-29 01:30"))
    assert state.reopens == utc("2026-03-29 02:00")
    assert "to 2026-03-29 04:00 CEST (02:00 UTC)" in str(state.reason)


def test_a_window_in_the_hour_the_clock_repeats_opens_once() -> None:
    # Europe/Berlin, 2026-10-25: 03:00 CEST becomes 02:00 CET (01:00 UTC); 02:30 is twice.
    deny = [window("deny", "30 2 * * *", 0.5, zone="Europe/Berlin")]
    first = window_state(deny, utc("2026-10-25 00:45"))
    assert not first.automatic
    assert first.reopens == utc("2026-10-25 01:00")
    # 02:45 CET, the second time the clock shows 02:30-03:00: not opened again.
    assert window_state(deny, utc("2026-10-25 01:45")).automatic


def test_a_refused_manual_sync_names_the_window_and_the_override() -> None:
    env = Environment(
        "production", "shop", {}, False, sync_windows=(window("deny", "0 22 * * *", 1),)
    )
    at = utc("2026-12-03 22:10")
    with pytest.raises(WindowClosed) as refused:
        admit_manual(env, at, override=None, hint="use --override-window")
    assert refused.value.exit_code == 1
    assert refused.value.message.startswith(
        "sync of production refused: deny window syncWindows[0] ('0 22 * * *' for 1h)"
    )
    assert refused.value.hint == "use --override-window"
    override = admit_manual(env, at, override=("alice", "hotfix"), hint="")
    assert override is not None
    assert (override.by, override.reason, override.at) == (
        "alice",
        "hotfix",
        "2026-12-03T22:10:00Z",
    )
    assert override.windows.startswith("deny window syncWindows[0]")
    assert admit_manual(env, utc("2026-12-03 23:10"), override=("alice", "x"), hint="") is None
