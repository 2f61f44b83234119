"""One measurement of an analysis by its provider: a Prometheus query or an HTTP check."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from hakobu.model.canary import Analysis
from hakobu.releases.canary import prometheus, web
from hakobu.releases.canary.analysis import Measurement


def measure(
    client: httpx.Client, analysis: Analysis, clock: Callable[[], float] = time.time
) -> Measurement:
    if analysis.web is not None:
        return web.measure(client, analysis, clock)
    return prometheus.measure(client, analysis, clock)
