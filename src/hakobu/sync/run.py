"""A whole sync: plan → PreSync hooks → waves → PostSync hooks → prune, per app.

Each wave is applied and then waited on until its objects are Healthy (or Suspended)
before the next begins. Apps are synced at the same time, except that an app with
``dependsOn`` starts only once every app it depends on has finished its sync Healthy
(``dependencies``); when one fails, the app is skipped, and so is whatever waits for it,
while the apps that wait for nothing that failed go on. Their requests share one pool of
``workers`` threads, which keeps the load on the API server the same however many apps
there are. When a phase fails, the app's SyncFail hooks run and the app fails. Nothing
here interprets exit codes or prints: the result says what happened.

A sync (not a dry run) holds the environment's lock, a Lease ``hakobu-sync-<env>`` in the
environment's namespace, from before it reads the cluster until it ends, so two syncs of
one environment (two CI jobs, a person and the agent) never interleave their applies and
prunes. It lives beside the environment's inventories and sync records: whoever may sync
the environment can write there, without rights in any other namespace. Before each write
the sync checks the lock is still safely held, and stops if it is not.
"""

from __future__ import annotations

import enum
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

from hakobu.cluster.api import KubeApi
from hakobu.cluster.errors import ApiError, NotFound
from hakobu.cluster.lease import Lease, held
from hakobu.errors import OperationFailed
from hakobu.health import HealthRules, HealthStatus, assess
from hakobu.model.dependencies import Graph
from hakobu.model.fleet import SUSPEND_ANNOTATION
from hakobu.model.gcpause import gc_paused
from hakobu.model.objects import Object, object_ref
from hakobu.model.project import Environment, Project
from hakobu.model.rollout import holding_stable
from hakobu.model.traffic import holding_route, routed
from hakobu.sync.apply import Applied, apply_objects, dry_run_recreate, recreate_refused
from hakobu.sync.awaiting import unready_dependencies
from hakobu.sync.dependencies import desired_graph, prerequisites, removed_graph
from hakobu.sync.manifests import DesiredState
from hakobu.sync.observe import AppState, observe
from hakobu.sync.ordering import Phase
from hakobu.sync.ownership import (
    ENVIRONMENT_LABEL,
    PROJECT_LABEL,
    InventoryEntry,
    delete_inventory,
    ensure_namespace,
    write_inventory,
)
from hakobu.sync.plan import Action, AppPlan, DeletePolicy, Step
from hakobu.sync.prune import check_not_emptying, delete_all
from hakobu.sync.waiting import SETTLED, gates_rollout, wait_gone, wait_settled
from hakobu.sync.windows import WindowOverride

# Apps syncing at once. Their threads mostly wait — on the shared request pool, or for
# objects to become Healthy — so there can be more of them than request workers; the
# bound keeps thousands of apps from meaning thousands of threads.
APPS_AT_ONCE = 64


class Outcome(enum.StrEnum):
    """How a sync, or one app's part of it, ended."""

    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    # Not synced: an app it depends on did not become Healthy.
    SKIPPED = "Skipped"
    # Not synced, as asked: its rendered objects say it is suspended (a fleet instance's
    # suspend: true). Nothing of it is applied or pruned, and that is no failure.
    SUSPENDED = "Suspended"


# The outcomes of an app that did what was asked of it.
DONE = frozenset({Outcome.SUCCEEDED, Outcome.SUSPENDED})


Progress = Callable[[str], None]


@dataclass(frozen=True)
class SyncOptions:
    prune: bool = False
    dry_run: bool = False
    force_conflicts: bool = False
    allow_empty: bool = False
    timeout: float = 300.0
    only_app: str | None = None
    workers: int = 8
    # Where the sealing keys are kept, for environments where hakobu opens SealedSecrets.
    # None: the environment's keysNamespace, else kube-system.
    keys_namespace: str | None = None
    # How long to wait for another sync of the environment to release its lock.
    wait_lock: float = 0.0


@dataclass(frozen=True)
class AppResult:
    app: str
    result: Outcome
    created: int
    updated: int
    unchanged: int
    pruned: int
    hooks: int
    messages: tuple[str, ...]
    durations: dict[str, float] = field(default_factory=dict)
    # Objects that left git and stay, since the sync was not asked to prune.
    left: int = 0
    # The apps whose sync this one waited for and that did not end Healthy.
    waiting_for: tuple[str, ...] = ()
    # Objects deleted and created again: the server refused their change as immutable.
    recreated: int = 0

    @property
    def applied(self) -> int:
        return self.created + self.updated + self.recreated


