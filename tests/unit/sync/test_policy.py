"""Apply policies (``hakobu.dev/ssa``) and recreating what the server refuses as immutable
(``hakobu.dev/recreate``), against the in-memory API server. The real control plane runs
the same in tests/integration/test_sync_policy.py."""

from __future__ import annotations

from typing import Any

import pytest

from hakobu.cluster.errors import Invalid
from hakobu.errors import InvalidInput
from hakobu.model.objects import Object
from hakobu.sync import diff_app, observe
from hakobu.sync.apply import invalid_message
from hakobu.sync.run import Outcome
from hakobu.sync.status import SyncState, app_status
from tests.fakes.kube import FakeKube
from tests.unit.sync.test_engine import ENV, NS, PROJECT, desired, inventory, names, run


def configmap(name: str, annotations: dict[str, str] | None = None, **data: str) -> Object:
    metadata: dict[str, Any] = {"name": name, "namespace": NS}
    if annotations:
        metadata["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}


def status(kube: FakeKube, *objects: Object, revision: str = "r1") -> SyncState:
    (state,) = observe(kube, PROJECT, ENV, desired(*objects, revision=revision))
    return app_status(state, PROJECT.health).sync


def data(kube: FakeKube, name: str) -> Any:
    stored = kube.stored("ConfigMap", name, NS)
    assert stored is not None
    return stored["data"]


IF_NOT_PRESENT = {"hakobu.dev/ssa": "IfNotPresent"}
IGNORE = {"hakobu.dev/ssa": "Ignore"}
MERGE = {"hakobu.dev/ssa": "Merge"}
RECREATE = {"hakobu.dev/recreate": "true"}


def test_if_not_present_creates_once_and_never_updates() -> None:
    kube = FakeKube()
    assert run(kube, desired(configmap("seed", IF_NOT_PRESENT, key="git"))).apps[0].created == 1
    kube.apply(configmap("seed", key="by hand"), field_manager="kubectl", force=True)

    changed = configmap("seed", IF_NOT_PRESENT, key="git 2")
    result = run(kube, desired(changed, revision="r2"))

    assert result.succeeded and result.applied == 0 and result.apps[0].unchanged == 1
    assert data(kube, "seed") == {"key": "by hand"}
    assert status(kube, changed, revision="r2") is SyncState.SYNCED
    # Still hakobu's: in the inventory, and created again when it goes missing.
    assert inventory(kube) == {"seed"}
    kube.delete("v1", "ConfigMap", "seed", NS)
    assert run(kube, desired(changed, revision="r3")).apps[0].created == 1
    assert data(kube, "seed") == {"key": "git 2"}


def test_ignore_is_neither_applied_nor_pruned_nor_counted() -> None:
    kube = FakeKube()
    result = run(kube, desired(configmap("keep"), configmap("skipped", IGNORE)))
    assert result.succeeded and result.applied == 1
    assert names(kube) == {"keep"}
    assert status(kube, configmap("keep"), configmap("skipped", IGNORE)) is SyncState.SYNCED

    # An object hakobu applied, then annotated Ignore in git: left as it is, and not
    # pruned when it leaves git afterwards.
    run(kube, desired(configmap("keep"), configmap("frozen", key="v1"), revision="r2"))
    frozen = configmap("frozen", IGNORE, key="v2")
    run(kube, desired(configmap("keep"), frozen, revision="r3"), prune=True)
    assert data(kube, "frozen") == {"key": "v1"}
    assert "frozen" not in inventory(kube)
    pruned = run(kube, desired(configmap("keep"), revision="r4"), prune=True)
    assert pruned.succeeded and pruned.pruned == 0
    assert names(kube) == {"keep", "frozen"}


def test_a_live_object_annotated_ignore_is_skipped_and_never_pruned() -> None:
    kube = FakeKube()
    run(kube, desired(configmap("keep"), configmap("paused", key="v1")))
    # kubectl annotate configmap paused hakobu.dev/ssa=Ignore
    stored = kube.stored("ConfigMap", "paused", NS)
    assert stored is not None
    stored["metadata"]["annotations"] = IGNORE

    changed = run(kube, desired(configmap("keep"), configmap("paused", key="v2"), revision="r2"))
    assert changed.succeeded and changed.applied == 0
    assert data(kube, "paused") == {"key": "v1"}

    # Left out of the inventory: whatever git does with it now, hakobu never deletes it.
    assert "paused" not in inventory(kube)
    dropped = run(kube, desired(configmap("keep"), revision="r3"), prune=True)
    assert dropped.succeeded and dropped.pruned == 0
    assert names(kube) == {"keep", "paused"}


def test_prune_spares_an_object_annotated_ignore_in_the_cluster() -> None:
    kube = FakeKube()
    run(kube, desired(configmap("keep"), configmap("paused")))
    stored = kube.stored("ConfigMap", "paused", NS)
    assert stored is not None
    stored["metadata"]["annotations"] = IGNORE

    dropped = run(kube, desired(configmap("keep"), revision="r2"), prune=True)

    assert dropped.succeeded and dropped.pruned == 0
    assert any("annotated hakobu.dev/ssa: Ignore" in m for m in dropped.apps[0].messages)
    assert names(kube) == {"keep", "paused"}


def test_merge_leaves_a_field_another_manager_took_and_applies_the_rest() -> None:
    kube = FakeKube()
    first = configmap("shared", MERGE, replicas="2", mode="fast")
    run(kube, desired(first))
    # An autoscaler (or a kubectl edit) takes one of git's fields over.
    kube.apply(configmap("shared", replicas="5"), field_manager="autoscaler", force=True)

    assert status(kube, first) is SyncState.SYNCED
    second = configmap("shared", MERGE, replicas="3", mode="slow")
    result = run(kube, desired(second, revision="r2"))

    assert result.succeeded, result.apps[0].messages
    assert data(kube, "shared") == {"replicas": "5", "mode": "slow"}
    assert status(kube, second, revision="r2") is SyncState.SYNCED


def test_override_reports_the_same_change_as_drift() -> None:
    kube = FakeKube()
    first = configmap("shared", replicas="2", mode="fast")
    run(kube, desired(first))
    kube.apply(configmap("shared", replicas="5"), field_manager="autoscaler", force=True)

    assert status(kube, first) is SyncState.DRIFTED


def immutable_configmap(value: str, annotations: dict[str, str] | None = None) -> Object:
    obj = configmap("frozen", annotations, key=value)
    obj["immutable"] = True
    return obj


def test_an_immutable_change_without_opt_in_fails_with_the_servers_message_and_the_option() -> None:
    kube = FakeKube()
    kube.immutable["ConfigMap"] = {("data",)}
    run(kube, desired(immutable_configmap("v1")))
    uid = kube.get("v1", "ConfigMap", "frozen", NS)["metadata"]["uid"]

    result = run(kube, desired(immutable_configmap("v2"), revision="r2"))

    assert result.result is Outcome.FAILED
    (message,) = result.apps[0].messages
    assert "field is immutable" in message and 'hakobu.dev/recreate: "true"' in message
    assert kube.get("v1", "ConfigMap", "frozen", NS)["metadata"]["uid"] == uid
    (diff,) = diff_app(kube, observe(kube, PROJECT, ENV, desired(immutable_configmap("v2")))[0])
    assert diff.change == "rejected" and "hakobu.dev/recreate" in diff.note


def test_an_immutable_change_with_opt_in_is_shown_then_recreated() -> None:
    kube = FakeKube()
    kube.immutable["ConfigMap"] = {("data",)}
    run(kube, desired(immutable_configmap("v1", RECREATE)))
    uid = kube.get("v1", "ConfigMap", "frozen", NS)["metadata"]["uid"]
    state = desired(immutable_configmap("v2", RECREATE), revision="r2")

    (diff,) = diff_app(kube, observe(kube, PROJECT, ENV, state)[0])
    assert diff.change == "recreate" and "immutable" in diff.note
    assert "+  key: v2" in diff.text
    dry = run(kube, state, dry_run=True)
    assert dry.succeeded and dry.apps[0].recreated == 1
    assert kube.get("v1", "ConfigMap", "frozen", NS)["metadata"]["uid"] == uid

    result = run(kube, state)

    assert result.succeeded and result.apps[0].recreated == 1 and result.applied == 1
    assert any("recreated" in m and "immutable" in m for m in result.apps[0].messages)
    live = kube.get("v1", "ConfigMap", "frozen", NS)
    assert live["metadata"]["uid"] != uid and live["data"] == {"key": "v2"}
    assert status(kube, immutable_configmap("v2", RECREATE), revision="r2") is SyncState.SYNCED


@pytest.mark.parametrize(
    ("annotations", "expected"),
    [
        ({"hakobu.dev/ssa": "Replace"}, "'Replace' is not an apply policy"),
        ({"hakobu.dev/recreate": "yes"}, "'yes' is neither"),
        (
            {"hakobu.dev/hook": "PreSync", "hakobu.dev/ssa": "IfNotPresent"},
            "a hook is created afresh",
        ),
    ],
)
def test_a_bad_policy_annotation_names_the_file_and_the_values(
    annotations: dict[str, str], expected: str
) -> None:
    with pytest.raises(InvalidInput, match=expected) as raised:
        run(FakeKube(), desired(configmap("odd", annotations)))
    assert "web/odd.yaml: ConfigMap/shop-dev/odd" in str(raised.value)


def test_a_refusal_names_each_field_and_reason_without_a_value_too_long_to_read() -> None:
    template = "{" + ", ".join(f'"Field{i}": null' for i in range(40)) + "}"
    error = Invalid(
        422,
        "Invalid",
        f'Job.batch "seed" is invalid: spec.template: Invalid value: {template}: field is '
        "immutable",
        {
            "details": {
                "causes": [
                    {
                        "field": "spec.template",
                        "message": f"Invalid value: {template}: field is immutable",
                    },
                    {"field": "spec.replicas", "message": "Invalid value: -1: must be >= 0"},
                ]
            }
        },
    )

    assert invalid_message(error) == (
        'Job.batch "seed" is invalid: spec.template: Invalid value: …: field is immutable; '
        "spec.replicas: Invalid value: -1: must be >= 0"
    )
    plain = Invalid(422, "Invalid", "refused by a webhook", {})
    assert invalid_message(plain) == "refused by a webhook"
