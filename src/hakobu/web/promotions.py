"""A promotion from the dashboard: the commit it would make (or the branch it would move),
shown first, under a basis.

The plan is the library's (``hakobu.releases.plan_promotion``, as ``hakobu promote``):
which fields of which apps change in TO, the promoted values, the commit message. Its basis
digests that; a confirmation whose basis no longer matches (a new commit to FROM or TO) is
refused with what changed. Applying it checks first that FROM is Synced and Healthy at the
promoted revision, as the command does.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any

import orjson

from hakobu.model.project import Project
from hakobu.releases import PromotionPlan, PromotionRequest, plan_promotion


@dataclass(frozen=True)
class PromotePreview:
    source: str
    target: str
    app: str | None
    revision: str  # the revision of FROM that is promoted
    apps: tuple[dict[str, Any], ...]  # per app: the fields that change in TO
    values: tuple[dict[str, Any], ...]  # the promoted environment values that change
    skipped: tuple[str, ...]
    # The commit's message, or how TO's tier branch moves; "" when TO runs it already.
    message: str
    basis: str

    def json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "apps": list(self.apps),
            "values": list(self.values),
            "skipped": list(self.skipped),
        }


def plan_promotion_of(
    project: Project, source: str, target: str, app: str | None
) -> tuple[PromotePreview, PromotionPlan]:
    plan = plan_promotion(project, PromotionRequest(source, target, app=app))
    apps = tuple({"app": a.app, "changes": [asdict(c) for c in a.changes]} for a in plan.apps)
    values = tuple(asdict(v) for v in plan.values)
    if plan.commit is not None:
        message = plan.commit.message
    elif plan.move is not None:
        message = (
            f"move {plan.move.branch} to {plan.move.commit[:12]} from {plan.move.source_branch}"
        )
    else:
        message = ""
    parent = plan.commit.parent if plan.commit is not None else ""
    basis = hashlib.sha256(
        orjson.dumps([plan.revision, parent, message, apps, values, list(plan.skipped)])
    ).hexdigest()
    preview = PromotePreview(
        source, target, app, plan.revision, apps, values, plan.skipped, message, basis
    )
    return preview, plan


def promotion_changes(old: PromotePreview | None, new: PromotePreview) -> list[str]:
    """What differs between the promotion a user confirmed and the one of now (pure)."""
    if old is None:
        return ["the preview confirmed is not known here (too old, or from another server)"]
    found = []
    if old.revision != new.revision:
        found.append(f"{new.source} now runs {new.revision[:12]}, not {old.revision[:12]}")
    if old.apps != new.apps or old.values != new.values:
        found.append(f"what {new.target} would receive changed")
    return found or ["the promotion's commit would differ"]
