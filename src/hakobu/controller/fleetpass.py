"""After a Delivery's sync pass: one step of each tiered fleet rollout it judges.

A fleet whose ``rollout.environment`` is the Delivery's environment is stepped as
``hakobu fleet rollout`` steps it (``releases.tierrollout``), on the Delivery's clone and
with the health the pass just read. A promotion is committed in the clone and pushed as a
fast forward of the followed branch, so the next pass syncs it like any other commit; a
push the remote refuses (someone pushed meanwhile) is dropped by the next fetch and the
step is made again on top of what arrived. A promotion is told as ``promoted``; a halt is
told as ``fleet-halted`` once, and again only when its reason changes, so a fleet that stays
halted does not repeat itself every pass.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from hakobu.cluster.api import KubeApi
from hakobu.errors import HakobuError
from hakobu.model.notifications import EventKind
from hakobu.model.project import Environment, Project
from hakobu.releases.tierrollout import rollout_step, stepped_by
from hakobu.sync.status import AppStatus

# What a step tells: (event kind, revision, message, apps).
Emit = Callable[[str, str, str, tuple[str, ...]], None]


class FleetRollouts:
    def __init__(self, emit: Emit, log: Callable[..., None]) -> None:
        self._emit, self._log = emit, log
        # Per fleet, the halt last told.
        self._halted: dict[str, str] = {}

    def step(
        self,
        kube: KubeApi,
        project: Project,
        env: Environment,
        statuses: Sequence[AppStatus],
        *,
        revision: str,
        push: Callable[[str], None],
    ) -> None:
        """Step every fleet ``env``'s Delivery judges; push what was committed."""
        try:
            fleets = stepped_by(project, env.name)
        except HakobuError as e:
            self._log(f"fleet rollouts: {e.message}", level="error")
            return
        for fleet in fleets:
            try:
                result = rollout_step(kube, project, env, fleet, statuses, now=time.time())
            except HakobuError as e:
                self._log(f"fleet {fleet}: rollout step failed: {e.message}", level="error")
                continue
            step, promotion = result.step, result.promotion
            head = promotion.commit if promotion is not None else None
            head = head or result.pinned
            if head is not None:
                try:
                    push(head)
                except HakobuError as e:
                    self._log(f"fleet {fleet}: {e.message}; stepping again", level="warning")
                    continue
            if promotion is not None and promotion.commit is not None:
                message = (
                    f"fleet {fleet}: promoted {promotion.source} → {promotion.target} "
                    f"(template {promotion.version[:12]}): {step.reason}"
                )
                self._log(message)
                self._emit(EventKind.PROMOTED, promotion.commit, message, ())
            if step.verdict == "halt":
                if self._halted.get(fleet) != step.reason:
                    message = f"fleet {fleet}: rollout halted: {step.reason}"
                    self._log(message, level="error")
                    self._emit(EventKind.FLEET_HALTED, revision, message, ())
                self._halted[fleet] = step.reason
            else:
                self._halted.pop(fleet, None)
