"""The agent's loop: fetch, decide, sync, record; sleep; again, until told to stop.

A single replica is assumed (no leader election yet). Failures of an iteration — the
remote or the API server unreachable, a bad project file at the newest commit — are
logged and the iteration is tried again after an exponentially growing delay; a failed
sync is retried the same way. The state carried between iterations is the tree id of
``generated/<env>/`` last synced and the manifests read at it, and for an environment with
``autoRollback`` the revision known good, the one being watched and the ids of revisions
already judged failed (one per failure), so memory stays flat.

With ``autoRollback``, a failure within the window becomes a rollback commit on top of the
fetched commit, pushed (never forced) and then synced like any commit. When the push is
refused the next iteration fetches first: if the environment's output is still the failed
one the rollback is made again on top of what arrived, else the newer commit wins.
"""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from hakobu.agent.checkout import Checkout
from hakobu.agent.decide import cluster_reason, env_changed
from hakobu.agent.watch import (
    Good,
    NoRollback,
    Problem,
    RollBack,
    Watch,
    health_problem,
    sync_problem,
)
from hakobu.cluster.client import KubeClient
from hakobu.errors import HakobuError, InvalidInput, OperationFailed
from hakobu.model.project import Environment, Project, load_project
from hakobu.repo.rollback import RollbackRequest
from hakobu.sync import (
    DesiredState,
    SyncOptions,
    SyncResult,
    app_status,
    observe,
    read_desired,
    sync,
    write_record,
)
from hakobu.sync.retry import Backoff
from hakobu.sync.run import SUCCEEDED

Log = Callable[[str], None]


@dataclass(frozen=True)
class AgentOptions:
    env: str
    interval: float
    # Where hakobu.yaml lives inside the repository.
    project_path: str = "."
    prune: bool = False
    timeout: float = 300.0
    workers: int = 8


@dataclass(frozen=True)
class Iteration:
    revision: str
    reason: str | None
    result: SyncResult | None

    @property
    def ok(self) -> bool:
        return self.result is None or self.result.succeeded


@dataclass(frozen=True)
class _Desired:
    tree: str | None
    env: Environment
    state: DesiredState


