"""Expand an app spec into the Kubernetes objects a platform team would write by hand.

Every app gets its workload; the other objects appear when the spec asks for them::

    ServiceAccount   serviceAccount (create: true)
    ConfigMap        configFiles                    <name>-config, mounted read-only
    Service          ports (Deployment, StatefulSet) service.type, ports by name
    Service          StatefulSet                    <name>-headless, the pods' DNS names
    Service          services                       more Services on the same pods
    Deployment       workload Deployment or Worker  rolling update 25% / 25%
    StatefulSet      workload StatefulSet           volumeClaimTemplates
    Job / CronJob    workload Job or CronJob        job, cronJob
    HorizontalPodAutoscaler  autoscaling            autoscaling/v2; no workload replicas
    PodDisruptionBudget      podDisruptionBudget    policy/v1
    Ingress          ingress                        networking.k8s.io/v1, one host or several
    ...extraObjects, as written

The pod's other parts (sidecars, init containers, volumes, security context, scheduling)
are rendered by ``hakobu.render.pod``.

Every generated object carries the recommended ``app.kubernetes.io/*`` labels and the
environment's namespace; the workload selects on ``name`` and ``instance`` only, because a
selector cannot change after creation and the other labels (the version) do.

Patches are merged last, as strategic merge patches exactly as kustomize applies them
(``hakobu.render.patch.strategic_merge``): mappings merge, ``null`` deletes a field, lists
with a merge key (containers, env, ports, volumes, ...) merge by it, other lists replace,
and ``$patch: delete`` at the top removes the generated object.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import replace

from hakobu.errors import InvalidInput
from hakobu.model.appspec import (
    AppSpec,
    Container,
    CronJobSpec,
    EnvFrom,
    EnvVar,
    FieldRef,
    Image,
    KeyRef,
    Patch,
    Port,
    Probe,
    ProbeSpec,
    Resources,
    headless_service_name,
)
from hakobu.model.bluegreen import BlueGreen
from hakobu.model.canary import ROLLOUT_ANNOTATION
from hakobu.model.identity import identity_problem
from hakobu.model.objects import Object, ObjectId, object_id, object_ref
from hakobu.model.schemacheck import SchemaViolation
from hakobu.model.source import format_field
from hakobu.model.workload import BATCH, SERVING
from hakobu.render import pod
from hakobu.render.canaryspec import rollout_annotation
from hakobu.render.patch import PatchError, strategic_merge

# Old ReplicaSets are kept for `kubectl rollout undo`; git history is the real rollback, so
# a handful is enough.
REVISION_HISTORY_LIMIT = 5
MANAGED_BY = "hakobu"
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def expand_app(
    app: AppSpec,
    *,
    environment: str,
    namespace: str,
    images: Mapping[str, str] | None = None,
) -> list[Object]:
    """The objects of ``app`` in ``environment`` (its overrides applied), in a stable order.

    ``images`` maps the names of images declared in hakobu.yaml to their built references
    (``registry/name:tag``), for specs that name one instead of spelling it out.
    """
    if not _DNS_LABEL.match(namespace) or len(namespace) > 63:
        raise InvalidInput(
            f"environment {environment!r}: {namespace!r} is not a valid namespace name",
            hint="use at most 63 lowercase letters, digits or '-'",
        )
    spec = app.for_environment(environment)
    known = images or {}
    spec = replace(
        spec,
        image=_resolved(spec.image, known, spec, ("image",)),
        sidecars=tuple(_resolved_container(c, known, spec) for c in spec.sidecars),
        init_containers=tuple(_resolved_container(c, known, spec) for c in spec.init_containers),
    )
    expansion = _Expansion(spec, namespace)
    generated = [
        obj
        for obj in (
            expansion.service_account(),
            expansion.config_map(),
            expansion.service(),
            expansion.preview_service(),
            expansion.headless_service(),
            *expansion.extra_services(),
            expansion.workload(),
            expansion.autoscaler(),
            expansion.disruption_budget(),
            expansion.ingress(),
        )
        if obj is not None
    ]
    generated = apply_patches(generated, spec.patches)
    return generated + _extra_objects(spec, generated, namespace)


def _resolved(
    image: Image, images: Mapping[str, str], spec: AppSpec, path: tuple[str, ...]
) -> Image:
    try:
        return image.resolved(images)
    except SchemaViolation as e:
        where = image.location or str(spec.file)
        field = format_field((*path, *e.path[1:]))
        raise InvalidInput(f"{where}: {field}: {e.message}", hint=e.hint) from None


def _resolved_container(
    container: Container, images: Mapping[str, str], spec: AppSpec
) -> Container:
    return replace(container, image=_resolved(container.image, images, spec, ("image",)))


def selector_labels(spec: AppSpec) -> dict[str, str]:
    return {"app.kubernetes.io/name": spec.name, "app.kubernetes.io/instance": spec.name}


def common_labels(spec: AppSpec) -> dict[str, str]:
    """The recommended labels plus the spec's own, for every object and pod."""
    labels = selector_labels(spec)
    version = spec.image.tag
    # A tag longer than a label value allows (63) or ending in '.', '-' or '_' cannot be a
    # label; the image reference still names it.
    if version and len(version) <= 63 and _LABEL_VALUE.match(version):
        labels["app.kubernetes.io/version"] = version
    if spec.component:
        labels["app.kubernetes.io/component"] = spec.component
    if spec.part_of:
        labels["app.kubernetes.io/part-of"] = spec.part_of
    labels["app.kubernetes.io/managed-by"] = MANAGED_BY
    labels.update(spec.labels)
    return labels


