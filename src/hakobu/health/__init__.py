"""Per-kind health assessment of live objects (pure).

``assess(obj)`` reads one live object — as the API server returns it — and says whether it
is Healthy, Progressing, Degraded, Suspended or Unknown, with a message for a person.
``worst`` combines the health of many objects (a wave, an app). The checks follow
``kubectl rollout status`` and Argo CD's gitops-engine for built-in kinds, and the kstatus
conventions (observedGeneration; Stalled, Reconciling, Ready conditions) for the rest.
"""

from hakobu.health.assess import assess
from hakobu.health.status import Health, HealthStatus, settled, severity, worst

__all__ = ["Health", "HealthStatus", "assess", "settled", "severity", "worst"]
