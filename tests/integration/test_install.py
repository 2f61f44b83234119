"""``hakobu install`` and ``uninstall`` against a real API server: the objects validate, the
controller's ServiceAccount may do what it needs and nothing it should not (asked of the
API server's own authorizer), and uninstall leaves what Deliveries deployed."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest
import yaml

from hakobu.cli.main import main
from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import NotFound
from hakobu.controller.install import DEPLOYER, NAME
from hakobu.localcluster.controlplane import ClusterInfo
from hakobu.model.objects import Object

pytestmark = pytest.mark.cluster

RBAC = "rbac.authorization.k8s.io/v1"
CRD = ("apiextensions.k8s.io/v1", "CustomResourceDefinition", "deliveries.hakobu.dev")


def hakobu(capsys: pytest.CaptureFixture[str], info: ClusterInfo, *args: str) -> str:
    capsys.readouterr()
    code = main([*args, "--kubeconfig", info.kubeconfig])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


@pytest.fixture
def controller_namespace(
    kube: KubeClient, local_cluster: ClusterInfo, capsys: pytest.CaptureFixture[str]
) -> Iterator[str]:
    """A namespace name for the controller that does not exist yet; whatever a test
    installed there is uninstalled afterwards."""
    name = f"hakobu-{uuid.uuid4().hex[:6]}"
    yield name
    main(["uninstall", "--namespace", name, "--kubeconfig", local_cluster.kubeconfig])


def can(kube: KubeClient, namespace: str, verb: str, resource: str, where: str | None) -> bool:
    """Whether the controller's ServiceAccount in ``namespace`` may ``verb`` ``resource``,
    written as kubectl auth can-i writes it: ``plural[.group][/subresource]``."""
    head, _, subresource = resource.partition("/")
    plural, _, group = head.partition(".")
    attributes = {"verb": verb, "group": group, "resource": plural, "subresource": subresource}
    if where:
        attributes["namespace"] = where
    review = kube.create(
        {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "metadata": {},
            "spec": {
                "user": f"system:serviceaccount:{namespace}:{NAME}",
                "groups": [
                    "system:serviceaccounts",
                    f"system:serviceaccounts:{namespace}",
                    "system:authenticated",
                ],
                "resourceAttributes": attributes,
            },
        }
    )
    allowed: bool = review["status"].get("allowed", False)
    return allowed


def test_dry_run_prints_objects_the_api_server_accepts(
    kube: KubeClient, namespace: str, local_cluster: ClusterInfo, capsys: pytest.CaptureFixture[str]
) -> None:
    out = hakobu(
        capsys, local_cluster, "install", "--dry-run", "-o", "yaml", "--namespace", namespace
    )
    objects: list[Object] = list(yaml.safe_load_all(out))
    listed = json.loads(
        hakobu(
            capsys, local_cluster, "install", "--dry-run", "-o", "json", "--namespace", namespace
        )
    )
    assert listed["kind"] == "List" and listed["items"] == objects
    assert {o["kind"] for o in objects} >= {"Deployment", "CustomResourceDefinition", "Service"}
    for obj in objects:
        if obj["kind"] == "Namespace":
            continue  # the test's namespace stands in for it: a dry run creates nothing
        # Forced: the cluster-wide roles have fixed names, and another test may have
        # applied them for another namespace; a dry run takes nothing over.
        stored = kube.apply(obj, field_manager="hakobu-install", dry_run=True, force=True)
        assert stored["metadata"]["name"] == obj["metadata"]["name"]
    with pytest.raises(NotFound):
        kube.get("apps/v1", "Deployment", NAME, namespace)


def test_install_grants_what_the_controller_needs_and_uninstall_takes_it_back(
    kube: KubeClient,
    namespace: str,
    controller_namespace: str,
    local_cluster: ClusterInfo,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ctl = controller_namespace
    out = hakobu(
        capsys,
        local_cluster,
        *("install", "--namespace", ctl, "--replicas", "3", "--image", "hakobu-controller:t"),
        *("--deploy-scope", "namespaced", "--deploy-namespaces", namespace),
    )
    assert f"namespace {ctl} (3 replicas of hakobu-controller:t)" in out
    crd = kube.get(*CRD)
    assert any(
        c["type"] == "Established" and c["status"] == "True" for c in crd["status"]["conditions"]
    )
    for api_version, kind, name, where in (
        ("v1", "ServiceAccount", NAME, ctl),
        ("v1", "Service", NAME, ctl),
        ("policy/v1", "PodDisruptionBudget", NAME, ctl),
        (RBAC, "ClusterRole", NAME, None),
        (RBAC, "ClusterRole", DEPLOYER, None),
        (RBAC, "ClusterRoleBinding", NAME, None),
        (RBAC, "Role", NAME, ctl),
        (RBAC, "RoleBinding", NAME, ctl),
        (RBAC, "RoleBinding", DEPLOYER, namespace),
    ):
        kube.get(api_version, kind, name, where)
    with pytest.raises(NotFound):
        kube.get(RBAC, "ClusterRoleBinding", DEPLOYER)
    # The ReplicaSet controller creates the Pods: the template passed admission.
    wait_for(lambda: len(pods(kube, ctl)) == 3, "3 controller Pods")
    pod = pods(kube, ctl)[0]
    assert pod["spec"]["serviceAccountName"] == NAME
    assert pod["spec"]["containers"][0]["args"][:3] == ["controller", "--shard-namespace", ctl]

    def allowed(verb: str, resource: str, where: str | None = None) -> bool:
        return can(kube, ctl, verb, resource, where)

    elsewhere = "kube-system"
    for verb in ("get", "list", "watch", "patch"):
        assert allowed(verb, "deliveries.hakobu.dev", namespace), verb
    assert allowed("patch", "deliveries.hakobu.dev/status", elsewhere)
    assert allowed("update", "deliveries.hakobu.dev/status", namespace)
    assert allowed("create", "events", namespace)
    assert allowed("get", "secrets", elsewhere)
    for verb in ("get", "list", "watch", "create", "update", "delete"):
        assert allowed(verb, "leases.coordination.k8s.io", ctl), verb
    assert allowed("create", "tokenreviews.authentication.k8s.io")
    assert allowed("create", "subjectaccessreviews.authorization.k8s.io")
    # The dashboard's session key: made in the controller's own namespace, never changed.
    assert allowed("create", "secrets", ctl)
    assert allowed("get", "secrets", ctl)
    # What Deliveries deploy: anything, but only in the namespaces it was given.
    for verb, resource in (("create", "deployments.apps"), ("delete", "configmaps")):
        assert allowed(verb, resource, namespace), (verb, resource)

    assert not allowed("list", "secrets", elsewhere)
    assert not allowed("watch", "secrets", elsewhere)
    assert not allowed("create", "secrets", elsewhere)
    for verb in ("update", "patch", "delete", "list"):
        assert not allowed(verb, "secrets", ctl), verb
    assert not allowed("create", "leases.coordination.k8s.io", elsewhere)
    assert not allowed("delete", "deliveries.hakobu.dev", elsewhere)
    assert not allowed("create", "deliveries.hakobu.dev", elsewhere)
    assert not allowed("create", "deployments.apps", elsewhere)
    assert not allowed("delete", "customresourcedefinitions.apiextensions.k8s.io")
    assert not allowed("create", "clusterrolebindings.rbac.authorization.k8s.io")
    assert not allowed("create", "namespaces")

    # What a Delivery deployed: hakobu's owner labels, in a namespace of its own.
    kube.apply(deployed_deployment(namespace), field_manager="hakobu")
    hakobu(capsys, local_cluster, "uninstall", "--namespace", ctl)
    for api_version, kind, name, where in (
        ("apps/v1", "Deployment", NAME, ctl),
        ("v1", "ServiceAccount", NAME, ctl),
        (RBAC, "ClusterRole", NAME, None),
        (RBAC, "ClusterRole", DEPLOYER, None),
        (RBAC, "ClusterRoleBinding", NAME, None),
        (RBAC, "RoleBinding", DEPLOYER, namespace),
    ):
        assert gone(kube, api_version, kind, name, where), (kind, name)
    assert gone(kube, "v1", "Namespace", ctl, None)
    kube.get("apps/v1", "Deployment", "web", namespace)
    kube.get(*CRD)
    assert not allowed("create", "deployments.apps", namespace)


def test_a_changed_deploy_scope_takes_back_cluster_wide_rights(
    kube: KubeClient,
    namespace: str,
    controller_namespace: str,
    local_cluster: ClusterInfo,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ctl = controller_namespace
    hakobu(capsys, local_cluster, "install", "--namespace", ctl)
    assert can(kube, ctl, "create", "deployments.apps", "kube-system")
    hakobu(
        capsys,
        local_cluster,
        *("install", "--namespace", ctl, "--deploy-scope", "namespaced"),
        *("--deploy-namespaces", namespace),
    )
    assert not can(kube, ctl, "create", "deployments.apps", "kube-system")
    assert can(kube, ctl, "create", "deployments.apps", namespace)


def test_uninstall_deletes_deliveries_only_when_asked(
    kube: KubeClient,
    namespace: str,
    controller_namespace: str,
    local_cluster: ClusterInfo,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hakobu(capsys, local_cluster, "install", "--namespace", controller_namespace)
    hakobu(
        capsys,
        local_cluster,
        "delivery",
        "create",
        "shop",
        "--repo",
        "u",
        "--env",
        "e",
        "-n",
        namespace,
    )
    out = hakobu(capsys, local_cluster, "uninstall", "--namespace", controller_namespace)
    assert "kept the Delivery and FleetInstance CRDs" in out
    kube.get("hakobu.dev/v1alpha1", "Delivery", "shop", namespace)
    hakobu(
        capsys,
        local_cluster,
        "uninstall",
        "--namespace",
        controller_namespace,
        "--delete-deliveries",
    )
    # The CRD's finalizer deletes every Delivery before the CRD itself goes.
    wait_for(lambda: absent(kube, *CRD, None), "the CRD and its Deliveries to be deleted")


def deployed_deployment(namespace: str) -> Object:
    labels = {"app": "web"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": namespace,
            "labels": {
                "hakobu.dev/project": "shop",
                "hakobu.dev/environment": "prod",
                "hakobu.dev/app": "web",
            },
        },
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "web", "image": "web:1"}]},
            },
        },
    }


def pods(kube: KubeClient, namespace: str) -> list[Object]:
    return kube.list("v1", "Pod", namespace, label_selector="app.kubernetes.io/name=hakobu").items


def gone(kube: KubeClient, api_version: str, kind: str, name: str, where: str | None) -> bool:
    """Deleted, or being deleted (a namespace waits for its contents)."""
    try:
        obj = kube.get(api_version, kind, name, where)
    except NotFound:
        return True
    return bool(obj["metadata"].get("deletionTimestamp"))


def absent(kube: KubeClient, api_version: str, kind: str, name: str, where: str | None) -> bool:
    try:
        kube.get(api_version, kind, name, where)
    except NotFound:
        return True
    return False


def wait_for(condition: object, what: str, within: float = 30.0) -> None:
    assert callable(condition)
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"waited {within:g}s for {what}"
        time.sleep(0.2)