class _Expansion:
    """The objects of one spec in one namespace."""

    def __init__(self, spec: AppSpec, namespace: str) -> None:
        self.spec = spec
        self.namespace = namespace
        self.labels = common_labels(spec)

    def metadata(self, name: str, annotations: dict[str, str] | None = None) -> Object:
        meta: Object = {"name": name, "namespace": self.namespace, "labels": dict(self.labels)}
        merged = {**self.spec.annotations, **(annotations or {})}
        if merged:
            meta["annotations"] = merged
        return meta

    def service_account(self) -> Object | None:
        account = self.spec.service_account
        if account is None or not account.create:
            return None
        return {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": self.metadata(account.name, dict(account.annotations)),
        }

    def config_map_name(self) -> str:
        return f"{self.spec.name}-config"

    def config_map(self) -> Object | None:
        files = self.spec.config_files
        if files is None:
            return None
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": self.metadata(self.config_map_name()),
            "data": dict(files.files),
        }

    def service(self) -> Object | None:
        if not self.spec.ports or self.spec.workload not in SERVING:
            return None
        return {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": self.metadata(self.spec.name, dict(self.spec.service.annotations)),
            "spec": {
                "type": self.spec.service.type,
                "selector": selector_labels(self.spec),
                "ports": [
                    {
                        "name": port.name,
                        "port": port.port,
                        "targetPort": port.name,
                        "protocol": port.protocol,
                    }
                    for port in self.spec.ports
                ],
            },
        }

    def preview_service(self) -> Object | None:
        """Blue-green's preview Service: the app's Service under another name, which the
        rollout points at the new version while the app's Service keeps the running one;
        reachable inside the cluster only, whatever the app's Service type."""
        rollout = self.spec.rollout
        service = self.service()
        if not isinstance(rollout, BlueGreen) or service is None:
            return None
        name = rollout.preview(self.spec.name)
        return {
            **service,
            "metadata": self.metadata(name),
            "spec": {**service["spec"], "type": "ClusterIP"},
        }

    def headless_service(self) -> Object | None:
        """A StatefulSet's governing Service: a DNS name for each pod, ready or not."""
        if self.spec.workload != "StatefulSet":
            return None
        service_spec: Object = {
            "clusterIP": "None",
            "publishNotReadyAddresses": True,
            "selector": selector_labels(self.spec),
        }
        if self.spec.ports:
            service_spec["ports"] = [
                {
                    "name": port.name,
                    "port": port.port,
                    "targetPort": port.name,
                    "protocol": port.protocol,
                }
                for port in self.spec.ports
            ]
        return {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": self.metadata(headless_service_name(self.spec.name)),
            "spec": service_spec,
        }

    def extra_services(self) -> list[Object]:
        services: list[Object] = []
        for service in self.spec.services:
            ports: list[Object] = []
            for port in service.ports:
                rendered: Object = {
                    "name": port.name,
                    "port": port.port,
                    "targetPort": port.target_port,
                    "protocol": port.protocol,
                }
                if port.node_port is not None:
                    rendered["nodePort"] = port.node_port
                ports.append(rendered)
            services.append(
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": self.metadata(service.name, dict(service.annotations)),
                    "spec": {
                        "type": service.type,
                        "selector": selector_labels(self.spec),
                        "ports": ports,
                    },
                }
            )
        return services

    def workload(self) -> Object:
        workload = self.spec.workload
        if workload == "StatefulSet":
            return self.stateful_set()
        if workload == "Job":
            return {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": self.metadata(self.spec.name),
                "spec": self.job_spec(),
            }
        if self.spec.cron_job is not None:
            # Written for a CronJob only, and always for one (the loader checks both).
            return self.cron_job(self.spec.cron_job)
        return self.deployment()

    def stateful_set(self) -> Object:
        spec = self.spec
        set_spec: Object = {}
        if spec.autoscaling is None:
            set_spec["replicas"] = spec.replicas
        set_spec.update(
            {
                "revisionHistoryLimit": REVISION_HISTORY_LIMIT,
                "selector": {"matchLabels": selector_labels(spec)},
                "serviceName": headless_service_name(spec.name),
                "updateStrategy": {"type": "RollingUpdate"},
                "template": {"metadata": self.pod_metadata(), "spec": self.pod_spec()},
            }
        )
        if spec.claim_templates:
            set_spec["volumeClaimTemplates"] = [pod.claim_template(t) for t in spec.claim_templates]
        return {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": self.metadata(spec.name),
            "spec": set_spec,
        }

    def job_spec(self) -> Object:
        job = self.spec.job
        rendered: Object = {}
        if job is not None:
            for key, value in (
                ("backoffLimit", job.backoff_limit),
                ("activeDeadlineSeconds", job.active_deadline_seconds),
                ("completions", job.completions),
                ("parallelism", job.parallelism),
            ):
                if value is not None:
                    rendered[key] = value
        rendered["template"] = {"metadata": self.pod_metadata(), "spec": self.pod_spec()}
        return rendered

    def cron_job(self, cron: CronJobSpec) -> Object:
        cron_spec: Object = {"schedule": cron.schedule}
        if cron.time_zone is not None:
            cron_spec["timeZone"] = cron.time_zone
        cron_spec["concurrencyPolicy"] = cron.concurrency_policy
        cron_spec["successfulJobsHistoryLimit"] = cron.successful_jobs_history_limit
        cron_spec["failedJobsHistoryLimit"] = cron.failed_jobs_history_limit
        if cron.starting_deadline_seconds is not None:
            cron_spec["startingDeadlineSeconds"] = cron.starting_deadline_seconds
        if cron.suspend is not None:
            cron_spec["suspend"] = cron.suspend
        cron_spec["jobTemplate"] = {
            "metadata": {"labels": dict(self.labels)},
            "spec": self.job_spec(),
        }
        return {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": self.metadata(self.spec.name),
            "spec": cron_spec,
        }

    def deployment(self) -> Object:
        spec = self.spec
        deployment_spec: Object = {}
        if spec.autoscaling is None:
            deployment_spec["replicas"] = spec.replicas
        deployment_spec.update(
            {
                "revisionHistoryLimit": REVISION_HISTORY_LIMIT,
                "selector": {"matchLabels": selector_labels(spec)},
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
                },
                "template": {"metadata": self.pod_metadata(), "spec": self.pod_spec()},
            }
        )
        rollout = {ROLLOUT_ANNOTATION: rollout_annotation(spec.rollout)} if spec.rollout else None
        return {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": self.metadata(spec.name, rollout),
            "spec": deployment_spec,
        }

    def pod_metadata(self) -> Object:
        meta: Object = {"labels": dict(self.labels)}
        # A changed config file rolls the pods through the checksum every render adds to
        # workloads that read configuration (hakobu.render.rollout).
        annotations = dict(self.spec.pod_annotations)
        if annotations:
            meta["annotations"] = annotations
        return meta

    def pod_spec(self) -> Object:
        spec = self.spec
        rendered: Object = {}
        account = spec.service_account
        if account is not None:
            rendered["serviceAccountName"] = account.name
        rendered.update(pod.scheduling(spec.scheduling, selector_labels(spec)))
        if spec.security is not None:
            rendered["securityContext"] = pod.pod_security(spec.security)
        if spec.job is not None:
            rendered["restartPolicy"] = spec.job.restart_policy
        init = [self.other_container(c) for c in spec.init_containers]
        sidecars = [self.other_container(c) for c in spec.sidecars]
        if spec.workload in BATCH:
            # A Job completes when its containers have exited, and a sidecar (a proxy, a log
            # shipper) never does: Kubernetes' native sidecars, init containers that restart
            # always, run beside the app's container and stop once it has exited.
            init.extend({**sidecar, "restartPolicy": "Always"} for sidecar in sidecars)
            sidecars = []
        if init:
            rendered["initContainers"] = init
        rendered["containers"] = [self.container(), *sidecars]
        volumes: list[Object] = []
        if spec.config_files is not None:
            volumes.append({"name": "config", "configMap": {"name": self.config_map_name()}})
        volumes.extend(pod.volume(v) for v in spec.volumes)
        if volumes:
            rendered["volumes"] = volumes
        return rendered

    def other_container(self, container: Container) -> Object:
        return pod.container(container, self.spec.security, _env_var, _env_from, _resources)

    def container(self) -> Object:
        spec = self.spec
        container: Object = {"name": spec.name, "image": spec.image.reference}
        if spec.image.pull_policy:
            container["imagePullPolicy"] = spec.image.pull_policy
        if spec.command is not None:
            container["command"] = list(spec.command)
        if spec.args is not None:
            container["args"] = list(spec.args)
        if spec.ports:
            container["ports"] = [_container_port(port) for port in spec.ports]
        if spec.env:
            container["env"] = [_env_var(var) for var in spec.env]
        if spec.env_from:
            container["envFrom"] = [_env_from(item) for item in spec.env_from]
        if spec.resources is not None and (resources := _resources(spec.resources)):
            container["resources"] = resources
        for kind, probe in (
            ("readiness", spec.probes.readiness),
            ("liveness", spec.probes.liveness),
            ("startup", spec.probes.startup),
        ):
            rendered = self.probe(kind, probe)
            if rendered is not None:
                container[f"{kind}Probe"] = rendered
        mounts: list[Object] = []
        if spec.config_files is not None:
            mounts.append(
                {"name": "config", "mountPath": spec.config_files.mount_path, "readOnly": True}
            )
        mounts.extend(pod.mount(m) for m in spec.mounts)
        if mounts:
            container["volumeMounts"] = mounts
        security = pod.container_security(spec.security, None)
        if security is not None:
            container["securityContext"] = security
        return container

    def probe(self, kind: str, probe: Probe) -> Object | None:
        main = self.spec.main_port
        if probe is False:
            return None
        if probe is None:
            # Only readiness and liveness have a default, and only for a TCP main port
            # (the loader refuses an explicit probe that could not check anything).
            if (
                kind == "startup"
                or main is None
                or main.protocol != "TCP"
                or self.spec.workload in BATCH
            ):
                return None
            probe = ProbeSpec()
        return pod.probe(probe, main.name if main else None)

    def autoscaler(self) -> Object | None:
        scaling = self.spec.autoscaling
        if scaling is None:
            return None
        metrics = [
            {
                "type": "Resource",
                "resource": {
                    "name": resource,
                    "target": {"type": "Utilization", "averageUtilization": target},
                },
            }
            for resource, target in (("cpu", scaling.target_cpu), ("memory", scaling.target_memory))
            if target is not None
        ]
        return {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": self.metadata(self.spec.name),
            "spec": {
                "scaleTargetRef": {
                    "apiVersion": "apps/v1",
                    "kind": "StatefulSet" if self.spec.workload == "StatefulSet" else "Deployment",
                    "name": self.spec.name,
                },
                "minReplicas": scaling.min_replicas,
                "maxReplicas": scaling.max_replicas,
                "metrics": metrics,
            },
        }

    def disruption_budget(self) -> Object | None:
        budget = self.spec.disruption_budget
        if budget is None:
            return None
        budget_spec: Object = {}
        if budget.min_available is not None:
            budget_spec["minAvailable"] = budget.min_available
        if budget.max_unavailable is not None:
            budget_spec["maxUnavailable"] = budget.max_unavailable
        budget_spec["selector"] = {"matchLabels": selector_labels(self.spec)}
        return {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": self.metadata(self.spec.name),
            "spec": budget_spec,
        }

    def ingress(self) -> Object | None:
        ingress = self.spec.ingress
        if ingress is None:
            return None
        ingress_spec: Object = {}
        if ingress.class_name:
            ingress_spec["ingressClassName"] = ingress.class_name
        if ingress.tls:
            ingress_spec["tls"] = [
                {"hosts": list(tls.hosts), "secretName": tls.secret_name} for tls in ingress.tls
            ]
        ingress_spec["rules"] = [
            {
                "host": rule.host,
                "http": {
                    "paths": [
                        {
                            "path": path.path,
                            "pathType": path.path_type,
                            "backend": {
                                "service": {
                                    "name": self.spec.name,
                                    "port": {"name": path.port},
                                }
                            },
                        }
                        for path in rule.paths
                    ]
                },
            }
            for rule in ingress.rules
        ]
        return {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": self.metadata(self.spec.name, dict(ingress.annotations)),
            "spec": ingress_spec,
        }


