"""Jobs run to completion; CronJobs are judged by their last run."""

from __future__ import annotations

from datetime import UTC, datetime

from hakobu.health.fields import MalformedField, Payload, conditions, flag, integer, value
from hakobu.health.status import Health, HealthStatus


def job(obj: Payload) -> Health:
    by_type = {c.type: c for c in conditions(obj) if c.true}
    # FailureTarget is set (Kubernetes >= 1.31) as soon as the Job is bound to fail, before
    # its remaining pods have terminated and Failed follows.
    for failed in ("Failed", "FailureTarget"):
        if failed in by_type:
            found = by_type[failed]
            return Health(HealthStatus.DEGRADED, found.message or found.reason)
    if "Complete" in by_type:
        return Health(HealthStatus.HEALTHY, by_type["Complete"].message)
    if "Suspended" in by_type:
        return Health(HealthStatus.SUSPENDED, by_type["Suspended"].message or "Job is suspended")
    if flag(obj, "spec", "suspend"):
        return Health(HealthStatus.SUSPENDED, "Job is suspended")
    active, succeeded = integer(obj, "status", "active"), integer(obj, "status", "succeeded")
    failed_pods = integer(obj, "status", "failed")
    return Health(
        HealthStatus.PROGRESSING,
        f"Waiting for the job to complete: {active} active, {succeeded} succeeded, "
        f"{failed_pods} failed",
    )


def cronjob(obj: Payload) -> Health:
    if flag(obj, "spec", "suspend"):
        return Health(HealthStatus.SUSPENDED, "CronJob is suspended")
    if value(obj, "status") is None:
        return Health(HealthStatus.PROGRESSING, "Waiting for the CronJob controller")
    return _last_run(obj)


def _last_run(obj: Payload) -> Health:
    scheduled = _time(obj, "status", "lastScheduleTime")
    if scheduled is None:
        # The status cannot tell a missed schedule from one not yet due.
        return Health(HealthStatus.HEALTHY, "CronJob has not been scheduled yet")
    succeeded = _time(obj, "status", "lastSuccessfulTime")
    if succeeded is None:
        # Possibly the first run, still going: not known to be failing.
        return Health(
            HealthStatus.HEALTHY, "CronJob has not completed a run yet; it may not be healthy"
        )
    if value(obj, "status", "active"):
        return Health(HealthStatus.HEALTHY, "A job is running; the last run may not have succeeded")
    if succeeded < scheduled:
        return Health(HealthStatus.DEGRADED, "CronJob's last run did not complete successfully")
    return Health(HealthStatus.HEALTHY, "CronJob's last run completed successfully")


def _time(obj: Payload, *path: str) -> datetime | None:
    stamp = value(obj, *path)
    if stamp is None or stamp == "":
        return None
    # YAML written by hand may hold an unquoted timestamp, which the loader already parsed.
    parsed = stamp if isinstance(stamp, datetime) else _parse(stamp)
    if parsed is None:
        raise MalformedField(path, stamp, "an RFC 3339 time")
    # Naive and aware times cannot be compared; Kubernetes writes UTC.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _parse(stamp: object) -> datetime | None:
    if not isinstance(stamp, str):
        return None
    try:
        return datetime.fromisoformat(stamp)
    except ValueError:
        return None
