"""The agent's loop: fetch, decide, sync, record; sleep; again, until told to stop.

A single replica is assumed (no leader election yet). Failures of an iteration — the
remote or the API server unreachable, a bad project file at the newest commit — are
logged and the iteration is tried again after an exponentially growing delay, for as long
as they last. A failed sync is retried the same way up to ``retry_limit`` times for one
revision, as Argo CD's ``syncPolicy.retry.limit``; then the agent gives up on it until git
or the cluster changes. Every sync's start, waits, result, retries and giving up is one
log line naming the revision and the reason, so a broken environment is never silent.

After a sync that succeeded, the cluster is read again: what still differs from git is
what this sync does not remove (without ``--prune``, objects git no longer holds). It is
reported once, in the log and in the sync record, and is no reason to sync again
(``decide.Settled``) — only a change in git or in the cluster is. Differences other than
those (a field set back, an object deleted) are settled only when two syncs in a row of
the same tree leave them: the first time, someone may have changed it while the sync
ran, and the next pass syncs again.

The state carried between iterations is the tree id of ``generated/<env>/`` last synced
and the manifests read at it, what was settled, the failures of the current revision, and
for an environment with ``autoRollback`` the revision known good (also kept in the
cluster: ``memory``), the one being watched and the ids of revisions already judged
failed (one per failure), so memory stays flat.

With ``autoRollback``, a failure within the window becomes a rollback commit on top of the
fetched commit, pushed (never forced) and then synced like any commit. When the push is
refused the next iteration fetches first: if the environment's output is still the failed
one the rollback is made again on top of what arrived, else the newer commit wins. The
rollback's sync also deletes what the failed revision added (``restore``), with or
without ``--prune``: a rollback restores the last good state exactly.

An environment's sync windows (``hakobu.sync.windows``) hold every sync the loop would
start, rollbacks included, while they close it: the iteration says which window and when it
opens again (``Iteration.held``), logs that once, and the loop wakes then rather than after
a whole interval. Git and the cluster are still read, so the sync at the opening is of the
newest commit.
"""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from hakobu.agent.autorollback import (
    Good,
    NoRollback,
    Problem,
    RollBack,
    Watch,
    health_problem,
    sync_problem,
)
from hakobu.agent.checkout import Checkout
from hakobu.agent.decide import Settled, cluster_reason, differences, env_changed
from hakobu.agent.memory import last_good, records, remember_good
from hakobu.agent.restore import added, remove_added, with_removed
from hakobu.cluster.api import KubeApi
from hakobu.cluster.lease import LEASE_DURATION, RETRY_PERIOD
from hakobu.cluster.retry import Backoff
from hakobu.errors import HakobuError, InvalidInput, OperationFailed
from hakobu.health import HealthRules
from hakobu.model.clusters import Cluster
from hakobu.model.objects import Object, ObjectId
from hakobu.model.project import Environment, Project, load_project
from hakobu.releases.rollback import RollbackRequest
from hakobu.sync import (
    AppState,
    AppStatus,
    DesiredState,
    SyncOptions,
    SyncResult,
    app_status,
    observe,
    read_desired,
    sync,
    write_record,
)
from hakobu.sync.dependencies import desired_graph
from hakobu.sync.ownership import delete_empty_inventories, namespace_ending
from hakobu.sync.record import record_sync
from hakobu.sync.run import DONE, Outcome
from hakobu.sync.status import with_dependencies
from hakobu.sync.windows import WindowState, window_state

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
    # Failed syncs of one revision tried again before giving up on it.
    retry_limit: int = 5
    # Where the sealing keys are (None: the environment's keysNamespace, else kube-system).
    keys_namespace: str | None = None
    # Overrides the environment's autoRollback window (seconds) where set.
    auto_rollback_window: int | None = None
    # Who the rollback commits and log lines say acted.
    actor: str = "hakobu agent"
    # Refuse an environment that names its clusters (``NamesClusters``) rather than sync
    # it into the cluster given: for an agent given no cluster of its own choosing (a
    # Delivery without spec.cluster), whose caller delivers to each cluster instead.
    # False: it syncs the cluster it was given, one agent per cluster.
    refuse_clusters: bool = False
    # Aborted rollouts are reverted by the caller (the controller, app by app with
    # their inputs): they are no reason for this loop's rollback of the environment.
    rollouts_reverted: bool = False


# Why a revision must not be applied yet (images its registry lacks), or None to go ahead.
Gate = Callable[[Path, DesiredState], str | None]