def _container_port(port: Port) -> Object:
    return {"name": port.name, "containerPort": port.target_port, "protocol": port.protocol}


def _resources(resources: Resources) -> Object | None:
    rendered = {
        key: dict(amounts)
        for key, amounts in (("requests", resources.requests), ("limits", resources.limits))
        if amounts
    }
    return rendered or None


def _env_var(var: EnvVar) -> Object:
    value = var.value
    if isinstance(value, str):
        return {"name": var.name, "value": value}
    if isinstance(value, FieldRef):
        return {"name": var.name, "valueFrom": {"fieldRef": {"fieldPath": value.field_path}}}
    return {"name": var.name, "valueFrom": {f"{value.source}KeyRef": _key_ref(value)}}


def _key_ref(ref: KeyRef) -> Object:
    rendered: Object = {"name": ref.name, "key": ref.key}
    if ref.optional is not None:
        rendered["optional"] = ref.optional
    return rendered


def _env_from(item: EnvFrom) -> Object:
    ref: Object = {"name": item.name}
    if item.optional is not None:
        ref["optional"] = item.optional
    rendered: Object = {f"{item.source}Ref": ref}
    if item.prefix:
        rendered["prefix"] = item.prefix
    return rendered


def apply_patches(
    objects: list[Object], patches: tuple[Patch, ...], *, must_match: bool = True
) -> list[Object]:
    """``objects`` with each patch merged into the objects it targets, in patch order;
    ``must_match``: a patch that targets no object is an error (a platform base's patches
    apply to the apps that have what they target)."""
    result = objects
    for index, patch in enumerate(patches):
        result = apply_patch(result, patch, index, must_match=must_match)
    return result


