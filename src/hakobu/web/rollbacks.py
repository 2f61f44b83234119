"""A rollback from the dashboard: the commit it would make, shown first, under a basis.

The plan is the library's (the same as ``hakobu rollback``): which commit's content comes
back, which commits are undone, the commit message. Its basis digests that and the commit
the branch is at; a confirmation whose basis no longer matches (someone committed
meanwhile) is refused with what changed.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any

import orjson

from hakobu.errors import InvalidInput
from hakobu.model.project import Project
from hakobu.releases import RollbackPlan, RollbackRequest, apply_rollback, plan_rollback
from hakobu.repo.branches import checked_out_branch, tier_branches
from hakobu.repo.commit import open_repository
from hakobu.repo.revisions import head, repo_path


@dataclass(frozen=True)
class RollbackPreview:
    env: str
    app: str | None
    to: str
    path: str
    target: str
    replaced: str
    head: str
    undone: tuple[dict[str, Any], ...]
    message: str
    basis: str

    def json(self) -> dict[str, Any]:
        return {**asdict(self), "undone": list(self.undone)}


def plan_rollback_of(
    project: Project, env: str, to: str, app: str | None
) -> tuple[RollbackPreview, RollbackPlan]:
    environment = project.environment(env)
    repo = open_repository(project.root)
    tracked = tier_branches(project.file).get(environment.name)
    if tracked is not None and checked_out_branch(repo) != tracked:
        raise InvalidInput(
            f"environment {environment.name!r} tracks branch {tracked!r}, which is not "
            "checked out in the clone the dashboard serves",
            hint=f"`git checkout {tracked}` there and roll back again",
        )
    plan = plan_rollback(
        repo,
        RollbackRequest(
            output=repo_path(repo, project.output_dir),
            apps=repo_path(repo, project.apps_dir),
            env=environment.name,
            to=to,
            app=app,
        ),
    )
    at = str(head(repo).id)
    undone = tuple({**asdict(c), "short": c.short} for c in plan.undone)
    basis = hashlib.sha256(
        orjson.dumps([at, plan.path, plan.target, plan.replaced, plan.message])
    ).hexdigest()
    preview = RollbackPreview(
        env, app, to, plan.path, plan.target, plan.replaced, at, undone, plan.message, basis
    )
    return preview, plan


def commit_rollback(project: Project, plan: RollbackPlan) -> str:
    return apply_rollback(open_repository(project.root), plan)


def rollback_changes(old: RollbackPreview | None, new: RollbackPreview) -> list[str]:
    """What differs between the rollback a user confirmed and the one of now (pure)."""
    if old is None:
        return ["the preview confirmed is not known here (too old, or from another server)"]
    found = []
    if old.head != new.head:
        found.append(f"the branch moved from {old.head[:12]} to {new.head[:12]}")
    if old.replaced != new.replaced:
        found.append(f"{new.path} was last changed by {new.replaced[:12]}, not {old.replaced[:12]}")
    if old.target != new.target:
        found.append(f"the revision restored is now {new.target[:12]}, not {old.target[:12]}")
    return found or ["the rollback's commit would differ"]
