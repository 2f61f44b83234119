"""What a live object is compared with while a rollout holds it (pure).

A sync applies a held Deployment with its live template and replicas (``holding_stable``),
so they compare equal as long as hakobu still owns them. Once the rollout's own manager
has taken the replicas, hakobu's field set no longer has them, and the comparison leaves
them out (``as_compared``): the rollout sets them, not git.
"""

from __future__ import annotations

from hakobu.model.objects import Object
from hakobu.model.rollout import as_compared, holding_stable
from hakobu.model.traffic import holding_route
from hakobu.sync.fieldsets import owned_by
from hakobu.sync.ownership import FIELD_MANAGER


def compared_view(desired: Object, live: Object) -> Object:
    """``desired`` as a sync applies it over ``live``, less what the rollout took over."""
    spec_fields = owned_by(live, FIELD_MANAGER, str(desired.get("apiVersion"))).get("f:spec") or {}
    held = (
        holding_stable(desired, live)
        if "f:replicas" in spec_fields
        else as_compared(desired, live, FIELD_MANAGER)
    )
    return holding_route(held, live)
