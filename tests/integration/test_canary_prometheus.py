"""Analysis measurements against a real Prometheus scraping an exporter the test drives."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hakobu.model.canary import Analysis
from hakobu.model.condition import parse_condition
from hakobu.releases.canary.analysis import Outcome, Verdict, outcome
from hakobu.releases.canary.prometheus import measure
from tests.integration.controllerkit import wait_until
from tests.integration.prometheuskit import Exporter, Prometheus, prometheus_scraping

# The latest sample only: an exporter's old values must not linger in the answer.
QUERY = "canary_success_ratio and (time() - timestamp(canary_success_ratio) < 2)"


@pytest.fixture
def exporter() -> Exporter:
    return Exporter()


@pytest.fixture
def prometheus(exporter: Exporter, tmp_path: Path) -> Iterator[Prometheus]:
    with prometheus_scraping(exporter, tmp_path) as prometheus:
        yield prometheus


def analysis(prometheus: Prometheus, query: str = QUERY) -> Analysis:
    return Analysis(
        address=prometheus.address,
        query=query,
        success=parse_condition("result[0] >= 0.95"),
        failure=parse_condition("result[0] < 0.8"),
        count=2,
    )


def settle(exporter: Exporter, prometheus: Prometheus, value: float | None) -> None:
    exporter.value = value
    wait_until(f"Prometheus answers {value}", lambda: prometheus.has(QUERY, value), seconds=30)


def test_measurements_follow_the_metric(exporter: Exporter, prometheus: Prometheus) -> None:
    spec = analysis(prometheus)
    with httpx.Client() as client:
        settle(exporter, prometheus, 0.99)
        good = [measure(client, spec), measure(client, spec)]
        assert [m.verdict for m in good] == [Verdict.SUCCESSFUL] * 2
        assert good[0].values == (0.99,)
        assert outcome(spec, good) is Outcome.SUCCESSFUL

        settle(exporter, prometheus, 0.5)
        bad = measure(client, spec)
        assert bad.verdict is Verdict.FAILED
        assert bad.message == "[0.5] meets failureCondition 'result[0] < 0.8'"
        assert outcome(spec, [bad]) is Outcome.FAILED

        settle(exporter, prometheus, 0.9)
        assert measure(client, spec).verdict is Verdict.INCONCLUSIVE


def test_an_empty_result_is_inconclusive_not_a_failure(
    exporter: Exporter, prometheus: Prometheus
) -> None:
    settle(exporter, prometheus, None)
    with httpx.Client() as client:
        measurement = measure(client, analysis(prometheus))
    assert measurement.verdict is Verdict.INCONCLUSIVE
    assert measurement.message == "the query returned no samples"


def test_a_query_prometheus_rejects_is_an_error_with_its_message(
    prometheus: Prometheus,
) -> None:
    spec = analysis(prometheus, query="sum(rate(canary_success_ratio[1m]")
    with httpx.Client() as client:
        measurements = [measure(client, spec) for _ in range(5)]
    assert measurements[0].verdict is Verdict.ERROR
    assert "Prometheus refused the query (HTTP 400)" in measurements[0].message
    assert "parse error" in measurements[0].message
    # Four consecutive errors are tolerated (the default limit); the fifth fails it.
    assert outcome(spec, measurements[:4]) is Outcome.RUNNING
    assert outcome(spec, measurements) is Outcome.FAILED


def test_an_unreachable_prometheus_is_an_error(exporter: Exporter) -> None:
    exporter.server.shutdown()
    spec = Analysis(
        address="http://127.0.0.1:9",
        query="up",
        success=parse_condition("result[0] > 0"),
        failure=None,
    )
    with httpx.Client() as client:
        measurement = measure(client, spec)
    assert measurement.verdict is Verdict.ERROR
    assert "cannot be reached" in measurement.message
