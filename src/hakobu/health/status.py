"""The health of one object, and how healths combine."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class HealthStatus(enum.StrEnum):
    """Where an object stands, from a person's point of view.

    ``Missing`` is never the result of assessing a live object: it is what a caller reports
    for an object that should exist and does not.
    """

    HEALTHY = "Healthy"
    PROGRESSING = "Progressing"
    DEGRADED = "Degraded"
    SUSPENDED = "Suspended"
    MISSING = "Missing"
    UNKNOWN = "Unknown"


@dataclass(frozen=True)
class Health:
    status: HealthStatus
    message: str = ""


# Best first. Suspended sits next to Healthy because a person chose it (a paused rollout, a
# suspended CronJob): nothing is wrong, but an app holding one should not read as plainly
# Healthy. Progressing is expected to converge on its own. Unknown means the status could
# not be read: nothing says it will converge, nothing says it failed. Missing is certain
# divergence from git. Degraded is evidence of failure, so it wins every aggregate. Argo CD
# ranks Unknown below Degraded; we do not, so that a real failure is never hidden behind
# an object whose status merely could not be read.
_ORDER = (
    HealthStatus.HEALTHY,
    HealthStatus.SUSPENDED,
    HealthStatus.PROGRESSING,
    HealthStatus.UNKNOWN,
    HealthStatus.MISSING,
    HealthStatus.DEGRADED,
)
_RANK = {status: rank for rank, status in enumerate(_ORDER)}


# Nothing left to wait for: what lets a command that waits on objects go on.
SETTLED = frozenset({HealthStatus.HEALTHY, HealthStatus.SUSPENDED})


def settled(status: HealthStatus) -> bool:
    return status in SETTLED


def severity(status: HealthStatus) -> int:
    """0 for Healthy, growing as things get worse: a sort key."""
    return _RANK[status]


def worst(statuses: Iterable[HealthStatus]) -> HealthStatus:
    """The status of a group: its worst member, Healthy for an empty group."""
    return max(statuses, key=severity, default=HealthStatus.HEALTHY)