@dataclass(frozen=True)
class SyncResult:
    project: str
    env: str
    revision: str
    started: str
    dry_run: bool
    result: Outcome
    applied: int
    pruned: int
    unchanged: int
    apps: tuple[AppResult, ...]
    durations: dict[str, float] = field(default_factory=dict)
    left: int = 0
    # Who ran it inside a closed sync window, and why.
    window_override: WindowOverride | None = None

    @property
    def succeeded(self) -> bool:
        return self.result is Outcome.SUCCEEDED

    @property
    def changed(self) -> bool:
        """Whether the sync wrote anything (or tried to and failed): worth recording."""
        return not self.succeeded or any(a.applied or a.pruned or a.hooks for a in self.apps)


def sync(
    kube: KubeApi,
    project: Project,
    env: Environment,
    desired: DesiredState,
    *,
    options: SyncOptions,
    progress: Progress = lambda _: None,
    guard: Callable[[], None] = lambda: None,
) -> SyncResult:
    """``LeaseHeld`` when another sync holds the environment's lock past
    ``options.wait_lock``. ``guard`` is called before every write, next to the lock's own
    check: a controller passes its shard's, so it stops writing once it may no longer act."""
    if options.dry_run:
        with gc_paused():
            return _sync(kube, project, env, desired, options=options, progress=progress)
    # The lock lives in the environment's namespace, so that comes first; creating it is
    # idempotent, so two syncs may race to it.
    if ensure_namespace(kube, project.name, env.name, env.namespace):
        progress(f"created namespace {env.namespace}")
    lease = Lease(
        kube,
        env.namespace,
        lock_name(env.name),
        labels={PROJECT_LABEL: project.name, ENVIRONMENT_LABEL: env.name},
    )
    # The plan holds every live object of the environment until the sync ends: a cyclic
    # collection meanwhile would walk them all, for nothing (see gcpause).
    with held(lease, wait=options.wait_lock, log=progress), gc_paused():

        def guards() -> None:
            guard()
            lease.check()

        return _sync(kube, project, env, desired, options=options, progress=progress, guard=guards)


def lock_name(env: str) -> str:
    return f"hakobu-sync-{env}"


def _sync(
    kube: KubeApi,
    project: Project,
    env: Environment,
    desired: DesiredState,
    *,
    options: SyncOptions,
    progress: Progress,
    guard: Callable[[], None] = lambda: None,
) -> SyncResult:
    started_at = datetime.now(UTC)
    started = time.monotonic()
    deadline = started + options.timeout
    # Checked before the cluster is read: a cycle or unknown app is bad input.
    graph = desired_graph(desired)
    states = observe(
        kube,
        project,
        env,
        desired,
        only_app=options.only_app,
        workers=options.workers,
        keys_namespace=options.keys_namespace,
    )
    suspended = {app.name for app in desired.apps if app.suspended}
    if options.prune:
        check_not_emptying(
            env.name,
            desired.object_count,
            sum(len(s.plan.prunes) for s in states if s.name not in suspended),
            options.allow_empty,
        )
    planned = time.monotonic() - started
    waits, waited = _order(graph, desired, states)
    outside = _outside(
        kube,
        project,
        env,
        desired,
        graph=graph,
        states=states,
        options=options,
        deadline=deadline,
        progress=progress,
    )
    with (
        ThreadPoolExecutor(max_workers=max(1, options.workers)) as requests,
        ThreadPoolExecutor(max_workers=max(1, min(APPS_AT_ONCE, len(states)))) as runners,
    ):
        apps = _in_order(
            states,
            waits,
            waited,
            lambda state: _AppSync(
                kube,
                env,
                state,
                options=options,
                deadline=deadline,
                requests=requests,
                progress=progress,
                guard=guard,
                rules=project.health,
            ).run(),
            runners,
            at_once=lambda state: (
                outside.get(state.name)
                or (_suspended(state) if state.name in suspended else None)
                or _unchanged(state, options, project.health)
            ),
            options=options,
            progress=progress,
        )
    result = Outcome.SUCCEEDED if all(a.result in DONE for a in apps) else Outcome.FAILED
    return SyncResult(
        project=project.name,
        env=env.name,
        revision=desired.revision,
        started=started_at.isoformat(timespec="seconds"),
        dry_run=options.dry_run,
        result=result,
        applied=sum(a.applied for a in apps),
        pruned=sum(a.pruned for a in apps),
        left=sum(a.left for a in apps),
        unchanged=sum(a.unchanged for a in apps),
        apps=tuple(apps),
        durations={"plan": round(planned, 3), "total": round(time.monotonic() - started, 3)},
    )


