"""Riding out an API server that is unreachable, restarting or overloaded.

A request that gets no answer (connection refused or reset, a timeout), a 5xx or a 429 is
transient: it is sent again after an exponentially growing, jittered delay. Every other
answer — a 404, a conflict, a rejection — is final and returned at once.

Requests share one view of the outage: it begins with the first transient failure and ends
with the next success, so it is logged once when it begins and once when it ends however
many threads wait it out, and once it has lasted ``patience`` seconds every request waiting
on it gives up with ``ServerUnavailable`` (and new ones fail at once until the server
answers again), instead of each waiting its own full time. An outage begins when the first
request that failed was sent, so a request that hung until its timeout counts its wait.

A server that has not answered a single request yet is given up on after ``reach``
seconds, not ``patience``: a wrong address or a cluster that is down should be said within
moments, while a server that answered before and went away (a restart in the middle of a
sync) is waited for. Giving up on a server that gave no answer at all raises
``ServerUnreachable``, an ``Unreachable`` (exit 3).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hakobu.cluster.errors import ServerError, TooManyRequests, Unreachable
from hakobu.errors import HakobuError, OperationFailed

TRANSIENT = (Unreachable, ServerError, TooManyRequests)


class ServerUnavailable(OperationFailed):
    """The API server stayed unavailable for longer than the retry policy's patience."""


class ServerUnreachable(ServerUnavailable, Unreachable):
    """The API server gave no answer at all (no connection, no HTTP response) in time."""


@dataclass(frozen=True)
class Backoff:
    first: float = 0.2
    factor: float = 2.0
    longest: float = 5.0
    # How long an outage may last before requests give up on it.
    patience: float = 60.0

    def delay(self, attempt: int, draw: float) -> float:
        """The wait before retry ``attempt`` (0-based); ``draw`` is uniform in [0, 1).

        Half the delay is fixed and half random, so clients that failed together spread
        out without any of them hammering a server that is still starting.
        """
        ceiling = min(self.longest, self.first * self.factor**attempt)
        return ceiling * (0.5 + draw / 2)


def retry_after(error: HakobuError) -> float:
    """The delay a 429's ``Status`` asks for, else 0."""
    if isinstance(error, TooManyRequests):
        details = error.status.get("details") or {}
        seconds = details.get("retryAfterSeconds")
        if isinstance(seconds, int | float):
            return float(seconds)
    return 0.0


class Retrying:
    """A ``KubeClient`` retry hook: ``Retrying(Backoff(), log)(send, "GET /api")``."""

    def __init__(
        self,
        backoff: Backoff = Backoff(),
        log: Callable[[str], None] = lambda _: None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        draw: Callable[[], float] = random.random,
        reach: float | None = None,
    ) -> None:
        self.backoff = backoff
        self.reach = backoff.patience if reach is None else reach
        self._reached = False
        self._log = log
        self._sleep, self._clock, self._draw = sleep, clock, draw
        self._lock = threading.Lock()
        self._outage_began: float | None = None
        # Set once a request gave up on the current outage: the rest fail at once.
        self._exhausted = False

    def __call__(self, send: Callable[[], Any], what: str) -> Any:
        attempt = 0
        while True:
            sent = self._clock()
            try:
                result = send()
            except TRANSIENT as e:
                delay = self._failed(e, what, attempt, sent)
                self._sleep(delay)
                attempt += 1
                continue
            self._answered()
            return result

    def _failed(self, error: HakobuError, what: str, attempt: int, sent: float) -> float:
        now = self._clock()
        with self._lock:
            patience = self.backoff.patience if self._reached else self.reach
            if self._outage_began is None:
                self._outage_began = sent
                self._log(
                    f"API server unavailable ({_first_line(error)}); retrying for up to "
                    f"{patience:g}s"
                )
            elapsed = now - self._outage_began
            delay = max(self.backoff.delay(attempt, self._draw()), retry_after(error))
            if self._exhausted or elapsed + delay > patience:
                self._exhausted = True
                unanswered = isinstance(error, Unreachable)
                raise (ServerUnreachable if unanswered else ServerUnavailable)(
                    f"{what}: the API server has not answered for {elapsed:.0f}s "
                    f"({attempt + 1} attempts of this request); last error: "
                    f"{_first_line(error)}",
                    hint="check that the cluster is running and reachable "
                    "(`hakobu cluster status` for the local one), then run again",
                ) from error
        return delay

    def _answered(self) -> None:
        self._reached = True
        if self._outage_began is None:
            return
        with self._lock:
            began, self._outage_began = self._outage_began, None
            self._exhausted = False
        if began is not None:
            self._log(f"API server answering again after {self._clock() - began:.1f}s")


def _first_line(error: HakobuError) -> str:
    return error.message.splitlines()[0] if error.message else type(error).__name__
