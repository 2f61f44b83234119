"""Health values, how they combine, and inputs that only hand-written YAML produces."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from hakobu import health
from hakobu.health import Health, HealthRules, HealthStatus, assess, settled, severity, worst


def test_the_public_names() -> None:
    assert sorted(health.__all__) == [
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


def test_healthy_and_suspended_are_settled_nothing_else() -> None:
    assert [status for status in HealthStatus if settled(status)] == [
        HealthStatus.HEALTHY,
        HealthStatus.SUSPENDED,
    ]


def test_status_values_are_the_words_people_see() -> None:
    assert [status.value for status in HealthStatus] == [
        "Healthy",
        "Progressing",
        "Degraded",
        "Suspended",
        "Missing",
        "Unknown",
    ]
    assert str(HealthStatus.PROGRESSING) == "Progressing"


def test_order_from_best_to_worst() -> None:
    ordered = sorted(HealthStatus, key=severity)
    assert [status.value for status in ordered] == [
        "Healthy",
        "Suspended",
        "Progressing",
        "Unknown",
        "Missing",
        "Degraded",
    ]


def test_worst_of_a_group() -> None:
    assert worst([]) is HealthStatus.HEALTHY
    assert worst([HealthStatus.HEALTHY, HealthStatus.SUSPENDED]) is HealthStatus.SUSPENDED
    assert worst([HealthStatus.SUSPENDED, HealthStatus.PROGRESSING]) is HealthStatus.PROGRESSING
    # A failure is never hidden behind an object whose status could not be read.
    assert worst([HealthStatus.DEGRADED, HealthStatus.UNKNOWN]) is HealthStatus.DEGRADED
    assert worst([HealthStatus.MISSING, HealthStatus.UNKNOWN]) is HealthStatus.MISSING


@given(st.lists(st.sampled_from(HealthStatus)))
def test_worst_is_a_member_no_better_than_any(statuses: list[HealthStatus]) -> None:
    result = worst(statuses)
    if statuses:
        assert result in statuses
    assert all(severity(result) >= severity(status) for status in statuses)
    assert worst(reversed(statuses)) is result


def test_health_is_an_immutable_value() -> None:
    assert Health(HealthStatus.HEALTHY) == Health(HealthStatus.HEALTHY, "")
    assert hash(Health(HealthStatus.DEGRADED, "x")) == hash(Health(HealthStatus.DEGRADED, "x"))


def cronjob(status: dict[str, object]) -> dict[str, object]:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "report", "namespace": "shop"},
        "spec": {"schedule": "0 * * * *"},
        "status": status,
    }


def test_timestamps_already_parsed_by_yaml_compare_with_strings() -> None:
    # An unquoted timestamp is loaded as a naive datetime; Kubernetes times are UTC.
    failed = cronjob(
        {
            "lastScheduleTime": datetime(2024, 5, 2, 11, 0),
            "lastSuccessfulTime": "2024-05-02T10:00:12Z",
        }
    )
    assert assess(failed, HealthRules()).status is HealthStatus.DEGRADED
    succeeded = cronjob(
        {
            "lastScheduleTime": "2024-05-02T11:00:00",
            "lastSuccessfulTime": datetime(2024, 5, 2, 11, 0, 40, tzinfo=UTC),
        }
    )
    assert assess(succeeded, HealthRules()).status is HealthStatus.HEALTHY


def test_unquoted_deletion_timestamp_counts() -> None:
    obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "old", "deletionTimestamp": datetime(2024, 5, 2, tzinfo=UTC)},
    }
    assert assess(obj, HealthRules()) == Health(HealthStatus.PROGRESSING, "Pending deletion")


def test_a_status_that_is_not_a_mapping_is_unknown() -> None:
    obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}
    obj["status"] = ["Running"]
    assert assess(obj, HealthRules()) == Health(
        HealthStatus.UNKNOWN,
        "cannot assess health: status is ['Running'], expected a mapping",
    )


def test_a_boolean_is_not_a_replica_count() -> None:
    obj = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "web"},
        "spec": {"replicas": True},
    }
    assert assess(obj, HealthRules()).status is HealthStatus.UNKNOWN


def test_a_condition_without_type_is_unknown() -> None:
    obj = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "status": {"conditions": [{"status": "True"}]},
    }
    assert assess(obj, HealthRules()).status is HealthStatus.UNKNOWN


def test_a_container_that_restarted_cleanly_still_marks_an_unready_pod_degraded() -> None:
    def pod(terminated: dict[str, object]) -> dict[str, object]:
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web", "namespace": "shop"},
            "status": {
                "phase": "Running",
                "conditions": [{"type": "Ready", "status": "False"}],
                "containerStatuses": [{"name": "web", "lastState": {"terminated": terminated}}],
            },
        }

    assert assess(pod({"exitCode": 0}), HealthRules()) == Health(
        HealthStatus.DEGRADED, "container 'web' restarted"
    )
    assert assess(pod({"exitCode": 0, "reason": "Completed"}), HealthRules()) == Health(
        HealthStatus.DEGRADED, "container 'web' restarted (Completed)"
    )
