"""Releases as git commits: carry what one environment runs into the next.

::

    promotion  the gate (source Synced and Healthy at the revision), then either
               tier branches: move the source branch's commit onto the target's branch
               otherwise:     write the source's promotable values (an app spec's
                              ``promote:``, by default the image) as the target's
                              overrides, and a kustomize app's ``images:`` into the
                              target's overlay; render the target and commit both

Errors: ``InvalidInput`` when the request cannot apply to the repository as it is (unknown
environment or app, apps that differ, a stale render, local changes, an existing branch);
``OperationFailed`` when the source is not Synced and Healthy or its cluster cannot tell.
"""

from hakobu.releases.promotion import (
    Connect,
    Promotion,
    PromotionRequest,
    promote,
    promote_inputs,
    promote_tier,
    require_healthy,
)

__all__ = [
    "Connect",
    "Promotion",
    "PromotionRequest",
    "promote",
    "promote_inputs",
    "promote_tier",
    "require_healthy",
]