class NamesClusters(InvalidInput):
    """The environment names its clusters, and the agent was told to sync none of them."""

    def __init__(self, env: str, clusters: tuple[Cluster, ...]) -> None:
        names = ", ".join(c.name for c in clusters)
        super().__init__(
            f"environment {env} names its clusters in hakobu.yaml ({names}): not delivered "
            "to the cluster this agent was given"
        )
        self.clusters = clusters


@dataclass(frozen=True)
class Iteration:
    revision: str
    reason: str | None
    result: SyncResult | None
    # The sync failed once more than the retry limit allows: nothing to retry.
    gave_up: bool = False
    # Why the revision waits instead of being applied (the gate's answer).
    waiting: str | None = None
    # The sync windows that hold the sync this iteration would have run.
    held: WindowState | None = None

    @property
    def ok(self) -> bool:
        return self.result is None or self.result.succeeded or self.gave_up


@dataclass(frozen=True)
class _Desired:
    tree: str | None
    env: Environment
    state: DesiredState


class Agent:
    def __init__(
        self,
        checkout: Checkout,
        kube: KubeApi,
        options: AgentOptions,
        log: Log,
        *,
        clock: Callable[[], float] = time.monotonic,
        guard: Callable[[], None] = lambda: None,
        gate: Gate | None = None,
        started: Callable[[str, str], None] = lambda _revision, _reason: None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.checkout, self.kube, self.options = checkout, kube, options
        self._log = log
        self._guard, self._gate, self._started = guard, gate, started
        self._now = now
        # The sync windows holding the last iteration's sync, if they did.
        self.held: WindowState | None = None
        self._held_message: str | None = None
        # Each app's sync and health as last read from the cluster, for a status report.
        self.statuses: tuple[AppStatus, ...] = ()
        # (project, environment) as the labels on what it syncs name them, once known.
        self.owner: tuple[str, str] | None = None
        self._waiting: str | None = None
        self._synced_tree: str | None = None
        self._desired: _Desired | None = None
        self._quiet_revision: str | None = None
        self._settled: Settled | None = None
        # The tree and the differences the last successful sync left.
        self._last_left: tuple[str | None, frozenset[str]] | None = None
        # The tree whose syncs failed last, and how many times in a row.
        self._failed: tuple[str | None, int] = (None, 0)
        # What the next retry is about, for its log line.
        self._retrying = ""
        self._revision: str | None = None
        self._recalled = False
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
                self._log(f"retrying {self._retrying} in {delay:.1f}s")
            elif self.held is not None and self.held.reopens is not None:
                # The sync waits for its window: wake as it opens, not an interval later.
                opens = (self.held.reopens - self._now()).total_seconds()
                delay = min(delay, max(opens, 1.0))
            stop.wait(delay)
        self._log("stopped")

    def try_iterate(self) -> bool:
        """One iteration; False when it failed (already logged)."""
        try:
            return self.iterate().ok
        except HakobuError as e:
            message = str(e).replace("\n", " ")
            self._log(f"error: {message}")
            at = self._revision[:12] if self._revision else "(not fetched)"
            self._retrying = f"{self.options.env} revision={at} after: {message}"
            return False

    def iterate(self) -> Iteration:
        commit = self.checkout.fetch()
        self._revision = commit
        project = load_project(self.checkout.directory / PurePosixPath(self.options.project_path))
        env = project.environment(self.options.env)
        if env.clusters and self.options.refuse_clusters:
            raise NamesClusters(env.name, env.clusters)
        self.owner = (project.name, env.name)
        if self.options.auto_rollback_window is not None:
            env = dataclasses.replace(env, auto_rollback_window=self.options.auto_rollback_window)
        env_path = self._relative(project.output_dir / env.name)
        tree = self.checkout.tree_id(commit, env_path)
        if not self._recalled:
            self._recall(project, env, env_path)
        self.held = None
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
            states = self._observe(project, env, desired)
            statuses = _statuses(states, desired, project.health)
            del states
            self.statuses = tuple(statuses)
            reason = cluster_reason(statuses)
            settled = self._settled
            if settled is not None and not settled.holds(tree, differences(statuses)):
                settled = self._settled = None
            if reason is None or settled is not None:
                self._synced_tree = tree
                if commit != self._quiet_revision:
                    self._quiet_revision = commit
                    self._log(
                        f"{env.name} in sync at {commit[:12]}"
                        if settled is None
                        else f"{env.name} at {commit[:12]}: not synced: {settled.why}"
                    )
                problem = health_problem(statuses, rollouts_reverted=self.options.rollouts_reverted)
                decision = self._judge(project, env, commit, tree, problem)
                if decision is not None:
                    return self._roll_back(project, env, decision)
                return Iteration(commit, None, None)
        return (
            self._hold(env, commit)
            or self._gated(project, env, desired, tree)
            or self._sync(project, env, desired, tree=tree, reason=reason)
        )

    def _gated(
        self, project: Project, env: Environment, desired: DesiredState, tree: str | None
    ) -> Iteration | None:
        """An iteration waiting at the gate (images their registry lacks), or None."""
        commit = desired.revision
        if self._gate is not None and tree != self._synced_tree:
            # A revision not yet applied; a repair of the one applied needs no new image.
            waiting = self._gate(project.root, desired)
            if waiting is not None:
                if waiting != self._waiting:
                    self._log(f"{env.name} revision={commit[:12]} waits: {waiting}")
                self._waiting = waiting
                return Iteration(commit, None, None, waiting=waiting)
        self._waiting = None
        return None

    def _hold(self, env: Environment, commit: str) -> Iteration | None:
        """An iteration held by the environment's sync windows, or None when they let the
        sync run. Logged once per closing, not on every pass."""
        state = window_state(env.sync_windows, self._now())
        if state.automatic:
            self._held_message = None
            return None
        self.held = state
        message = state.message()
        if message != self._held_message:
            self._held_message = message
            self._log(f"{env.name} revision={commit[:12]} waits: {message}")
        return Iteration(commit, None, None, held=state)

    def _sync(
        self,
        project: Project,
        env: Environment,
        desired: DesiredState,
        *,
        tree: str | None,
        reason: str,
        remove: frozenset[ObjectId] = frozenset(),
    ) -> Iteration:
        """Sync, then read the cluster again to find what the sync left different; with
        ``remove``, what the rolled-back revision added, deleted after the sync."""
        commit = desired.revision
        name = f"{env.name} revision={commit[:12]}"
        self._log(f"sync {name} started: {reason}")
        self._started(commit, reason)
        result = sync(
            self.kube,
            project,
            env,
            desired,
            options=self._sync_options(prune=self.options.prune),
            progress=lambda message: self._log(f"sync {name}: {message}"),
            guard=self._guard,
        )
        left: list[AppStatus] = []
        if result.succeeded:
            states = self._observe(project, env, desired)
            succeeded = frozenset(a.app for a in result.apps if a.result is Outcome.SUCCEEDED)
            removed = remove_added(self.kube, env.namespace, states, remove, succeeded)
            if removed:
                result = with_removed(result, removed)
                states = self._observe(project, env, desired)
            self.statuses = tuple(_statuses(states, desired, project.health))
            left = [s for s in self.statuses if s.differing]
            del states
        if left:
            # A sync that wrote nothing is recorded too: what it left belongs in the history.
            result = _noting_left(result, left)
            write_record(self.kube, env.namespace, result)
        else:
            record_sync(self.kube, env.namespace, result)
        self._synced_tree = tree
        self._quiet_revision = commit
        self._log_sync(result, reason)
        self._settled = None
        left_before, self._last_left = self._last_left, (tree, differences(left))
        if left and not _unremovable(left) and left_before != self._last_left:
            # What it applied differs again: changed or deleted while the sync ran. The
            # next pass syncs again; only what two syncs in a row leave is settled (another
            # controller setting a field back, not a person's edit at an unlucky moment).
            self._log(f"{name}: changed while the sync ran, syncing again: {self._left_text(left)}")
        elif left:
            count = sum(len(s.differing) for s in left)
            self._settled = Settled(
                tree,
                differences(left),
                f"{count} difference{'' if count == 1 else 's'} from git that its sync at "
                f"{commit[:12]} left",
            )
            self._log(f"{name}: the sync leaves differences from git: {self._left(left)}")
        decision = self._judge(project, env, commit, tree, sync_problem(result))
        if decision is not None:
            return self._roll_back(project, env, decision)
        if result.succeeded:
            self._failed = (None, 0)
            return Iteration(commit, reason, result)
        return self._failed_sync(project, env, desired, tree, result)

    def _failed_sync(
        self,
        project: Project,
        env: Environment,
        desired: DesiredState,
        tree: str | None,
        result: SyncResult,
    ) -> Iteration:
        """Count the failure; give up on the revision once it exceeds the retry limit."""
        name = f"{env.name} revision={desired.revision[:12]}"
        last, count = self._failed
        count = count + 1 if last == tree else 1
        self._failed = (tree, count)
        problem = sync_problem(result) or "sync failed"
        attempts = self.options.retry_limit + 1
        if count < attempts:
            self._retrying = f"sync of {name} (attempt {count + 1} of {attempts}) after: {problem}"
            return Iteration(desired.revision, None, result)
        states = self._observe(project, env, desired)
        statuses = _statuses(states, desired, project.health)
        del states
        self.statuses = tuple(statuses)
        why = f"gave up on {desired.revision[:12]} after {count} failed syncs"
        self._settled = Settled(tree, differences(statuses), why)
        self._log(
            f"giving up on {name} after {count} failed syncs, the last: {problem}; syncing "
            "again when git or the cluster changes"
        )
        return Iteration(desired.revision, None, result, gave_up=True)

    def _left_text(self, left: list[AppStatus]) -> str:
        return "; ".join(f"{s.app}: {item}" for s in left for item in s.differing)

    def _left(self, left: list[AppStatus]) -> str:
        text = self._left_text(left)
        pruned = any(item.endswith("(prune)") for s in left for item in s.differing)
        if not self.options.prune and pruned:
            text += " (objects git no longer holds stay: the agent runs without --prune)"
        return text + "; not syncing for them again until git or the cluster changes"

    def _recall(self, project: Project, env: Environment, env_path: PurePosixPath) -> None:
        """The revision known good, from the sync records of an agent that ran before."""
        if env.auto_rollback_window is not None:
            good = last_good(records(self.kube, env.namespace, project.name, env.name))
            tree = self.checkout.tree_id(good.revision, env_path) if good is not None else None
            if good is None or tree is None:
                self._log(
                    f"{env.name}: no sync record names a revision of this branch that stayed "
                    "healthy; automatic rollbacks need one to return to"
                )
            else:
                self._watch.recall(good.revision, tree)
                self._log(
                    f"{env.name} revision={good.revision[:12]} stayed healthy (sync record "
                    f"{good.record}): automatic rollbacks return to it"
                )
        self._recalled = True

    def _judge(
        self,
        project: Project,
        env: Environment,
        commit: str,
        tree: str | None,
        problem: Problem | None,
    ) -> RollBack | None:
        """Watch what the cluster now holds; a rollback when it calls for one."""
        window = env.auto_rollback_window
        if window is None:
            return None
        now = self._clock()
        self._watch.deployed(commit, tree, now, window)
        decision = self._watch.check(problem, now)
        if isinstance(decision, Good):
            env_path = self._relative(project.output_dir / env.name)
            good = decision.revision
            remembered = remember_good(
                self.kube,
                env.namespace,
                records(self.kube, env.namespace, project.name, env.name),
                lambda revision: self.checkout.tree_id(revision, env_path) == good.tree,
                window,
            )
            where = (
                f"sync record {remembered.record}"
                if remembered is not None
                else "no sync record of it is left, so an agent started later will not know it"
            )
            self._log(
                f"{env.name} revision={good.revision[:12]} stayed healthy for {window}s: "
                f"automatic rollbacks return to it ({where})"
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
        """Commit the rollback on top of the fetched commit, push it, and sync it; while
        the sync windows close the environment, keep it for the first pass they let run."""
        held = self._hold(env, decision.bad.revision)
        if held is not None:
            self._pending = decision
            return held
        self._pending = None
        bad, to = decision.bad.revision, decision.to.revision
        env_path = self._relative(project.output_dir / env.name)
        bad_state = self._desired_at(project, env, bad, decision.bad.tree)
        request = RollbackRequest(
            output=env_path.parent.as_posix(),
            apps=self._relative(project.apps_dir).as_posix(),
            env=env.name,
            to=to,
            reason=(
                f"`{self.options.actor}` rolled back {bad}: after it was synced, {decision.problem}"
            ),
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
            project,
            env,
            desired,
            tree=tree,
            reason=f"automatic rollback of {bad[:12]}",
            # With --prune the sync deletes all of it anyway.
            remove=frozenset() if self.options.prune else added(bad_state, desired),
        )

    def delete_deployed(self) -> SyncResult | None:
        """Delete everything the environment holds of the project, as a sync with prune does
        when every app has left git; then the emptied inventories. What git declares is not
        read: only what hakobu's inventories list, so nothing hakobu did not apply goes.
        None when the environment's namespace is gone or going: Kubernetes deletes what it
        holds, and no sync can take its lock there."""
        commit = self.checkout.fetch()
        project = load_project(self.checkout.directory / PurePosixPath(self.options.project_path))
        env = project.environment(self.options.env)
        if env.clusters and self.options.refuse_clusters:
            raise NamesClusters(env.name, env.clusters)
        if namespace_ending(self.kube, env.namespace):
            self._log(f"namespace {env.namespace} is being deleted, and with it what it holds")
            return None
        name = f"{env.name} revision={commit[:12]}"
        self._log(f"deleting what {env.name} deployed")
        result = sync(
            self.kube,
            project,
            env,
            DesiredState(env.name, commit, ()),
            options=self._sync_options(prune=True, allow_empty=True),
            progress=lambda message: self._log(f"delete {name}: {message}"),
            guard=self._guard,
        )
        record_sync(self.kube, env.namespace, result)
        self._log_sync(result, "the Delivery was deleted")
        if result.succeeded:
            delete_empty_inventories(self.kube, env.namespace, project.name, env.name)
        return result

    def _sync_options(self, *, prune: bool, allow_empty: bool = False) -> SyncOptions:
        return SyncOptions(
            prune=prune,
            allow_empty=allow_empty,
            # Git is the truth the agent enforces: fields someone changed by hand are taken
            # back, which is what repairing drift means.
            force_conflicts=True,
            timeout=self.options.timeout,
            workers=self.options.workers,
            keys_namespace=self.options.keys_namespace,
            # A sync killed mid-way leaves the environment's lock held, and its expiry is
            # judged on the waiting side's clock from when it first read it: without a wait
            # past the lease duration every later pass would give up on it, forever.
            wait_lock=LEASE_DURATION + 2 * RETRY_PERIOD,
        )

    def recheck(self) -> None:
        """Forget what the last sync left settled: the cluster changed since (an object was
        deleted or edited), so what differs is worth a sync again."""
        self._settled = None

    def desired_kinds(self) -> frozenset[tuple[str, str]]:
        """``(apiVersion, kind)`` of every object the last revision read declares."""
        return frozenset((obj["apiVersion"], obj["kind"]) for _app, obj in self.declared())

    def declared(self) -> list[tuple[str, Object]]:
        """Every object the last revision read declares, with its app."""
        if self._desired is None:
            return []
        return [(app.name, m.obj) for app in self._desired.state.apps for m in app.manifests]

    def _relative(self, path: Path) -> PurePosixPath:
        """``path`` inside the clone, as git names it."""
        return PurePosixPath(
            path.resolve().relative_to(self.checkout.directory.resolve()).as_posix()
        )

    def _observe(self, project: Project, env: Environment, desired: DesiredState) -> list[AppState]:
        return observe(
            self.kube,
            project,
            env,
            desired,
            workers=self.options.workers,
            keys_namespace=self.options.keys_namespace,
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
        failed = [a for a in result.apps if a.result not in DONE]
        self._log(
            f"sync {result.env} revision={result.revision[:12]} result={result.result} "
            f"applied={result.applied} pruned={result.pruned} unchanged={result.unchanged} "
            f"seconds={result.durations.get('total', 0.0):.1f} reason={reason!r}"
        )
        for app in failed:
            for message in app.messages:
                self._log(f"  {app.app}: {message}")


def _unremovable(left: list[AppStatus]) -> bool:
    """Whether all a sync left is what no sync removes: objects git dropped, kept without
    ``--prune``."""
    return all(item.endswith("(prune)") for s in left for item in s.differing)


def _noting_left(result: SyncResult, left: list[AppStatus]) -> SyncResult:
    by_app = {s.app: s.differing for s in left}
    apps = tuple(
        dataclasses.replace(
            app,
            messages=(
                *app.messages,
                *(f"differs from git after the sync: {item}" for item in by_app.get(app.app, ())),
            ),
        )
        for app in result.apps
    )
    return dataclasses.replace(result, apps=apps)


def _statuses(states: list[AppState], desired: DesiredState, rules: HealthRules) -> list[AppStatus]:
    """Each app's status, with what it waits for (``dependsOn``)."""
    return with_dependencies([app_status(s, rules) for s in states], desired_graph(desired))
