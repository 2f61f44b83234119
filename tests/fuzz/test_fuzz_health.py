"""``assess`` on live objects of every kind it knows, with fields of the wrong types.

Whatever a file given to ``hakobu health -f`` holds, or a misbehaving controller writes into
a status, assessing it returns a Health: a field it cannot read makes the health Unknown.
"""

from __future__ import annotations

import datetime
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from hakobu.health import Health, HealthRules, HealthStatus, RuleError, assess, compile_rule
from tests.fuzz.profile import FUZZ

KINDS = [
    ("apps/v1", "Deployment"), ("extensions/v1beta1", "Deployment"), ("apps/v1", "StatefulSet"),
    ("apps/v1", "DaemonSet"), ("apps/v1", "ReplicaSet"), ("v1", "Pod"), ("batch/v1", "Job"),
    ("batch/v1", "CronJob"), ("v1", "Service"), ("networking.k8s.io/v1", "Ingress"),
    ("v1", "PersistentVolumeClaim"), ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("autoscaling/v1", "HorizontalPodAutoscaler"), ("apiregistration.k8s.io/v1", "APIService"),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"), ("v1", "Namespace"),
    ("example.test/v1", "Widget"), ("v1", "ConfigMap"),
    # Judged by the rules hakobu ships (CEL).
    ("argoproj.io/v1alpha1", "Rollout"), ("argoproj.io/v1alpha1", "Workflow"),
    ("cert-manager.io/v1", "Certificate"), ("source.toolkit.fluxcd.io/v1", "GitRepository"),
    ("bitnami.com/v1alpha1", "SealedSecret"), ("keda.sh/v1alpha1", "ScaledObject"),
    ("serving.knative.dev/v1", "Service"),
]  # fmt: skip

_WORDS = st.sampled_from(
    [
        "True", "False", "Unknown", "Running", "Pending", "Succeeded", "Failed", "Bound",
        "Lost", "Terminating", "LoadBalancer", "OnDelete", "RollingUpdate", "Ready",
        "Available", "Progressing", "ProgressDeadlineExceeded", "Complete", "FailureTarget",
        "Suspended", "Stalled", "Reconciling", "AbleToScale", "ScalingActive",
        "ScalingDisabled", "FailedGetResourceMetric", "CrashLoopBackOff", "ErrImagePull",
        "OOMKilled", "Established", "NamesAccepted", "NonStructuralSchema", "ReplicaFailure",
        "PodScheduled", "Always", "Never", "2026-01-02T03:04:05Z", "2026-01-02", "not a time",
        "[]", "[{}]", '[{"type": "AbleToScale", "status": "False"}]', "{", "", "10.0.0.1",
        "[" * 5000, "1" * 5000, "x" * 10000, "Synced", "Issuing", "Paused", "Fallback",
        "Healthy", "Degraded", "Error",
    ]
)  # fmt: skip
_ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=8),
    _WORDS,
    st.datetimes(timezones=st.one_of(st.none(), st.just(datetime.UTC))),
    st.dates(),
)
_ANY = st.recursive(
    _ODD,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(_WORDS, st.text(max_size=4)), inner, max_size=3),
    ),
    max_leaves=8,
)

# The fields the checks read, by path; values are drawn from _ANY or shaped like the
# field's usual content.
_STATUS_FIELDS = [
    "replicas", "updatedReplicas", "availableReplicas", "readyReplicas", "currentReplicas",
    "observedGeneration", "desiredNumberScheduled", "updatedNumberScheduled",
    "numberAvailable", "updateRevision", "currentRevision", "phase", "message", "active",
    "succeeded", "failed", "lastScheduleTime", "lastSuccessfulTime",
]  # fmt: skip
_SPEC_FIELDS = ["replicas", "paused", "suspend", "type", "restartPolicy", "volumeName",
                "updateStrategy", "compositionRef", "resourceRef"]  # fmt: skip

_CONDITION = st.fixed_dictionaries(
    {},
    optional={
        "type": st.one_of(_WORDS, _ANY),
        "status": st.one_of(st.sampled_from(["True", "False", "Unknown"]), _ANY),
        "reason": st.one_of(_WORDS, _ANY),
        "message": _ANY,
    },
)
_CONTAINER = st.fixed_dictionaries(
    {},
    optional={
        "name": _ANY,
        "state": st.one_of(
            _ANY,
            st.fixed_dictionaries(
                {},
                optional={
                    "waiting": st.one_of(
                        _ANY, st.fixed_dictionaries({"reason": _WORDS, "message": _ANY})
                    ),
                    "terminated": st.one_of(
                        _ANY,
                        st.fixed_dictionaries(
                            {"reason": _WORDS, "exitCode": _ANY, "message": _ANY}
                        ),
                    ),
                },
            ),
        ),
        "lastState": st.one_of(_ANY, st.fixed_dictionaries({"terminated": _ANY})),
    },
)


