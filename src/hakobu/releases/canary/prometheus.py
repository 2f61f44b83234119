"""One instant query over Prometheus' HTTP API (``GET /api/v1/query``), as a measurement.

A vector answers with one value per series (in Prometheus' order), a scalar with one
value; a matrix or a string is refused, since a condition compares numbers. A query
Prometheus rejects, an answer that is not Prometheus', or a server that cannot be reached
is an Error measurement carrying the reason, Prometheus' own message when it gave one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from hakobu.model.canary import Analysis
from hakobu.releases.canary.analysis import Measurement, Verdict, judge

_TIMEOUT = 10.0
_MESSAGE_CHARS = 500


def query_values(client: httpx.Client, address: str, query: str) -> tuple[float, ...]:
    """The values of ``query`` now; ``QueryFailed`` with the reason otherwise."""
    try:
        answer = client.get(f"{address}/api/v1/query", params={"query": query}, timeout=_TIMEOUT)
    except httpx.HTTPError as e:
        raise QueryFailed(f"Prometheus at {address} cannot be reached: {e}") from None
    try:
        body: Any = answer.json()
    except ValueError:
        raise QueryFailed(
            f"{address} answered HTTP {answer.status_code}, not Prometheus' JSON"
        ) from None
    if not isinstance(body, dict) or body.get("status") != "success":
        error = body.get("error") if isinstance(body, dict) else None
        raise QueryFailed(
            f"Prometheus refused the query (HTTP {answer.status_code}): "
            f"{str(error or body)[:_MESSAGE_CHARS]}"
        )
    data = body.get("data")
    if not isinstance(data, dict):
        raise QueryFailed("Prometheus' answer has no data")
    kind, result = data.get("resultType"), data.get("result") or []
    try:
        if kind == "vector":
            return tuple(float(sample["value"][1]) for sample in result)
        if kind == "scalar":
            return (float(result[1]),)
    except (TypeError, KeyError, IndexError, ValueError):
        raise QueryFailed(f"Prometheus' answer is not a {kind} of numbers") from None
    raise QueryFailed(
        f"the query returns a {kind}; a condition needs an instant vector or a scalar"
    )


class QueryFailed(Exception):
    """The query could not be run or answered; the message says why."""


def measure(
    client: httpx.Client, analysis: Analysis, clock: Callable[[], float] = time.time
) -> Measurement:
    """One measurement of ``analysis``: its query run now and judged."""
    try:
        values = query_values(client, analysis.address, analysis.query)
    except QueryFailed as e:
        return Measurement(Verdict.ERROR, (), str(e), clock())
    verdict, message = judge(analysis, values)
    return Measurement(verdict, values, message, clock())
