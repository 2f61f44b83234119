"""The rules hakobu ships for common custom resources, on realistic live objects.

Each file under ``fixtures/custom/`` holds objects named after the case they show; the
table gives the verdict each must get — the one Argo CD's check for the kind gives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from hakobu.health import Health, HealthRules, HealthStatus, assess
from hakobu.health.shipped import RULES, shipped_rules

FIXTURES = Path(__file__).parent / "fixtures" / "custom"

H, P, D = HealthStatus.HEALTHY, HealthStatus.PROGRESSING, HealthStatus.DEGRADED
S = HealthStatus.SUSPENDED

CASES: dict[tuple[str, str, str], tuple[HealthStatus, str]] = {
    ("argo", "Rollout", "healthy"): (H, ""),
    ("argo", "Rollout", "canary-step"): (P, "more replicas need to be updated"),
    ("argo", "Rollout", "paused"): (S, "CanaryPauseStep"),
    ("argo", "Rollout", "aborted"): (
        D,
        'RolloutAborted: Rollout aborted update to revision 4: Metric "success-rate" '
        "assessed Failed",
    ),
    ("argo", "Rollout", "unobserved"): (
        P,
        "Rollout generation is 8, but latest observed generation is 7",
    ),
    ("argo", "Workflow", "running"): (P, ""),
    ("argo", "Workflow", "new"): (P, ""),
    ("argo", "Workflow", "succeeded"): (H, ""),
    ("argo", "Workflow", "failed"): (D, "child 'build-1234' failed"),
    ("argo", "Workflow", "errored"): (D, 'pods "build-1235" is forbidden: exceeded quota'),
    ("argo", "Workflow", "suspended"): (S, "Workflow is suspended"),
    ("certmanager", "Certificate", "issued"): (
        H,
        "Certificate is up to date and has not expired",
    ),
    ("certmanager", "Certificate", "issuing"): (
        P,
        "Issuing certificate as Secret does not exist",
    ),
    ("certmanager", "Certificate", "renewing"): (
        P,
        "Renewing certificate as renewal was scheduled at 2026-12-01",
    ),
    ("certmanager", "Certificate", "failed"): (
        D,
        "Issuing certificate as Secret does not exist",
    ),
    ("certmanager", "Certificate", "unknown"): (P, "Waiting for CertificateRequest to be issued"),
    ("certmanager", "Certificate", "new"): (
        P,
        "waiting for Certificate to be current (hakobu's rule for cert-manager.io/* Certificate)",
    ),
    ("flux", "GitRepository", "ready"): (H, "stored artifact for revision main@sha1:1a2b3c"),
    ("flux", "GitRepository", "auth-failed"): (
        D,
        "failed to checkout and determine revision: unable to clone: authentication required",
    ),
    ("flux", "OCIRepository", "fetching"): (
        P,
        "building artifact: new revision latest@sha256:9f8e",
    ),
    ("flux", "HelmRepository", "unobserved"): (
        P,
        "HelmRepository generation is 3, but latest observed generation is 2",
    ),
    ("flux", "Bucket", "suspended"): (S, "Bucket is suspended"),
    ("flux", "Kustomization", "stalled"): (
        D,
        "kustomize build failed: ./missing: no such file or directory",
    ),
    ("flux", "Kustomization", "new"): (
        P,
        "waiting for Kustomization to be current (hakobu's rule for "
        "kustomize.toolkit.fluxcd.io/* Kustomization)",
    ),
    ("flux", "HelmRelease", "released"): (
        H,
        "Helm install succeeded for release shop/web.v1 with chart web@1.2.0",
    ),
    ("flux", "HelmRelease", "upgrade-failed"): (
        D,
        "Helm upgrade failed for release shop/web with chart web@1.3.0: context deadline exceeded",
    ),
    ("others", "SealedSecret", "unsealed"): (H, ""),
    ("others", "SealedSecret", "wrong-key"): (D, "no key could decrypt secret (password)"),
    ("others", "SealedSecret", "new"): (
        P,
        "waiting for SealedSecret to be current (hakobu's rule for bitnami.com/* SealedSecret)",
    ),
    ("others", "Service", "ready"): (H, ""),
    ("others", "Service", "deploying"): (
        P,
        'Configuration "deploying" is waiting for a Revision to become ready.',
    ),
    ("others", "Service", "bad-image"): (
        D,
        'Revision "bad-image-00001" failed with message: Unable to fetch image "fn/missing:1".',
    ),
    ("others", "ScaledObject", "active"): (
        H,
        "ScaledObject is defined correctly and is ready for scaling",
    ),
    ("others", "ScaledObject", "fallback"): (
        D,
        "At least one trigger is falling back on this scaled object",
    ),
    ("others", "ScaledObject", "no-target"): (
        D,
        "ScaledObject doesn't have correct scaleTargetRef specification",
    ),
    ("others", "ScaledObject", "paused"): (S, "ScaledObject is paused"),
    ("others", "PostgreSQLInstance", "ready"): (H, "Available"),
    ("others", "PostgreSQLInstance", "creating"): (P, "Creating"),
    ("others", "PostgreSQLInstance", "unsynced"): (
        D,
        "cannot compose resources: no composition selected",
    ),
    # Not a claim: the kstatus conventions judge it.
    ("others", "Widget", "plain"): (P, "Starting"),
}


def _fixtures() -> dict[tuple[str, str, str], dict[str, Any]]:
    found = {}
    for path in sorted(FIXTURES.glob("*.yaml")):
        for obj in yaml.safe_load_all(path.read_text()):
            key = (path.stem, obj["kind"], obj["metadata"]["name"])
            assert key not in found, f"two fixtures named {key}"
            found[key] = obj
    return found


FIXTURE_OBJECTS = _fixtures()


def test_every_fixture_has_an_expectation_and_every_expectation_a_fixture() -> None:
    assert set(FIXTURE_OBJECTS) == set(CASES)


@pytest.mark.parametrize(
    ("key", "expected"), sorted(CASES.items()), ids=["/".join(key) for key in sorted(CASES)]
)
def test_shipped_rule_verdict(
    key: tuple[str, str, str], expected: tuple[HealthStatus, str]
) -> None:
    assert assess(FIXTURE_OBJECTS[key], HealthRules()) == Health(*expected)


def test_every_shipped_rule_compiles_and_judges_a_fixture() -> None:
    compiled = shipped_rules()
    assert len(compiled) == len(RULES)
    used = set()
    for obj in FIXTURE_OBJECTS.values():
        group = obj["apiVersion"].rpartition("/")[0]
        for index, rule in enumerate(compiled):
            if rule.applies_to(group, obj["kind"], obj):
                used.add(index)
                break
    assert used == set(range(len(compiled)))
