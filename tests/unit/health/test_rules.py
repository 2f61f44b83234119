"""Project health rules: Flux's order of evaluation, matching, and failures of expressions."""

from __future__ import annotations

from typing import Any

import pytest

from hakobu.health import Health, HealthRules, HealthStatus, RuleError, assess, compile_rule

READY = (
    "has(status.conditions) && status.conditions.exists(c, c.type == 'Ready' && c.status == '{}')"
)


def _rules(**fields: str) -> HealthRules:
    api_version = fields.pop("apiVersion", "example.com/v1")
    kind = fields.pop("kind", "Widget")
    return HealthRules((compile_rule(api_version, kind, fields, origin="hakobu.yaml health[0]"),))


def widget(ready: str | None = None, **status: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": "shop", "generation": 2},
        "status": dict(status),
    }
    if ready is not None:
        obj["status"]["conditions"] = [{"type": "Ready", "status": ready, "message": f"is {ready}"}]
    return obj


FLUX_SHAPE = {
    "inProgress": READY.format("Unknown"),
    "failed": READY.format("False"),
    "current": READY.format("True"),
}


@pytest.mark.parametrize(
    ("ready", "expected"),
    [
        ("True", Health(HealthStatus.HEALTHY, "is True")),
        ("False", Health(HealthStatus.DEGRADED, "is False")),
        ("Unknown", Health(HealthStatus.PROGRESSING, "is Unknown")),
    ],
)
def test_the_first_true_expression_decides(ready: str, expected: Health) -> None:
    assert assess(widget(ready), _rules(**FLUX_SHAPE)) == expected


def test_none_true_is_progressing() -> None:
    assert assess(widget(), _rules(**FLUX_SHAPE)) == Health(
        HealthStatus.PROGRESSING, "waiting for Widget to be current (hakobu.yaml health[0])"
    )


def test_in_progress_is_read_before_failed_and_failed_before_current() -> None:
    always = {"inProgress": "true", "failed": "true", "current": "true"}
    assert assess(widget("True"), _rules(**always)).status is HealthStatus.PROGRESSING
    assert (
        assess(widget("True"), _rules(failed="true", current="true")).status
        is HealthStatus.DEGRADED
    )


def test_an_unobserved_generation_is_progressing_before_any_expression() -> None:
    obj = widget("True", observedGeneration=1)
    assert assess(obj, _rules(failed="true", current="true")) == Health(
        HealthStatus.PROGRESSING, "Widget generation is 2, but latest observed generation is 1"
    )
    obj["status"]["observedGeneration"] = 2
    assert assess(obj, _rules(**FLUX_SHAPE)).status is HealthStatus.HEALTHY


def test_suspended_is_read_first() -> None:
    obj = widget("False", observedGeneration=1)
    obj["spec"] = {"paused": True}
    rules = _rules(suspended="has(spec.paused) && spec.paused", **FLUX_SHAPE)
    assert assess(obj, rules) == Health(HealthStatus.SUSPENDED, "is False")


def test_a_failing_expression_makes_the_health_unknown() -> None:
    rules = _rules(current="status.phase == 'Running'")
    assert assess(widget(), rules) == Health(
        HealthStatus.UNKNOWN, "health rule hakobu.yaml health[0]: current: no such field 'phase'"
    )


def test_an_expression_that_is_not_boolean_makes_the_health_unknown() -> None:
    assert assess(widget(), _rules(current="'yes'")) == Health(
        HealthStatus.UNKNOWN,
        "health rule hakobu.yaml health[0]: current: gave str, expected true or false",
    )


def test_an_object_without_status_reads_as_an_empty_status() -> None:
    obj = widget()
    del obj["status"]
    assert assess(obj, _rules(**FLUX_SHAPE)).status is HealthStatus.PROGRESSING


def test_managed_fields_are_not_seen() -> None:
    obj = widget("True")
    obj["metadata"]["managedFields"] = [{"manager": "kubectl"}]
    assert assess(obj, _rules(current="!has(metadata.managedFields)")).status is (
        HealthStatus.HEALTHY
    )


def test_only_the_group_of_api_version_counts() -> None:
    rules = _rules(apiVersion="example.com/v2", current="true")
    assert assess(widget("False"), rules).status is HealthStatus.HEALTHY
    other = widget("False")
    other["apiVersion"] = "other.example.com/v1"
    assert assess(other, rules).status is HealthStatus.PROGRESSING


def test_a_wildcard_group_leaves_kubernetes_kinds_alone() -> None:
    rules = _rules(apiVersion="*", kind="*", current="false", failed="true")
    assert assess(widget("True"), rules).status is HealthStatus.DEGRADED
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    assert assess(config, rules).status is HealthStatus.HEALTHY
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {}}
    assert assess(role, rules).status is HealthStatus.HEALTHY


def test_match_narrows_a_rule_and_a_failing_match_is_false() -> None:
    rules = _rules(match="status.tier == 'gold'", current="false", failed="true")
    assert assess(widget("True", tier="gold"), rules).status is HealthStatus.DEGRADED
    assert assess(widget("True", tier="silver"), rules).status is HealthStatus.HEALTHY
    # No status.tier at all: the match fails, the rule does not apply.
    assert assess(widget("True"), rules).status is HealthStatus.HEALTHY


def test_a_project_rule_comes_before_the_built_in_check_and_the_shipped_rule() -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "generation": 1},
        "spec": {"replicas": 1},
        "status": {
            "observedGeneration": 1,
            "replicas": 1,
            "updatedReplicas": 1,
            "availableReplicas": 1,
        },
    }
    assert assess(deployment, HealthRules()).status is HealthStatus.HEALTHY
    rules = _rules(apiVersion="apps/v1", kind="Deployment", current="false", failed="true")
    assert assess(deployment, rules).status is HealthStatus.DEGRADED
    certificate = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "tls", "generation": 1},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }
    assert assess(certificate, HealthRules()).status is HealthStatus.HEALTHY
    ours = _rules(apiVersion="cert-manager.io/v1", kind="Certificate", current="false")
    assert assess(certificate, ours).status is HealthStatus.PROGRESSING


@pytest.mark.parametrize(
    ("api_version", "kind", "fields", "field", "message"),
    [
        ("example.com/v1", "Widget", {"current": "status.conditions.filter(c, "}, "current",
         "does not compile as CEL: 1:29: Syntax error"),
        ("example.com/v1", "Widget", {"current": "true", "failed": "status.?x"}, "failed",
         "does not compile as CEL: 1:7: unsupported syntax '.?'"),
        ("example.com/v1", "Widget", {"failed": "true"}, "current", "is required"),
        ("example.com/v1", "Widget", {"current": "status.phase.lowerAscii() == 'up'"}, "current",
         "calls lowerAscii, which CEL here does not have; it has: bytes, contains"),
        ("example.com/v1", "Widget", {"current": "status.c.exsts(c, true)"}, "current",
         "calls exsts, which"),
        ("example.com/v1", "Widget", {"current": "  "}, "current", "is empty"),
        ("example.com/v1", "Widget", {"current": "x" * 5000}, "current", "is 5000 characters"),
        ("example.com/", "Widget", {"current": "true"}, "apiVersion", "expected group/version"),
        ("example.com/v1", "Wid get", {"current": "true"}, "kind", "expected a kind"),
    ],
)  # fmt: skip
def test_rules_that_cannot_be_used(
    api_version: str, kind: str, fields: dict[str, str], field: str, message: str
) -> None:
    with pytest.raises(RuleError) as raised:
        compile_rule(api_version, kind, fields, origin="test")
    assert raised.value.field == field
    assert message in raised.value.message