def _order(graph: Graph, desired: DesiredState, states: list[AppState]) -> tuple[_Waits, _Waits]:
    """What each app of the run waits for, and who waits for it: apps in git after their
    dependencies, apps removed from git after the removed apps that depended on them."""
    in_git = {app.name for app in desired.apps}
    removed = removed_graph(
        {
            state.name: [c.live for c in state.plan.prunes if c.live is not None]
            for state in states
            if state.name not in in_git
        }
    )
    return prerequisites({**graph, **removed}, (state.name for state in states))


_Waits = dict[str, set[str]]


def _outside(
    kube: KubeApi,
    project: Project,
    env: Environment,
    desired: DesiredState,
    *,
    graph: Graph,
    states: list[AppState],
    options: SyncOptions,
    deadline: float,
    progress: Progress,
) -> dict[str, AppResult]:
    """With ``--app``, the dependencies this run does not sync must be Healthy already: the
    app's skipped result when they are not (none when they are, or there are none)."""
    if options.only_app is None or len(states) != 1:
        return {}
    (state,) = states
    names = list(graph.get(state.name, ()))
    if not names:
        return {}
    unready = unready_dependencies(
        kube,
        project,
        env,
        desired,
        names,
        deadline=deadline,
        wait=not options.dry_run,
        workers=options.workers,
        keys_namespace=options.keys_namespace,
        progress=lambda message: progress(f"{state.name}: {message}"),
    )
    if not unready:
        return {}
    return {
        state.name: _skipped(
            state,
            options,
            tuple(line.split(":", 1)[0] for line in unready),
            [f"waiting for {line}" for line in unready]
            + ["sync those apps first, or sync without --app"],
        )
    }


def _in_order(
    states: list[AppState],
    waits: _Waits,
    waited: _Waits,
    run: Callable[[AppState], AppResult],
    runners: Executor,
    *,
    at_once: Callable[[AppState], AppResult | None],
    options: SyncOptions,
    progress: Progress,
) -> list[AppResult]:
    """Each app started once what it waits for has finished; skipped when that failed.
    An app whose result ``at_once`` knows without a request gets it on this thread; the
    others ``run`` on the runners: handing thousands of no-op apps to them would cost more
    than the apps themselves."""
    by_name = {state.name: state for state in states}
    pending = {name: set(before) for name, before in waits.items()}
    results: dict[str, AppResult] = {}
    running: dict[Future[AppResult], str] = {}
    ready: deque[str] = deque()

    def start(name: str) -> None:
        ready.append(name)

    def finished(name: str, result: AppResult) -> None:
        # A worklist, not recursion: a closure that calls itself is a reference cycle, and
        # would keep every app's plan and live objects until the cyclic collector ran.
        results[name] = result
        todo = [(name, result)]
        while todo:
            name, result = todo.pop()
            for other in sorted(waited[name]):
                if other in results:
                    continue
                pending[other].discard(name)
                if result.result not in DONE:
                    results[other] = _skipped_after(by_name[other], options, name, result)
                    todo.append((other, results[other]))
                elif not pending[other]:
                    start(other)

    for name in sorted(pending):
        if pending[name]:
            progress(f"{name}: waiting for {', '.join(sorted(pending[name]))}")
        else:
            start(name)
    while ready or running:
        while ready:
            state = by_name[ready.popleft()]
            known = at_once(state)
            if known is not None:
                finished(state.name, known)
            else:
                running[runners.submit(run, state)] = state.name
        if running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                finished(running.pop(future), future.result())
    return [results[state.name] for state in states]


