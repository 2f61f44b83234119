"""Whether a sync may run at a moment, under an environment's sync windows (pure).

Argo CD's rules, for hakobu's environments:

- no windows: every sync may run;
- a deny window that is open closes the environment, whatever allow windows say;
- when allow windows exist, the environment is open only while one of them is;
- a manual sync (``hakobu sync``, the dashboard) may run where an automatic one may not
  when every window that closes it says ``manualSync: true``: the open deny windows, or,
  outside every allow window, all allow windows. Otherwise a person overrides the window,
  and the sync's record says who did and why.

A window opens at each time its schedule names, in its time zone, and stays open for its
duration of elapsed time: [start, start + duration). ``window_state`` says what holds at a
moment and, when closed, which windows close it and when automatic syncs may run again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hakobu.errors import OperationFailed
from hakobu.model.project import Environment
from hakobu.model.syncwindows import SyncWindow, WindowKind

# How far ahead a reopening is looked for, and in how many steps at most: a deny window
# that opens again before it closes keeps the environment closed for good.
HORIZON = timedelta(days=366)
_STEPS = 10_000


@dataclass(frozen=True)
class Opening:
    """One opening of a window: from ``start`` until ``end`` (UTC)."""

    window: SyncWindow
    start: datetime
    end: datetime


@dataclass(frozen=True)
class WindowState:
    at: datetime
    # Whether the agent and the controller may sync now.
    automatic: bool
    # Whether a person may sync now without overriding a window.
    manual: bool
    # The windows open now.
    open: tuple[Opening, ...]
    # What closes the environment, in words (None when open).
    reason: str | None
    # When automatic syncs may run again: None when they may now, or not within HORIZON.
    reopens: datetime | None
    # The windows that close it (the open deny windows, else every allow window).
    closing: tuple[SyncWindow, ...] = ()

    @property
    def closed(self) -> bool:
        return not self.automatic

    def message(self) -> str:
        """Why automatic syncs wait, and until when."""
        until = (
            f"syncs run again at {when(self.reopens)}"
            if self.reopens is not None
            else f"it does not open within {HORIZON.days} days"
        )
        return f"{self.reason}; {until}"


def opening(window: SyncWindow, at: datetime) -> Opening | None:
    """The opening of ``window`` that ``at`` falls in, if any."""
    # Imported here, as in model.syncwindows: only environments with windows need it, and
    # every sync imports this module.
    from cronsim import CronSim  # noqa: PLC0415

    zone = window.zone
    # Openings fall on whole seconds: the latest at or before ``at`` is the first one
    # before the next whole second.
    after = at.astimezone(zone).replace(microsecond=0) + timedelta(seconds=1)
    try:
        start = next(CronSim(window.schedule, after, reverse=True)).astimezone(UTC)
    except StopIteration:
        return None
    end = start + timedelta(seconds=window.seconds)
    return Opening(window, start, end) if start <= at < end else None


def next_opening(window: SyncWindow, after: datetime) -> datetime | None:
    """When ``window`` opens next, strictly after ``after`` (UTC)."""
    from cronsim import CronSim  # noqa: PLC0415

    local = after.astimezone(window.zone).replace(microsecond=0)
    try:
        return next(CronSim(window.schedule, local)).astimezone(UTC)
    except StopIteration:
        return None


def window_state(windows: Sequence[SyncWindow], at: datetime) -> WindowState:
    at = at.astimezone(UTC)
    opened = tuple(o for w in windows if (o := opening(w, at)) is not None)
    denies = [o for o in opened if o.window.kind is WindowKind.DENY]
    allows = [w for w in windows if w.kind is WindowKind.ALLOW]
    if denies:
        closing = tuple(o.window for o in denies)
        spans = "; ".join(
            f"{o.window.describe()} is open from {when(o.start, o.window)} to "
            f"{when(o.end, o.window)}"
            for o in denies
        )
        return WindowState(
            at,
            automatic=False,
            manual=all(w.manual_sync for w in closing),
            open=opened,
            reason=spans,
            reopens=reopening(windows, at),
            closing=closing,
        )
    if allows and not any(o.window.kind is WindowKind.ALLOW for o in opened):
        upcoming = [(start, w) for w in allows if (start := next_opening(w, at)) is not None]
        reason = "outside every allow window"
        if upcoming:
            start, first = min(upcoming, key=lambda pair: pair[0])
            reason += f"; the next, {first.describe()}, opens at {when(start, first)}"
        return WindowState(
            at,
            automatic=False,
            manual=all(w.manual_sync for w in allows),
            open=opened,
            reason=reason,
            reopens=reopening(windows, at),
            closing=tuple(allows),
        )
    return WindowState(at, automatic=True, manual=True, open=opened, reason=None, reopens=None)


def reopening(windows: Sequence[SyncWindow], at: datetime) -> datetime | None:
    """The first moment from ``at`` on when automatic syncs may run, within HORIZON.

    Each step moves forward to the end of the deny windows open, or to the next opening of
    an allow window, until neither closes the environment; every step moves time on."""
    allows = [w for w in windows if w.kind is WindowKind.ALLOW]
    moment = at
    for _ in range(_STEPS):
        if moment - at > HORIZON:
            return None
        opened = [o for w in windows if (o := opening(w, moment)) is not None]
        denies = [o.end for o in opened if o.window.kind is WindowKind.DENY]
        if denies:
            moment = max(denies)
            continue
        if not allows or any(o.window.kind is WindowKind.ALLOW for o in opened):
            return moment
        starts = [s for w in allows if (s := next_opening(w, moment)) is not None]
        if not starts:
            return None
        moment = min(starts)
    return None


def when(moment: datetime | None, window: SyncWindow | None = None) -> str:
    """``2026-12-03 23:00 CET (22:00 UTC)``: in the window's zone, and in UTC."""
    if moment is None:
        return "never"
    utc = moment.astimezone(UTC)
    if window is None or window.time_zone == "UTC":
        return f"{utc:%Y-%m-%d %H:%M} UTC"
    local = moment.astimezone(window.zone)
    return f"{local:%Y-%m-%d %H:%M %Z} ({utc:%H:%M} UTC)"


@dataclass(frozen=True)
class WindowOverride:
    """A manual sync run while the environment's windows closed it: kept in its record."""

    by: str
    reason: str
    # When it was decided (UTC, RFC 3339) and what closed the environment then.
    at: str
    windows: str


class WindowClosed(OperationFailed):
    """A manual sync refused: a sync window closes the environment."""

    def __init__(self, env: str, state: WindowState, hint: str) -> None:
        super().__init__(f"sync of {env} refused: {state.message()}", hint=hint)
        self.state = state


def admit_manual(
    env: Environment,
    at: datetime,
    *,
    override: tuple[str, str] | None,
    hint: str,
) -> WindowOverride | None:
    """Whether a person may sync ``env`` at ``at``: None when its windows let them, the
    override to record when ``override`` (who, why) opens a closed one; else
    ``WindowClosed`` with ``hint`` saying how to override."""
    state = window_state(env.sync_windows, at)
    if state.manual:
        return None
    if override is None:
        raise WindowClosed(env.name, state, hint)
    by, reason = override
    return WindowOverride(
        by=by,
        reason=reason,
        at=state.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        windows=state.reason or "",
    )
