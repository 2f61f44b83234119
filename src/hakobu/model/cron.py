"""Cron schedules, read as Debian's cron reads them (``cronsim``): sync windows' openings
and CronJobs' runs are checked by the same parser, so a schedule refused in one place is
refused in the other with the same words."""

from __future__ import annotations

from datetime import UTC, datetime

ZONE_HINT = "use a name such as UTC, Europe/Berlin or America/New_York"
FIVE_FIELDS = "expected a cron schedule of five fields (minute hour day month weekday)"


def schedule_problem(schedule: str, zone: str = "UTC") -> str | None:
    """Why ``schedule`` is not a cron schedule that ever fires in ``zone`` (an IANA time
    zone, already checked), or None if it is one."""
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    from cronsim import CronSim, CronSimError  # noqa: PLC0415

    fields = len(schedule.split())
    if fields != 5:
        return f"{FIVE_FIELDS}; {schedule!r} has {fields}"
    try:
        # The first match proves the schedule fires at all (31 2 * * * never does).
        next(CronSim(schedule, datetime(2000, 1, 1, tzinfo=UTC).astimezone(ZoneInfo(zone))))
    except CronSimError as e:
        return f"{schedule!r}: {str(e).lower()} field; {FIVE_FIELDS}"
    except StopIteration:
        return f"no date matches {schedule!r}: it never fires"
    return None


def zone_problem(zone: str) -> str | None:
    """Why ``zone`` is not a time zone of the IANA database, or None."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # noqa: PLC0415

    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return f"{zone!r} is not a time zone of the IANA database"
    return None
