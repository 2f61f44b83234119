"""An environment's history: the commits that changed its manifests, joined with its syncs.

Git says what changed (``hakobu.repo.history``: commits touching ``<output>/<env>``, newest
first; for an environment with ``branch:``, that branch's line). The cluster says what was
done with it (``hakobu.sync.record``: one record per sync that changed anything) and what it
runs now: the revision of the newest successful sync, with its health as observed now.

Without a cluster the git history alone is given, with a note saying why; an unreachable
cluster is noted the same way and flagged, so the command line can exit 3 after showing it.
Syncs of the work tree, or of revisions outside the listed commits, are returned apart, so
no recorded sync is hidden.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from hakobu.cluster.api import KubeApi
from hakobu.cluster.errors import Unreachable
from hakobu.errors import InvalidInput
from hakobu.health import worst
from hakobu.model.project import Environment, Project
from hakobu.repo.branches import branch_tip
from hakobu.repo.commit import open_repository
from hakobu.repo.history import Change, changes
from hakobu.repo.revisions import head, repo_path
from hakobu.sync.manifests import WORKTREE
from hakobu.sync.record import history
from hakobu.sync.run import Outcome
from hakobu.sync.status import environment_status

# Opens the cluster's client (a ``KubeClient``); ``InvalidInput`` when none is configured.
Connect = Callable[[], AbstractContextManager[KubeApi]]


@dataclass(frozen=True)
class SyncSummary:
    """One recorded sync: its record's name, when it started, its result, the apps that failed."""

    record: str | None
    started: str | None
    result: str | None
    failed_apps: tuple[str, ...]
    # Who ran it inside a closed sync window, and why: ``by alice: hotfix``.
    window_override: str | None = None


@dataclass(frozen=True)
class HistoryRow:
    """A commit that changed the environment, the syncs of it, and whether it runs now."""

    change: Change
    syncs: tuple[SyncSummary, ...]
    running: bool
    health: str | None  # the environment's health now, for the revision that runs


@dataclass(frozen=True)
class OtherSync:
    """A sync of a revision not among the listed commits (the work tree, an older commit)."""

    revision: str
    sync: SyncSummary


@dataclass(frozen=True)
class EnvironmentHistory:
    env: str
    path: str  # the environment's directory in the repository
    commits: tuple[HistoryRow, ...]
    other_syncs: tuple[OtherSync, ...]
    running: str | None  # the revision of the newest successful sync: what the cluster runs
    last_sync_failed: str | None  # when the newest sync, which failed, started
    cluster_note: str | None  # why the cluster's part is missing
    unreachable: bool = False


def environment_history(
    project: Project, env: Environment, *, limit: int, connect: Connect
) -> EnvironmentHistory:
    """The ``limit`` newest commits that changed ``env``, with what the cluster recorded.

    ``connect`` raising ``InvalidInput`` (no cluster configured) gives the git history alone.
    """
    repo = open_repository(project.root)
    path = f"{repo_path(repo, project.output_dir)}/{env.name}"
    # A tier's history is its own branch's, not the checked-out line's.
    start = head(repo) if env.branch is None else branch_tip(repo, env.branch)
    commits = changes(repo, start, path, limit=max(limit, 0))
    cluster = _cluster_part(project, env, connect)
    rows = tuple(
        HistoryRow(
            change,
            tuple(summary(r) for r in cluster.syncs.get(change.id, [])),
            running=change.id == cluster.live,
            health=cluster.health if change.id == cluster.live else None,
        )
        for change in commits
    )
    listed = {change.id for change in commits}
    others = tuple(
        OtherSync(revision, summary(record))
        for revision, records in cluster.syncs.items()
        if revision not in listed
        for record in records
    )
    return EnvironmentHistory(
        env.name,
        path,
        rows,
        others,
        cluster.live,
        cluster.failed_since,
        cluster.note,
        cluster.unreachable,
    )


def summary(record: dict[str, Any]) -> SyncSummary:
    """A sync record, as ``hakobu.sync.history()`` returns it, in short."""
    return SyncSummary(
        record=_text(record.get("record")),
        started=_text(record.get("started")),
        result=_text(record.get("result")),
        failed_apps=tuple(
            str(app.get("app"))
            for app in record.get("apps") or []
            if app.get("result") != Outcome.SUCCEEDED
        ),
        window_override=_override(record.get("window_override")),
    )


def _override(value: object) -> str | None:
    if not isinstance(value, dict):
        return None
    return f"by {value.get('by')}: {value.get('reason')}"


@dataclass(frozen=True)
class _ClusterPart:
    # revision → the recorded syncs of it, oldest first
    syncs: dict[str, list[dict[str, Any]]]
    live: str | None
    health: str | None
    failed_since: str | None
    note: str | None
    unreachable: bool = False


def _cluster_part(project: Project, env: Environment, connect: Connect) -> _ClusterPart:
    try:
        client = connect()
    except InvalidInput as e:
        return _ClusterPart({}, None, None, None, f"no cluster, git history only: {e.message}")
    try:
        with client as kube:
            records = history(kube, env.namespace, project.name, env.name)
            syncs: dict[str, list[dict[str, Any]]] = {}
            for record in records:
                syncs.setdefault(str(record.get("revision")), []).append(record)
            succeeded = [r for r in records if r.get("result") == Outcome.SUCCEEDED]
            live = str(succeeded[-1].get("revision")) if succeeded else None
            failed_since = None
            if records and records[-1].get("result") != Outcome.SUCCEEDED:
                failed_since = str(records[-1].get("started"))
            health = None
            if live is not None and live != WORKTREE:
                statuses = environment_status(kube, project, env, revision=live)
                health = str(worst(s.health for s in statuses))
    except Unreachable as e:
        return _ClusterPart(
            {}, None, None, None, f"cluster not reachable, git history only: {e.message}", True
        )
    return _ClusterPart(syncs, live, health, failed_since, None)


def _text(value: object) -> str | None:
    return None if value is None else str(value)
