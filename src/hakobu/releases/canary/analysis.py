"""A measurement's verdict from a query's result, and an analysis' outcome from its
measurements (the rules of Argo Rollouts' AnalysisRun, for one metric).

A measurement is

    Error         the query could not be run or answered (Prometheus' message kept)
    Inconclusive  the result is empty, or both conditions are given and neither holds
    Failed        failureCondition holds, or only successCondition is given and does not
    Successful    successCondition holds, or only failureCondition is given and does not

An empty result is inconclusive, never a failure: a metric that has no samples yet (a
canary that took no traffic) says nothing about the canary. A condition that cannot be
decided (``result[1]`` of a single value) is an Error, never a pass.

An analysis is Failed once failures exceed ``failureLimit`` or consecutive errors exceed
``consecutiveErrorLimit``; Inconclusive (the rollout pauses for a person) once inconclusive
measurements exceed ``inconclusiveLimit``; Successful after ``count`` measurements
otherwise; Running before that.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from hakobu.model.canary import Analysis
from hakobu.model.condition import ConditionError


class Verdict(enum.Enum):
    SUCCESSFUL = "Successful"
    FAILED = "Failed"
    INCONCLUSIVE = "Inconclusive"
    ERROR = "Error"


class Outcome(enum.Enum):
    RUNNING = "Running"
    SUCCESSFUL = "Successful"
    FAILED = "Failed"
    INCONCLUSIVE = "Inconclusive"


@dataclass(frozen=True)
class Measurement:
    verdict: Verdict
    values: tuple[float, ...]
    message: str
    at: float  # seconds since the epoch


def judge(analysis: Analysis, values: Sequence[float]) -> tuple[Verdict, str]:
    """The verdict on one query result, and why."""
    if not values:
        return Verdict.INCONCLUSIVE, "the query returned no samples"
    success, failure = analysis.success, analysis.failure
    try:
        failed = failure is not None and failure.holds(values)
        succeeded = success is not None and success.holds(values)
    except ConditionError as e:
        return Verdict.ERROR, str(e)
    shown = ", ".join(f"{v:g}" for v in values[:5]) + (", ..." if len(values) > 5 else "")
    if failure is not None and failed:
        return Verdict.FAILED, f"[{shown}] meets failureCondition {failure.text!r}"
    if success is None:
        return Verdict.SUCCESSFUL, f"[{shown}] does not meet failureCondition"
    if succeeded:
        return Verdict.SUCCESSFUL, f"[{shown}] meets successCondition {success.text!r}"
    verdict = Verdict.FAILED if failure is None else Verdict.INCONCLUSIVE
    return verdict, f"[{shown}] does not meet successCondition {success.text!r}"


def outcome(analysis: Analysis, measurements: Sequence[Measurement]) -> Outcome:
    """Where an analysis stands after ``measurements`` (oldest first)."""
    verdicts = [m.verdict for m in measurements]
    if verdicts.count(Verdict.FAILED) > analysis.failure_limit:
        return Outcome.FAILED
    if _consecutive_errors(verdicts) > analysis.consecutive_error_limit:
        return Outcome.FAILED
    if verdicts.count(Verdict.INCONCLUSIVE) > analysis.inconclusive_limit:
        return Outcome.INCONCLUSIVE
    taken = sum(1 for v in verdicts if v is not Verdict.ERROR)
    return Outcome.SUCCESSFUL if taken >= analysis.count else Outcome.RUNNING


def _consecutive_errors(verdicts: Sequence[Verdict]) -> int:
    run = 0
    for verdict in reversed(verdicts):
        if verdict is not Verdict.ERROR:
            break
        run += 1
    return run
