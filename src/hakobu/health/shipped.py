"""Health rules hakobu ships for common custom resources.

Each is written as a project would write it in ``hakobu.yaml`` (Flux's shape, see
``rules``), and gives the verdicts Argo CD's own health checks give for the kind. A
project's rule for the same kind is consulted first, so it replaces the one here. They are
compiled on first use: most commands never meet a custom resource.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from hakobu.health.rules import HealthRule, compile_rule


def _condition(kind: str, *statuses: str) -> str:
    """True when the object has condition ``kind`` with one of ``statuses``."""
    allowed = " || ".join(f"c.status == '{status}'" for status in statuses)
    return (
        f"has(status.conditions) && status.conditions.exists(c, c.type == '{kind}' && ({allowed}))"
    )


def _phase(*phases: str) -> str:
    listed = ", ".join(f"'{phase}'" for phase in phases)
    return f"has(status.phase) && status.phase in [{listed}]"


@dataclass(frozen=True)
class ShippedRule:
    api_version: str
    kind: str
    current: str
    in_progress: str | None = None
    failed: str | None = None
    suspended: str | None = None
    match: str | None = None


# The kstatus conventions every Flux object follows (Argo CD's checks for Flux read the
# same conditions): Reconciling or an Unknown Ready while it works, Stalled or a False
# Ready once an attempt failed, a True Ready when done; spec.suspend stops it.
_FLUX = {
    "suspended": "has(spec.suspend) && spec.suspend == true",
    "in_progress": f"{_condition('Reconciling', 'True')} || {_condition('Ready', 'Unknown')}",
    "failed": f"{_condition('Stalled', 'True')} || {_condition('Ready', 'False')}",
    "current": _condition("Ready", "True"),
}
# Ready, as Knative and most controllers report it: Unknown while working.
_READY = {
    "in_progress": _condition("Ready", "Unknown"),
    "failed": _condition("Ready", "False"),
    "current": _condition("Ready", "True"),
}

RULES: tuple[ShippedRule, ...] = (
    # Argo Rollouts reports its own verdict as status.phase (Healthy, Progressing,
    # Paused, Degraded), the one Argo CD shows.
    ShippedRule(
        "argoproj.io/*",
        "Rollout",
        suspended=f"{_phase('Paused')} || (has(spec.paused) && spec.paused == true)",
        in_progress=_phase("Progressing"),
        failed=_phase("Degraded"),
        current=_phase("Healthy"),
    ),
    # A Workflow runs to an end; until it has a phase, it has not started.
    ShippedRule(
        "argoproj.io/*",
        "Workflow",
        suspended="has(spec.suspend) && spec.suspend == true",
        in_progress=f"!has(status.phase) || {_phase('', 'Pending', 'Running')}",
        failed=_phase("Failed", "Error"),
        current=_phase("Succeeded"),
    ),
    # A Certificate being issued has Issuing True (and Ready False until it is done);
    # Ready answers otherwise.
    ShippedRule(
        "cert-manager.io/*",
        "Certificate",
        in_progress=f"{_condition('Issuing', 'True')} || {_condition('Ready', 'Unknown')}",
        failed=_condition("Ready", "False"),
        current=_condition("Ready", "True"),
    ),
    ShippedRule("source.toolkit.fluxcd.io/*", "*", **_FLUX),
    ShippedRule("kustomize.toolkit.fluxcd.io/*", "Kustomization", **_FLUX),
    ShippedRule("helm.toolkit.fluxcd.io/*", "HelmRelease", **_FLUX),
    # The Sealed Secrets controller reports whether it could make the Secret as Synced.
    ShippedRule(
        "bitnami.com/*",
        "SealedSecret",
        failed=_condition("Synced", "False"),
        current=_condition("Synced", "True"),
    ),
    ShippedRule("serving.knative.dev/*", "Service", **_READY),
    # A paused ScaledObject is Suspended; one that fell back to its fallback replicas
    # cannot read its scaler, which is a failure even while Ready.
    ShippedRule(
        "keda.sh/*",
        "ScaledObject",
        suspended=_condition("Paused", "True"),
        in_progress=_condition("Ready", "Unknown"),
        failed=f"{_condition('Ready', 'False')} || {_condition('Fallback', 'True')}",
        current=_condition("Ready", "True"),
    ),
    # Crossplane claims (and composite resources) have user-chosen groups and kinds: they
    # are known by the composition they are bound to. Synced False means Crossplane could
    # not apply them; Ready True that what they compose is ready.
    ShippedRule(
        "*",
        "*",
        match="has(spec.compositionRef) || has(spec.compositionSelector) || has(spec.resourceRef)",
        failed=_condition("Synced", "False"),
        current=_condition("Ready", "True"),
    ),
)


@functools.cache
def shipped_rules() -> tuple[HealthRule, ...]:
    return tuple(
        compile_rule(
            rule.api_version,
            rule.kind,
            {
                name: source
                for name, source in (
                    ("match", rule.match),
                    ("suspended", rule.suspended),
                    ("inProgress", rule.in_progress),
                    ("failed", rule.failed),
                    ("current", rule.current),
                )
                if source is not None
            },
            origin=f"hakobu's rule for {rule.api_version} {rule.kind}",
        )
        for rule in RULES
    )
