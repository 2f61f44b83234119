"""What runs an app's pods: a Deployment, a StatefulSet, a Worker (a Deployment that serves
nothing), a Job or a CronJob, and the fields that belong to each kind.

A field that does not fit the workload (a Service for a Job, a schedule for a Deployment) is
refused where it is written rather than ignored, so a spec says only what it does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from hakobu.model.cron import FIVE_FIELDS, ZONE_HINT, schedule_problem, zone_problem
from hakobu.model.schemacheck import SchemaViolation

Workload = Literal["Deployment", "StatefulSet", "Worker", "Job", "CronJob"]

# Workloads whose pods serve traffic through a Service; the others run without one.
SERVING: frozenset[str] = frozenset({"Deployment", "StatefulSet"})
# Workloads that run to completion: no replicas to scale or protect from disruption.
BATCH: frozenset[str] = frozenset({"Job", "CronJob"})

# The fields that belong to some workloads only: field → (workloads, why not elsewhere).
_ONLY_FOR: Mapping[str, tuple[frozenset[str], str]] = {
    "service": (SERVING, "it serves no traffic, so it has no Service"),
    "services": (SERVING, "it serves no traffic, so it has no Service"),
    "ingress": (SERVING, "it serves no traffic, so it has no Service to route to"),
    "autoscaling": (frozenset({"Deployment", "StatefulSet", "Worker"}), "it runs to completion"),
    "podDisruptionBudget": (
        frozenset({"Deployment", "StatefulSet", "Worker"}),
        "it runs to completion",
    ),
    "replicas": (
        frozenset({"Deployment", "StatefulSet", "Worker"}),
        "it runs to completion (job.parallelism sets how many pods run at once)",
    ),
    "job": (BATCH, "it runs without end, not to completion"),
    "cronJob": (frozenset({"CronJob"}), "only a CronJob runs on a schedule"),
    "volumeClaimTemplates": (
        frozenset({"StatefulSet"}),
        "only a StatefulSet makes a claim per pod (mount a persistentVolumeClaim volume)",
    ),
}

# Kubernetes' cron descriptors, as the five fields they stand for.
_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


@dataclass(frozen=True)
class JobSpec:
    backoff_limit: int | None = None
    active_deadline_seconds: int | None = None
    completions: int | None = None
    parallelism: int | None = None
    restart_policy: str = "OnFailure"


@dataclass(frozen=True)
class CronJobSpec:
    schedule: str
    time_zone: str | None = None
    concurrency_policy: str = "Forbid"
    successful_jobs_history_limit: int = 3
    failed_jobs_history_limit: int = 1
    starting_deadline_seconds: int | None = None
    suspend: bool | None = None


@dataclass(frozen=True)
class ClaimTemplate:
    name: str
    size: str
    access_modes: tuple[str, ...] = ("ReadWriteOnce",)
    storage_class: str | None = None


def check_fields(workload: str, data: Mapping[str, Any]) -> None:
    """Refuse the fields written in ``data`` that ``workload`` has no use for."""
    for key, (workloads, why) in _ONLY_FOR.items():
        if key in data and workload not in workloads:
            fits = ", ".join(w for w in get_args(Workload) if w in workloads)
            raise SchemaViolation(
                (key,),
                f"{key} does not apply to a {workload}: {why}",
                f"remove it, or set workload to one of: {fits}",
            )
    if workload == "CronJob" and "cronJob" not in data:
        raise SchemaViolation(
            ("workload",),
            "a CronJob needs a schedule",
            "add cronJob: {schedule: '0 3 * * *'}",
        )


def parse_job(value: dict[str, Any] | None) -> JobSpec:
    value = value or {}
    return JobSpec(
        backoff_limit=value.get("backoffLimit"),
        active_deadline_seconds=value.get("activeDeadlineSeconds"),
        completions=value.get("completions"),
        parallelism=value.get("parallelism"),
        restart_policy=value.get("restartPolicy", "OnFailure"),
    )


def parse_cron_job(value: dict[str, Any]) -> CronJobSpec:
    zone = value.get("timeZone")
    if zone is not None and (problem := zone_problem(zone)) is not None:
        raise SchemaViolation(("cronJob", "timeZone"), problem, ZONE_HINT)
    schedule: str = value["schedule"]
    problem = schedule_problem(_DESCRIPTORS.get(schedule.strip(), schedule), zone or "UTC")
    if problem is not None:
        raise SchemaViolation(
            ("cronJob", "schedule"),
            problem,
            f"{FIVE_FIELDS.replace('expected', 'write')}, such as '*/15 * * * *', or one of "
            f"{', '.join(_DESCRIPTORS)}",
        )
    return CronJobSpec(
        schedule=schedule,
        time_zone=zone,
        concurrency_policy=value.get("concurrencyPolicy", "Forbid"),
        successful_jobs_history_limit=value.get("successfulJobsHistoryLimit", 3),
        failed_jobs_history_limit=value.get("failedJobsHistoryLimit", 1),
        starting_deadline_seconds=value.get("startingDeadlineSeconds"),
        suspend=value.get("suspend"),
    )


def parse_claim_templates(value: list[dict[str, Any]]) -> tuple[ClaimTemplate, ...]:
    return tuple(
        ClaimTemplate(
            t["name"],
            t["size"] if isinstance(t["size"], str) else str(t["size"]),
            tuple(t.get("accessModes", ["ReadWriteOnce"])),
            t.get("storageClassName"),
        )
        for t in value
    )
