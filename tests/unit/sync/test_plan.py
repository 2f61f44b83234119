"""Planning: hooks and waves from annotations, create/update/unchanged from managedFields."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from hakobu.errors import InvalidInput
from hakobu.model.objects import Object, object_id
from hakobu.sync.compare import in_sync
from hakobu.sync.manifests import Manifest
from hakobu.sync.ordering import Phase
from hakobu.sync.ownership import InventoryEntry, Owner
from hakobu.sync.plan import Action, DeletePolicy, plan_app, resource_of
from hakobu.sync.waiting import gates_rollout

OWNER = Owner("shop", "dev", "web")


def _entry(obj: Object) -> InventoryEntry:
    return InventoryEntry(object_id(obj), str(obj["apiVersion"]))


def configmap(name: str, **annotations: str) -> Object:
    meta: dict[str, Any] = {"name": name, "namespace": "dev"}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"a": "1"}}


def deployment(image: str = "nginx:1") -> Object:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "dev"},
        "spec": {
            "replicas": 2,
            "template": {"spec": {"containers": [{"name": "web", "image": image}]}},
        },
    }


# What the API server records for hakobu's apply of ``deployment()`` (plus its labels).
DEPLOYMENT_FIELDS: dict[str, Any] = {
    "f:metadata": {
        "f:labels": {
            "f:hakobu.dev/app": {},
            "f:hakobu.dev/environment": {},
            "f:hakobu.dev/project": {},
        }
    },
    "f:spec": {
        "f:replicas": {},
        "f:template": {
            "f:spec": {"f:containers": {'k:{"name":"web"}': {".": {}, "f:image": {}, "f:name": {}}}}
        },
    },
}


def live_from(desired: Object, fields: dict[str, Any], manager: str = "hakobu") -> Object:
    """``desired`` as the server returns it: defaults added, managedFields recorded."""
    live = copy.deepcopy(desired)
    live["metadata"]["uid"] = "1234"
    live["metadata"]["resourceVersion"] = "42"
    live["metadata"]["managedFields"] = [
        {
            "manager": manager,
            "operation": "Apply",
            "apiVersion": desired["apiVersion"],
            "fieldsType": "FieldsV1",
            "fieldsV1": fields,
        }
    ]
    container = live["spec"]["template"]["spec"]["containers"][0]
    container["terminationMessagePath"] = "/dev/termination-log"
    live["spec"]["strategy"] = {"type": "RollingUpdate"}
    live["status"] = {"replicas": 2}
    return live


def resource(obj: Object) -> Any:
    return resource_of(Manifest(obj, "generated/dev/web/x.yaml"), OWNER)


def test_defaults_and_status_do_not_make_a_difference() -> None:
    desired = resource(deployment()).obj
    assert in_sync(desired, live_from(desired, DEPLOYMENT_FIELDS), "hakobu")


def test_a_changed_image_is_an_update() -> None:
    applied = resource(deployment("nginx:1")).obj
    wanted = resource(deployment("nginx:2"))
    plan = plan_app(OWNER, [wanted], {wanted.id: live_from(applied, DEPLOYMENT_FIELDS)}, [])
    assert [s.action for s in plan.steps] == [Action.UPDATE]


def test_a_field_another_manager_took_over_is_a_difference() -> None:
    desired = resource(deployment()).obj
    fields = copy.deepcopy(DEPLOYMENT_FIELDS)
    del fields["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"web"}']["f:image"]
    live = live_from(desired, fields)
    live["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:hot"
    assert not in_sync(desired, live, "hakobu")


def test_an_object_hakobu_never_applied_is_not_in_sync() -> None:
    desired = resource(deployment()).obj
    assert not in_sync(desired, live_from(desired, DEPLOYMENT_FIELDS, manager="kubectl"), "hakobu")


def test_a_number_for_a_quantity_matches_its_string_form() -> None:
    desired = resource(deployment()).obj
    desired["spec"]["template"]["spec"]["containers"][0]["resources"] = {"limits": {"cpu": 1}}
    fields = copy.deepcopy(DEPLOYMENT_FIELDS)
    fields["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"web"}']["f:resources"] = {
        "f:limits": {"f:cpu": {}}
    }
    live = live_from(desired, fields)
    live["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] = "1"
    assert in_sync(desired, live, "hakobu")


def test_missing_objects_are_created_and_hooks_run() -> None:
    hook = resource(configmap("migrate", **{"hakobu.dev/hook": "PreSync"}))
    plain = resource(configmap("settings"))
    plan = plan_app(OWNER, [plain, hook], {plain.id: None}, [])
    assert [(s.resource.id.name, s.action) for s in plan.steps] == [
        ("migrate", Action.RUN),
        ("settings", Action.CREATE),
    ]
    assert hook.delete_policies == {DeletePolicy.BEFORE_HOOK_CREATION}
    assert plan.inventory == {_entry(plain.obj)}


def test_hooks_run_only_when_their_app_changes_unless_always() -> None:
    wanted = resource(deployment())
    applied = wanted.obj
    hook_obj = configmap("migrate", **{"hakobu.dev/hook": "PreSync"})
    hook = resource(hook_obj)
    always = resource(
        configmap("smoke", **{"hakobu.dev/hook": "PostSync", "hakobu.dev/hook-policy": "Always"})
    )
    live = {
        wanted.id: live_from(applied, DEPLOYMENT_FIELDS),
        hook.id: {**hook_obj, "metadata": {**hook_obj["metadata"], "uid": "1"}},
        always.id: None,
    }
    quiet = plan_app(OWNER, [wanted, hook, always], live, [], git_changed=False)
    steps = {s.resource.id.name: s for s in quiet.steps}
    assert steps["web"].action is Action.UNCHANGED
    assert steps["migrate"].action is Action.RECREATE
    assert steps["smoke"].action is Action.RUN
    assert not quiet.changes(pruning=True)
    assert not quiet.runs(steps["migrate"], pruning=False)
    assert quiet.runs(steps["smoke"], pruning=False)
    assert quiet.runs(steps["web"], pruning=False)

    changed = plan_app(OWNER, [wanted, hook, always], live, [], git_changed=True)
    assert all(changed.runs(s, pruning=False) for s in changed.steps)


def test_hook_policy_must_be_known_and_on_a_hook() -> None:
    with pytest.raises(InvalidInput, match="hook-policy"):
        resource(
            configmap("x", **{"hakobu.dev/hook": "PreSync", "hakobu.dev/hook-policy": "Often"})
        )
    with pytest.raises(InvalidInput, match="not a hook"):
        resource(configmap("x", **{"hakobu.dev/hook-policy": "Always"}))


def test_waves_group_steps_in_order() -> None:
    resources = [
        resource(configmap("late", **{"hakobu.dev/sync-wave": "5"})),
        resource(configmap("early", **{"hakobu.dev/sync-wave": "-1"})),
        resource(configmap("middle")),
    ]
    plan = plan_app(OWNER, resources, {}, [])
    waves = plan.of_phase(Phase.SYNC)
    assert [[s.resource.id.name for s in wave] for wave in waves] == [
        ["early"],
        ["middle"],
        ["late"],
    ]


def test_labels_are_stamped_without_touching_the_manifest() -> None:
    manifest = configmap("settings")
    stamped = resource(manifest).obj
    assert stamped["metadata"]["labels"] == OWNER.labels
    assert "labels" not in manifest["metadata"]


def test_hook_policies_are_parsed() -> None:
    hook = resource(
        configmap(
            "notify",
            **{
                "hakobu.dev/hook": "SyncFail",
                "hakobu.dev/hook-delete-policy": "HookSucceeded, HookFailed",
            },
        )
    )
    assert hook.phase is Phase.SYNC_FAIL
    assert hook.delete_policies == {DeletePolicy.HOOK_SUCCEEDED, DeletePolicy.HOOK_FAILED}


@pytest.mark.parametrize(
    ("annotation", "value"),
    [
        ("hakobu.dev/hook", "PreDeploy"),
        ("hakobu.dev/sync-wave", "first"),
        ("hakobu.dev/hook-delete-policy", "Never"),
    ],
)
def test_bad_annotations_name_the_object_and_file(annotation: str, value: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        resource(configmap("settings", **{annotation: value}))
    message = str(raised.value)
    assert "generated/dev/web/x.yaml" in message
    assert "ConfigMap/dev/settings" in message
    assert annotation in message and value in message


def test_inventory_entries_left_out_of_git_are_pruned_in_reverse_order() -> None:
    kept = resource(configmap("kept"))
    gone_cm = {
        **configmap("gone"),
        "metadata": {"name": "gone", "namespace": "dev", "labels": OWNER.labels},
    }
    gone_deploy = {
        **deployment(),
        "metadata": {"name": "web", "namespace": "dev", "labels": OWNER.labels},
    }
    inventory = [
        _entry(kept.obj),
        _entry(gone_cm),
        _entry(gone_deploy),
    ]
    live = {kept.id: None, object_id(gone_cm): gone_cm, object_id(gone_deploy): gone_deploy}
    plan = plan_app(OWNER, [kept], live, inventory)
    assert [c.entry.id.kind for c in plan.prunes] == ["Deployment", "ConfigMap"]
    assert plan.kept == ()


def test_inventory_entries_already_gone_are_not_pruned() -> None:
    gone = configmap("gone")
    plan = plan_app(OWNER, [], {object_id(gone): None}, [_entry(gone)])
    assert plan.prunes == () and plan.kept == ()


def test_only_what_the_rollout_depends_on_gates_the_next_wave() -> None:
    def obj(api: str, kind: str, **spec: str) -> dict[str, object]:
        return {"apiVersion": api, "kind": kind, "metadata": {"name": "x"}, "spec": spec}

    assert gates_rollout(obj("apps/v1", "Deployment"))
    assert gates_rollout(obj("batch/v1", "Job"))
    assert gates_rollout(obj("v1", "Service", type="ClusterIP"))
    assert not gates_rollout(obj("v1", "Service", type="LoadBalancer"))
    assert not gates_rollout(obj("networking.k8s.io/v1", "Ingress"))
    assert not gates_rollout(obj("autoscaling/v2", "HorizontalPodAutoscaler"))
