"""Rollouts driven by the controller: after each pass of a Delivery, every Deployment of
its environment that declares a rollout (canary or blue-green) is advanced
(``releases.canary.strategy``),
measuring with Prometheus as ``hakobu rollout run`` does, and the Delivery's next pass is
asked for when the rollout next needs one — as a pause ends or a measurement is due — not
at a fixed poll.

What a rollout does is told as Kubernetes Events and notifications: ``rollout-promoted``,
``rollout-aborted``. Where ``autoRollback`` is set (the environment's in ``hakobu.yaml``,
or the Delivery's), an aborted rollout — by its analysis or by hand — is answered with a
commit that restores the app's output and inputs to the stable version
(``releases.canary.revert``), pushed without force on the Delivery's branch; a push
refused because the branch moved is tried again on top of what arrived at the next pass,
unless that no longer declares the aborted version. The sync of that commit finds the
template the Deployment already runs, so no rollout starts and git describes what runs.

The rollout's state lives on the Deployment, so a controller killed mid-rollout resumes at
the same step; its own writes carry the shard's guard like a sync's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hakobu.cluster.api import KubeApi
from hakobu.cluster.errors import NotFound
from hakobu.errors import HakobuError, InvalidInput, OperationFailed
from hakobu.model.canary import (
    PENDING_ANNOTATION,
    ROLLOUT_ANNOTATION,
    STATE_ANNOTATION,
    TEMPLATE_HASH_ANNOTATION,
)
from hakobu.model.notifications import EventKind
from hakobu.model.objects import Object
from hakobu.releases.canary.bluegreen import BlueGreenRollout
from hakobu.releases.canary.engine import RolloutState
from hakobu.releases.canary.providers import measuring
from hakobu.releases.canary.revert import RevertRequest
from hakobu.releases.canary.schedule import due
from hakobu.releases.canary.strategy import AnyRollout, advance

Log = Callable[..., None]
# (event kind, revision, message, apps), as the reconciler emits them.
Emit = Callable[[str, str, str, tuple[str, ...]], None]
# How soon a rollout that could not be advanced (the API server refused) is tried again.
RETRY_SECONDS = 5.0


@dataclass(frozen=True)
class Reverter:
    """What commits and pushes a revert: the Delivery's checkout, with where the project's
    output and apps directories are inside it."""

    commit: Callable[[RevertRequest], str]
    push: Callable[[str], None]
    output: str
    apps: str
    actor: str


@dataclass(frozen=True)
class _Held:
    namespace: str
    name: str
    environment: str
    app: str
    state: RolloutState | None
    pending: str | None  # the digest of the version a sync left for the rollout
    running: str | None  # the digest of the template the Deployment runs


class RolloutDriver:
    """One Delivery's (or one cluster's) rollouts, advanced pass after pass."""

    def __init__(self, emit: Emit, guard: Callable[[], None]) -> None:
        self._emit, self._guard = emit, guard
        # The aborted versions a revert was made (or refused) for, per Deployment: each is
        # tried once per replica; a refused push forgets it, so the next pass tries again.
        self._reverted: dict[tuple[str, str], str] = {}

    def advance_all(
        self,
        kube: KubeApi,
        environment: str,
        declared: Sequence[tuple[str, Object]],
        revision: str,
        reverter: Reverter | None,
        *,
        log: Log,
    ) -> float | None:
        """Advance the rollouts of the Deployments ``declared`` (app, object) that declare a
        rollout; the time the next pass is due for one of them (None: none waits on time)."""
        now = time.time()
        nexts: list[float] = []
        with measuring() as measure:
            for app, obj in declared:
                if not declares_rollout(obj):
                    continue
                meta = obj["metadata"]
                where = f"Deployment {meta['namespace']}/{meta['name']}"
                try:
                    held = _held(kube, environment, app, meta["namespace"], meta["name"])
                    if held is None:
                        continue  # not applied (yet): its sync says why
                    self._guard()
                    rollout = advance(kube, held.namespace, held.name, time.time(), measure)
                except HakobuError as e:
                    log(f"rollout of {where} not advanced: {e.message}", level="error")
                    nexts.append(now + RETRY_SECONDS)
                    continue
                self._tell(held, rollout, revision, log)
                if _moved(held.state, rollout.state):
                    # The statuses this pass reports were read before: the next one reads
                    # the rollout where it now stands.
                    nexts.append(now)
                if reverter is not None:
                    pushed = self._revert(held, rollout, reverter, log)
                    if pushed is not None:
                        # Pushed: the next pass syncs it. Refused: tried again after a fetch.
                        nexts.append(now if pushed else now + RETRY_SECONDS)
                next_pass = due(rollout, time.time())
                if next_pass is not None:
                    nexts.append(next_pass)
        return min(nexts) if nexts else None

    def _tell(self, held: _Held, rollout: AnyRollout, revision: str, log: Log) -> None:
        before, after = held.state, rollout.state
        if after is None:
            return
        same = before is not None and before.hash == after.hash and before.phase == after.phase
        if same or after.phase not in ("Healthy", "Degraded"):
            return
        where = f"Deployment {held.namespace}/{held.name}"
        if after.phase == "Healthy" and before is not None and before.hash == after.hash:
            message = f"{_kind(rollout)} of app {held.app} promoted: {where} runs {after.hash}"
            log(message)
            self._emit(EventKind.ROLLOUT_PROMOTED, revision, message, (held.app,))
        elif after.phase == "Degraded":
            message = f"{_kind(rollout)} of app {held.app} ({where}, {after.hash}) {after.message}"
            log(message, level="warning")
            self._emit(EventKind.ROLLOUT_ABORTED, revision, message, (held.app,))

    def _revert(
        self, held: _Held, rollout: AnyRollout, reverter: Reverter, log: Log
    ) -> bool | None:
        """Commit and push the revert of an aborted rollout: True once pushed, False when
        the push was refused, None when there is nothing to revert."""
        state = rollout.state
        key = (held.namespace, held.name)
        if (
            state is None
            or state.phase != "Degraded"
            or held.pending != state.hash
            or held.running is None
            or self._reverted.get(key) == state.hash
        ):
            return None
        self._reverted[key] = state.hash
        request = RevertRequest(
            output=reverter.output,
            apps=reverter.apps,
            env=held.environment,
            app=held.app,
            deployment=held.name,
            stable=held.running,
            failed=state.hash,
            reason=(
                f"`{reverter.actor}` reverted the {_kind(rollout)} of {state.hash} in Deployment "
                f"{held.namespace}/{held.name}: {state.message}"
            ),
        )
        try:
            commit = reverter.commit(request)
        except InvalidInput as e:
            # Nothing to revert (git moved on) or nothing to revert to: said once.
            log(
                f"{_kind(rollout)} of app {held.app} not reverted in git: {e.message}",
                level="warning",
            )
            return None
        except HakobuError as e:
            self._reverted.pop(key, None)
            log(
                f"revert of the {_kind(rollout)} of app {held.app} not committed: {e.message}",
                level="error",
            )
            return False
        try:
            self._guard()
            reverter.push(commit)
        except OperationFailed as e:
            self._reverted.pop(key, None)
            log(
                f"revert of the {_kind(rollout)} of app {held.app} not pushed, trying again "
                f"after the next fetch: {e.message}",
                level="warning",
            )
            return False
        message = (
            f"reverted app {held.app} of {request.env} in git (commit {commit[:12]}): its "
            f"{_kind(rollout)} {state.message}"
        )
        log(message)
        self._emit(EventKind.ROLLBACK_COMMITTED, commit, message, (held.app,))
        return True


def _kind(rollout: AnyRollout) -> str:
    return "blue-green rollout" if isinstance(rollout, BlueGreenRollout) else "canary"


def _moved(before: RolloutState | None, after: RolloutState | None) -> bool:
    def where(state: RolloutState | None) -> tuple[str, int, str] | None:
        return None if state is None else (state.hash, state.step, state.phase)

    return where(before) != where(after)


def declares_rollout(obj: Object) -> bool:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    return obj.get("kind") == "Deployment" and ROLLOUT_ANNOTATION in annotations


def _held(kube: KubeApi, environment: str, app: str, namespace: str, name: str) -> _Held | None:
    """The live Deployment, with the state its rollout was in before this pass; None when
    there is none."""
    try:
        live = kube.get("apps/v1", "Deployment", name, namespace)
    except NotFound:
        return None
    annotations = live["metadata"].get("annotations") or {}
    return _Held(
        namespace,
        name,
        environment,
        app,
        _state(annotations.get(STATE_ANNOTATION)),
        _pending_hash(annotations.get(PENDING_ANNOTATION)),
        annotations.get(TEMPLATE_HASH_ANNOTATION) or None,
    )


def _state(text: str | None) -> RolloutState | None:
    if not text:
        return None
    try:
        return RolloutState.from_json(text)
    except (ValueError, TypeError, KeyError):
        return None


def _pending_hash(text: str | None) -> str | None:
    try:
        pending = json.loads(text) if text else None
    except ValueError:
        return None
    digest = pending.get("hash") if isinstance(pending, dict) else None
    return digest if isinstance(digest, str) else None