def _unchanged(state: AppState, options: SyncOptions, rules: HealthRules) -> AppResult | None:
    """The app's result when syncing it makes no request: every object unchanged and each
    one the sync waits for already settled, no hook, nothing to prune, the inventory as it
    would be written; None otherwise (it is synced)."""
    plan = state.plan
    # An app git no longer holds has its inventory deleted once it lists nothing.
    if state.blocked or state.warnings or plan.prunes or not state.in_git:
        return None
    if state.inventory is None:
        return None
    if any(s.action is not Action.UNCHANGED or s.resource.hook for s in plan.steps):
        return None
    if state.inventory.digest != state.digest or state.inventory.entries != plan.inventory:
        return None
    for step in plan.steps:
        if not options.dry_run and gates_rollout(step.resource.obj):
            live = state.live.get(step.resource.id)
            if live is None or assess(live, rules).status not in SETTLED:
                return None
    phases = [Phase.PRE_SYNC, Phase.SYNC, Phase.POST_SYNC]
    return AppResult(
        app=state.name,
        result=Outcome.SUCCEEDED,
        created=0,
        updated=0,
        unchanged=len(plan.steps),
        pruned=0,
        hooks=0,
        messages=_left_alone(plan),
        durations={p.value: 0.0 for p in phases} | ({"Prune": 0.0} if options.prune else {}),
    )


def _skipped_after(
    state: AppState, options: SyncOptions, dependency: str, outcome: AppResult
) -> AppResult:
    why = f" ({outcome.messages[0]})" if outcome.messages else ""
    if state.plan.steps:
        message = f"waiting for {dependency}: {outcome.result}{why}"
    else:
        message = (
            f"not pruned: waiting for {dependency}, which depended on it: {outcome.result}{why}"
        )
    return _skipped(state, options, (dependency,), [message])


def _skipped(
    state: AppState, options: SyncOptions, waiting_for: tuple[str, ...], messages: list[str]
) -> AppResult:
    """Nothing of the app was applied, pruned or recorded: the cluster stays as it was."""
    return AppResult(
        app=state.name,
        result=Outcome.SKIPPED,
        created=0,
        updated=0,
        unchanged=state.plan.count(Action.UNCHANGED),
        pruned=0,
        hooks=0,
        messages=tuple(messages),
        left=0 if options.prune else len(state.plan.prunes),
        waiting_for=waiting_for,
    )


def _suspended(state: AppState) -> AppResult:
    """The app is left as it is in the cluster: what git changed waits for its resume."""
    return AppResult(
        app=state.name,
        result=Outcome.SUSPENDED,
        created=0,
        updated=0,
        unchanged=state.plan.count(Action.UNCHANGED),
        pruned=0,
        hooks=0,
        messages=(f"suspended ({SUSPEND_ANNOTATION}): neither applied nor pruned",),
    )


class _PhaseFailed(Exception):
    """A phase of one app did not succeed; its messages are already recorded."""


