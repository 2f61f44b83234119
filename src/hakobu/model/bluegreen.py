"""Blue-green as an app declares it, with Argo Rollouts' names::

    rollout:
      blueGreen:
        activeService: shop            # the app's Service (the default)
        previewService: shop-preview   # the default: <activeService>-preview
        autoPromotionEnabled: true     # false: wait for `hakobu rollout promote`
        autoPromotionSeconds: 60       # promote this long after the preview is ready
        scaleDownDelaySeconds: 30      # the old pods stay this long after the switch
        previewReplicaCount: 1         # the new version's replicas before the switch
        prePromotionAnalysis: {address, query, successCondition, ...}
        postPromotionAnalysis: {address, query, successCondition, ...}

The analyses take the fields of a canary's analysis step. ``stages`` is the fixed path a
blue-green rollout takes through them, which its state counts in.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hakobu.model.canary import Analysis, _analysis, _count, _known, _mapping
from hakobu.model.schemacheck import SchemaViolation, shown
from hakobu.model.source import FieldPath

_FIELDS = (
    "activeService",
    "previewService",
    "autoPromotionEnabled",
    "autoPromotionSeconds",
    "scaleDownDelaySeconds",
    "previewReplicaCount",
    "prePromotionAnalysis",
    "postPromotionAnalysis",
)

# The stages in order; the analyses' only when declared.
PREVIEW = "preview"
PRE_PROMOTION = "prePromotionAnalysis"
PROMOTION = "promotion"
SWITCH = "switch"
POST_PROMOTION = "postPromotionAnalysis"
SCALE_DOWN = "scaleDownDelay"
FINISH = "finish"


@dataclass(frozen=True)
class BlueGreen:
    """The active Service keeps the running version while the preview Service shows the new
    one; promotion switches the active Service, and the old pods go after a delay.

    ``active_service`` and ``preview_service`` are None for their defaults: the Deployment's
    name, and the active Service's name with ``-preview``.
    """

    active_service: str | None = None
    preview_service: str | None = None
    auto_promotion_enabled: bool = True
    auto_promotion_seconds: int | None = None
    scale_down_delay_seconds: int = 30
    preview_replica_count: int | None = None
    pre_promotion: Analysis | None = None
    post_promotion: Analysis | None = None
    # The mapping as written, which rendered objects carry as ROLLOUT_ANNOTATION.
    declared: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def active(self, deployment: str) -> str:
        return self.active_service or deployment

    def preview(self, deployment: str) -> str:
        return self.preview_service or f"{self.active(deployment)}-preview"


def stages(blue_green: BlueGreen) -> tuple[str, ...]:
    """Where a blue-green rollout passes, in order."""
    return tuple(
        stage
        for stage, present in (
            (PREVIEW, True),
            (PRE_PROMOTION, blue_green.pre_promotion is not None),
            (PROMOTION, True),
            (SWITCH, True),
            (POST_PROMOTION, blue_green.post_promotion is not None),
            (SCALE_DOWN, True),
            (FINISH, True),
        )
        if present
    )


def parse_blue_green(data: Any, path: FieldPath) -> BlueGreen:
    """The blue-green declared by ``data`` (the mapping under ``rollout``, holding
    ``blueGreen``); ``path`` is where that mapping is, for the fields named in errors."""
    where = (*path, "blueGreen")
    spec = data["blueGreen"]
    _mapping(spec, where)
    _known(spec, where, _FIELDS)
    names = {key: _name(spec, where, key) for key in ("activeService", "previewService")}
    if names["activeService"] is not None and names["activeService"] == names["previewService"]:
        raise SchemaViolation(
            (*where, "previewService"),
            "the preview Service must differ from the active Service "
            f"{shown(names['activeService'])}",
            "name another Service, or leave previewService out for <activeService>-preview",
        )
    enabled = spec.get("autoPromotionEnabled", True)
    if not isinstance(enabled, bool):
        raise SchemaViolation(
            (*where, "autoPromotionEnabled"), f"expected true or false, got {shown(enabled)}"
        )
    return BlueGreen(
        active_service=names["activeService"],
        preview_service=names["previewService"],
        auto_promotion_enabled=enabled,
        auto_promotion_seconds=(
            _count(spec, where, "autoPromotionSeconds", 0)
            if "autoPromotionSeconds" in spec
            else None
        ),
        scale_down_delay_seconds=_count(spec, where, "scaleDownDelaySeconds", 30),
        preview_replica_count=(
            _count(spec, where, "previewReplicaCount", 1, minimum=1)
            if "previewReplicaCount" in spec
            else None
        ),
        pre_promotion=_optional_analysis(spec, where, "prePromotionAnalysis"),
        post_promotion=_optional_analysis(spec, where, "postPromotionAnalysis"),
        declared=copy.deepcopy(data),
    )


def _name(spec: dict[str, Any], path: FieldPath, key: str) -> str | None:
    value = spec.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not _is_dns_label(value):
        raise SchemaViolation(
            (*path, key),
            f"expected a Service name (lower-case letters, digits and '-'), got {shown(value)}",
        )
    return value


def _is_dns_label(value: str) -> bool:
    return (
        0 < len(value) <= 63
        and value[0].isalnum()
        and value[-1].isalnum()
        and all(c.islower() or c.isdigit() or c == "-" for c in value)
    )


def _optional_analysis(spec: dict[str, Any], path: FieldPath, key: str) -> Analysis | None:
    return _analysis(spec[key], (*path, key)) if key in spec else None
