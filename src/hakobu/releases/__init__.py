"""Releases as git commits: carry what one environment runs into the next, or go back.

::

    promotion  planned (``plan_promotion``), then applied (``apply_promotion``): the gate
               (source Synced and Healthy at the revision), then either
               tier branches: move the source branch's commit onto the target's branch
               otherwise:     write the source's promotable values (an app spec's
                              ``promote:``, by default the image) as the target's
                              overrides, and a kustomize app's ``images:`` into the
                              target's overlay; render the target and commit both
    rollback   planned (``plan_rollback``), then applied (``apply_rollback``): a new
               commit that restores an environment's output (or one app's) as it was

Errors: ``InvalidInput`` when the request cannot apply to the repository as it is (unknown
environment or app, apps that differ, a stale render, local changes, an existing branch);
``OperationFailed`` when the source is not Synced and Healthy or its cluster cannot tell.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hakobu.releases.appspec import AppPromotion, FieldChange
    from hakobu.releases.promotion import (
        BranchMove,
        Connect,
        HealthCheck,
        PlannedCommit,
        Promotion,
        PromotionPlan,
        PromotionRequest,
        apply_promotion,
        one_cluster,
        plan_inputs,
        plan_promotion,
        plan_tier,
        promote,
        require_healthy,
    )
    from hakobu.releases.rollback import (
        RollbackPlan,
        RollbackRequest,
        apply_rollback,
        plan_rollback,
    )

# Each name is imported from its module when first used: ``hakobu render`` imports
# ``releases.rendercommit`` and need not pay for promotion's cluster and sync imports.
_MODULES = {
    "AppPromotion": "appspec",
    "FieldChange": "appspec",
    "RollbackPlan": "rollback",
    "RollbackRequest": "rollback",
    "apply_rollback": "rollback",
    "plan_rollback": "rollback",
}


def __getattr__(name: str) -> object:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{_MODULES.get(name, 'promotion')}")
    value = getattr(module, name)
    globals()[name] = value
    return value


__all__ = [
    "AppPromotion",
    "BranchMove",
    "Connect",
    "FieldChange",
    "HealthCheck",
    "PlannedCommit",
    "Promotion",
    "PromotionPlan",
    "PromotionRequest",
    "RollbackPlan",
    "RollbackRequest",
    "apply_promotion",
    "apply_rollback",
    "one_cluster",
    "plan_inputs",
    "plan_promotion",
    "plan_rollback",
    "plan_tier",
    "promote",
    "require_healthy",
]
