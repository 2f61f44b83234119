"""Whether an iteration of the agent syncs, and why (pure).

The tree id of ``generated/<env>/`` says whether git changed for this environment: a
commit that touches only other environments (or only the source) keeps it, and needs no
sync. Otherwise the cluster is asked: an app that drifted (someone changed its objects) or
is out of sync (an earlier sync failed, or the agent has just started) is synced again.

Some differences a sync does not remove: an object no longer in git when the agent runs
without ``--prune``, a field another controller sets back at once, a revision whose syncs
kept failing until the agent gave up. Their ``differences`` are remembered with the tree
they were found at (``Settled``), and only a change of either is a reason to sync again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hakobu.sync.status import AppStatus, SyncState


def env_changed(last_synced: str | None, current: str | None) -> str | None:
    """The reason to sync because git changed, if it did; unknown (None) until the first
    sync or check, when only the cluster can tell."""
    if last_synced is None or current == last_synced:
        return None
    return "generated files changed" if current is not None else "generated files removed"


def cluster_reason(statuses: Sequence[AppStatus]) -> str | None:
    """The reason to sync because the cluster differs from git, if it does."""
    drifted = [s.app for s in statuses if s.sync is SyncState.DRIFTED]
    behind = [s.app for s in statuses if s.sync is SyncState.OUT_OF_SYNC]
    reasons = []
    if drifted:
        reasons.append(f"drift in {', '.join(drifted)}")
    if behind:
        reasons.append(f"out of sync: {', '.join(behind)}")
    return "; ".join(reasons) or None


def differences(statuses: Sequence[AppStatus]) -> frozenset[str]:
    """What differs from git, app by app: equal sets mean the cluster differs the same way."""
    return frozenset(f"{s.app}: {item}" for s in statuses for item in s.differing)


@dataclass(frozen=True)
class Settled:
    """A state of the cluster the agent does not sync again, and why."""

    tree: str | None
    differences: frozenset[str]
    why: str

    def holds(self, tree: str | None, differences: frozenset[str]) -> bool:
        return tree == self.tree and differences == self.differences
