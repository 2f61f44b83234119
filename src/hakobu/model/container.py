"""What every container of an app's pods is made of: an image, ports, environment,
resources, mounts, a security context and, for sidecars, probes.

The app's own container is described by the top-level fields of the app spec; sidecars and
init containers (``Container``) by the same fields in a list. The values are already checked
against the JSON Schema (``appspec_schema``) when they are typed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from hakobu.model.probe import Probes, parse_probes
from hakobu.model.schemacheck import SchemaViolation, shown


@dataclass(frozen=True)
class Image:
    repository: str
    tag: str | None
    digest: str | None
    pull_policy: str | None = None
    # Set when the spec names an image declared in hakobu.yaml: repository and tag are then
    # unknown until render time (see ``resolved``).
    declared: str | None = None
    location: str = field(default="", compare=False)  # file:line, for errors when rendering

    def resolved(self, images: Mapping[str, str]) -> Image:
        """This image with a declared name replaced by its built reference."""
        if self.declared is None:
            return self
        reference = images.get(self.declared)
        if reference is None:
            known = ", ".join(sorted(images)) or "none"
            raise SchemaViolation(
                ("image", "name"),
                f"no image named {self.declared!r} is declared in hakobu.yaml (images: {known})",
                "declare it under images: in hakobu.yaml, or give repository and tag",
            )
        repository, _, tag = reference.rpartition(":")
        return Image(repository, tag, self.digest, self.pull_policy)

    @property
    def reference(self) -> str:
        """What the container's ``image`` field says: ``repository[:tag][@digest]``."""
        text = self.repository
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


@dataclass(frozen=True)
class Port:
    name: str
    port: int
    target_port: int
    protocol: str


@dataclass(frozen=True)
class KeyRef:
    source: Literal["configMap", "secret"]
    name: str
    key: str
    optional: bool | None = None


@dataclass(frozen=True)
class FieldRef:
    field_path: str


@dataclass(frozen=True)
class EnvVar:
    name: str
    value: str | KeyRef | FieldRef


@dataclass(frozen=True)
class EnvFrom:
    source: Literal["configMap", "secret"]
    name: str
    prefix: str | None = None
    optional: bool | None = None


@dataclass(frozen=True)
class Resources:
    requests: Mapping[str, str]
    limits: Mapping[str, str]


def parse_image(value: str | dict[str, Any]) -> Image:
    if isinstance(value, dict) and "name" in value:
        return Image("", None, value.get("digest"), value.get("pullPolicy"), value["name"])
    if isinstance(value, dict):
        image = Image(
            value["repository"], value.get("tag"), value.get("digest"), value.get("pullPolicy")
        )
    else:
        rest, _, digest = value.partition("@")
        slash = rest.rfind("/")
        colon = rest.rfind(":")
        if colon > slash:
            image = Image(rest[:colon], rest[colon + 1 :], digest or None)
        else:
            image = Image(rest, None, digest or None)
    if not image.tag and not image.digest:
        raise SchemaViolation(
            ("image",),
            f"image {shown(image.repository)} has no tag or digest",
            "pin a tag (repository:tag) so that every render deploys the same image",
        )
    return image


def parse_env_var(name: str, value: Any) -> EnvVar:
    if isinstance(value, dict):
        if "fieldRef" in value:
            return EnvVar(name, FieldRef(value["fieldRef"]["fieldPath"]))
        source: Literal["configMap", "secret"] = (
            "configMap" if "configMapKeyRef" in value else "secret"
        )
        ref = value[f"{source}KeyRef"]
        return EnvVar(name, KeyRef(source, ref["name"], ref["key"], ref.get("optional")))
    if isinstance(value, bool):
        return EnvVar(name, "true" if value else "false")
    return EnvVar(name, str(value))


def parse_env_from(item: dict[str, Any]) -> EnvFrom:
    source: Literal["configMap", "secret"] = "configMap" if "configMapRef" in item else "secret"
    ref = item[f"{source}Ref"]
    return EnvFrom(source, ref["name"], item.get("prefix"), ref.get("optional"))


def quantity(value: str | float) -> str:
    return value if isinstance(value, str) else str(value)


def parse_resources(value: dict[str, Any]) -> Resources:
    return Resources(
        {k: quantity(v) for k, v in value.get("requests", {}).items()},
        {k: quantity(v) for k, v in value.get("limits", {}).items()},
    )


@dataclass(frozen=True)
class Mount:
    name: str
    mount_path: str
    sub_path: str | None = None
    read_only: bool | None = None


@dataclass(frozen=True)
class ContainerSecurity:
    """A container's security settings as written; None is not written."""

    read_only_root_filesystem: bool | None = None
    allow_privilege_escalation: bool | None = None
    run_as_user: int | None = None
    run_as_group: int | None = None
    add_capabilities: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ContainerPort:
    name: str
    port: int
    protocol: str | None


@dataclass(frozen=True)
class Container:
    """A sidecar or init container."""

    name: str
    image: Image
    command: tuple[str, ...] | None = None
    args: tuple[str, ...] | None = None
    env: tuple[EnvVar, ...] = ()
    env_from: tuple[EnvFrom, ...] = ()
    ports: tuple[ContainerPort, ...] = ()
    resources: Resources | None = None
    mounts: tuple[Mount, ...] = ()
    security: ContainerSecurity | None = None
    # A sidecar's; an init container runs to completion and has none.
    probes: Probes = field(default_factory=Probes)


def parse_mounts(value: list[dict[str, Any]]) -> tuple[Mount, ...]:
    return tuple(
        Mount(m["name"], m["mountPath"], m.get("subPath"), m.get("readOnly")) for m in value
    )


def parse_container_security(value: dict[str, Any] | None) -> ContainerSecurity | None:
    if value is None:
        return None
    added = value.get("capabilities", {}).get("add")
    return ContainerSecurity(
        read_only_root_filesystem=value.get("readOnlyRootFilesystem"),
        allow_privilege_escalation=value.get("allowPrivilegeEscalation"),
        run_as_user=value.get("runAsUser"),
        run_as_group=value.get("runAsGroup"),
        add_capabilities=tuple(added) if added is not None else None,
    )


def parse_container(value: dict[str, Any], location: str) -> Container:
    """``location`` (file:line of the image) names the container in errors while rendering."""
    image = parse_image(value["image"])
    return Container(
        name=value["name"],
        image=Image(
            image.repository,
            image.tag,
            image.digest,
            image.pull_policy,
            image.declared,
            location,
        ),
        command=tuple(value["command"]) if "command" in value else None,
        args=tuple(value["args"]) if "args" in value else None,
        env=tuple(parse_env_var(k, v) for k, v in value.get("env", {}).items()),
        env_from=tuple(parse_env_from(item) for item in value.get("envFrom", [])),
        ports=tuple(
            ContainerPort(p["name"], p["containerPort"], p.get("protocol"))
            for p in value.get("ports", [])
        ),
        resources=parse_resources(value["resources"]) if "resources" in value else None,
        mounts=parse_mounts(value.get("mounts", [])),
        security=parse_container_security(value.get("securityContext")),
        probes=parse_probes(value.get("probes", {})),
    )
