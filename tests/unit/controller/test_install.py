"""The controller's installation: what it declares, how it is applied and what uninstall
removes (the real API server's RBAC and validation are in tests/integration)."""

from __future__ import annotations

from typing import Any

import pytest

from hakobu.cluster.discovery import ApiResource
from hakobu.controller.delivery import FINALIZER
from hakobu.controller.fleetinstance import FINALIZER as FLEET_FINALIZER
from hakobu.controller.install import (
    DEPLOYER,
    NAME,
    DeployScope,
    InstallOptions,
    install,
    manifests,
    uninstall,
)
from hakobu.errors import InvalidInput, OperationFailed
from hakobu.model.objects import Object
from tests.fakes.kube import BUILT_IN, FakeKube

RBAC = "rbac.authorization.k8s.io"
RESOURCES = (
    *BUILT_IN,
    ApiResource("", "v1", "ServiceAccount", "serviceaccounts", namespaced=True),
    ApiResource("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", namespaced=True),
    ApiResource(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        namespaced=False,
    ),
    ApiResource(RBAC, "v1", "ClusterRole", "clusterroles", namespaced=False),
    ApiResource(RBAC, "v1", "ClusterRoleBinding", "clusterrolebindings", namespaced=False),
    ApiResource(RBAC, "v1", "Role", "roles", namespaced=True),
    ApiResource(RBAC, "v1", "RoleBinding", "rolebindings", namespaced=True),
    ApiResource("hakobu.dev", "v1alpha1", "Delivery", "deliveries", namespaced=True),
    ApiResource("hakobu.dev", "v1alpha1", "FleetInstance", "fleetinstances", namespaced=True),
)


def cluster(*, establishes: bool = True) -> FakeKube:
    kube = FakeKube(RESOURCES)

    def apiextensions(obj: Object) -> None:
        if obj["kind"] == "CustomResourceDefinition" and establishes:
            obj["status"] = {"conditions": [{"type": "Established", "status": "True"}]}

    kube.controllers.append(apiextensions)
    return kube


def by_kind(objects: list[Object]) -> dict[str, list[Object]]:
    found: dict[str, list[Object]] = {}
    for obj in objects:
        found.setdefault(obj["kind"], []).append(obj)
    return found


def names(kube: FakeKube) -> set[tuple[str, str, str]]:
    return {(kind, ns, name) for (_, kind, ns, name) in kube.objects}


def test_manifests_in_apply_order_all_labelled() -> None:
    objects = manifests(InstallOptions())
    assert [o["kind"] for o in objects] == [
        "Namespace",
        "CustomResourceDefinition",
        "CustomResourceDefinition",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
        "ClusterRoleBinding",
        "Service",
        "PodDisruptionBudget",
        "Deployment",
    ]
    for obj in objects:
        assert obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "hakobu-install"
        if (
            obj["kind"] not in ("Namespace", "CustomResourceDefinition")
            and "Cluster" not in (obj["kind"])
        ):
            assert obj["metadata"]["namespace"] == "hakobu-system"


def test_the_deployment_runs_locked_down() -> None:
    options = InstallOptions(namespace="ops", replicas=3, image="registry.test/hakobu:1")
    deployment = by_kind(manifests(options))["Deployment"][0]
    spec = deployment["spec"]
    assert spec["replicas"] == 3
    pod = spec["template"]["spec"]
    assert pod["serviceAccountName"] == NAME
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 65532
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = pod["containers"]
    assert container["image"] == "registry.test/hakobu:1"
    assert container["args"] == [
        "controller",
        "--shard-namespace",
        "ops",
        "--listen",
        "0.0.0.0:8080",
    ]
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert container["resources"]["limits"]["memory"] == "512Mi"
    assert set(container["resources"]["requests"]) == {"cpu", "memory"}
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["HOME"] == env["XDG_STATE_HOME"] == "/var/lib/hakobu"
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes[mounts["/var/lib/hakobu"]] == {"name": "state", "emptyDir": {}}
    selector = spec["selector"]["matchLabels"]
    assert selector.items() <= spec["template"]["metadata"]["labels"].items()
    service = by_kind(manifests(options))["Service"][0]["spec"]
    assert service["ports"] == [
        {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}
    ]
    assert service["selector"] == selector
    pdb = by_kind(manifests(options))["PodDisruptionBudget"][0]["spec"]
    assert pdb == {"maxUnavailable": 1, "selector": {"matchLabels": selector}}


