"""The agent's loop: fetch, decide, sync, record; sleep; again, until told to stop.

A single replica is assumed (no leader election yet). Failures of an iteration — the
remote or the API server unreachable, a bad project file at the newest commit — are
logged and the iteration is tried again after an exponentially growing delay; a failed
sync is retried the same way. The only state carried between iterations is the tree id
of ``generated/<env>/`` last synced and the manifests read at it, so memory stays flat.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

from hakobu.agent.checkout import Checkout
from hakobu.agent.decide import cluster_reason, env_changed
from hakobu.cluster.client import KubeClient
from hakobu.errors import HakobuError
from hakobu.model.project import Environment, Project, load_project
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
        self, checkout: Checkout, kube: KubeClient, options: AgentOptions, log: Log
    ) -> None:
        self.checkout, self.kube, self.options = checkout, kube, options
        self._log = log
        self._synced_tree: str | None = None
        self._desired: _Desired | None = None
        self._quiet_revision: str | None = None
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
        tree = self.checkout.tree_id(commit, self._env_path(project, env))
        desired = self._desired_at(project, env, commit, tree)
        reason = env_changed(self._synced_tree, tree)
        if reason is None:
            states = observe(self.kube, project, env, desired, workers=self.options.workers)
            reason = cluster_reason([app_status(s) for s in states])
            del states
        if reason is None:
            self._synced_tree = tree
            if commit != self._quiet_revision:
                self._quiet_revision = commit
                self._log(f"{env.name} in sync at {commit[:12]}")
            return Iteration(commit, None, None)
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
        return Iteration(commit, reason, result)

    def _env_path(self, project: Project, env: Environment) -> PurePosixPath:
        env_dir = (project.output_dir / env.name).resolve()
        return PurePosixPath(env_dir.relative_to(self.checkout.directory.resolve()).as_posix())

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
