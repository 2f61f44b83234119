"""Per-kind health assessment of live objects (pure).

``assess(obj)`` reads one live object — as the API server returns it — and says whether it
is Healthy, Progressing, Degraded, Suspended or Unknown, with a message for a person.
``worst`` combines the health of many objects (a wave, an app). The checks follow
``kubectl rollout status`` and Argo CD's gitops-engine for built-in kinds, and the kstatus
conventions (observedGeneration; Stalled, Reconciling, Ready conditions) for the rest.
Custom resources may be judged by ``HealthRules``: CEL expressions in Flux's shape, a
project's own (``compile_rule``) and those hakobu ships for common kinds (``shipped``).
"""

from hakobu.health.assess import assess
from hakobu.health.rules import HealthRule, HealthRules, RuleError, compile_rule
from hakobu.health.status import Health, HealthStatus, settled, severity, worst

__all__ = [
    "Health",
    "HealthRule",
    "HealthRules",
    "HealthStatus",
    "RuleError",
    "assess",
    "compile_rule",
    "settled",
    "severity",
    "worst",
]
