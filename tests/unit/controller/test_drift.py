"""What counts as drift in a watch event, and how passes for it are spaced."""

from __future__ import annotations

from typing import Any

from hakobu.controller.drift import Drift, DriftLimiter, DriftSeen

Entry = tuple[str, str | None, str | None]  # manager, time, subresource


def event_object(*managers: Entry, labelled: bool = True) -> dict[str, Any]:
    labels = {"hakobu.dev/project": "shop", "hakobu.dev/environment": "dev"} if labelled else {}
    fields = []
    for name, at, sub in managers:
        entry: dict[str, str] = {"manager": name, "operation": "Update"}
        if at:
            entry["time"] = at
        if sub:
            entry["subresource"] = sub
        fields.append(entry)
    return {
        "kind": "Deployment",
        "metadata": {
            "uid": "u1",
            "name": "web",
            "namespace": "shop",
            "labels": labels,
            "managedFields": fields,
        },
    }


HAKOBU: Entry = ("hakobu", "2026-12-03T10:00:00Z", None)


def test_a_change_by_someone_else_is_drift_naming_them() -> None:
    seen = DriftSeen()
    assert seen.judge("ADDED", event_object(HAKOBU)) is None
    edited = event_object(HAKOBU, ("kubectl-edit", "2026-12-03T10:05:00Z", None))
    assert seen.judge("MODIFIED", edited) == Drift(
        ("shop", "dev"), "Deployment shop/web was changed by kubectl-edit", "kubectl-edit"
    )


def test_kubectl_scale_writes_without_a_time_and_is_still_drift() -> None:
    seen = DriftSeen()
    seen.judge("ADDED", event_object(HAKOBU))
    scaled = seen.judge("MODIFIED", event_object(HAKOBU, ("kubectl", None, "scale")))
    assert scaled is not None and scaled.manager == "kubectl"
    # First seen already scaled (the watch started after it): still drift.
    fresh = DriftSeen().judge("MODIFIED", event_object(HAKOBU, ("kubectl", None, "scale")))
    assert fresh is not None and fresh.manager == "kubectl"


def test_status_writes_and_hakobus_own_apply_are_not_drift() -> None:
    seen = DriftSeen()
    seen.judge("ADDED", event_object(HAKOBU))
    status = ("kube-controller-manager", "2026-12-03T10:05:00Z", "status")
    assert seen.judge("MODIFIED", event_object(HAKOBU, status)) is None
    again = ("hakobu", "2026-12-03T10:06:00Z", None)
    assert seen.judge("MODIFIED", event_object(again, status)) is None
    # An entry seen before and unchanged is no new write.
    edit = ("kubectl-edit", "2026-12-03T10:07:00Z", None)
    assert seen.judge("MODIFIED", event_object(again, edit)) is not None
    assert seen.judge("MODIFIED", event_object(again, edit, status)) is None


def test_deletion_is_drift_and_unlabelled_objects_are_not_ours() -> None:
    seen = DriftSeen()
    deleted = seen.judge("DELETED", event_object())
    assert deleted is not None and deleted.what == "Deployment shop/web was deleted"
    assert deleted.manager is None
    assert seen.judge("DELETED", event_object(labelled=False)) is None
    assert seen.judge("ADDED", event_object(("kubectl", "2026-12-03T10:05:00Z", None))) is None


def test_passes_slow_down_and_only_repairs_make_a_fight() -> None:
    now = [0.0]
    limiter = DriftLimiter(first=1, longest=8, window=300, fight_after=3, clock=lambda: now[0])
    delays = []
    for _ in range(5):
        delays.append(limiter.delay("shop"))
        now[0] += 1
    assert delays == [1, 2, 4, 8, 8]
    assert not limiter.fighting("shop")  # passes that found nothing to put back
    for _ in range(3):
        limiter.repaired("shop")
    assert limiter.fighting("shop")
    now[0] += 301
    assert not limiter.fighting("shop")
    assert limiter.delay("shop") == 1


def test_a_rollouts_own_writes_are_not_drift_but_a_persons_request_is() -> None:
    seen = DriftSeen()
    seen.judge("ADDED", event_object(HAKOBU))
    scaled = event_object(HAKOBU, ("hakobu-rollout-scale", "2026-12-03T10:05:00Z", None))
    assert seen.judge("MODIFIED", scaled) is None
    stated = event_object(
        HAKOBU,
        ("hakobu-rollout-scale", "2026-12-03T10:05:00Z", None),
        ("hakobu-rollout-state", "2026-12-03T10:05:01Z", None),
    )
    assert seen.judge("MODIFIED", stated) is None
    promoted = event_object(
        HAKOBU,
        ("hakobu-rollout-scale", "2026-12-03T10:05:00Z", None),
        ("hakobu-rollout-request", "2026-12-03T10:06:00Z", None),
    )
    drift = seen.judge("MODIFIED", promoted)
    assert drift is not None and drift.manager == "hakobu-rollout-request"
