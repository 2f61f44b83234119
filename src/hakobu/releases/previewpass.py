"""One pass of previews over a remote's branches: what a controller runs on each poll.

The remote's branches are listed without fetching; the previews running are read from
their namespaces' marks. ``plan`` compares the two (no I/O):

- a matching branch with no preview gets one (``up``) — unless its newest commit is older
  than the ttl, so a preview that expired is not brought back until someone pushes again;
- a preview whose branch moved is updated (``update``);
- a preview whose branch is gone is taken down (``deleted``), and one whose time ran out
  (``expired``), whether or not its branch moved.

``follow_remote`` fetches what is to be deployed into remote-tracking refs (the work tree
is left alone) and carries the plan out, branch by branch: one that fails (a broken
render, maxCount reached) becomes a ``failed`` event and the others go on. Every event
carries the preview's URL, for the messages that announce it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hakobu.cluster.api import KubeApi
from hakobu.errors import HakobuError, InvalidInput
from hakobu.model.previews import Previews
from hakobu.model.project import Project
from hakobu.releases.previews import Preview, delete_preview, list_previews, settings, up
from hakobu.repo.clone import Credentials, commit_time, fetch_tracking, remote_heads
from hakobu.repo.repository import discover, releasing


class Step(enum.StrEnum):
    UP = "up"
    UPDATE = "update"
    DELETED = "deleted"
    EXPIRED = "expired"
    FAILED = "failed"


@dataclass(frozen=True)
class Head:
    revision: str
    committed: datetime


@dataclass(frozen=True)
class PreviewEvent:
    step: Step
    branch: str
    url: str
    revision: str
    message: str


def plan(
    previews: Previews, heads: Mapping[str, Head], live: list[Preview], now: datetime
) -> list[tuple[Step, str]]:
    """What to do, branch by branch: removals first, so they free room under maxCount."""
    steps: list[tuple[Step, str]] = []
    running = {p.branch: p for p in live}
    for branch, preview in sorted(running.items()):
        if preview.terminating:
            continue
        if branch not in heads:
            steps.append((Step.DELETED, branch))
        elif now >= preview.expires:
            steps.append((Step.EXPIRED, branch))
        elif heads[branch].revision != preview.revision:
            steps.append((Step.UPDATE, branch))
    ttl = timedelta(seconds=previews.ttl)
    fresh = [
        branch
        for branch, head in heads.items()
        if branch not in running and previews.matches(branch) and head.committed + ttl > now
    ]
    # The most recently pushed first, should maxCount leave room for only some.
    fresh.sort(key=lambda b: (-heads[b].committed.timestamp(), b))
    steps += [(Step.UP, branch) for branch in fresh]
    return steps


def follow_remote(
    kube: KubeApi,
    project: Project,
    url: str,
    *,
    now: datetime,
    credentials: Credentials | None = None,
    timeout: float = 300.0,
    guard: Callable[[], None] = lambda: None,
) -> list[PreviewEvent]:
    """One pass: the remote's branches against the project's previews, carried out.
    ``project`` is read from a clone of ``url`` (the controller's own)."""
    previews = settings(project)
    repo = discover(project.root)
    if repo is None:
        raise InvalidInput(f"{project.root} is not in a git repository; previews are of branches")
    with releasing(repo):
        revisions = remote_heads(repo, url, credentials)
        wanted = sorted(b for b in revisions if previews.matches(b))
        fetch_tracking(repo, url, wanted, credentials)
        heads = {
            branch: Head(
                revisions[branch],
                datetime.fromtimestamp(commit_time(repo, revisions[branch]), UTC),
            )
            for branch in wanted
        }
    live = list_previews(kube, project)
    by_branch = {p.branch: p for p in live}
    events = []
    for step, branch in plan(previews, heads, live, now):
        head = heads.get(branch)
        revision = head.revision if head else by_branch[branch].revision
        try:
            if step in (Step.DELETED, Step.EXPIRED):
                gone = by_branch[branch]
                guard()
                delete_preview(kube, gone, timeout)
                events.append(PreviewEvent(step, branch, gone.url, revision, _said(step, branch)))
                continue
            done = up(kube, project, branch, now=now, timeout=timeout, guard=guard)
        except HakobuError as e:
            events.append(PreviewEvent(Step.FAILED, branch, previews.url(branch), revision, str(e)))
            continue
        if done.sync.succeeded:
            message = f"preview of {branch} at {revision[:12]}: {done.preview.url}"
            events.append(PreviewEvent(step, branch, done.preview.url, revision, message))
        else:
            message = f"preview of {branch} at {revision[:12]}: sync {done.sync.result.value}"
            events.append(PreviewEvent(Step.FAILED, branch, done.preview.url, revision, message))
    return events


def _said(step: Step, branch: str) -> str:
    why = "its branch was deleted" if step is Step.DELETED else "its time ran out"
    return f"preview of {branch} taken down: {why}"
