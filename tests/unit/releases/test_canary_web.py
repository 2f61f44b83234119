"""HTTP checks as measurements, against a real local HTTP server; and the replica split a
traffic router asks for."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from hakobu.model.canary import Analysis, Canary, SetWeight
from hakobu.model.condition import parse_condition
from hakobu.model.traffic import GatewayAPI, TrafficRouting
from hakobu.model.webcheck import WebRequest, parse_json_path
from hakobu.releases.canary.analysis import Verdict
from hakobu.releases.canary.providers import measure
from hakobu.releases.canary.replicas import Split
from hakobu.releases.canary.traffic import sides
from tests.integration.checkserver import CheckServer, check_server


@pytest.fixture
def server() -> Iterator[CheckServer]:
    with check_server() as served:
        yield served


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as opened:
        yield opened


def web(url: str, json_path: str | None = None, success: str | None = None) -> Analysis:
    path = None if json_path is None else parse_json_path(json_path, ())
    return Analysis(
        address="",
        query="",
        success=None if success is None else parse_condition(success),
        failure=None,
        web=WebRequest(url, headers=(("X-Token", "s3cret"),), json_path=path),
    )


def test_a_2xx_answer_passes_and_a_500_fails(server: CheckServer, client: httpx.Client) -> None:
    passed = measure(client, web(server.url))
    assert (passed.verdict, passed.message) == (
        Verdict.SUCCESSFUL,
        f"GET {server.url} answered HTTP 200",
    )
    assert server.seen[-1]["X-Token"] == "s3cret"
    server.status = 500
    failed = measure(client, web(server.url))
    assert (failed.verdict, failed.message) == (
        Verdict.FAILED,
        f"GET {server.url} answered HTTP 500",
    )


def test_conditions_judge_the_value_json_path_selects(
    server: CheckServer, client: httpx.Client
) -> None:
    server.body = {"checks": [{"ok": True, "latency": 0.2}]}
    check = web(server.url, "{$.checks[0].ok}", "result[0] == 1")
    judged = measure(client, check)
    assert (judged.verdict, judged.values) == (Verdict.SUCCESSFUL, (1.0,))
    server.body = {"checks": [{"ok": False}]}
    assert measure(client, check).verdict is Verdict.FAILED
    server.body = {"checks": [{"ok": "yes"}]}
    unreadable = measure(client, check)
    assert unreadable.verdict is Verdict.ERROR
    assert unreadable.message.endswith("jsonPath selects a string; a condition compares numbers")
    server.body = {"checks": []}
    missing = measure(client, check)
    assert missing.verdict is Verdict.ERROR
    assert "the JSON body has no 0 where jsonPath looks for it" in missing.message


def test_a_connection_error_is_an_error_measurement_with_the_message(
    client: httpx.Client,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/healthz"
    result = measure(client, web(url))
    assert result.verdict is Verdict.ERROR
    assert result.message.startswith(f"GET {url} failed: ")
    assert "s3cret" not in result.message


@pytest.mark.parametrize(
    ("dynamic", "weight", "expected"),
    [
        (False, 20, Split(1, 5)),
        (False, 60, Split(3, 5)),
        (True, 60, Split(3, 2)),
        (False, 0, Split(0, 5)),
    ],
)
def test_with_a_router_the_stable_side_keeps_every_replica_unless_dynamic(
    dynamic: bool, weight: int, expected: Split
) -> None:
    routed = Canary((SetWeight(20),), TrafficRouting(GatewayAPI("web"), None, dynamic))
    assert sides(routed, 5, weight) == expected
    # Without a router the replicas carry the split.
    assert sides(Canary((SetWeight(20),)), 5, 60) == Split(3, 2)
