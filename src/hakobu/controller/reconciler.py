"""One Delivery's passes: the agent's iteration (fetch, decide, sync, judge), reported.

A Delivery is followed by the same ``Agent`` that ``hakobu agent`` runs, with the clone in
the controller's state directory, the shard's Lease as the sync's guard (checked before
every write) and, when the project declares images, the registry gate. A pass never raises:
whatever went wrong becomes a ``Problem`` in the report, so one broken Delivery cannot stop
the others.

A Delivery of an environment that names its clusters (and no ``spec.cluster``) is delivered
to each of them at once, by a reconciler per cluster whose kubeconfig is in the Secret
``hakobu-cluster-<name>`` of the Delivery's namespace (read by name: the controller never
lists Secrets); one cluster failing fails only its part of the pass.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from hakobu.agent.checkout import Checkout
from hakobu.agent.loop import Agent, AgentOptions, Gate, Iteration, NamesClusters
from hakobu.cluster.api import KubeApi
from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import NotFound
from hakobu.cluster.kubeconfig import load
from hakobu.controller.delivery import Delivery
from hakobu.controller.fleetpass import FleetRollouts
from hakobu.controller.gitsecret import git_credentials as credentials_in
from hakobu.controller.metrics import Metrics
from hakobu.controller.rollouts import Reverter, RolloutDriver, declares_rollout
from hakobu.controller.status import ClusterPass, PassReport, Problem, combine, summary_health
from hakobu.errors import HakobuError, InvalidInput
from hakobu.images.availability import ImageAvailability, deployed_images
from hakobu.model.clusters import Cluster
from hakobu.model.notifications import EventKind
from hakobu.model.project import load_project
from hakobu.releases.previewpass import Step, follow_remote
from hakobu.repo.clone import Credentials
from hakobu.sync import DesiredState, SyncResult
from hakobu.sync.clusterstatus import across_clusters
from hakobu.sync.fanout import each_cluster
from hakobu.sync.run import Outcome
from hakobu.sync.status import AppStatus

Log = Callable[..., None]
_PREVIEW_EVENTS = {
    Step.UP: EventKind.PREVIEW_UP,
    Step.UPDATE: EventKind.PREVIEW_UPDATED,
    Step.DELETED: EventKind.PREVIEW_DOWN,
    Step.EXPIRED: EventKind.PREVIEW_DOWN,
    Step.FAILED: EventKind.PREVIEW_FAILED,
}
# Where the kubeconfig of each cluster of an environment is, in the Delivery's namespace.
CLUSTER_KUBECONFIG_NAME = "hakobu-cluster-{cluster}"
# What a pass tells the team: (event kind, revision, message, apps).
Emit = Callable[[str, str, str, tuple[str, ...]], None]


class _TimedCheckout(Checkout):
    """A checkout that times its fetches and remembers whether the last one failed."""

    def __init__(self, url: str, branch: str, directory: Path, observe: Callable[[float], None]):
        super().__init__(url, branch, directory)
        self._observe = observe
        self.failed: str | None = None

    def fetch(self) -> str:
        started = time.monotonic()
        try:
            commit = super().fetch()
        except HakobuError as e:
            self.failed = e.message
            raise
        self.failed = None
        self._observe(time.monotonic() - started)
        return commit


@dataclass(frozen=True)
class _Followed:
    """What a Delivery's agent is built from: a change to any of it builds a new one."""

    url: str
    branch: str
    path: str
    environment: str
    prune: bool
    timeout: float
    auto_rollback_window: float | None
    keys_namespace: str | None
    # The digest of the kubeconfig of the cluster delivered to; None: the controller's own.
    cluster: str | None


