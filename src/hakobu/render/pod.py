"""The parts of an app's pod beyond its own container: sidecars and init containers,
volumes and mounts, the security context and scheduling.

Security: an app spec that writes ``securityContext`` gets the safe defaults on the pod
(runAsNonRoot, seccompProfile RuntimeDefault) and on every container (no privilege
escalation, every capability dropped); a container's own ``securityContext`` turns the
container part on for that container alone. A spec that writes neither gets nothing, so
the objects of existing specs stay as they were.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import astuple

from hakobu.model.appspec import (
    ClaimTemplate,
    Container,
    ContainerSecurity,
    EnvFrom,
    EnvVar,
    Mount,
    Resources,
    Scheduling,
    Security,
    Volume,
)
from hakobu.model.objects import Object
from hakobu.model.probe import PROBE_KINDS, ProbeSpec


def pod_security(security: Security) -> Object:
    rendered: Object = {"runAsNonRoot": security.run_as_non_root}
    for key, value in (
        ("runAsUser", security.run_as_user),
        ("runAsGroup", security.run_as_group),
        ("fsGroup", security.fs_group),
    ):
        if value is not None:
            rendered[key] = value
    rendered["seccompProfile"] = {"type": security.seccomp_profile}
    return rendered


def container_security(app: Security | None, own: ContainerSecurity | None) -> Object | None:
    """The container's securityContext: the app's container part, overridden by the
    container's own; None when neither is written."""
    if app is None and own is None:
        return None
    base = app.container if app is not None else ContainerSecurity()
    mine = own or ContainerSecurity()
    # The container's own value where it writes one, the app's otherwise.
    merged = ContainerSecurity(
        *(
            mine_value if mine_value is not None else base_value
            for mine_value, base_value in zip(astuple(mine), astuple(base), strict=True)
        )
    )
    rendered: Object = {
        "allowPrivilegeEscalation": bool(merged.allow_privilege_escalation),
        "readOnlyRootFilesystem": bool(merged.read_only_root_filesystem),
    }
    capabilities: Object = {"drop": ["ALL"]}
    if merged.add_capabilities:
        capabilities["add"] = list(merged.add_capabilities)
    rendered["capabilities"] = capabilities
    if merged.run_as_user is not None:
        rendered["runAsUser"] = merged.run_as_user
    if merged.run_as_group is not None:
        rendered["runAsGroup"] = merged.run_as_group
    return rendered


def mount(item: Mount) -> Object:
    rendered: Object = {"name": item.name, "mountPath": item.mount_path}
    if item.sub_path is not None:
        rendered["subPath"] = item.sub_path
    # The API server stores readOnly: false as no field at all; so is it rendered.
    if item.read_only:
        rendered["readOnly"] = True
    return rendered


# Values the API server stores as no field at all (Go's omitempty): rendered the same way, so
# that what is applied is what is read back.
_STORED_AS_ABSENT = {("persistentVolumeClaim", "readOnly"): False, ("emptyDir", "medium"): ""}


def volume(item: Volume) -> Object:
    rendered: Object = {"name": item.name, **copy.deepcopy(item.source)}
    for (source, key), absent in _STORED_AS_ABSENT.items():
        if source in rendered and rendered[source].get(key, None) == absent:
            del rendered[source][key]
    return rendered


def scheduling(found: Scheduling, selector: dict[str, str]) -> Object:
    """The pod spec's scheduling fields that are written; spread constraints select the
    app's own pods."""
    rendered: Object = {}
    if found.node_selector:
        rendered["nodeSelector"] = dict(found.node_selector)
    if found.affinity is not None:
        rendered["affinity"] = copy.deepcopy(found.affinity)
    if found.tolerations:
        rendered["tolerations"] = [copy.deepcopy(t) for t in found.tolerations]
    if found.spread:
        rendered["topologySpreadConstraints"] = [
            {
                "whenUnsatisfiable": "DoNotSchedule",
                **copy.deepcopy(constraint),
                "labelSelector": {"matchLabels": dict(selector)},
            }
            for constraint in found.spread
        ]
    if found.priority_class is not None:
        rendered["priorityClassName"] = found.priority_class
    return rendered


def claim_template(template: ClaimTemplate) -> Object:
    spec: Object = {
        "accessModes": list(template.access_modes),
        "resources": {"requests": {"storage": template.size}},
    }
    if template.storage_class is not None:
        spec["storageClassName"] = template.storage_class
    return {"metadata": {"name": template.name}, "spec": spec}


def container(
    item: Container,
    app_security: Security | None,
    env_var: Callable[[EnvVar], Object],
    env_from: Callable[[EnvFrom], Object],
    resources: Callable[[Resources], Object | None],
) -> Object:
    """A sidecar or init container; the env and resources are rendered as the app's."""
    rendered: Object = {"name": item.name, "image": item.image.reference}
    if item.image.pull_policy:
        rendered["imagePullPolicy"] = item.image.pull_policy
    if item.command is not None:
        rendered["command"] = list(item.command)
    if item.args is not None:
        rendered["args"] = list(item.args)
    if item.ports:
        rendered["ports"] = [
            {"name": p.name, "containerPort": p.port, "protocol": p.protocol or "TCP"}
            for p in item.ports
        ]
    if item.env:
        rendered["env"] = [env_var(var) for var in item.env]
    if item.env_from:
        rendered["envFrom"] = [env_from(ref) for ref in item.env_from]
    if item.resources is not None and (amounts := resources(item.resources)) is not None:
        rendered["resources"] = amounts
    if item.mounts:
        rendered["volumeMounts"] = [mount(m) for m in item.mounts]
    security = container_security(app_security, item.security)
    if security is not None:
        rendered["securityContext"] = security
    first = item.ports[0].name if item.ports else None
    for kind in PROBE_KINDS:
        written = getattr(item.probes, kind)
        # A sidecar has no default probe: only those written are rendered.
        if isinstance(written, ProbeSpec):
            rendered[f"{kind}Probe"] = probe(written, first)
    return rendered


def probe(written: ProbeSpec, first_port: str | None) -> Object:
    """A container's probe; one that names no port checks ``first_port`` (by name)."""
    rendered: Object
    # The loader guarantees a port (or a command) whenever one is needed.
    port: int | str = written.port if written.port is not None else first_port or ""
    if written.command is not None:
        rendered = {"exec": {"command": list(written.command)}}
    elif written.path is not None:
        http: Object = {"path": written.path, "port": port}
        if written.scheme:
            http["scheme"] = written.scheme
        rendered = {"httpGet": http}
    else:
        rendered = {"tcpSocket": {"port": port}}
    rendered.update(written.timings)
    return rendered