def rules_of(objects: list[Object], kind: str, name: str) -> list[dict[str, Any]]:
    (role,) = [o for o in by_kind(objects)[kind] if o["metadata"]["name"] == name]
    rules: list[dict[str, Any]] = role["rules"]
    return rules


def test_the_controller_role_holds_only_its_own_needs() -> None:
    objects = manifests(InstallOptions())
    granted = {
        (group, resource, verb)
        for rule in rules_of(objects, "ClusterRole", NAME)
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    assert ("", "secrets", "get") in granted
    assert not {("", "secrets", "list"), ("", "secrets", "watch")} & granted
    assert ("hakobu.dev", "deliveries", "watch") in granted
    assert ("hakobu.dev", "deliveries", "delete") not in granted
    assert ("hakobu.dev", "deliveries/status", "patch") in granted
    # FleetInstances are read, their finalizer and status written; never made or deleted.
    assert ("hakobu.dev", "fleetinstances", "watch") in granted
    assert ("hakobu.dev", "fleetinstances/status", "patch") in granted
    assert not {("hakobu.dev", "fleetinstances", v) for v in ("create", "delete", "update")} & (
        granted
    )
    assert not any("*" in entry for entry in granted)
    assert not any(resource == "leases" for _, resource, _ in granted)
    (lease_rule, secret_rule) = rules_of(objects, "Role", NAME)
    assert lease_rule["resources"] == ["leases"]
    # In its own namespace, only to make the dashboard's session key.
    assert (secret_rule["resources"], secret_rule["verbs"]) == (["secrets"], ["create"])


def test_deploy_scope_cluster_binds_the_deployer_cluster_wide() -> None:
    bindings = by_kind(manifests(InstallOptions()))
    (deployer,) = [b for b in bindings["ClusterRoleBinding"] if b["metadata"]["name"] == DEPLOYER]
    assert deployer["roleRef"]["name"] == DEPLOYER
    assert deployer["subjects"] == [
        {"kind": "ServiceAccount", "name": NAME, "namespace": "hakobu-system"}
    ]
    assert [b["metadata"]["name"] for b in bindings["RoleBinding"]] == [NAME]


def test_deploy_scope_namespaced_binds_it_in_the_named_namespaces_only() -> None:
    options = InstallOptions(
        deploy_scope=DeployScope.NAMESPACED, deploy_namespaces=("shop", "blog")
    )
    bindings = by_kind(manifests(options))
    assert [b["metadata"]["name"] for b in bindings["ClusterRoleBinding"]] == [NAME]
    deployers = [b for b in bindings["RoleBinding"] if b["metadata"]["name"] == DEPLOYER]
    assert [b["metadata"]["namespace"] for b in deployers] == ["shop", "blog"]
    assert all(b["roleRef"]["kind"] == "ClusterRole" for b in deployers)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"replicas": 0}, "--replicas"),
        ({"image": " "}, "--image"),
        ({"namespace": "Hakobu"}, "namespace 'Hakobu'"),
        ({"deploy_scope": DeployScope.NAMESPACED}, "--deploy-namespaces"),
        ({"deploy_namespaces": ("shop",)}, "--deploy-scope namespaced"),
        (
            {"deploy_scope": DeployScope.NAMESPACED, "deploy_namespaces": ("a/b",)},
            "namespace 'a/b'",
        ),
    ],
)
def test_options_refused(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        InstallOptions(**arguments)


def test_install_applies_everything_and_converges() -> None:
    kube = cluster()
    logged: list[str] = []
    install(kube, InstallOptions(), logged.append)
    assert len(kube.objects) == len(manifests(InstallOptions()))
    assert any("is Established" in line for line in logged)
    entries = kube.get("apps/v1", "Deployment", NAME, "hakobu-system")["metadata"]
    assert [(m["manager"], m["operation"]) for m in entries["managedFields"]] == [
        ("hakobu-install", "Apply")
    ]
    install(kube, InstallOptions(replicas=5), logged.append)
    deployment = kube.get("apps/v1", "Deployment", NAME, "hakobu-system")
    assert deployment["spec"]["replicas"] == 5
    assert deployment["metadata"]["generation"] == 2


def test_install_leaves_a_namespace_that_existed_alone() -> None:
    kube = cluster()
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "platform"}})
    install(kube, InstallOptions(namespace="platform"), lambda _: None)
    assert "labels" not in kube.get("v1", "Namespace", "platform")["metadata"]
    uninstall(kube, "platform", lambda _: None, delete_deliveries=True)
    assert names(kube) == {("Namespace", "", "platform")}


