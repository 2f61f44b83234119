"""Whether a deployed revision turned out good or calls for a rollback (pure).

An environment with ``autoRollback: {window: S}`` has each newly deployed tree of
``generated/<env>/`` watched for S seconds: a failed sync, or an app turning Degraded in
that time, calls for a rollback to the last revision known good; a revision that stays
healthy through its window becomes the one known good. Only what an agent saw itself is
known good; the agent keeps that in the cluster (``memory``) and recalls it on start.

Each revision is decided at most once, and a revision that is itself an automatic rollback
is never rolled back: a failing rollback is left for a person to fix forward, so two
revisions can never take turns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hakobu.health import HealthStatus
from hakobu.sync.run import DONE, SyncResult
from hakobu.sync.status import AppStatus


@dataclass(frozen=True)
class Problem:
    app: str
    message: str

    def __str__(self) -> str:
        return f"app {self.app}: {self.message}"


@dataclass(frozen=True)
class Deployed:
    revision: str
    tree: str | None
    until: float
    # For the agent's own rollback commits: the revision it rolled back.
    rolls_back: str | None = None


@dataclass(frozen=True)
class RollBack:
    bad: Deployed
    to: Deployed
    problem: Problem


@dataclass(frozen=True)
class NoRollback:
    revision: Deployed
    why: str
    problem: Problem


@dataclass(frozen=True)
class Good:
    revision: Deployed


Decision = RollBack | NoRollback | Good


def sync_problem(result: SyncResult) -> Problem | None:
    for app in result.apps:
        if app.result not in DONE:
            return Problem(app.app, "; ".join(app.messages) or "sync failed")
    return None


def health_problem(
    statuses: Sequence[AppStatus], *, rollouts_reverted: bool = False
) -> Problem | None:
    """The first Degraded app; with ``rollouts_reverted``, an app Degraded only by aborted
    rollouts (canary or blue-green) is none: the controller reverts those app by app,
    inputs included."""
    for status in statuses:
        if status.health is HealthStatus.DEGRADED:
            degraded = [u for u in status.unhealthy if f" {HealthStatus.DEGRADED}" in u]
            if rollouts_reverted and degraded and set(degraded) <= set(status.aborted_rollouts):
                continue
            return Problem(status.app, "; ".join(degraded or status.unhealthy) or "Degraded")
    return None


class Watch:
    def __init__(self) -> None:
        self.good: Deployed | None = None
        self.current: Deployed | None = None
        self._decided: set[str] = set()

    def recall(self, revision: str, tree: str | None) -> None:
        """``revision`` stayed healthy before the agent started."""
        self.good = Deployed(revision, tree, until=0.0)

    def deployed(
        self,
        revision: str,
        tree: str | None,
        now: float,
        window: float,
        *,
        rolls_back: str | None = None,
    ) -> None:
        """The cluster now holds ``tree`` (synced, or found in sync)."""
        if self.current is not None and self.current.tree == tree:
            return
        if rolls_back is None and self.good is not None and self.good.tree == tree:
            # Back at the known good content (a revert by hand): nothing new to judge.
            self.current = None
            return
        self.current = Deployed(revision, tree, now + window, rolls_back)

    def check(self, problem: Problem | None, now: float) -> Decision | None:
        current = self.current
        if current is None:
            return None
        if problem is None:
            return self._confirm(current) if now >= current.until else None
        if now > current.until:
            # Too late to blame the revision; it was not healthy throughout, so not good.
            self.current = None
            return None
        if current.revision in self._decided:
            return None
        self._decided.add(current.revision)
        return self._blame(current, problem)

    def _blame(self, current: Deployed, problem: Problem) -> Decision:
        if current.rolls_back is not None:
            return NoRollback(
                current,
                f"it is itself the automatic rollback of {current.rolls_back[:12]}",
                problem,
            )
        if self.good is None:
            return NoRollback(
                current, "no revision is known to have stayed healthy through its window", problem
            )
        return RollBack(current, self.good, problem)

    def _confirm(self, current: Deployed) -> Good | None:
        self.current = None
        if current.revision in self._decided:
            return None
        self.good = current
        return Good(current)
