"""Actions from the dashboard: first what exactly will happen, then, once confirmed, that
and nothing else.

A preview is the diff ``hakobu diff`` shows, under a ``basis``: a digest of the revision
and of every change. Confirming sends the basis back; the preview is computed again and,
if the basis differs (a new commit, someone's hand edit, another sync), the action is
refused with what changed, never run on what the user did not see. A confirmed sync runs
in a thread, its progress published line by line; it is recorded like any other sync,
with who asked for it, and told as a Kubernetes Event.

Syncs from here are manual syncs, held to the environment's sync windows as ``hakobu sync``
is: inside a closed window one is refused (``WindowClosed``) unless the window says
``manualSync: true`` or the request gives ``override_window``, a reason kept in the sync
record with the user's name. A rollback or promotion is refused before it commits.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from hakobu.cluster.api import KubeApi
from hakobu.cluster.events import record_event
from hakobu.controller.deliveries import DeliveryNotFound, set_suspended
from hakobu.controller.delivery import API_VERSION, KIND, DeliveryRef
from hakobu.errors import HakobuError, InvalidInput, OperationFailed
from hakobu.model.project import Project
from hakobu.releases import Connect, apply_promotion
from hakobu.releases.canary.engine import find, request
from hakobu.sync import SyncOptions, diff_app, observe, read_desired, sync
from hakobu.sync.diff import DELETE
from hakobu.sync.manifests import DesiredState
from hakobu.sync.record import record_sync
from hakobu.sync.run import lock_name
from hakobu.sync.windows import WindowOverride, admit_manual
from hakobu.web.events import Broadcast
from hakobu.web.promotions import PromotePreview, plan_promotion_of, promotion_changes
from hakobu.web.rollbacks import (
    RollbackPreview,
    commit_rollback,
    plan_rollback_of,
    rollback_changes,
)
from hakobu.web.sessions import User

REQUESTED_BY = "hakobu.dev/requested-by"
# Makes a commit the dashboard made known where the cluster's delivery reads git: (commit,
# the tier branch a promotion moved, or None for the branch the clone follows).
Publish = Callable[[str, str | None], None]
# Previews kept to say what changed when a confirmation comes back stale.
_KEPT = 200


@dataclass(frozen=True)
class SyncPreview:
    env: str
    app: str | None
    prune: bool
    # Take over fields another field manager changed (a hand edit), as --force-conflicts.
    force: bool
    revision: str
    diffs: tuple[dict[str, Any], ...]
    # Objects that left git and stay, since pruning is off.
    left: int
    basis: str

    def json(self) -> dict[str, Any]:
        return {**asdict(self), "diffs": list(self.diffs)}


class Stale(OperationFailed):
    """The environment changed between the preview and its confirmation."""

    def __init__(self, changes: list[str]) -> None:
        super().__init__(
            "the environment changed since the preview: " + "; ".join(changes),
            hint="look at the new preview and confirm again",
        )
        self.changes = changes


def preview_sync(
    kube: KubeApi, project: Project, env: str, app: str | None, *, prune: bool, force: bool
) -> tuple[SyncPreview, DesiredState]:
    environment = project.environment(env)
    desired = read_desired(project, environment)
    states = observe(kube, project, environment, desired, only_app=app)
    diffs = [asdict(d) for state in states for d in diff_app(kube, state)]
    shown = [d for d in diffs if prune or d["change"] != DELETE]
    digest = hashlib.sha256(
        orjson.dumps([desired.revision, app, prune, force, shown], option=orjson.OPT_SORT_KEYS)
    ).hexdigest()
    left = len(diffs) - len(shown)
    return SyncPreview(
        env, app, prune, force, desired.revision, tuple(shown), left, digest
    ), desired


def what_changed(old: SyncPreview | None, new: SyncPreview) -> list[str]:
    """What differs between the preview a user confirmed and the one of now (pure)."""
    if old is None:
        return ["the preview confirmed is not known here (too old, or from another server)"]
    found = []
    if old.revision != new.revision:
        found.append(f"git moved from {old.revision[:12]} to {new.revision[:12]}")
    before = {(d["app"], d["ref"]): d for d in old.diffs}
    after = {(d["app"], d["ref"]): d for d in new.diffs}
    for key in sorted(before.keys() - after.keys()):
        found.append(f"{key[1]} no longer differs")
    for key in sorted(after.keys() - before.keys()):
        found.append(f"{key[1]} now differs ({after[key]['change']})")
    for key in sorted(before.keys() & after.keys()):
        if before[key] != after[key]:
            found.append(f"{key[1]} differs otherwise than shown")
    return found or ["the environment's state changed"]


@dataclass(frozen=True)
class Operation:
    id: str
    kind: str
    env: str
    user: str
    started: str


def admit(
    project: Project, env: str, user: User, reason: str | None, *, at: datetime | None = None
) -> WindowOverride | None:
    """The override to record when ``env``'s sync windows close it and ``reason`` is given;
    None when they let a manual sync run; ``WindowClosed`` otherwise."""
    if reason is not None and not reason.strip():
        raise InvalidInput("override_window needs a reason: it is kept in the sync record")
    return admit_manual(
        project.environment(env),
        at or datetime.now(UTC),
        override=None if reason is None else (user.name, reason.strip()),
        hint="to sync now all the same, give override_window a reason: the sync record "
        "keeps it with your name",
    )


class Operations:
    """The actions run from the dashboard, each in its own thread."""

    def __init__(
        self,
        kube: KubeApi,
        project: Project,
        broadcast: Broadcast,
        *,
        delivery_of: Callable[[str], DeliveryRef | None],
        after: Callable[[], None] = lambda: None,
        timeout: float = 300.0,
        connect: Connect | None = None,
        publish: Publish | None = None,
    ) -> None:
        self._kube = kube
        self._project = project
        self._broadcast = broadcast
        self._delivery_of = delivery_of
        self._after = after
        self._timeout = timeout
        # A client of its own for the promotion's health check, which closes it.
        self._connect = connect
        # None (``hakobu ui``): commits stay in the clone, for its user to push.
        self._publish = publish
        self._lock = threading.Lock()
        self._previews: dict[str, SyncPreview] = {}
        self._rollbacks: dict[str, RollbackPreview] = {}
        self._promotions: dict[str, PromotePreview] = {}
        self._ids = itertools.count(1)
        self.threads: list[threading.Thread] = []

    def preview(self, env: str, app: str | None, *, prune: bool, force: bool) -> SyncPreview:
        preview, _ = preview_sync(self._kube, self._project, env, app, prune=prune, force=force)
        with self._lock:
            self._previews[preview.basis] = preview
            while len(self._previews) > _KEPT:
                self._previews.pop(next(iter(self._previews)))
        return preview

    def sync(
        self,
        user: User,
        env: str,
        app: str | None,
        *,
        prune: bool,
        force: bool,
        basis: str,
        override_window: str | None = None,
    ) -> Operation:
        """Start the sync the preview ``basis`` showed, or raise ``Stale`` (or
        ``WindowClosed``)."""
        override = admit(self._project, env, user, override_window)
        preview, desired = preview_sync(
            self._kube, self._project, env, app, prune=prune, force=force
        )
        if preview.basis != basis:
            with self._lock:
                old = self._previews.get(basis)
            raise Stale(what_changed(old, preview))
        options = SyncOptions(
            prune=preview.prune,
            force_conflicts=preview.force,
            only_app=preview.app,
            timeout=self._timeout,
        )
        return self._start(
            "sync", user=user, env=env, desired=desired, options=options, override=override
        )

    def preview_rollback(self, env: str, to: str, app: str | None) -> RollbackPreview:
        preview, _ = plan_rollback_of(self._project, env, to, app)
        with self._lock:
            self._rollbacks[preview.basis] = preview
        return preview

    def rollback(
        self,
        user: User,
        env: str,
        *,
        to: str,
        app: str | None,
        basis: str,
        override_window: str | None = None,
    ) -> Operation:
        """Commit the rollback the preview ``basis`` showed, then sync the environment to
        that commit; or raise ``Stale`` (or ``WindowClosed``, before committing)."""
        override = admit(self._project, env, user, override_window)
        preview, plan = plan_rollback_of(self._project, env, to, app)
        if preview.basis != basis:
            with self._lock:
                old = self._rollbacks.get(basis)
            raise Stale(rollback_changes(old, preview))
        commit = commit_rollback(self._project, plan)
        if self._publish is not None:
            self._publish(commit, None)
        self.audit(
            env,
            user.name,
            "Rollback",
            f"{preview.path} rolled back to {preview.target[:12]} in {commit[:12]} by {user.name}",
            None,
            warning=True,
        )
        desired = read_desired(self._project, self._project.environment(env), commit)
        options = SyncOptions(timeout=self._timeout)
        return self._start(
            "rollback", user=user, env=env, desired=desired, options=options, override=override
        )

    def preview_promotion(self, source: str, target: str, app: str | None) -> PromotePreview:
        preview, _ = plan_promotion_of(self._project, source, target, app)
        with self._lock:
            self._promotions[preview.basis] = preview
        return preview

    def promote(
        self,
        user: User,
        source: str,
        target: str,
        *,
        app: str | None,
        basis: str,
        override_window: str | None = None,
    ) -> Operation | None:
        """Apply the promotion the preview ``basis`` showed (FROM must be Synced and
        Healthy), then sync TO to it; None when TO runs FROM's release already. Raises
        ``Stale`` when the plan changed, ``WindowClosed`` (before committing) when TO's
        sync windows close it."""
        override = admit(self._project, target, user, override_window)
        if self._connect is None:
            raise OperationFailed(
                f"cannot tell whether {source} is healthy: this server has no cluster client for it"
            )
        preview, plan = plan_promotion_of(self._project, source, target, app)
        if preview.basis != basis:
            with self._lock:
                old = self._promotions.get(basis)
            raise Stale(promotion_changes(old, preview))
        done = apply_promotion(self._project, plan, connect=self._connect)
        if done.commit is None and done.advance is None:
            return None
        if self._publish is not None:
            if done.advance is not None:
                self._publish(done.advance.after, done.advance.branch)
            elif done.commit is not None:
                self._publish(done.commit, None)
        made = done.commit or target
        self.audit(
            target,
            user.name,
            "Promote",
            f"{source} at {done.revision[:12]} promoted to {target} ({made[:12]}) by {user.name}",
            None,
        )
        environment = self._project.environment(target)
        # A tier follows its branch; any other environment, the commit just made.
        revision = None if environment.branch is not None else done.commit
        desired = read_desired(self._project, environment, revision)
        options = SyncOptions(timeout=self._timeout)
        return self._start(
            "promote", user=user, env=target, desired=desired, options=options, override=override
        )

    def _start(
        self,
        kind: str,
        *,
        user: User,
        env: str,
        desired: DesiredState,
        options: SyncOptions,
        override: WindowOverride | None = None,
    ) -> Operation:
        operation = Operation(
            f"op-{next(self._ids)}", kind, env, user.name, datetime.now(UTC).isoformat()
        )
        thread = threading.Thread(
            target=self._run_sync,
            args=(operation, desired, options, override),
            name=f"hakobu-web-{operation.id}",
            daemon=True,
        )
        self.threads.append(thread)
        self._broadcast.publish("operation", {**asdict(operation), "state": "running"})
        thread.start()
        return operation

    def _run_sync(
        self,
        operation: Operation,
        desired: DesiredState,
        options: SyncOptions,
        override: WindowOverride | None,
    ) -> None:
        env = self._project.environment(operation.env)

        def progress(line: str) -> None:
            self._broadcast.publish("progress", {"id": operation.id, "line": line})

        try:
            result = sync(
                self._kube, self._project, env, desired, options=options, progress=progress
            )
            if override is not None:
                result = dataclasses.replace(result, window_override=override)
            record = record_sync(self._kube, env.namespace, result)
            if record is not None:
                self._mark(env.namespace, record, operation.user)
            outcome = str(result.result)
            summary = (
                f"{result.applied} applied, {result.unchanged} unchanged, {result.pruned} pruned"
            )
            failed = [
                f"{a.app}: {m}" for a in result.apps for m in a.messages if a.result != "Succeeded"
            ]
        except HakobuError as e:
            record, outcome, summary, failed = None, "Failed", str(e), []
        except Exception as e:  # noqa: BLE001 (told to the page, not lost with the thread)
            record, outcome, summary, failed = None, "Failed", f"unexpected error: {e!r}", []
        message = (
            f"sync of {operation.env} at {desired.revision[:12]} requested by "
            f"{operation.user}: {outcome} ({summary})"
        )
        try:
            self.audit(
                operation.env,
                operation.user,
                "Sync",
                message,
                record,
                warning=outcome != "Succeeded",
            )
        except HakobuError as e:
            failed.append(f"the audit Event was not written: {e.message}")
        self._broadcast.publish(
            "operation",
            {
                **asdict(operation),
                "state": "done",
                "result": outcome,
                "summary": summary,
                "messages": failed,
                "record": record,
            },
        )
        self._after()

    def _mark(self, namespace: str, record: str, user: str) -> None:
        """Who asked for the sync, on its record."""
        path = f"/api/v1/namespaces/{namespace}/configmaps/{record}"
        body = {"metadata": {"annotations": {REQUESTED_BY: user}}}
        self._kube.request("PATCH", path, body=body, content_type="application/merge-patch+json")

    def suspend(self, user: User, env: str, *, suspended: bool) -> DeliveryRef:
        """Suspend or resume the environment's Delivery; OperationFailed when none."""
        ref = self._delivery_of(env)
        action = "suspend" if suspended else "resume"
        if ref is None:
            raise DeliveryNotFound(
                f"no Delivery delivers {env}: there is nothing to {action}",
                hint="create one with `hakobu delivery create`",
            )
        set_suspended(self._kube, ref, suspended)
        done = "suspended" if suspended else "resumed"
        self.audit(env, user.name, action.capitalize(), f"{ref} {done} by {user.name}", None)
        return ref

    def rollout(self, user: User, env: str, app: str, action: str) -> None:
        """Ask the app's canary rollout to ``promote``, ``abort`` or ``retry``, as
        ``hakobu rollout`` does; InvalidInput when it has none in progress."""
        namespace, name = find(self._kube, self._project.name, env, app)
        request(self._kube, namespace, name, action)
        self.audit(
            env,
            user.name,
            f"Rollout{action.capitalize()}",
            f"{action} of the rollout of {app} requested by {user.name}",
            None,
        )

    def audit(
        self,
        env: str,
        user: str,
        reason: str,
        message: str,
        record: str | None,
        *,
        warning: bool = False,
    ) -> None:
        """A Kubernetes Event: on the environment's Delivery when there is one, else on
        the sync's record, else on the environment's sync lock, which every sync holds."""
        namespace = self._project.environment(env).namespace
        delivery = self._delivery_of(env)
        if delivery is not None:
            involved = {"apiVersion": API_VERSION, "kind": KIND, "name": delivery.name}
            namespace = delivery.namespace
        elif record is not None:
            involved = {"apiVersion": "v1", "kind": "ConfigMap", "name": record}
        else:
            involved = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "name": lock_name(env),
            }
        record_event(
            self._kube,
            {**involved, "namespace": namespace},
            reason=reason,
            message=message,
            component="hakobu-web",
            warning=warning,
            annotations={REQUESTED_BY: user},
        )