def test_install_fails_when_the_crd_is_never_established() -> None:
    with pytest.raises(OperationFailed, match="not Established"):
        install(
            cluster(establishes=False), InstallOptions(), lambda _: None, established_within=0.3
        )


def test_namespaced_deploy_scope_needs_existing_namespaces() -> None:
    kube = cluster()
    options = InstallOptions(deploy_scope=DeployScope.NAMESPACED, deploy_namespaces=("shop",))
    with pytest.raises(OperationFailed, match="namespace shop of --deploy-namespaces"):
        install(kube, options, lambda _: None)
    assert kube.objects == {}


def test_a_changed_scope_removes_the_bindings_that_granted_more() -> None:
    kube = cluster()
    for ns in ("shop", "blog"):
        kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    install(kube, InstallOptions(), lambda _: None)
    assert ("ClusterRoleBinding", "", DEPLOYER) in names(kube)
    namespaced = InstallOptions(
        deploy_scope=DeployScope.NAMESPACED, deploy_namespaces=("shop", "blog")
    )
    install(kube, namespaced, lambda _: None)
    assert ("ClusterRoleBinding", "", DEPLOYER) not in names(kube)
    install(
        kube,
        InstallOptions(deploy_scope=DeployScope.NAMESPACED, deploy_namespaces=("shop",)),
        lambda _: None,
    )
    deployer_bindings = {
        (k, ns) for k, ns, n in names(kube) if n == DEPLOYER and k == "RoleBinding"
    }
    assert deployer_bindings == {("RoleBinding", "shop")}


def test_uninstall_removes_what_install_made_and_nothing_else() -> None:
    kube = cluster()
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    options = InstallOptions(deploy_scope=DeployScope.NAMESPACED, deploy_namespaces=("shop",))
    install(kube, options, lambda _: None)
    deployed = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "shop",
            "labels": {"hakobu.dev/project": "shop", "hakobu.dev/environment": "prod"},
        },
    }
    kube.apply(deployed, field_manager="hakobu")
    # Someone else's object under one of install's names is not install's to delete.
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": NAME, "namespace": "shop"},
        },
        field_manager="kubectl",
    )
    deleted = uninstall(kube, "hakobu-system", lambda _: None)
    assert {str(t) for t in deleted} >= {
        f"Deployment hakobu-system/{NAME}",
        f"RoleBinding shop/{DEPLOYER}",
        f"ClusterRole {DEPLOYER}",
        "Namespace hakobu-system",
    }
    assert names(kube) == {
        ("Namespace", "", "shop"),
        ("Deployment", "shop", "web"),
        ("ServiceAccount", "shop", NAME),
        ("CustomResourceDefinition", "", "deliveries.hakobu.dev"),
        ("CustomResourceDefinition", "", "fleetinstances.hakobu.dev"),
    }
    assert uninstall(kube, "hakobu-system", lambda _: None) == []
    uninstall(kube, "hakobu-system", lambda _: None, delete_deliveries=True)
    assert not {n for n in names(kube) if n[0] == "CustomResourceDefinition"}


