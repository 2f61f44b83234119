"""Promote a fleet's template version from one tier to another: one commit.

The first tier renders ``template/``; a later tier renders its own copy,
``tiers/<tier>/`` (``hakobu.model.tierrollout``). Promoting FROM to TO makes TO's copy
exactly the template FROM renders, renders every environment and commits the copy with the
output it shapes, so the commit reviews as the template's change for that tier and
``git revert`` of it is the tier's rollback. As ``hakobu promote`` refuses to carry an
environment that is not Synced and Healthy, this refuses a tier with an instance that is
not (unless the caller skips the check).

A template version is the id of the git tree of the template a tier renders at HEAD: equal
ids, equal templates.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hakobu.errors import InvalidInput, OperationFailed
from hakobu.localcluster.helmtool import helm_for_render
from hakobu.model.fleet import TEMPLATE_DIR, Fleet
from hakobu.model.project import Project
from hakobu.model.tierrollout import pinned_template
from hakobu.releases.fleet import fleet_of, tier_statuses
from hakobu.releases.rendercommit import RenderRequest, render_project
from hakobu.repo.commit import commit_paths, open_repository
from hakobu.repo.revisions import changed_locally, head, path_id, repo_path
from hakobu.sync.status import AppStatus

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TierVersion:
    tier: str
    # The id of the tree of the template the tier renders at HEAD ("" before any commit).
    version: str
    # Where that template is: template/ or tiers/<tier>/.
    path: str
    # Whether that template differs from HEAD in the work tree.
    changed: bool


@dataclass(frozen=True)
class TierPromotion:
    fleet: str
    source: str
    target: str
    version: str
    previous: str
    # None: TO ran FROM's version already.
    commit: str | None


def tier_versions(project: Project, fleet: Fleet) -> list[TierVersion]:
    """The template version each tier of ``fleet`` renders, in rollout order."""
    repo = open_repository(project.root)
    fleet_dir = project.apps_dir / fleet.name
    at = None if repo.head_is_unborn else head(repo)
    result = []
    for index, tier in enumerate(fleet.tiers):
        template = repo_path(repo, fleet_dir / TEMPLATE_DIR)
        pinned = repo_path(repo, pinned_template(fleet_dir, tier))
        on_disk = pinned_template(fleet_dir, tier).is_dir()
        # What render reads: the tier's copy when it has one on disk.
        path = pinned if index > 0 and on_disk else template
        version = (path_id(at, path) if at is not None else None) or ""
        result.append(TierVersion(tier, version, path, bool(changed_locally(repo, [path]))))
    return result


def promote_tier(
    project: Project,
    fleet_name: str,
    source: str,
    target: str,
    *,
    statuses: Sequence[AppStatus] | None,
    reason: str = "",
) -> TierPromotion:
    """Make ``target`` render the template ``source`` renders, render and commit.

    ``statuses`` (an environment's apps, as ``environment_status`` reads them) must show
    every instance of ``source`` Synced and Healthy; None skips the check.
    """
    fleet = fleet_of(project, fleet_name)
    for tier in (source, target):
        if tier not in fleet.tiers:
            raise InvalidInput(
                f"fleet {fleet.name!r} has no tier {tier!r}",
                hint=f"its tiers are: {', '.join(fleet.tiers)}",
            )
    if source == target:
        raise InvalidInput(f"cannot promote tier {source!r} to itself")
    if target == fleet.tiers[0]:
        raise InvalidInput(
            f"tier {target!r} is fleet {fleet.name!r}'s first: it renders {TEMPLATE_DIR}/",
            hint=f"change {project.apps_dir / fleet.name / TEMPLATE_DIR} (or revert it) instead",
        )
    repo = open_repository(project.root)
    fleet_dir = project.apps_dir / fleet.name
    dirty = changed_locally(repo, [repo_path(repo, fleet_dir), repo_path(repo, project.output_dir)])
    if dirty:
        raise InvalidInput(
            f"cannot promote between tiers of fleet {fleet.name!r}: "
            f"{', '.join(dirty[:3])}{' …' if len(dirty) > 3 else ''} "
            "differ from the current commit",
            hint="commit (hakobu render --commit) or discard those changes first",
        )
    if statuses is not None:
        _check_settled(project, fleet.name, source, statuses)
    versions = {v.tier: v for v in tier_versions(project, fleet)}
    carried, previous = versions[source], versions[target]
    if carried.version == previous.version:
        return TierPromotion(fleet.name, source, target, carried.version, previous.version, None)
    destination = pinned_template(fleet_dir, target)
    with tempfile.TemporaryDirectory(prefix="hakobu-tier-") as scratch:
        # A render that fails (the carried template is wrong for this tier's instances)
        # leaves the tier's copy as it was.
        kept = Path(scratch) / "kept"
        if destination.exists():
            shutil.move(destination, kept)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(Path(repo.workdir) / carried.path, destination, symlinks=True)
        try:
            rendered = render_project(project, RenderRequest(), helm=helm_for_render(_log.info))
        except BaseException:
            shutil.rmtree(destination)
            if kept.exists():
                shutil.move(kept, destination)
            raise
    message = (
        f"promote fleet {fleet.name}: {source} → {target}\n\n"
        f"{target} now renders the template {source} renders "
        f"({carried.version[:12]}, was {previous.version[:12]}).\n"
        + (f"{reason}\n" if reason else "")
    )
    commit = commit_paths(
        repo,
        [destination, *(project.output_dir / r.env for r in rendered.results)],
        message,
    )
    return TierPromotion(fleet.name, source, target, carried.version, previous.version, commit)


def _check_settled(project: Project, fleet: str, tier: str, statuses: Sequence[AppStatus]) -> None:
    for status in tier_statuses(project, fleet, statuses):
        if status.tier == tier and status.not_good:
            raise OperationFailed(
                f"tier {tier} of fleet {fleet!r} is not Synced and Healthy: "
                + "; ".join(status.not_good),
                hint="wait for it (hakobu fleet status), or skip the check with --force",
            )