class DeliveryReconciler:
    def __init__(
        self,
        kube: KubeApi,
        workdir: Path,
        *,
        metrics: Metrics,
        log: Log,
        guard: Callable[[], None],
        emit: Emit,
        availability: ImageAvailability | None = None,
        cluster: str | None = None,
    ) -> None:
        self.kube, self.workdir = kube, workdir
        # The one cluster of the environment's this reconciler delivers to (None: the
        # Delivery's spec.cluster, else the controller's own), and one reconciler per
        # cluster for an environment that names them.
        self._cluster = cluster
        self._children: dict[str, DeliveryReconciler] = {}
        self._metrics, self._log, self._guard = metrics, log, guard
        self._emit = emit
        self._availability = availability
        self._agent: tuple[_Followed, Agent, _TimedCheckout] | None = None
        self._health: str | None = None
        self._fleets = FleetRollouts(emit, log)
        self._remote: tuple[str, KubeClient] | None = None
        # Whether the last pass ran a sync (it found something to change).
        self.synced = False
        self._rollouts = RolloutDriver(emit, guard)

    @property
    def owner(self) -> tuple[str, str] | None:
        """(project, environment) as the labels on what it deployed say, once known."""
        return self._agent[1].owner if self._agent is not None else None

    @property
    def project_root(self) -> Path | None:
        """The project directory in the Delivery's clone, once one is made."""
        if self._agent is None:
            return None
        return self._agent[2].directory / self._agent[0].path

    def kinds(self) -> frozenset[tuple[str, str]]:
        return self._agent[1].desired_kinds() if self._agent is not None else frozenset()

    def reconcile(self, delivery: Delivery, reason: str) -> PassReport:
        name = str(delivery.ref)
        handled = delivery.reconcile_requested_at
        report = PassReport(delivery.generation, None, (), handled_reconcile_at=handled)
        if delivery.suspend:
            return replace(report, suspended=True)
        try:
            credentials = git_credentials(self.kube, delivery)
            target = self._target(delivery)
        except HakobuError as e:
            problem = Problem("InvalidSecret", e.message, stalled=True)
            self._log(e.message, level="error", delivery=name, reason=problem.reason)
            return replace(report, problem=problem)
        try:
            agent, checkout = self._agent_for(delivery, target)
        except HakobuError as e:
            # A local path missing right now (moved, unmounted) is refused as the checkout
            # is made: as unreadable as a remote that does not answer, and retried alike.
            problem = Problem("FetchFailed", f"fetching {delivery.url}: {e.message}", True)
            self._log(problem.message, level="error", delivery=name, reason=problem.reason)
            return replace(report, problem=problem)
        checkout.credentials = credentials
        if reason.startswith("drift"):
            # The drift may have happened while the last sync ran, after it applied: what
            # that sync left is not settled any more.
            agent.recheck()
        started = time.monotonic()
        self.synced = False
        try:
            iteration = agent.iterate()
        except NamesClusters as e:
            return self._each_cluster(delivery, reason, e.clusters)
        except HakobuError as e:
            problem = self._problem(e, checkout)
            self._log(problem.message, level="error", delivery=name, reason=problem.reason)
            return replace(report, statuses=agent.statuses, problem=problem)
        self.synced = iteration.result is not None
        self._let_go()
        report = replace(
            report,
            revision=iteration.revision,
            statuses=agent.statuses,
            waiting=iteration.waiting,
            held=None if iteration.held is None else iteration.held.message(),
            reopens=None if iteration.held is None else iteration.held.reopens,
            applied=iteration.waiting is None
            and iteration.held is None
            and (iteration.result is None or iteration.ok),
        )
        self._account(delivery, iteration, reason, time.monotonic() - started)
        self._follow_previews(delivery, checkout, target)
        if iteration.waiting is None and iteration.held is None:
            self._step_fleets(delivery, agent, checkout, target, iteration.revision)
        due = self._advance_rollouts(delivery, agent, checkout, target, iteration.revision)
        report = replace(report, rollout_due=due)
        if iteration.result is not None and not iteration.result.succeeded:
            report = replace(report, sync_failure=_why_failed(iteration.result), applied=False)
        return report

    def _follow_previews(
        self, delivery: Delivery, checkout: _TimedCheckout, target: tuple[str, KubeClient] | None
    ) -> None:
        """The previews of the environment this Delivery delivers, when the project copies
        it for them (``releases.previewpass``): one pass over the remote's branches, each
        step told as an event carrying the preview's URL. A failure is logged and told;
        the Delivery's own pass stands."""
        root = self.project_root
        if root is None or self._cluster is not None:
            return
        try:
            project = load_project(root)
        except HakobuError:
            # The agent read it moments ago: whatever is wrong is already reported.
            return
        if project.previews is None or project.previews.source_env != delivery.environment:
            return
        name = str(delivery.ref)
        kube = target[1] if target is not None else self.kube
        try:
            events = follow_remote(
                kube,
                project,
                checkout.url,
                now=datetime.now(UTC),
                credentials=checkout.credentials,
                timeout=delivery.timeout,
                guard=self._guard,
            )
        except HakobuError as e:
            self._log(f"previews: {e.message}", level="error", delivery=name)
            self._emit(EventKind.PREVIEW_FAILED, "", f"previews: {e.message}", ())
            return
        for event in events:
            level = "error" if event.step is Step.FAILED else "info"
            self._log(event.message, level=level, delivery=name, branch=event.branch)
            self._emit(_PREVIEW_EVENTS[event.step], event.revision, event.message, ())

    def _advance_rollouts(
        self,
        delivery: Delivery,
        agent: Agent,
        checkout: _TimedCheckout,
        target: tuple[str, KubeClient] | None,
        revision: str,
    ) -> float | None:
        """Advance the environment's rollouts (``controller.rollouts``); when the
        next pass is due for one of them."""
        declared = agent.declared()
        root = self.project_root
        if root is None or not any(declares_rollout(obj) for _app, obj in declared):
            return None
        reverter = None
        try:
            project = load_project(root)
        except HakobuError:
            # The agent read it moments ago: whatever is wrong is already reported.
            return None
        env = project.environment(delivery.environment)
        if delivery.auto_rollback_window is not None or env.auto_rollback_window is not None:
            clone = checkout.directory.resolve()
            reverter = Reverter(
                checkout.commit_revert,
                checkout.push,
                output=project.output_dir.resolve().relative_to(clone).as_posix(),
                apps=project.apps_dir.resolve().relative_to(clone).as_posix(),
                actor=f"hakobu controller (Delivery {delivery.ref})",
            )
        kube = target[1] if target is not None else self.kube
        name = str(delivery.ref)
        return self._rollouts.advance_all(
            kube,
            delivery.environment,
            declared,
            revision,
            reverter,
            log=lambda message, level="info": self._log(
                message, level=level, delivery=name, environment=delivery.environment
            ),
        )

    def _step_fleets(
        self,
        delivery: Delivery,
        agent: Agent,
        checkout: _TimedCheckout,
        target: tuple[str, KubeClient] | None,
        revision: str,
    ) -> None:
        """The tiered rollouts of fleets this Delivery's environment judges
        (``controller.fleetpass``), with the health the pass read; its commits pushed."""
        if self._cluster is None:
            kube = target[1] if target is not None else self.kube
            self._step_fleets_with(delivery, kube, checkout, agent.statuses, revision)

    def _step_fleets_with(
        self,
        delivery: Delivery,
        kube: KubeApi,
        checkout: _TimedCheckout,
        statuses: Sequence[AppStatus],
        revision: str,
    ) -> None:
        root = self.project_root
        if root is None:
            return
        try:
            project = load_project(root)
            env = project.environment(delivery.environment)
        except HakobuError:
            return
        checkout.identify()
        self._fleets.step(kube, project, env, statuses, revision=revision, push=checkout.push)

    def _each_cluster(
        self, delivery: Delivery, reason: str, clusters: tuple[Cluster, ...]
    ) -> PassReport:
        """The pass on each of the environment's clusters at once, summed up."""
        children = self._children_for(delivery, clusters)
        passes = each_cluster(
            clusters, lambda c: ClusterPass(c.name, children[c.name].reconcile(delivery, reason))
        )
        self.synced = any(child.synced for child in children.values())
        report = combine(delivery.generation, delivery.reconcile_requested_at, passes)
        first = children[clusters[0].name].cluster_client
        if (
            self._agent is not None
            and first is not None
            and report.revision is not None
            and all(p.report.waiting is None and p.report.held is None for p in passes)
        ):
            # Each instance judged on every cluster (Healthy only when Healthy on all);
            # the rollout's record is kept in the environment's first cluster.
            statuses = across_clusters([(p.name, p.report.statuses) for p in passes])
            self._step_fleets_with(delivery, first, self._agent[2], statuses, report.revision)
        return report

    @property
    def cluster_client(self) -> KubeClient | None:
        """The client of the cluster this reconciler delivers to, once it made one."""
        return self._remote[1] if self._remote is not None else None

    def _children_for(
        self, delivery: Delivery, clusters: tuple[Cluster, ...]
    ) -> dict[str, DeliveryReconciler]:
        self._let_go({c.name for c in clusters})
        for cluster in clusters:
            if cluster.name in self._children:
                continue
            name = cluster.name
            self._children[name] = DeliveryReconciler(
                self.kube,
                self.workdir / delivery.ref.namespace / delivery.ref.name / "clusters" / name,
                metrics=self._metrics,
                log=functools.partial(self._log, cluster=name),
                guard=self._guard,
                emit=functools.partial(self._emit_in, name),
                availability=self._availability,
                cluster=name,
            )
        return self._children

    def _delete_on_each(self, delivery: Delivery, clusters: tuple[Cluster, ...]) -> Problem | None:
        children = self._children_for(delivery, clusters)
        problems = each_cluster(
            clusters, lambda c: (c.name, children[c.name].delete_deployed(delivery))
        )
        failed = "; ".join(f"cluster {n}: {p.message}" for n, p in problems if p is not None)
        return Problem("DeletionFailed", failed, False) if failed else None

    def _emit_in(
        self, cluster: str, kind: str, revision: str, message: str, apps: tuple[str, ...]
    ) -> None:
        self._emit(kind, revision, f"{message} in cluster {cluster}", apps)

    def _let_go(self, keep: Collection[str] = ()) -> None:
        """Forget the reconcilers of clusters the environment no longer names."""
        for name in [n for n in self._children if n not in keep]:
            self._children.pop(name).close()

    def close(self) -> None:
        """Close the clients of other clusters this reconciler holds."""
        self._let_go()
        if self._remote is not None:
            self._remote[1].close()
            self._remote = None

    def delete_deployed(self, delivery: Delivery) -> Problem | None:
        """Delete what the Delivery deployed (it is being deleted, with prune); None once
        done, else why not (the finalizer stays and the deletion is retried)."""
        name = str(delivery.ref)
        try:
            credentials = git_credentials(self.kube, delivery)
            target = self._target(delivery)
            agent, checkout = self._agent_for(delivery, target)
        except HakobuError as e:
            return Problem("DeletionFailed", f"deleting what it deployed: {e.message}", False)
        checkout.credentials = credentials
        try:
            result = agent.delete_deployed()
        except NamesClusters as e:
            return self._delete_on_each(delivery, e.clusters)
        except HakobuError as e:
            problem = self._problem(e, checkout)
            message = f"deleting what it deployed: {problem.message}"
            self._log(message, level="error", delivery=name, reason="DeletionFailed")
            return Problem("DeletionFailed", message, False)
        if result is None:
            return None
        if not result.succeeded:
            message = f"deleting what it deployed: {_why_failed(result)}"
            return Problem("DeletionFailed", message, False)
        self._log(f"deleted what it deployed: {result.pruned} objects", delivery=name)
        return None

    def _target(self, delivery: Delivery) -> tuple[str, KubeClient] | None:
        """The client for this reconciler's cluster of the environment, or the one a
        Delivery names in ``spec.cluster`` (None: ours)."""
        secret = delivery.cluster_secret
        if self._cluster is not None:
            secret = CLUSTER_KUBECONFIG_NAME.format(cluster=self._cluster)
            try:
                data = secret_data(self.kube, delivery, secret)
            except InvalidInput as e:
                raise InvalidInput(
                    f"cluster {self._cluster} of environment {delivery.environment}: "
                    f"{e.message}; it is to hold the cluster's kubeconfig in key value"
                ) from e
        elif secret is None:
            return None
        else:
            data = secret_data(self.kube, delivery, secret)
        where = f"Secret {delivery.ref.namespace}/{secret}"
        if "value" not in data:
            raise InvalidInput(f"{where}: expected a kubeconfig in key value")
        digest = hashlib.sha256(data["value"].encode()).hexdigest()
        if self._remote is not None and self._remote[0] == digest:
            return self._remote
        directory = self.workdir / delivery.ref.namespace / delivery.ref.name
        directory.mkdir(parents=True, exist_ok=True)
        file = directory / "kubeconfig"
        file.touch(mode=0o600)
        file.write_text(data["value"])
        try:
            # Written by whoever may create Secrets in the Delivery's namespace: no command
            # to run and no file of the controller's to read (its own token) may come of it.
            client = KubeClient(load(file, interactive=False, local_credentials=False))
        except InvalidInput as e:
            raise InvalidInput(f"{where}: key value: {e.message}") from e
        if self._remote is not None:
            self._remote[1].close()
        self._remote = (digest, client)
        return self._remote

    def _agent_for(
        self, delivery: Delivery, target: tuple[str, KubeClient] | None
    ) -> tuple[Agent, _TimedCheckout]:
        followed = _Followed(
            delivery.url,
            delivery.branch,
            delivery.path,
            delivery.environment,
            delivery.prune,
            delivery.timeout,
            delivery.auto_rollback_window,
            delivery.keys_namespace,
            target[0] if target is not None else None,
        )
        if self._agent is not None and self._agent[0] == followed:
            return self._agent[1], self._agent[2]
        name = str(delivery.ref)
        key = hashlib.sha256(f"{delivery.url}\0{delivery.branch}".encode()).hexdigest()[:16]
        checkout = _TimedCheckout(
            delivery.url,
            delivery.branch,
            self.workdir / delivery.ref.namespace / delivery.ref.name / key,
            self._metrics.git_fetch_duration.labels(name).observe,
        )
        window = delivery.auto_rollback_window
        options = AgentOptions(
            env=delivery.environment,
            interval=delivery.interval,
            project_path=delivery.path,
            prune=delivery.prune,
            timeout=delivery.timeout,
            keys_namespace=delivery.keys_namespace,
            auto_rollback_window=None if window is None else max(1, round(window)),
            actor=f"hakobu controller (Delivery {name})",
            refuse_clusters=target is None,
            rollouts_reverted=True,
        )
        agent = Agent(
            checkout,
            target[1] if target is not None else self.kube,
            options,
            lambda message: self._log(message, delivery=name, environment=delivery.environment),
            guard=self._guard,
            gate=self._gate_with(self._availability) if self._availability else None,
            started=lambda revision, why: self._emit(
                "sync-started", revision, f"sync of {delivery.environment} started: {why}", ()
            ),
        )
        self._agent = (followed, agent, checkout)
        return agent, checkout

    @staticmethod
    def _gate_with(availability: ImageAvailability) -> Gate:
        def gate(project_root: Path, desired: DesiredState) -> str | None:
            manifests = [m.obj for app in desired.apps for m in app.manifests]
            images = deployed_images(project_root, desired.revision, manifests)
            missing = availability.missing(images)
            if not missing:
                return None
            listed = ", ".join(f"{image} ({why})" for image, why in sorted(missing.items()))
            return f"waiting for images in their registries: {listed}"

        return gate

    def _problem(self, error: HakobuError, checkout: _TimedCheckout) -> Problem:
        # A repository that cannot be read, a branch it lacks, credentials it refuses: only
        # a person can fix those, though passes keep trying (the network may come back).
        if checkout.failed is not None:
            return Problem("FetchFailed", f"fetching {checkout.url}: {error.message}", True)
        if isinstance(error, InvalidInput):
            return Problem("InvalidProject", error.message, stalled=True)
        return Problem("ReconcileFailed", error.message, stalled=False)

    def _account(
        self, delivery: Delivery, iteration: Iteration, reason: str, seconds: float
    ) -> None:
        name, revision = str(delivery.ref), iteration.revision
        result = iteration.result
        statuses = self._agent[1].statuses if self._agent is not None else ()
        apps = tuple(s.app for s in statuses)
        if result is not None:
            outcome = "succeeded" if result.succeeded else "failed"
            self._metrics.syncs.labels(name, outcome).inc()
            self._metrics.sync_duration.labels(name, outcome).observe(
                result.durations.get("total", seconds)
            )
            self._metrics.objects_applied.labels(name).inc(result.applied)
            self._metrics.objects_pruned.labels(name).inc(result.pruned)
            synced = tuple(a.app for a in result.apps)
            if iteration.reason and iteration.reason.startswith("automatic rollback"):
                self._emit("rollback-committed", revision, iteration.reason, synced)
            elif reason.startswith("drift") and result.succeeded:
                self._metrics.drift_repairs.labels(name).inc()
                self._emit("drift-repaired", revision, f"repaired drift: {reason}", synced)
            self._emit(
                f"sync-{outcome}",
                revision,
                f"sync of {delivery.environment} at {revision[:12]} {outcome}",
                synced,
            )
        if statuses:
            health = summary_health(statuses)
            self._metrics.set_health(name, delivery.environment, health)
            previous, self._health = self._health, health
            if previous is not None and health != previous:
                if health == "Degraded":
                    self._emit("health-degraded", revision, f"{name} is Degraded", apps)
                elif previous == "Degraded":
                    self._emit("health-recovered", revision, f"{name} is {health} again", apps)


def git_credentials(kube: KubeApi, delivery: Delivery) -> Credentials | None:
    """The git credentials in the Delivery's Secret (read each pass: a rotated token or key
    is used at once), or None when it names none."""
    if delivery.secret_name is None:
        return None
    data = secret_data(kube, delivery, delivery.secret_name)
    where = f"Secret {delivery.ref.namespace}/{delivery.secret_name}"
    return credentials_in(data, where, delivery.url)


def secret_data(kube: KubeApi, delivery: Delivery, name: str) -> dict[str, str]:
    try:
        secret = kube.get("v1", "Secret", name, delivery.ref.namespace)
    except NotFound:
        raise InvalidInput(
            f"Secret {delivery.ref.namespace}/{name}, named by the Delivery, does not exist"
        ) from None
    data = secret.get("data") or {}
    try:
        return {key: base64.b64decode(value).decode() for key, value in data.items()}
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(
            f"Secret {delivery.ref.namespace}/{name}: a value is not base64 text"
        ) from None


def _why_failed(result: SyncResult) -> str:
    failed = [a for a in result.apps if a.result is not Outcome.SUCCEEDED]
    return "; ".join(f"{a.app}: {'; '.join(a.messages)}" for a in failed) or "the sync failed"
