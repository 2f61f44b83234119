"""The pod around an app's containers: volumes, security context and scheduling, and the
rules that tie containers and volumes together (names unique in the pod, every mount a
declared volume).

Volumes, affinity, tolerations and spread constraints are kept as written: their fields are
Kubernetes' own, checked by the JSON Schema here and by the API server when applied.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hakobu.model.container import Container, ContainerSecurity, Mount, parse_container_security
from hakobu.model.objects import Object
from hakobu.model.schemacheck import SchemaViolation
from hakobu.model.source import FieldPath

# The volume configFiles mounts.
CONFIG_VOLUME = "config"

_VOLUME_SOURCES = ("emptyDir", "persistentVolumeClaim", "secret", "configMap", "projected")


@dataclass(frozen=True)
class Volume:
    name: str
    # The volume's source as Kubernetes spells it: {"emptyDir": {...}}, {"secret": {...}}.
    source: Object


@dataclass(frozen=True)
class Security:
    """The pod's security context: written means the safe defaults apply."""

    run_as_non_root: bool = True
    run_as_user: int | None = None
    run_as_group: int | None = None
    fs_group: int | None = None
    seccomp_profile: str = "RuntimeDefault"
    # The part every container gets; a container's own securityContext overrides it.
    container: ContainerSecurity = field(default_factory=ContainerSecurity)


@dataclass(frozen=True)
class Scheduling:
    node_selector: Mapping[str, str] = field(default_factory=dict)
    affinity: Object | None = None
    tolerations: tuple[Object, ...] = ()
    spread: tuple[Object, ...] = ()
    priority_class: str | None = None


def parse_volumes(value: list[dict[str, Any]]) -> tuple[Volume, ...]:
    return tuple(
        Volume(
            v["name"],
            {key: copy.deepcopy(v[key]) for key in _VOLUME_SOURCES if key in v},
        )
        for v in value
    )


def parse_security(value: dict[str, Any] | None) -> Security | None:
    if value is None:
        return None
    container = parse_container_security(
        {k: v for k, v in value.items() if not k.startswith("runAs")}
    )
    return Security(
        run_as_non_root=value.get("runAsNonRoot", True),
        run_as_user=value.get("runAsUser"),
        run_as_group=value.get("runAsGroup"),
        fs_group=value.get("fsGroup"),
        seccomp_profile=value.get("seccompProfile", "RuntimeDefault"),
        container=container or ContainerSecurity(),
    )


def parse_scheduling(data: dict[str, Any]) -> Scheduling:
    return Scheduling(
        node_selector=dict(data.get("nodeSelector", {})),
        affinity=copy.deepcopy(data["affinity"]) if "affinity" in data else None,
        tolerations=tuple(copy.deepcopy(t) for t in data.get("tolerations", [])),
        spread=tuple(copy.deepcopy(t) for t in data.get("topologySpreadConstraints", [])),
        priority_class=data.get("priorityClassName"),
    )


def check_containers(
    app: str, sidecars: tuple[Container, ...], init_containers: tuple[Container, ...]
) -> None:
    """Every container of the pod has its own name; the app's container is named ``app``."""
    seen: dict[str, str] = {app: "the app's own container"}
    for key, containers in (("sidecars", sidecars), ("initContainers", init_containers)):
        for index, container in enumerate(containers):
            path: FieldPath = (key, index, "name")
            if container.name == app:
                raise SchemaViolation(
                    path,
                    f"{container.name!r} is the name of the app's own container",
                    "name the container after what it does, such as log-shipper",
                )
            if container.name in seen:
                raise SchemaViolation(
                    path,
                    f"container name {container.name!r} is used twice (also "
                    f"{seen[container.name]})",
                    "give every container of the pod its own name",
                )
            seen[container.name] = f"{key}[{index}]"


def check_volumes(volumes: tuple[Volume, ...], taken: Mapping[str, str]) -> None:
    """Volume names are unique, and not one of ``taken`` (name → what holds it)."""
    seen = dict(taken)
    for index, volume in enumerate(volumes):
        if volume.name in seen:
            raise SchemaViolation(
                ("volumes", index, "name"),
                f"volume name {volume.name!r} is taken by {seen[volume.name]}",
                "give every volume of the pod its own name",
            )
        seen[volume.name] = f"volumes[{index}]"


def check_mounts(
    path: FieldPath,
    mounts: Iterable[Mount],
    declared: Iterable[str],
    taken_paths: Iterable[str] = (),
) -> None:
    """Each mount names a declared volume, at a path no other mount of the container uses."""
    names = sorted(set(declared))
    paths = set(taken_paths)
    for index, mount in enumerate(mounts):
        if mount.name not in names:
            raise SchemaViolation(
                (*path, index, "name"),
                f"no volume is named {mount.name!r} (volumes: {', '.join(names) or 'none'})",
                "declare it under volumes (or volumeClaimTemplates), or mount one of those",
            )
        if mount.mount_path in paths:
            raise SchemaViolation(
                (*path, index, "mountPath"),
                f"{mount.mount_path} is mounted twice in the same container",
                "mount each volume at its own path",
            )
        paths.add(mount.mount_path)