def _field(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(values, _ANY)


_STATUS = st.fixed_dictionaries(
    {},
    optional={
        **{key: _field(st.one_of(st.integers(-2, 5), _WORDS)) for key in _STATUS_FIELDS},
        "conditions": _field(st.lists(st.one_of(_CONDITION, _ANY), max_size=3)),
        "containerStatuses": _field(st.lists(st.one_of(_CONTAINER, _ANY), max_size=2)),
        "initContainerStatuses": _field(st.lists(_CONTAINER, max_size=2)),
        "loadBalancer": _field(
            st.fixed_dictionaries(
                {
                    "ingress": _field(
                        st.lists(
                            _field(
                                st.fixed_dictionaries({}, optional={"ip": _ANY, "hostname": _ANY})
                            ),
                            max_size=2,
                        )
                    )
                }
            )
        ),
    },
)
_SPEC = st.fixed_dictionaries(
    {},
    optional={
        **{
            key: _field(st.one_of(st.integers(-2, 5), st.booleans(), _WORDS))
            for key in _SPEC_FIELDS
        },
        "updateStrategy": _field(
            st.fixed_dictionaries(
                {
                    "type": _field(_WORDS),
                    "rollingUpdate": _field(
                        st.fixed_dictionaries({"partition": _field(st.integers(-2, 5))})
                    ),
                }
            )
        ),
    },
)
_METADATA = st.fixed_dictionaries(
    {"name": _field(st.just("web"))},
    optional={
        "generation": _field(st.integers(-1, 5)),
        "deletionTimestamp": _ANY,
        "annotations": _field(
            st.dictionaries(st.just("autoscaling.alpha.kubernetes.io/conditions"), _field(_WORDS))
        ),
    },
)


@st.composite
def live_objects(draw: st.DrawFn) -> Any:
    api_version, kind = draw(st.sampled_from(KINDS))
    obj: dict[str, Any] = {
        "apiVersion": draw(st.one_of(st.just(api_version), st.just(api_version), _ANY)),
        "kind": draw(st.one_of(st.just(kind), st.just(kind), _ANY)),
    }
    for key, strategy in (("metadata", _METADATA), ("spec", _SPEC), ("status", _STATUS)):
        if draw(st.booleans()):
            obj[key] = draw(st.one_of(strategy, strategy, _ANY))
    return obj


def _assessed(obj: Any) -> Health:
    health = assess(obj, HealthRules())
    assert isinstance(health, Health)
    assert isinstance(health.status, HealthStatus)
    assert isinstance(health.message, str)
    return health


def _hpa_v1(conditions: str) -> dict[str, Any]:
    annotations = {"autoscaling.alpha.kubernetes.io/conditions": conditions}
    return {
        "apiVersion": "autoscaling/v1",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "annotations": annotations},
    }


@settings(FUZZ, max_examples=800)
@given(live_objects())
@example(_hpa_v1("[" * 5000))
@example(_hpa_v1("1" * 5000))
def test_live_objects_of_known_kinds(obj: Any) -> None:
    _assessed(obj)


def test_a_malformed_field_is_shown_short() -> None:
    huge = {"apiVersion": "apps/v1", "kind": "Deployment", "status": {"replicas": "9" * 100_000}}
    health = _assessed(huge)
    assert health.status is HealthStatus.UNKNOWN
    assert len(health.message) < 200, health.message


@settings(FUZZ, max_examples=300)
@given(
    st.one_of(
        _ANY,
        st.dictionaries(
            st.one_of(
                _WORDS, st.sampled_from(["apiVersion", "kind", "metadata", "spec", "status"])
            ),
            _ANY,
        ),
    )
)
def test_arbitrary_values(obj: Any) -> None:
    _assessed(obj)


@settings(FUZZ, max_examples=300)
@given(st.text(max_size=120) | st.sampled_from(["status.x", "has(", "'\ud800'", "1" * 30]))
def test_any_expression_compiles_or_is_refused_with_its_field(source: str) -> None:
    try:
        compile_rule("example.test/v1", "Widget", {"current": source}, origin="fuzz")
    except RuleError as e:
        assert e.field == "current"


_EXPRESSIONS = st.sampled_from(
    [
        "status.phase == 'Running'",
        "has(status.conditions) && status.conditions.exists(c, c.type == 'Ready')",
        "status.conditions.all(c, c.status == 'True')",
        "size(status) > 1 && metadata.generation > 0",
        "spec.replicas + 1 > 2",
        "string(status.observedGeneration) == '1'",
        "status.message.startsWith('ok')",
        "timestamp(status.lastScheduleTime) > timestamp('2026-01-01T00:00:00Z')",
        "status.phase",
    ]
)


@settings(FUZZ, max_examples=400)
@given(live_objects(), _EXPRESSIONS, _EXPRESSIONS)
def test_project_rules_on_any_object(obj: Any, failed: str, current: str) -> None:
    rule = compile_rule("*", "*", {"failed": failed, "current": current}, origin="fuzz")
    health = assess(obj, HealthRules((rule,)))
    assert isinstance(health, Health)
    assert isinstance(health.message, str)