def apply_patch(
    objects: list[Object], patch: Patch, index: int, *, must_match: bool = True
) -> list[Object]:
    """``objects`` with ``patch`` (``patches[index]`` where it is written) merged into the
    objects it targets."""
    matched = False
    patched: list[Object] = []
    for obj in objects:
        if obj["kind"] != patch.kind or patch.name not in (None, obj["metadata"]["name"]):
            patched.append(obj)
            continue
        matched = True
        try:
            merged = strategic_merge(obj, patch.body)
        except PatchError as e:
            raise InvalidInput(
                f"{patch.location}: patches[{index}]: {e.message}", hint=e.hint
            ) from e
        if merged is not None:
            _check_patched(patch, index, merged)
            patched.append(merged)
    if not matched and must_match:
        target = f"{patch.kind}/{patch.name}" if patch.name else patch.kind
        generated = ", ".join(object_ref(obj) for obj in objects) or "nothing"
        raise InvalidInput(
            f"{patch.location}: the patch for {target} matches no generated object",
            hint=f"the app generates {generated}",
        )
    return patched


def _check_patched(patch: Patch, index: int, obj: Object) -> None:
    # A patch may change any field, the identity too; the API server would refuse one that
    # is not valid, and it names the file the object is rendered to.
    problem = identity_problem(obj)
    if problem is not None:
        field_path, message = problem
        raise InvalidInput(
            f"{patch.location}: patches[{index}]: the patched {patch.kind}'s {field_path} "
            f"{message}",
            hint="a patch may change an object's fields, but its identity must stay valid",
        )


def _extra_objects(spec: AppSpec, generated: list[Object], namespace: str) -> list[Object]:
    def identity(obj: Object) -> ObjectId:
        # Applied without a namespace, a namespaced object lands in the environment's one.
        found = object_id(obj)
        return found._replace(namespace=found.namespace or namespace)

    generated_ids = {identity(obj) for obj in generated}
    extra_ids: set[ObjectId] = set()
    for index, obj in enumerate(spec.extra_objects):
        found = identity(obj)
        if found in generated_ids or found in extra_ids:
            what = "a generated object" if found in generated_ids else "an earlier extra object"
            raise InvalidInput(
                f"{spec.file}: extraObjects[{index}]: {object_ref(obj)} has the same kind and "
                f"name as {what}",
                hint="change a generated object with patches instead of adding it again",
            )
        extra_ids.add(found)
    return [copy.deepcopy(obj) for obj in spec.extra_objects]