def test_install_into_a_namespace_being_deleted_says_so() -> None:
    kube = cluster()
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": "hakobu-system", "deletionTimestamp": "2026-01-01T00:00:00Z"},
        }
    )
    with pytest.raises(OperationFailed, match="namespace hakobu-system is being deleted"):
        install(kube, InstallOptions(), lambda _: None)


def delivery(kube: FakeKube, name: str, *finalizers: str, ready: str = "") -> None:
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    status = {"conditions": [{"type": "Ready", "status": "False", "message": ready}]}
    kube.create(
        {
            "apiVersion": "hakobu.dev/v1alpha1",
            "kind": "Delivery",
            "metadata": {"name": name, "namespace": name, "finalizers": list(finalizers)},
            "spec": {},
            "status": status,
        }
    )


def test_uninstall_takes_the_controllers_finalizer_off_every_delivery_and_keeps_them() -> None:
    kube = cluster()
    install(kube, InstallOptions(), lambda _: None)
    delivery(kube, "shop", FINALIZER, "example.com/theirs")
    delivery(kube, "blog", FINALIZER)
    logged: list[str] = []
    uninstall(kube, "hakobu-system", logged.append)
    finalizers = {
        name: kube.get("hakobu.dev/v1alpha1", "Delivery", name, name)["metadata"]["finalizers"]
        for name in ("shop", "blog")
    }
    assert finalizers == {"shop": ["example.com/theirs"], "blog": []}
    assert "removed the finalizer of Delivery shop/shop" in logged
    # The controller's roles went first: a replica still stopping cannot put it back.
    assert logged.index("removed the finalizer of Delivery shop/shop") > logged.index(
        f"deleted ClusterRole {NAME}"
    )


def test_uninstall_takes_the_controllers_finalizer_off_every_fleet_instance() -> None:
    kube = cluster()
    install(kube, InstallOptions(), lambda _: None)
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    for name, finalizers in (("berlin", [FLEET_FINALIZER, "example.com/theirs"]), ("rome", [])):
        kube.create(
            {
                "apiVersion": "hakobu.dev/v1alpha1",
                "kind": "FleetInstance",
                "metadata": {"name": name, "namespace": "shop", "finalizers": finalizers},
                "spec": {},
            }
        )
    logged: list[str] = []
    uninstall(kube, "hakobu-system", logged.append)
    berlin = kube.get("hakobu.dev/v1alpha1", "FleetInstance", "berlin", "shop")
    assert berlin["metadata"]["finalizers"] == ["example.com/theirs"]
    assert logged.count("removed the finalizer of FleetInstance shop/berlin") == 1
    assert not any("shop/rome" in line for line in logged)


class HeldDeliveries(FakeKube):
    """Deliveries whose finalizer is never removed (no controller acts on them)."""

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        if method == "DELETE" and "/deliveries/" in path:
            return {"kind": "Status", "status": "Success"}
        return super().request(method, path, **kwargs)


def test_cascade_removes_nothing_while_a_delivery_stays() -> None:
    kube = HeldDeliveries(RESOURCES)
    kube.controllers.extend(cluster().controllers)
    install(kube, InstallOptions(), lambda _: None)
    delivery(kube, "shop", FINALIZER, ready="deleting what it deployed: fetching failed")
    with pytest.raises(OperationFailed) as raised:
        uninstall(kube, "hakobu-system", lambda _: None, cascade=True, timeout=0.2)
    assert raised.value.message == (
        "1 Deliveries were not deleted within 0.2s, so nothing else was removed: shop/shop: "
        "deleting what it deployed: fetching failed"
    )
    assert ("Deployment", "hakobu-system", NAME) in names(kube)


def test_cascade_deletes_every_delivery_before_the_controller() -> None:
    kube = cluster()
    install(kube, InstallOptions(), lambda _: None)
    delivery(kube, "shop", FINALIZER)
    logged: list[str] = []
    uninstall(kube, "hakobu-system", logged.append, cascade=True)
    assert logged[0] == "deleting Delivery shop/shop"
    assert logged[1] == f"deleted Deployment hakobu-system/{NAME}"
    assert not [key for key in names(kube) if key[0] in ("Delivery", "CustomResourceDefinition")]
