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
from hakobu.repo.repository import discover
from hakobu.repo.revisions import changed_locally, head, path_id, repo_path, under
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
    """The template version each tier of ``fleet`` renders, in rollout order; outside a git
    repository, or before its first commit, every version is ""."""
    repo = discover(project.root)
    fleet_dir = project.apps_dir / fleet.name
    # What render reads: a later tier's copy when it has one on disk.
    directories = [
        pinned if index > 0 and pinned.is_dir() else fleet_dir / TEMPLATE_DIR
        for index, pinned in enumerate(pinned_template(fleet_dir, t) for t in fleet.tiers)
    ]
    if repo is None:
        return [
            TierVersion(tier, "", str(directory.relative_to(project.root)), True)
            for tier, directory in zip(fleet.tiers, directories, strict=True)
        ]
    at = None if repo.head_is_unborn else head(repo)
    paths = [repo_path(repo, directory) for directory in directories]
    # One look at the work tree for all tiers: it is the cost that grows with the fleet.
    changed = changed_locally(repo, [repo_path(repo, fleet_dir)])
    return [
        TierVersion(
            tier,
            (path_id(at, path) if at is not None else None) or "",
            path,
            any(under(file, [path]) for file in changed),
        )
        for tier, path in zip(fleet.tiers, paths, strict=True)
    ]


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
    _refuse_uncommitted(project, f"cannot promote between tiers of fleet {fleet.name!r}")
    if statuses is not None:
        _check_settled(project, fleet.name, source, statuses)
    versions = {v.tier: v for v in tier_versions(project, fleet)}
    carried, previous = versions[source], versions[target]
    destination = pinned_template(fleet_dir, target)
    if carried.version == previous.version and destination.is_dir():
        return TierPromotion(fleet.name, source, target, carried.version, previous.version, None)
    message = (
        f"promote fleet {fleet.name}: {source} → {target}\n\n"
        f"{target} now renders the template {source} renders "
        f"({carried.version[:12]}, was {previous.version[:12]}).\n"
        + (f"{reason}\n" if reason else "")
    )
    commit = _copy_render_commit(project, {destination: Path(repo.workdir) / carried.path}, message)
    return TierPromotion(fleet.name, source, target, carried.version, previous.version, commit)


def pin_tiers(project: Project, fleet: Fleet) -> str | None:
    """Give every later tier of ``fleet`` without a copy of the template one, of the
    template it renders now (``template/``), so that the next change of the template
    reaches the first tier alone. Changes no output; returns the commit, if one was made."""
    fleet_dir = project.apps_dir / fleet.name
    missing = [t for t in fleet.tiers[1:] if not pinned_template(fleet_dir, t).is_dir()]
    if not missing:
        return None
    _refuse_uncommitted(project, f"cannot pin {', '.join(missing)} of fleet {fleet.name!r}")
    message = (
        f"pin fleet {fleet.name}: {', '.join(missing)} keep the template they render\n\n"
        f"A new template reaches {fleet.tiers[0]} first; the later tiers follow by promotion.\n"
    )
    copies = {pinned_template(fleet_dir, t): fleet_dir / TEMPLATE_DIR for t in missing}
    return _copy_render_commit(project, copies, message)


def _copy_render_commit(project: Project, copies: dict[Path, Path], message: str) -> str | None:
    """Replace each destination of ``copies`` with a copy of its source, render every
    environment and commit both; a render that fails leaves the copies as they were."""
    repo = open_repository(project.root)
    with tempfile.TemporaryDirectory(prefix="hakobu-tier-") as scratch:
        kept = {destination: Path(scratch) / str(index) for index, destination in enumerate(copies)}
        for destination, source in copies.items():
            if destination.exists():
                shutil.move(destination, kept[destination])
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(source, destination, symlinks=True)
        try:
            rendered = render_project(project, RenderRequest(), helm=helm_for_render(_log.info))
        except BaseException:
            for destination, was in kept.items():
                shutil.rmtree(destination, ignore_errors=True)
                if was.exists():
                    shutil.move(was, destination)
            raise
    return commit_paths(
        repo,
        [*copies, *(project.output_dir / r.env for r in rendered.results)],
        message,
    )


def _refuse_uncommitted(project: Project, what: str) -> None:
    """The commit renders every environment and takes all of its output: an uncommitted
    input would slip into it unreviewed, an uncommitted output be swept along."""
    repo = open_repository(project.root)
    paths = [project.file, project.apps_dir, project.output_dir]
    dirty = changed_locally(repo, [repo_path(repo, path) for path in paths])
    if dirty:
        raise InvalidInput(
            f"{what}: {', '.join(dirty[:3])}{' …' if len(dirty) > 3 else ''} "
            "differ from the current commit",
            hint="commit (hakobu render --commit) or discard those changes first",
        )


def _check_settled(project: Project, fleet: str, tier: str, statuses: Sequence[AppStatus]) -> None:
    for status in tier_statuses(project, fleet, statuses):
        if status.tier == tier and status.not_good:
            raise OperationFailed(
                f"tier {tier} of fleet {fleet!r} is not Synced and Healthy: "
                + "; ".join(status.not_good),
                hint="wait for it (hakobu fleet status), or skip the check with --force",
            )
