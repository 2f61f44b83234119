"""One measurement of an analysis by its provider: a Prometheus query or an HTTP check."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

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


@contextmanager
def measuring() -> Iterator[Callable[[Analysis], Measurement]]:
    """A measure for ``engine.advance`` over one HTTP client, closed at the end: what
    ``hakobu rollout run`` and the controller's passes both measure with."""
    with httpx.Client() as client:
        yield lambda analysis: measure(client, analysis)