class Agent:
    def __init__(
        self,
        checkout: Checkout,
        kube: KubeClient,
        options: AgentOptions,
        log: Log,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.checkout, self.kube, self.options = checkout, kube, options
        self._log = log
        self._synced_tree: str | None = None
        self._desired: _Desired | None = None
        self._quiet_revision: str | None = None
        self._watch = Watch()
        # A rollback decided but not yet on the remote: its push was refused.
        self._pending: RollBack | None = None
        self._clock = clock
        # Retries start at the interval and grow; a loop polling every second still backs
        # off to a minute from a server that is down.
        self._backoff = Backoff(
            first=options.interval, longest=max(options.interval, 60.0), patience=float("inf")
        )

    def run(self, stop: threading.Event) -> None:
        """Iterate every interval until ``stop`` is set; it is checked between iterations."""
        self._log(
            f"following {self.checkout.url} branch {self.checkout.branch} for environment "
            f"{self.options.env} every {self.options.interval:g}s"
        )
        failures = 0
        while not stop.is_set():
            failures = 0 if self.try_iterate() else failures + 1
            delay = (
                self._backoff.delay(failures - 1, random.random())  # noqa: S311 (jitter)
                if failures
                else self.options.interval
            )
            if failures:
                self._log(f"retrying in {delay:.1f}s")
            stop.wait(delay)
        self._log("stopped")

    def try_iterate(self) -> bool:
        """One iteration; False when it failed (already logged)."""
        try:
            return self.iterate().ok
        except HakobuError as e:
            self._log(f"error: {e}".replace("\n", " "))
            return False

    def iterate(self) -> Iteration:
        commit = self.checkout.fetch()
        project = load_project(self.checkout.directory / PurePosixPath(self.options.project_path))
        env = project.environment(self.options.env)
        env_path = self._relative(project.output_dir / env.name)
        tree = self.checkout.tree_id(commit, env_path)
        pending = self._pending
        if pending is not None:
            if tree == pending.bad.tree:
                return self._roll_back(project, env, pending)
            # Whoever pushed meanwhile changed the environment: their commit wins.
            self._pending = None
            self._log(
                f"rollback of {env.name} revision={pending.bad.revision[:12]} dropped: "
                f"{commit[:12]} changed {env_path}/ meanwhile"
            )
        desired = self._desired_at(project, env, commit, tree)
        reason = env_changed(self._synced_tree, tree)
        if reason is None:
            states = observe(self.kube, project, env, desired, workers=self.options.workers)
            statuses = [app_status(s) for s in states]
            del states
            reason = cluster_reason(statuses)
            if reason is None:
                self._synced_tree = tree
                if commit != self._quiet_revision:
                    self._quiet_revision = commit
                    self._log(f"{env.name} in sync at {commit[:12]}")
                decision = self._judge(env, commit, tree, health_problem(statuses))
                if decision is not None:
                    return self._roll_back(project, env, decision)
                return Iteration(commit, None, None)
        return self._sync(project, env, desired, tree=tree, reason=reason)

    def _sync(
        self,
        project: Project,
        env: Environment,
        desired: DesiredState,
        *,
        tree: str | None,
        reason: str,
    ) -> Iteration:
        commit = desired.revision
        options = SyncOptions(
            prune=self.options.prune,
            # Git is the truth the agent enforces: fields someone changed by hand are taken
            # back, which is what repairing drift means.
            force_conflicts=True,
            timeout=self.options.timeout,
            workers=self.options.workers,
        )
        result = sync(self.kube, project, env, desired, options=options)
        if result.changed:
            write_record(self.kube, env.namespace, result)
        self._synced_tree = tree
        self._quiet_revision = commit
        self._log_sync(result, reason)
        decision = self._judge(env, commit, tree, sync_problem(result))
        if decision is not None:
            return self._roll_back(project, env, decision)
        return Iteration(commit, reason, result)

    def _judge(
        self, env: Environment, commit: str, tree: str | None, problem: Problem | None
    ) -> RollBack | None:
        """Watch what the cluster now holds; a rollback when it calls for one."""
        window = env.auto_rollback_window
        if window is None:
            return None
        now = self._clock()
        self._watch.deployed(commit, tree, now, window)
        decision = self._watch.check(problem, now)
        if isinstance(decision, Good):
            self._log(
                f"{env.name} revision={decision.revision.revision[:12]} stayed healthy for "
                f"{window}s: automatic rollbacks return to it"
            )
        elif isinstance(decision, NoRollback):
            self._log(
                f"not rolling back {env.name} revision={decision.revision.revision[:12]}: "
                f"{decision.why} ({decision.problem})"
            )
        elif isinstance(decision, RollBack):
            return decision
        return None

    def _roll_back(self, project: Project, env: Environment, decision: RollBack) -> Iteration:
        """Commit the rollback on top of the fetched commit, push it, and sync it."""
        self._pending = None
        bad, to = decision.bad.revision, decision.to.revision
        env_path = self._relative(project.output_dir / env.name)
        request = RollbackRequest(
            output=env_path.parent.as_posix(),
            apps=self._relative(project.apps_dir).as_posix(),
            env=env.name,
            to=to,
            reason=f"`hakobu agent` rolled back {bad}: after it was synced, {decision.problem}",
        )
        try:
            rollback = self.checkout.commit_rollback(request)
        except InvalidInput as e:
            self._log(f"not rolling back {env.name} revision={bad[:12]}: {e.message}")
            return Iteration(bad, None, None)
        try:
            self.checkout.push(rollback)
        except OperationFailed as e:
            self._pending = decision
            raise OperationFailed(
                f"rollback of {env.name} revision={bad[:12]} not pushed, trying again after the "
                f"next fetch: {e.message}"
            ) from e
        self._log(
            f"rollback {env.name} revision={bad[:12]} to={to[:12]} commit={rollback[:12]} "
            f"pushed: {decision.problem}"
        )
        tree = self.checkout.tree_id(rollback, env_path)
        if env.auto_rollback_window is not None:
            self._watch.deployed(
                rollback, tree, self._clock(), env.auto_rollback_window, rolls_back=bad
            )
        desired = self._desired_at(project, env, rollback, tree)
        return self._sync(
            project, env, desired, tree=tree, reason=f"automatic rollback of {bad[:12]}"
        )

    def _relative(self, path: Path) -> PurePosixPath:
        """``path`` inside the clone, as git names it."""
        return PurePosixPath(
            path.resolve().relative_to(self.checkout.directory.resolve()).as_posix()
        )

    def _desired_at(
        self, project: Project, env: Environment, commit: str, tree: str | None
    ) -> DesiredState:
        # Parsing thousands of manifests costs far more than a check, so the manifests of
        # the current tree are kept (only those: no history) and reused while it stands.
        cached = self._desired
        if cached is not None and cached.tree == tree and cached.env == env:
            return dataclasses.replace(cached.state, revision=commit)
        self._desired = None
        state = read_desired(project, env, commit)
        self._desired = _Desired(tree, env, state)
        return state

    def _log_sync(self, result: SyncResult, reason: str) -> None:
        failed = [a for a in result.apps if a.result != SUCCEEDED]
        self._log(
            f"sync {result.env} revision={result.revision[:12]} result={result.result} "
            f"applied={result.applied} pruned={result.pruned} unchanged={result.unchanged} "
            f"seconds={result.durations.get('total', 0.0):.1f} reason={reason!r}"
        )
        for app in failed:
            for message in app.messages:
                self._log(f"  {app.app}: {message}")