class _AppSync:
    def __init__(
        self,
        kube: KubeApi,
        env: Environment,
        state: AppState,
        *,
        options: SyncOptions,
        deadline: float,
        requests: Executor,
        progress: Progress,
        guard: Callable[[], None],
        rules: HealthRules,
    ) -> None:
        self.kube, self.env, self.state = kube, env, state
        self.rules = rules
        # Raises when the environment's lock is no longer safely held: checked before
        # every write.
        self.guard = guard
        self.requests = requests
        self.plan = state.plan
        self.options, self.deadline = options, deadline
        self.app = self.plan.owner.app
        self.messages: list[str] = []
        self.durations: dict[str, float] = {}
        self.created = self.updated = self.recreated = self.pruned = self.hooks = 0
        self.pruned_entries: set[InventoryEntry] = set()
        self._progress = progress

    def progress(self, message: str) -> None:
        self._progress(f"{self.app}: {message}")

    def run(self) -> AppResult:
        if self.state.blocked:
            # Nothing is applied, not even the inventory: the cluster stays as it was.
            return self._result(failed=True, messages=[b.message for b in self.state.blocked])
        for warning in self.state.warnings:
            self.progress(f"warning: {warning}")
            self.messages.append(f"warning: {warning}")
        failed = False
        try:
            self._announce()
            for phase in (Phase.PRE_SYNC, Phase.SYNC, Phase.POST_SYNC):
                self._timed(phase.value, partial(self._phase, phase))
            if self.options.prune:
                self._timed("Prune", self._prune)
        except _PhaseFailed:
            failed = True
        except OperationFailed as e:
            failed = True
            self.messages.append(e.message)
        try:
            self._save_inventory(succeeded=not failed)
        except OperationFailed as e:
            failed = True
            self.messages.append(e.message)
        if failed and self.plan.of_phase(Phase.SYNC_FAIL):
            try:
                self._timed(Phase.SYNC_FAIL.value, partial(self._phase, Phase.SYNC_FAIL))
            except _PhaseFailed:
                pass
            except OperationFailed as e:
                self.messages.append(e.message)
        self.messages.extend(_left_alone(self.plan))
        return self._result(failed=failed, messages=self.messages)

    def _result(self, *, failed: bool, messages: list[str]) -> AppResult:
        return AppResult(
            app=self.app,
            result=Outcome.FAILED if failed else Outcome.SUCCEEDED,
            created=self.created,
            updated=self.updated,
            unchanged=self.plan.count(Action.UNCHANGED),
            pruned=self.pruned,
            hooks=self.hooks,
            messages=tuple(messages),
            durations=self.durations,
            left=0 if self.options.prune else len(self.plan.prunes),
            recreated=self.recreated,
        )

    def _timed(self, name: str, body: Callable[[], None]) -> None:
        started = time.monotonic()
        try:
            body()
        finally:
            self.durations[name] = round(time.monotonic() - started, 3)

    def _phase(self, phase: Phase) -> None:
        for wave in self.plan.of_phase(phase):
            steps = [s for s in wave if self.plan.runs(s, pruning=self.options.prune)]
            if steps:
                self._wave(phase, steps)

    def _wave(self, phase: Phase, steps: list[Step]) -> None:
        changing = [s for s in steps if s.action is not Action.UNCHANGED]
        # What was read or applied is the first reading of each object's health.
        readings = {s.resource.id: self.state.live.get(s.resource.id) for s in steps}
        if changing:
            wave = steps[0].resource.wave
            self.progress(f"{phase} wave {wave}: applying {_objects(len(changing))}")
            for step, applied in zip(changing, self._apply(changing), strict=True):
                readings[step.resource.id] = applied.live
        if not self.options.dry_run:
            self._wait(steps, [readings[s.resource.id] for s in steps])

    def _apply(self, steps: list[Step]) -> list[Applied]:
        self.guard()
        dry_run = self.options.dry_run
        if not dry_run:
            for step in steps:
                if DeletePolicy.BEFORE_HOOK_CREATION in step.resource.delete_policies:
                    self._delete_hook(step.resource.obj)
        # A hook the sync would delete and create again is checked as the creation it
        # will be: an apply over its previous copy would change immutable fields.
        recreated = [dry_run and s.action is Action.RECREATE for s in steps]
        applied = iter(
            apply_objects(
                self.kube,
                # A Deployment with a canary keeps running its stable version, and the
                # routes its router weighs keep their weights: the rollout brings the new
                # version in (hakobu.releases.canary).
                [
                    holding_route(
                        holding_stable(s.resource.obj, self.state.live.get(s.resource.id)),
                        self.state.live.get(s.resource.id),
                    )
                    for s, r in zip(steps, recreated, strict=True)
                    if not r
                ],
                deadline=self.deadline,
                pool=self.requests,
                force=self.options.force_conflicts,
                # The router's fields are taken back (or shared, while held) without a
                # conflict: the rollout wrote them, not a person.
                forced=self.state.taken_over
                | {s.resource.id for s in steps if routed(self.state.live.get(s.resource.id))},
                dry_run=dry_run,
            )
        )
        results = [
            dry_run_recreate(self.kube, s.resource.obj) if r else next(applied)
            for s, r in zip(steps, recreated, strict=True)
        ]
        results = [
            recreate_refused(
                self.kube,
                s.resource.obj,
                r,
                allowed=s.resource.recreate,
                deadline=self.deadline,
                dry_run=dry_run,
            )
            if r.invalid and s.action is Action.UPDATE
            else r
            for s, r in zip(steps, results, strict=True)
        ]
        for step, result in zip(steps, results, strict=True):
            if result.live is None and not result.unverifiable:
                continue
            if result.recreated:
                self.recreated += 1
                done = "would be deleted and created again" if dry_run else "recreated"
                self.progress(f"{result.ref} {done}: the server refuses its change as immutable")
                self.messages.append(
                    f"{result.ref} {done}: the server refuses its change as immutable"
                )
            elif step.action is Action.CREATE:
                self.created += 1
            elif step.action is Action.UPDATE:
                self.updated += 1
            else:
                self.hooks += 1
        errors = [r.error for r in results if r.error and not r.unverifiable]
        if errors:
            self.messages.extend(errors)
            raise _PhaseFailed
        return results

    def _wait(self, steps: list[Step], readings: list[Object | None]) -> None:
        gating = [
            i for i, s in enumerate(steps) if s.resource.hook or gates_rollout(s.resource.obj)
        ]
        steps = [steps[i] for i in gating]
        readings = [readings[i] for i in gating]
        waited = wait_settled(
            self.kube,
            [s.resource.obj for s in steps],
            readings,
            self.deadline,
            pool=self.requests,
            selector=self.plan.owner.selector,
            rules=self.rules,
            progress=self.progress,
        )
        for step, outcome in zip(steps, waited, strict=True):
            if step.resource.hook:
                policy = DeletePolicy.HOOK_SUCCEEDED if outcome.ok else DeletePolicy.HOOK_FAILED
                if policy in step.resource.delete_policies:
                    self._delete(step.resource.obj)
        failures = [w for w in waited if not w.ok]
        for w in failures:
            reason = (
                "failed"
                if w.health.status in (HealthStatus.DEGRADED, HealthStatus.MISSING)
                else "timed out"
            )
            self.messages.append(f"{w.ref} {reason}: {w.health.status} {w.health.message}".rstrip())
        if failures:
            raise _PhaseFailed

    def _delete_hook(self, obj: Object) -> None:
        if self._delete(obj) and not wait_gone(self.kube, obj, self.deadline):
            raise OperationFailed(
                f"{object_ref(obj)}: the previous run of this hook is still being deleted",
                hint="wait for it to go, or delete it by hand, then sync again",
            )

    def _delete(self, obj: Object) -> bool:
        meta = obj["metadata"]
        try:
            self.kube.delete(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
        except NotFound:
            return False
        except ApiError as e:
            raise OperationFailed(f"{object_ref(obj)}: cannot delete the hook: {e.message}") from e
        return True

    def _prune(self) -> None:
        prunes = self.plan.prunes
        if not prunes:
            return
        if self.options.dry_run:
            self.pruned = len(prunes)
            return
        self.guard()
        self.progress(f"pruning {_objects(len(prunes))}")
        results = delete_all(self.kube, [c.live for c in prunes if c.live is not None])
        self.pruned = sum(1 for r in results if r.error is None)
        errors = [r.error for r in results if r.error]
        self.pruned_entries = {c.entry for c, r in zip(prunes, results, strict=True) if not r.error}
        if errors:
            self.messages.extend(errors)
            raise _PhaseFailed

    def _announce(self) -> None:
        """Add what this sync may create to the inventory before creating any of it, so a
        sync killed half-way leaves no object that a later prune would not know of."""
        if self.options.dry_run:
            return
        previous = self.state.inventory
        known = previous.entries if previous is not None else frozenset()
        if self.plan.inventory <= known:
            return
        self.guard()
        try:
            write_inventory(
                self.kube,
                self.env.namespace,
                self.plan.owner,
                entries=known | self.plan.inventory,
                # The last synced digest stays until this sync succeeds: until then the app
                # is OutOfSync, not Drifted.
                desired_digest=previous.digest if previous is not None else "",
                previous=previous,
            )
        except NotFound:
            # The environment's namespace is itself created by this sync; the inventory
            # is written when it ends.
            return

    def _save_inventory(self, *, succeeded: bool) -> None:
        if self.options.dry_run:
            return
        self.guard()
        previous = self.state.inventory
        # Keep tracking what hakobu may still prune; forget what it pruned and what is not
        # its own any more (plan.kept).
        entries = self.plan.inventory | {c.entry for c in self.plan.prunes}
        if not succeeded and previous is not None:
            entries |= previous.entries
        entries -= self.pruned_entries
        if succeeded and not entries and not self.state.in_git:
            # Everything of an app git no longer holds is gone: so is its inventory, or
            # each removed app (a fleet's closed instance) would leave one behind.
            if delete_inventory(self.kube, self.env.namespace, self.app):
                self.progress("inventory deleted")
            return
        digest = self.state.digest if succeeded else (previous.digest if previous else "")
        try:
            wrote = write_inventory(
                self.kube,
                self.env.namespace,
                self.plan.owner,
                entries=entries,
                desired_digest=digest,
                previous=previous,
            )
        except NotFound as e:
            raise OperationFailed(
                f"cannot store the inventory of app {self.app!r} in namespace "
                f"{self.env.namespace!r}: {e.message}",
                hint=f"create Namespace/{self.env.namespace} or add it to the environment's "
                "manifests",
            ) from e
        if wrote:
            self.progress("inventory updated")


def _left_alone(plan: AppPlan) -> tuple[str, ...]:
    return tuple(
        f"left alone: {c.entry.id} is no longer in git but {c.verdict.reason}" for c in plan.kept
    )


def _objects(count: int) -> str:
    return f"{count} object" if count == 1 else f"{count} objects"
