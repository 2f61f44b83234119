"""One HTTP check (Argo Rollouts' ``web`` provider), as a measurement.

    Successful  a 2xx answer, and the conditions (if any) hold on the value ``jsonPath``
                selects from its JSON body
    Failed      any other status, or a failureCondition that holds
    Error       the request could not be made or answered in time, or a 2xx body that the
                conditions cannot read (not JSON, or ``jsonPath`` selects no number)

Header values never appear in a message: they often carry credentials.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from hakobu.model.canary import Analysis
from hakobu.model.webcheck import PathStep
from hakobu.releases.canary.analysis import Measurement, Verdict, judge


def measure(
    client: httpx.Client, analysis: Analysis, clock: Callable[[], float] = time.time
) -> Measurement:
    """One measurement of ``analysis``, whose ``web`` request is made now."""
    request = analysis.web
    if request is None:
        raise ValueError("not an HTTP check: the analysis has no web request")
    what = f"{request.method} {request.url}"
    try:
        answer = client.request(
            request.method,
            request.url,
            headers=dict(request.headers),
            content=request.body,
            timeout=request.timeout_seconds,
        )
    except httpx.HTTPError as e:
        return Measurement(Verdict.ERROR, (), f"{what} failed: {e or type(e).__name__}", clock())
    answered = f"{what} answered HTTP {answer.status_code}"
    if not answer.is_success:
        return Measurement(Verdict.FAILED, (), answered, clock())
    if analysis.success is None and analysis.failure is None:
        return Measurement(Verdict.SUCCESSFUL, (), answered, clock())
    try:
        values = numbers(_selected(answer.json(), request.json_path or ()))
    except ValueError as e:
        return Measurement(Verdict.ERROR, (), f"{answered}: {e}", clock())
    verdict, message = judge(analysis, values)
    return Measurement(verdict, values, f"{answered}: {message}", clock())


def numbers(value: Any) -> tuple[float, ...]:
    """The values a condition compares: a number, a boolean (1 or 0), or a list of them."""
    items = value if isinstance(value, list) else [value]
    found = []
    for item in items:
        if isinstance(item, bool):
            found.append(1.0 if item else 0.0)
        elif isinstance(item, int | float):
            found.append(float(item))
        else:
            raise ValueError(  # noqa: TRY004 - a measurement's Error, like a bad body
                f"jsonPath selects {_kind(item)}; a condition compares numbers"
            )
    return tuple(found)


def _selected(document: Any, path: tuple[PathStep, ...]) -> Any:
    node = document
    for step in path:
        found = (isinstance(step, int) and isinstance(node, list) and step < len(node)) or (
            isinstance(step, str) and isinstance(node, dict) and step in node
        )
        if found:
            node = node[step]
        else:
            raise ValueError(f"the JSON body has no {step!r} where jsonPath looks for it")
    return node


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return "a string"
    return "an object" if isinstance(value, dict) else "a list"
