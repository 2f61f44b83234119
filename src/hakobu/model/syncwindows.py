"""An environment's sync windows: when syncs may run, read from ``hakobu.yaml``.

::

    syncWindows:
    - kind: deny                 # allow | deny
      schedule: "0 22 * * 1-5"   # cron, five fields: when the window opens
      duration: 10h              # how long it stays open (elapsed time)
      timeZone: Europe/Berlin    # the schedule's zone (default UTC)
      manualSync: true           # `hakobu sync` may run inside it without an override

A schedule is read as Debian's cron reads it (``cronsim``), so a window that would open in
the hour a clock skips opens as the clock resumes, and one in the hour a clock repeats opens
once. Whether a sync may run at a moment is decided by ``hakobu.sync.windows``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from hakobu.model.cron import FIVE_FIELDS, ZONE_HINT, schedule_problem, zone_problem
from hakobu.model.duration import parse_duration
from hakobu.model.source import Document, FieldPath

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

_FIELDS = ("kind", "schedule", "duration", "timeZone", "manualSync")
# A window longer than this would be open for good; a deny window like that is a
# suspension, which `spec.suspend` says more plainly.
_LONGEST = 366 * 86400.0


class WindowKind(StrEnum):
    ALLOW = "allow"
    DENY = "deny"


@dataclass(frozen=True)
class SyncWindow:
    # Its place in the environment's list: how messages name it (syncWindows[0]).
    index: int
    kind: WindowKind
    schedule: str
    # As written (``1h30m``), for messages; ``seconds`` is what counts.
    duration: str
    seconds: float
    time_zone: str = "UTC"
    manual_sync: bool = False

    @property
    def zone(self) -> ZoneInfo:
        from zoneinfo import ZoneInfo  # noqa: PLC0415 (see parse_sync_windows)

        return ZoneInfo(self.time_zone)

    @property
    def name(self) -> str:
        return f"syncWindows[{self.index}]"

    def describe(self) -> str:
        """``deny window syncWindows[0] ('0 22 * * *' for 1h, Europe/Berlin)``."""
        zone = "" if self.time_zone == "UTC" else f", {self.time_zone}"
        return f"{self.kind} window {self.name} ('{self.schedule}' for {self.duration}{zone})"


def parse_sync_windows(doc: Document, path: FieldPath, value: Any) -> tuple[SyncWindow, ...]:
    """``syncWindows:`` of an environment; each error names its file, line and field.

    The zone database and the cron reader are imported only for a project that has
    windows: every command loads the project, and most never ask about them."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise doc.error(path, f"expected a list of windows, found {type(value).__name__}")
    return tuple(_window(doc, (*path, index), index, item) for index, item in enumerate(value))


def _window(doc: Document, path: FieldPath, index: int, value: Any) -> SyncWindow:
    if not isinstance(value, dict):
        raise doc.error(path, f"expected a mapping, found {type(value).__name__}")
    for key in value:
        if key not in _FIELDS:
            raise doc.error((*path, key), f"unknown field; expected one of: {', '.join(_FIELDS)}")
    kind = value.get("kind")
    if kind not in tuple(WindowKind):
        raise doc.error((*path, "kind"), f"expected allow or deny, found {kind!r}")
    zone = _zone(doc, (*path, "timeZone"), value.get("timeZone", "UTC"))
    schedule = _schedule(doc, (*path, "schedule"), value.get("schedule"), zone)
    duration, seconds = _duration(doc, (*path, "duration"), value.get("duration"))
    manual = value.get("manualSync", False)
    if not isinstance(manual, bool):
        raise doc.error((*path, "manualSync"), f"expected true or false, found {manual!r}")
    return SyncWindow(index, WindowKind(kind), schedule, duration, seconds, zone, manual)


def _zone(doc: Document, path: FieldPath, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise doc.error(path, f"expected a time zone such as Europe/Berlin, found {value!r}")
    problem = zone_problem(value)
    if problem is not None:
        raise doc.error(path, problem, hint=ZONE_HINT)
    return value


def _schedule(doc: Document, path: FieldPath, value: Any, zone: str) -> str:
    if not isinstance(value, str):
        raise doc.error(path, f"{FIVE_FIELDS}, such as '0 22 * * *', found {value!r}")
    problem = schedule_problem(value, zone)
    if problem is not None:
        raise doc.error(path, problem)
    return value


def _duration(doc: Document, path: FieldPath, value: Any) -> tuple[str, float]:
    if not isinstance(value, str):
        raise doc.error(path, f"expected a duration such as 30m or 1h, found {value!r}")
    try:
        seconds = parse_duration(value)
    except ValueError as e:
        raise doc.error(path, str(e)) from None
    if not 60 <= seconds <= _LONGEST:
        raise doc.error(path, f"expected a duration from 1m to 366 days, found {value!r}")
    return value, seconds
