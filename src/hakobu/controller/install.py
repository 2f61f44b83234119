"""The controller's installation: the objects ``hakobu install`` applies and ``hakobu
uninstall`` removes.

Everything is applied with server-side apply as field manager ``hakobu-install``, so a
second install converges (a changed --replicas or --image is one more apply) and fields
others set are left alone. What install creates carries ``app.kubernetes.io/managed-by:
hakobu-install``; uninstall deletes exactly those objects, by name, and never anything a
Delivery deployed.

Two identities of privilege, kept apart so each can be read and narrowed on its own:

- ``hakobu-controller`` (ClusterRole, and a Role in the controller's namespace): what the
  controller needs for itself — read and watch Deliveries, patch them and write their
  status, record Events, read the git Secrets Deliveries name (in any namespace a Delivery
  may live in, hence cluster-wide ``get``, never ``list``), hold its Leases in its own
  namespace only, and ask the API server who a dashboard caller is (TokenReview) and what
  they may do (SubjectAccessReview) — what ``system:auth-delegator`` grants, without its
  binding's breadth. The first replica to start makes the Secret holding the dashboard's
  session key in its own namespace (``create`` there only; reading it is the ``get``
  above), so install never prints or overwrites it.
- ``hakobu-deployer`` (ClusterRole): what the Deliveries deploy. A GitOps controller applies
  whatever git declares, so by default it may do anything, bound cluster-wide (as Argo CD's
  application controller is); with a namespaced scope it is bound by RoleBindings in the
  listed namespaces only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from hakobu import __version__
from hakobu.cluster.api import KubeApi
from hakobu.cluster.errors import Conflict, Invalid, NotFound
from hakobu.controller.crd import delivery_crd
from hakobu.controller.deliveries import (
    JSON_PATCH,
    NotInstalled,
    delivery_path,
    list_deliveries,
    set_finalizer,
)
from hakobu.controller.delivery import FINALIZER, GROUP, PLURAL, VERSION, DeliveryRef
from hakobu.controller.fleetcrd import fleet_instance_crd
from hakobu.controller.fleetinstance import FINALIZER as FLEET_INSTANCE_FINALIZER
from hakobu.controller.fleetinstance import PLURAL as FLEET_INSTANCES
from hakobu.errors import InvalidInput, OperationFailed
from hakobu.model.identity import identity_problem
from hakobu.model.objects import Object

FIELD_MANAGER = "hakobu-install"
DEFAULT_NAMESPACE = "hakobu-system"
DEFAULT_REPLICAS = 2
DEFAULT_IMAGE = f"hakobu-controller:{__version__}"
NAME = "hakobu-controller"
DEPLOYER = "hakobu-deployer"
CRD_NAME = f"{PLURAL}.{GROUP}"
FLEET_INSTANCE_CRD_NAME = f"{FLEET_INSTANCES}.{GROUP}"
PORT = 8080
# Holds the dashboard's session key; made by the controller (see hakobu.web.sessionkey).
SESSION_SECRET = "hakobu-dashboard-session"  # noqa: S105 (a Secret's name)
# Where the controller keeps its git clones; HOME and XDG_STATE_HOME point here, since the
# root file system is read-only.
STATE_DIR = "/var/lib/hakobu"
# The image's non-root user (the Dockerfile's), so runAsNonRoot can be checked by kubelet.
USER_ID = 65532

_RBAC = "rbac.authorization.k8s.io/v1"
_CRD_API = "apiextensions.k8s.io/v1"

MANAGED_BY = {"app.kubernetes.io/managed-by": FIELD_MANAGER}
SELECTOR = {"app.kubernetes.io/name": "hakobu", "app.kubernetes.io/component": "controller"}
LABELS = {**SELECTOR, **MANAGED_BY, "app.kubernetes.io/version": __version__}

Log = Callable[[str], None]


class Target(NamedTuple):
    api_version: str
    kind: str
    name: str
    namespace: str | None

    def __str__(self) -> str:
        where = self.name if self.namespace is None else f"{self.namespace}/{self.name}"
        return f"{self.kind} {where}"


class DeployScope(StrEnum):
    CLUSTER = "cluster"
    NAMESPACED = "namespaced"


@dataclass(frozen=True)
class InstallOptions:
    namespace: str = DEFAULT_NAMESPACE
    replicas: int = DEFAULT_REPLICAS
    image: str = DEFAULT_IMAGE
    deploy_scope: DeployScope = DeployScope.CLUSTER
    deploy_namespaces: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.replicas < 1:
            raise InvalidInput(f"--replicas: expected 1 or more, found {self.replicas}")
        if not self.image.strip():
            raise InvalidInput("--image: expected an image reference such as repo/name:tag")
        for namespace in (self.namespace, *self.deploy_namespaces):
            problem = identity_problem(_namespace(namespace))
            if problem is not None:
                raise InvalidInput(f"namespace {namespace!r}: {problem[1]}")
        if self.deploy_scope is DeployScope.NAMESPACED and not self.deploy_namespaces:
            raise InvalidInput(
                "--deploy-scope namespaced: expected --deploy-namespaces a,b naming where "
                "Deliveries may deploy"
            )
        if self.deploy_scope is DeployScope.CLUSTER and self.deploy_namespaces:
            raise InvalidInput(
                "--deploy-namespaces: only meaningful with --deploy-scope namespaced"
            )


def controller_args(namespace: str) -> list[str]:
    """What the Deployment runs (after the image's ``hakobu`` entry point): the controller,
    sharding Deliveries among the replicas through Leases in ``namespace``, serving the
    dashboard, /hooks, /metrics, /healthz and /readyz on every address of the Pod."""
    return ["controller", "--shard-namespace", namespace, "--listen", f"0.0.0.0:{PORT}"]


def manifests(options: InstallOptions) -> list[Object]:
    """Every object of an installation, in the order it is applied (Namespaces and CRDs
    first, the workload last)."""
    ns = options.namespace
    crds = [delivery_crd(), fleet_instance_crd()]
    for crd in crds:
        crd["metadata"]["labels"] = dict(MANAGED_BY)
    objects: list[Object] = [
        _namespace(ns),
        *crds,
        _meta("v1", "ServiceAccount", NAME, ns),
        {**_meta(_RBAC, "ClusterRole", NAME), "rules": CONTROLLER_RULES},
        {**_meta(_RBAC, "ClusterRole", DEPLOYER), "rules": DEPLOYER_RULES},
        _binding("ClusterRoleBinding", NAME, None, role_kind="ClusterRole", sa_namespace=ns),
        {**_meta(_RBAC, "Role", NAME, ns), "rules": LEASE_RULES},
        _binding("RoleBinding", NAME, ns, role_kind="Role", sa_namespace=ns),
    ]
    if options.deploy_scope is DeployScope.CLUSTER:
        objects.append(
            _binding("ClusterRoleBinding", DEPLOYER, None, role_kind="ClusterRole", sa_namespace=ns)
        )
    else:
        objects += [
            _binding("RoleBinding", DEPLOYER, target, role_kind="ClusterRole", sa_namespace=ns)
            for target in options.deploy_namespaces
        ]
    objects += [_service(ns), _disruption_budget(ns), _deployment(options)]
    return objects


CONTROLLER_RULES: list[dict[str, Any]] = [
    {"apiGroups": [GROUP], "resources": [PLURAL], "verbs": ["get", "list", "watch", "patch"]},
    {"apiGroups": [GROUP], "resources": [f"{PLURAL}/status"], "verbs": ["update", "patch"]},
    # FleetInstances: read, their finalizer (patch), their status; never created or deleted.
    {
        "apiGroups": [GROUP],
        "resources": [FLEET_INSTANCES],
        "verbs": ["get", "list", "watch", "patch"],
    },
    {"apiGroups": [GROUP], "resources": [f"{FLEET_INSTANCES}/status"], "verbs": ["patch"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
    # A Delivery's secretRef names a Secret in its own namespace, and Deliveries may live in
    # any namespace: get by name only, so Secrets are never listed or watched.
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]},
    {"apiGroups": ["authentication.k8s.io"], "resources": ["tokenreviews"], "verbs": ["create"]},
    {
        "apiGroups": ["authorization.k8s.io"],
        "resources": ["subjectaccessreviews"],
        "verbs": ["create"],
    },
]
LEASE_RULES: list[dict[str, Any]] = [
    {
        "apiGroups": ["coordination.k8s.io"],
        "resources": ["leases"],
        "verbs": ["get", "list", "watch", "create", "update", "delete"],
    },
    # The dashboard's session key, made by the first replica (create cannot be narrowed by
    # name: RBAC knows no name before the object exists).
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
]
DEPLOYER_RULES: list[dict[str, Any]] = [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]


def _meta(api_version: str, kind: str, name: str, namespace: str | None = None) -> Object:
    metadata: dict[str, Any] = {"name": name, "labels": dict(LABELS)}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata}


def _namespace(name: str) -> Object:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": dict(MANAGED_BY)},
    }


def _binding(
    kind: str, name: str, namespace: str | None, *, role_kind: str, sa_namespace: str
) -> Object:
    """A binding of the role named ``name`` to the controller's ServiceAccount."""
    role = name
    return {
        **_meta(_RBAC, kind, name, namespace),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": sa_namespace}],
    }


def _service(namespace: str) -> Object:
    return {
        **_meta("v1", "Service", NAME, namespace),
        "spec": {
            "selector": dict(SELECTOR),
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def _disruption_budget(namespace: str) -> Object:
    return {
        **_meta("policy/v1", "PodDisruptionBudget", NAME, namespace),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": dict(SELECTOR)}},
    }


def _probe(path: str, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "failureThreshold": failures,
        "timeoutSeconds": 2,
    }


def _deployment(options: InstallOptions) -> Object:
    field_ref = [
        {"name": env, "valueFrom": {"fieldRef": {"fieldPath": path}}}
        for env, path in (("POD_NAME", "metadata.name"), ("POD_NAMESPACE", "metadata.namespace"))
    ]
    container = {
        "name": "controller",
        "image": options.image,
        "args": controller_args(options.namespace),
        "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
        "env": [
            *field_ref,
            {"name": "HOME", "value": STATE_DIR},
            {"name": "XDG_STATE_HOME", "value": STATE_DIR},
            {"name": "XDG_CACHE_HOME", "value": f"{STATE_DIR}/cache"},
        ],
        "readinessProbe": _probe("/readyz", 5, 3),
        "livenessProbe": _probe("/healthz", 10, 6),
        "resources": {
            "requests": {"cpu": "100m", "memory": "256Mi"},
            "limits": {"memory": "512Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "state", "mountPath": STATE_DIR},
            # Python and git write temporary files; the root file system is read-only.
            {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108 - the container's, an emptyDir
        ],
    }
    pod_spec = {
        "serviceAccountName": NAME,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": USER_ID,
            "runAsGroup": USER_ID,
            "fsGroup": USER_ID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
        "volumes": [{"name": "state", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}],
    }
    return {
        **_meta("apps/v1", "Deployment", NAME, options.namespace),
        "spec": {
            "replicas": options.replicas,
            "selector": {"matchLabels": dict(SELECTOR)},
            "template": {"metadata": {"labels": dict(LABELS)}, "spec": pod_spec},
        },
    }


# -- install and uninstall ----------------------------------------------------------------


def install(
    kube: KubeApi, options: InstallOptions, log: Log, *, established_within: float = 60.0
) -> list[Object]:
    """Apply the installation; returns the objects as stored. The CRD must be Established
    before the command returns, so a Delivery created right after is accepted."""
    for target in options.deploy_namespaces:
        try:
            kube.get("v1", "Namespace", target)
        except NotFound:
            raise OperationFailed(
                f"namespace {target} of --deploy-namespaces does not exist",
                hint="create it first: a namespaced deployer cannot create namespaces",
            ) from None
    stored = []
    for obj in manifests(options):
        if obj["kind"] == "Namespace" and _exists(kube, obj):
            # A namespace that was there before is not taken over: uninstall deletes only
            # a namespace install created (labelled managed-by).
            continue
        # Forced: install's flags are the word on these fields (a `kubectl scale` since
        # the last install is overruled by --replicas), as a GitOps apply is.
        stored.append(kube.apply(obj, field_manager=FIELD_MANAGER, force=True))
        log(f"applied {obj['kind']} {_where(obj)}")
        if obj["kind"] == "CustomResourceDefinition":
            _wait_established(kube, obj["metadata"]["name"], established_within, log)
    _remove_stale_deployer_bindings(kube, options, log)
    return stored


def _exists(kube: KubeApi, obj: Object) -> bool:
    try:
        live = kube.get(obj["apiVersion"], obj["kind"], obj["metadata"]["name"])
    except NotFound:
        return False
    if live["metadata"].get("deletionTimestamp"):
        name = obj["metadata"]["name"]
        raise OperationFailed(
            f"namespace {name} is being deleted (an uninstall not finished yet?)",
            hint=f"wait until it is gone: kubectl wait --for=delete namespace/{name}",
        )
    return True


def _wait_established(kube: KubeApi, name: str, within: float, log: Log) -> None:
    deadline = time.monotonic() + within
    while True:
        crd = kube.get(_CRD_API, "CustomResourceDefinition", name)
        conditions = (crd.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions):
            kube.refresh_discovery()
            log(f"CustomResourceDefinition {name} is Established")
            return
        if time.monotonic() > deadline:
            raise OperationFailed(
                f"CustomResourceDefinition {name} is not Established after {within:g}s",
                hint=f"`kubectl describe crd {name}` shows its conditions",
            )
        time.sleep(0.2)


def _remove_stale_deployer_bindings(kube: KubeApi, options: InstallOptions, log: Log) -> None:
    """A scope changed since the last install leaves bindings that grant too much: the
    ClusterRoleBinding when now namespaced, RoleBindings in namespaces no longer listed."""
    wanted = set(options.deploy_namespaces)
    if options.deploy_scope is DeployScope.NAMESPACED:
        _delete(kube, Target(_RBAC, "ClusterRoleBinding", DEPLOYER, None), log)
    for binding in _deployer_role_bindings(kube):
        if binding.namespace not in wanted:
            _delete(kube, binding, log)


def _deployer_role_bindings(kube: KubeApi) -> list[Target]:
    selector = ",".join(f"{k}={v}" for k, v in MANAGED_BY.items())
    found = kube.list(_RBAC, "RoleBinding", label_selector=selector)
    return [
        Target(_RBAC, "RoleBinding", DEPLOYER, b["metadata"]["namespace"])
        for b in found.items
        if b["metadata"]["name"] == DEPLOYER
    ]


def uninstall(
    kube: KubeApi,
    namespace: str,
    log: Log,
    *,
    delete_deliveries: bool = False,
    cascade: bool = False,
    timeout: float = 300.0,
) -> list[Target]:
    """Delete what install created in ``namespace``; returns what was deleted. The CRD
    (and with it every Delivery) only with ``delete_deliveries``; the namespace only if
    install created it. Nothing a Delivery deployed is touched, unless ``cascade``: then
    every Delivery is deleted first, while the controller still runs, and each one with
    prune has what it deployed deleted by the controller before it goes (as deleting it
    with kubectl does). Deliveries still there after ``timeout`` fail the uninstall before
    anything else is removed."""
    if cascade:
        _delete_every_delivery(kube, log, timeout)
    targets = [
        Target("apps/v1", "Deployment", NAME, namespace),
        Target("policy/v1", "PodDisruptionBudget", NAME, namespace),
        Target("v1", "Service", NAME, namespace),
        Target(_RBAC, "RoleBinding", NAME, namespace),
        Target(_RBAC, "Role", NAME, namespace),
        *_deployer_role_bindings(kube),
        Target(_RBAC, "ClusterRoleBinding", DEPLOYER, None),
        Target(_RBAC, "ClusterRoleBinding", NAME, None),
        Target(_RBAC, "ClusterRole", DEPLOYER, None),
        Target(_RBAC, "ClusterRole", NAME, None),
        Target("v1", "ServiceAccount", NAME, namespace),
        Target("v1", "Secret", SESSION_SECRET, namespace),
    ]
    deleted = [target for target in targets if _delete(kube, target, log)]
    # No controller is left to handle hakobu's finalizer (and without its roles, one still
    # stopping cannot add it back): a Delivery deleted from now on must not wait for one.
    release_deliveries(kube, log)
    release_fleet_instances(kube, log)
    last = [Target("v1", "Namespace", namespace, None)]
    if delete_deliveries or cascade:
        last[:0] = [
            Target(_CRD_API, "CustomResourceDefinition", name, None)
            for name in (FLEET_INSTANCE_CRD_NAME, CRD_NAME)
        ]
    deleted += [target for target in last if _delete(kube, target, log)]
    # As kubectl delete waits: an install right after must not meet a terminating namespace.
    _wait_gone(kube, [t for t in deleted if t.kind == "Namespace"], log, timeout)
    return deleted


def _wait_gone(kube: KubeApi, targets: list[Target], log: Log, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for target in targets:
        while True:
            try:
                kube.get(target.api_version, target.kind, target.name, target.namespace)
            except NotFound:
                log(f"{target} is gone")
                break
            if time.monotonic() > deadline:
                raise OperationFailed(
                    f"{target} is still being deleted after {timeout:g}s",
                    hint=f"`kubectl get {target.kind.lower()} {target.name} -o yaml` shows "
                    "what it waits for",
                )
            time.sleep(0.2)


def _delete_every_delivery(kube: KubeApi, log: Log, timeout: float) -> None:
    try:
        deliveries = list_deliveries(kube, None)
    except NotInstalled:
        return
    for obj in deliveries:
        ref = _ref(obj)
        try:
            kube.request("DELETE", delivery_path(ref))
        except NotFound:
            continue
        log(f"deleting Delivery {ref}")
    deadline = time.monotonic() + timeout
    while True:
        left = list_deliveries(kube, None)
        if not left:
            return
        if time.monotonic() > deadline:
            waiting = "; ".join(f"{_ref(obj)}: {_ready_message(obj)}" for obj in left)
            raise OperationFailed(
                f"{len(left)} Deliveries were not deleted within {timeout:g}s, so nothing "
                f"else was removed: {waiting}",
                hint="a Delivery with prune deletes what it deployed first; fix what its "
                "message says and run uninstall again, or set its spec.prune to false to keep "
                "what it deployed",
            )
        time.sleep(0.5)


def release_deliveries(kube: KubeApi, log: Log, namespace: str | None = None) -> None:
    """Remove hakobu's finalizer from every Delivery (of ``namespace``, or of the cluster):
    each one and what it deployed stay, and deleting it no longer waits for a controller."""
    try:
        deliveries = list_deliveries(kube, namespace)
    except NotInstalled:
        return
    for obj in deliveries:
        if FINALIZER in (obj["metadata"].get("finalizers") or []):
            _release(kube, obj)
            log(f"removed the finalizer of Delivery {_ref(obj)}")


def release_fleet_instances(kube: KubeApi, log: Log) -> None:
    """Remove the controller's finalizer from every FleetInstance: deleting one no longer
    waits for its file to be removed from git (the file stays)."""
    collection = f"/apis/{GROUP}/{VERSION}/{FLEET_INSTANCES}"
    try:
        listed = kube.request("GET", collection).get("items") or []
    except NotFound:
        return  # the CRD is not installed
    for obj in listed:
        metadata = obj["metadata"]
        path = f"/apis/{GROUP}/{VERSION}/namespaces/{metadata['namespace']}/{FLEET_INSTANCES}"
        path += f"/{metadata['name']}"
        for _ in range(5):
            finalizers = list(metadata.get("finalizers") or [])
            if FLEET_INSTANCE_FINALIZER not in finalizers:
                break
            body = [
                {
                    "op": "test",
                    "path": "/metadata/resourceVersion",
                    "value": metadata["resourceVersion"],
                },
                {
                    "op": "add",
                    "path": "/metadata/finalizers",
                    "value": [f for f in finalizers if f != FLEET_INSTANCE_FINALIZER],
                },
            ]
            try:
                kube.request("PATCH", path, body=body, content_type=JSON_PATCH)
            except NotFound:
                break
            except (Conflict, Invalid):
                metadata = kube.request("GET", path)["metadata"]
                continue
            log(
                f"removed the finalizer of FleetInstance {metadata['namespace']}/{metadata['name']}"
            )
            break


def _release(kube: KubeApi, obj: Object) -> None:
    current = obj
    for _ in range(5):
        try:
            set_finalizer(kube, current, present=False)
        except NotFound:
            return
        except (Conflict, Invalid):
            current = kube.request("GET", delivery_path(_ref(obj)))
        else:
            return
    raise OperationFailed(f"Delivery {_ref(obj)} kept changing: its finalizer stays")


def _ref(obj: Object) -> DeliveryRef:
    return DeliveryRef(obj["metadata"]["namespace"], obj["metadata"]["name"])


def _ready_message(obj: Object) -> str:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return str(condition.get("message") or condition.get("reason") or "")
    return "no status yet"


def _delete(kube: KubeApi, target: Target, log: Log) -> bool:
    """Delete ``target`` if install made it (labelled managed-by): an object of the same
    name that someone else made is left alone."""
    api_version, kind, name, namespace = target
    try:
        live = kube.get(api_version, kind, name, namespace)
    except NotFound:
        return False
    labels = live["metadata"].get("labels") or {}
    if any(labels.get(k) != v for k, v in MANAGED_BY.items()):
        log(f"kept {target}: not made by hakobu install")
        return False
    try:
        kube.delete(api_version, kind, name, namespace, propagation="Background")
    except NotFound:
        return False
    log(f"deleted {target}")
    return True


def _where(obj: Object) -> str:
    meta = obj["metadata"]
    return f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else meta["name"]
