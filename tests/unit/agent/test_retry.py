"""The retry policy under which the agent and sync ride out an unavailable API server."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import Conflict, NotFound, ServerError, TooManyRequests, Unreachable
from hakobu.cluster.kubeconfig import Connection
from hakobu.cluster.retry import Backoff, Retrying, ServerUnavailable


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def retrying(time: FakeTime, logs: list[str], **backoff: float) -> Retrying:
    return Retrying(
        Backoff(**backoff), logs.append, sleep=time.sleep, clock=time.clock, draw=lambda: 0.5
    )


def failing(*errors: Exception, result: Any = "ok") -> tuple[list[int], Any]:
    calls: list[int] = []

    def send() -> Any:
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return result

    return calls, send


def server_error(code: int = 503) -> ServerError:
    return ServerError(code, "ServiceUnavailable", "apiserver is starting", {})


def test_transient_failures_are_retried_with_growing_delays() -> None:
    time, logs = FakeTime(), list[str]()
    calls, send = failing(Unreachable("connection refused"), server_error(), server_error(500))

    assert retrying(time, logs, first=0.2, factor=2.0)(send, "GET /api") == "ok"

    assert len(calls) == 4
    assert time.slept == pytest.approx([0.15, 0.3, 0.6])
    assert logs[0].startswith("API server unavailable (connection refused)")
    assert logs[1] == "API server answering again after 1.1s"
    assert len(logs) == 2


def test_answers_other_than_transient_ones_are_not_retried() -> None:
    for error in (NotFound(404, "NotFound", "no", {}), Conflict(409, "Conflict", "c", {})):
        time, logs = FakeTime(), list[str]()
        calls, send = failing(error)
        with pytest.raises(type(error)):
            retrying(time, logs)(send, "GET /x")
        assert len(calls) == 1
        assert time.slept == []
        assert logs == []


def test_gives_up_after_patience_naming_the_request_and_the_last_error() -> None:
    time, logs = FakeTime(), list[str]()
    _, send = failing(*[Unreachable("connection refused")] * 100)
    retry = retrying(time, logs, first=1.0, longest=4.0, patience=20.0)

    with pytest.raises(ServerUnavailable) as raised:
        retry(send, "PATCH /api/v1/namespaces/a/configmaps/b")

    error = raised.value
    # Never an answer: the cluster could not be reached, which has its own exit code.
    assert isinstance(error, Unreachable)
    assert error.exit_code == 3
    assert "PATCH /api/v1/namespaces/a/configmaps/b" in error.message
    assert "connection refused" in error.message
    assert error.hint is not None and "hakobu cluster status" in error.hint
    assert isinstance(error.__cause__, Unreachable)
    assert time.now <= 20.0
    assert max(time.slept) == 3.0  # the longest delay, with the fixed draw of 0.5
    # Another request while the same outage lasts fails at once instead of waiting again.
    again, send_again = failing(Unreachable("connection refused"))
    with pytest.raises(ServerUnavailable):
        retry(send_again, "GET /api")
    assert len(again) == 1


def test_an_answer_ends_the_outage_so_the_next_one_gets_full_patience() -> None:
    time, logs = FakeTime(), list[str]()
    retry = retrying(time, logs, first=1.0, longest=1.0, patience=5.0)
    _, send = failing(*[Unreachable("refused")] * 4)
    assert retry(send, "GET /a") == "ok"
    time.now += 100
    _, send = failing(*[Unreachable("refused")] * 4)
    assert retry(send, "GET /b") == "ok"
    assert [line.split(" (")[0] for line in logs] == [
        "API server unavailable",
        "API server answering again after 3.0s",
        "API server unavailable",
        "API server answering again after 3.0s",
    ]


def test_too_many_requests_waits_as_long_as_the_server_asks() -> None:
    time, logs = FakeTime(), list[str]()
    throttled = TooManyRequests(
        429, "TooManyRequests", "slow down", {"details": {"retryAfterSeconds": 2}}
    )
    _, send = failing(throttled)
    assert retrying(time, logs)(send, "GET /api") == "ok"
    assert time.slept == [2.0]


def test_backoff_delays_grow_to_their_cap_with_bounded_jitter() -> None:
    backoff = Backoff(first=0.5, factor=2.0, longest=4.0)
    assert [backoff.delay(n, 0.0) for n in range(5)] == [0.25, 0.5, 1.0, 2.0, 2.0]
    assert backoff.delay(10, 0.999) < 4.0
    assert backoff.delay(10, 0.999) > 3.99


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_the_client_sends_every_attempt_through_its_retry_hook() -> None:
    time, logs = FakeTime(), list[str]()
    connection = Connection(f"https://127.0.0.1:{closed_port()}", False, None, "test")
    retry = retrying(time, logs, first=1.0, longest=1.0, patience=3.0)
    with KubeClient(connection, retry=retry) as kube, pytest.raises(ServerUnavailable) as raised:
        kube.request("GET", "/version")
    assert "GET /version" in raised.value.message
    # Delays of 0.75s each (the fixed draw): attempts at 0, 0.75, 1.5, 2.25 and 3.0.
    assert kube.requests["GET"] == 5
    assert len(time.slept) == 4


def test_without_a_hook_the_client_fails_at_the_first_attempt() -> None:
    connection = Connection(f"https://127.0.0.1:{closed_port()}", False, None, "test")
    with KubeClient(connection) as kube, pytest.raises(Unreachable):
        kube.request("GET", "/version")
    assert kube.requests["GET"] == 1


def test_a_lasting_5xx_gives_up_with_exit_code_1_not_unreachable() -> None:
    time, logs = FakeTime(), list[str]()
    _, send = failing(*[server_error()] * 100)
    with pytest.raises(ServerUnavailable) as raised:
        retrying(time, logs, first=1.0, patience=5.0)(send, "GET /api")
    assert not isinstance(raised.value, Unreachable)
    assert raised.value.exit_code == 1


def test_a_server_never_reached_is_given_up_on_after_reach_not_patience() -> None:
    time, logs = FakeTime(), list[str]()
    retry = Retrying(
        Backoff(first=0.2, patience=60.0),
        logs.append,
        sleep=time.sleep,
        clock=time.clock,
        draw=lambda: 0.5,
        reach=3.0,
    )
    _, send = failing(*[Unreachable("connection refused")] * 100)
    with pytest.raises(Unreachable):
        retry(send, "GET /api")
    assert time.now <= 3.0
    assert "retrying for up to 3s" in logs[0]


def test_once_the_server_answered_an_outage_gets_full_patience() -> None:
    time, logs = FakeTime(), list[str]()
    retry = Retrying(
        Backoff(first=1.0, longest=1.0, patience=10.0),
        logs.append,
        sleep=time.sleep,
        clock=time.clock,
        draw=lambda: 0.5,
        reach=2.0,
    )
    assert retry(lambda: "ok", "GET /api") == "ok"
    calls, send = failing(*[Unreachable("connection refused")] * 6)
    assert retry(send, "GET /api") == "ok"
    assert len(calls) == 7
    assert time.now > 2.0


def test_an_outage_counts_from_when_the_failing_request_was_sent() -> None:
    time, logs = FakeTime(), list[str]()
    retry = retrying(time, logs, first=0.2, patience=5.0)

    def hangs_until_timeout() -> None:
        time.now += 5.0  # a connect timeout of 5 s
        raise Unreachable("connect timed out")

    with pytest.raises(Unreachable):
        retry(hangs_until_timeout, "GET /api")
    assert time.now == 5.0
