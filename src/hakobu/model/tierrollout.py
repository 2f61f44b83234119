"""How a fleet's template version moves from tier to tier (``rollout:`` in ``fleet.yaml``).

::

    tiers: [canary, stable]
    rollout:
      soak: 10m                # how long every instance of a tier stays Healthy before
                               # the next tier follows
      environment: production  # whose Delivery steps the rollout (else: by hand, or CI)

The first tier renders the fleet's ``template/``, so it runs every change first. Each later
tier renders the copy of the template it was last promoted to, ``tiers/<tier>/`` (written by
``hakobu promote --fleet`` and ``hakobu fleet rollout``, never by hand); a later tier without
one renders ``template/`` too. A copy rather than a pointer to a git revision keeps render a
function of the work tree (a shallow clone in CI renders it) and makes a promotion's review
show exactly what changes for that tier.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hakobu.model.duration import parse_duration
from hakobu.model.source import Document

TIERS_DIR = "tiers"
# Longer than any soak a person means; past it a typo (10h for 10m) would stall a fleet.
_LONGEST_SOAK = 30 * 24 * 3600.0


@dataclass(frozen=True)
class TierRollout:
    # Seconds every instance of a tier stays Synced and Healthy before the next tier follows.
    soak: float
    soak_text: str
    # The environment whose Delivery steps the rollout after its sync passes; None: the
    # controller leaves it to `hakobu fleet rollout`.
    environment: str | None = None


def load_rollout(doc: Document, value: Any) -> TierRollout:
    """The ``rollout:`` mapping of ``doc`` (a fleet file)."""
    if not isinstance(value, dict):
        raise doc.error(("rollout",), "expected a mapping such as {soak: 10m}")
    for key in value:
        if key not in ("soak", "environment"):
            raise doc.error(
                ("rollout", key), f"unknown field {key!r}", hint="expected: environment, soak"
            )
    environment = value.get("environment")
    if environment is not None and not isinstance(environment, str):
        raise doc.error(
            ("rollout", "environment"),
            f"expected the name of an environment, found {environment!r}",
        )
    text = value.get("soak")
    if not isinstance(text, str):
        raise doc.error(
            ("rollout", "soak"),
            f"expected a duration such as 30s, 10m or 1h, found {text!r}",
            hint="how long every instance of a tier stays Healthy before the next tier follows",
        )
    try:
        seconds = parse_duration(text)
    except ValueError as e:
        raise doc.error(("rollout", "soak"), str(e)) from None
    if seconds > _LONGEST_SOAK:
        raise doc.error(("rollout", "soak"), f"expected at most 720h, found {text!r}")
    return TierRollout(seconds, text, environment)


def pinned_template(fleet_dir: Path, tier: str) -> Path:
    """Where a later tier's copy of the template lives."""
    return fleet_dir / TIERS_DIR / tier
