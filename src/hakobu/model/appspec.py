"""The short app spec: a few lines per app that hakobu expands into Kubernetes objects.

One YAML file per app (``apps/web.yaml``)::

    name: web
    image: example.test/team/web:1.4.2
    ports: [{name: http, port: 80, targetPort: 8080}]
    env: {LOG_LEVEL: info, DB_PASSWORD: {secretKeyRef: {name: db, key: password}}}
    autoscaling: {minReplicas: 2, maxReplicas: 10}
    ingress: {host: web.example.test, tls: {secretName: web-tls}}
    environments:
      production: {autoscaling: {minReplicas: 4}}

``workload`` picks a StatefulSet, a Worker, a Job or a CronJob instead of a Deployment
(``hakobu.model.workload``); sidecars and init containers (``container``), volumes, the
security context and scheduling (``podspec``) shape the pod.

The JSON Schema in ``appspec_schema`` (``app_schema``) is the single description of the
format: ``schemacheck`` interprets it, ``hakobu schema app`` prints it for editors, and its
descriptions are the reference documentation. What a schema cannot say (ports named
twice, ``minReplicas`` above ``maxReplicas``, a probe on a port that does not exist) is
checked while the typed ``AppSpec`` is built.

Per-environment overrides are merged over the base spec (maps merge, lists replace, ``null``
removes) and every environment's result is validated when the file is loaded, so an error
that appears only in production is reported at load time with the line that caused it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hakobu.model.appspec_schema import OVERRIDABLE, RESERVED_LABEL_PREFIX, SCHEMA, app_schema
from hakobu.model.bluegreen import BlueGreen
from hakobu.model.container import (
    Container,
    ContainerPort,
    ContainerSecurity,
    EnvFrom,
    EnvVar,
    FieldRef,
    Image,
    KeyRef,
    Mount,
    Port,
    Resources,
    parse_container,
    parse_env_from,
    parse_env_var,
    parse_image,
    parse_mounts,
    parse_resources,
)
from hakobu.model.dependencies import Declared, parse_declared
from hakobu.model.identity import identity_problem
from hakobu.model.objects import Object
from hakobu.model.podspec import (
    CONFIG_VOLUME,
    Scheduling,
    Security,
    Volume,
    check_containers,
    check_mounts,
    check_volumes,
    parse_scheduling,
    parse_security,
    parse_volumes,
)
from hakobu.model.probe import Probe, Probes, ProbeSpec, check_probes, parse_probes
from hakobu.model.rollout import Strategy, parse_rollout
from hakobu.model.schemacheck import SUPPORTED_KEYWORDS, SchemaViolation, check, shown, suggest
from hakobu.model.source import Document, FieldPath, SourceError, load_one
from hakobu.model.workload import (
    ClaimTemplate,
    CronJobSpec,
    JobSpec,
    Workload,
    check_fields,
    parse_claim_templates,
    parse_cron_job,
    parse_job,
)

# ---------------------------------------------------------------------------------------
# Per-environment overrides
# ---------------------------------------------------------------------------------------

# Where each part of a merged spec was written: merged path → path in the file. A path not
# listed belongs to its nearest listed ancestor's subtree, or is written where it is.
_Origins = dict[FieldPath, FieldPath]


def _without_nulls(value: Any) -> Any:
    # Only mappings: inside lists (patches, extra objects) null is content, not removal.
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value


def _overlay(
    base: Any, override: Any, path: FieldPath, source: FieldPath, origins: _Origins
) -> Any:
    origins[path] = source
    if not (isinstance(base, dict) and isinstance(override, dict)):
        return _without_nulls(override)
    merged = dict(base)
    for key in base:
        origins[(*path, key)] = (*path, key)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif key in base:
            merged[key] = _overlay(base[key], value, (*path, key), (*source, key), origins)
        else:
            merged[key] = _without_nulls(value)
            origins[(*path, key)] = (*source, key)
    return merged


def _origin(origins: _Origins, path: FieldPath) -> FieldPath:
    for end in range(len(path), -1, -1):
        if path[:end] in origins:
            return origins[path[:end]] + path[end:]
    return path


# ---------------------------------------------------------------------------------------
# The typed spec
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Autoscaling:
    min_replicas: int
    max_replicas: int
    target_cpu: int | None
    target_memory: int | None


@dataclass(frozen=True)
class IngressPath:
    path: str
    path_type: str
    port: str


@dataclass(frozen=True)
class IngressRule:
    host: str
    paths: tuple[IngressPath, ...]


@dataclass(frozen=True)
class IngressTLS:
    hosts: tuple[str, ...]
    secret_name: str


@dataclass(frozen=True)
class Ingress:
    rules: tuple[IngressRule, ...]
    tls: tuple[IngressTLS, ...]
    class_name: str | None
    annotations: Mapping[str, str]


@dataclass(frozen=True)
class ServiceOptions:
    """The app's own Service, made from its ports."""

    type: str = "ClusterIP"
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ServicePort:
    name: str
    port: int
    target_port: int | str
    protocol: str
    node_port: int | None


@dataclass(frozen=True)
class ExtraService:
    name: str
    type: str
    ports: tuple[ServicePort, ...]
    annotations: Mapping[str, str]


@dataclass(frozen=True)
class DisruptionBudget:
    min_available: int | str | None
    max_unavailable: int | str | None


@dataclass(frozen=True)
class ConfigFiles:
    mount_path: str
    files: Mapping[str, str]


@dataclass(frozen=True)
class ServiceAccount:
    name: str
    create: bool
    annotations: Mapping[str, str]


@dataclass(frozen=True)
class Patch:
    kind: str
    name: str | None
    body: Object
    location: str  # file:line, for errors found while rendering


@dataclass(frozen=True)
class AppSpec:
    """One app, validated; ``environments`` holds the merged spec of each environment."""

    file: Path
    name: str
    image: Image
    component: str | None = None
    part_of: str | None = None
    replicas: int = 1
    ports: tuple[Port, ...] = ()
    command: tuple[str, ...] | None = None
    args: tuple[str, ...] | None = None
    env: tuple[EnvVar, ...] = ()
    env_from: tuple[EnvFrom, ...] = ()
    resources: Resources | None = None
    autoscaling: Autoscaling | None = None
    probes: Probes = field(default_factory=Probes)
    ingress: Ingress | None = None
    disruption_budget: DisruptionBudget | None = None
    config_files: ConfigFiles | None = None
    service_account: ServiceAccount | None = None
    workload: Workload = "Deployment"
    sidecars: tuple[Container, ...] = ()
    init_containers: tuple[Container, ...] = ()
    volumes: tuple[Volume, ...] = ()
    mounts: tuple[Mount, ...] = ()
    security: Security | None = None
    scheduling: Scheduling = field(default_factory=Scheduling)
    service: ServiceOptions = field(default_factory=ServiceOptions)
    services: tuple[ExtraService, ...] = ()
    job: JobSpec | None = None
    cron_job: CronJobSpec | None = None
    claim_templates: tuple[ClaimTemplate, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    pod_annotations: Mapping[str, str] = field(default_factory=dict)
    extra_objects: tuple[Object, ...] = ()
    patches: tuple[Patch, ...] = ()
    # What promotion carries: paths of keys into the spec's data.
    promote: tuple[tuple[str, ...], ...] = (("image",),)
    # The apps this one is synced after; None: it depends on none.
    depends_on: Declared | None = None
    # How a new version replaces the running one; None: a plain rolling update.
    rollout: Strategy | None = None
    # The platform base it names (NAME@VERSION), and the values it passes to it.
    base: str | None = None
    base_values: Mapping[str, Any] = field(default_factory=dict)
    environments: Mapping[str, AppSpec] = field(default_factory=dict)

    @property
    def main_port(self) -> Port | None:
        return self.ports[0] if self.ports else None

    def for_environment(self, environment: str) -> AppSpec:
        """The spec with ``environment``'s overrides applied (the base if it has none)."""
        return self.environments.get(environment, self)


# ---------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------


def load_app(file: Path, text: str | None = None) -> AppSpec:
    """Read, validate and type one app spec file (every environment's result included);
    ``text``, when given, is the file's content already read.

    Raises ``SourceError`` (``file:line: field: message``) for anything invalid.
    """
    return load_app_document(load_one(file, text))


def load_app_document(document: Document, defaults: Mapping[str, Any] | None = None) -> AppSpec:
    """``load_app`` of a parsed file; ``defaults`` (a platform base's, in the spec's own
    fields) fill what the spec leaves unset: mappings merge, anything the spec sets wins."""
    data = document.data
    if defaults and isinstance(data, dict):
        data = _under(defaults, data)
    base, overrides = _split(_checked(document, data, {}, ""))
    spec = _build(document, base, {}, "")
    depends_on = (
        parse_declared(document, ("dependsOn",), spec.name, base["dependsOn"])
        if base.get("dependsOn")
        else None
    )
    spec = replace(spec, depends_on=depends_on)
    environments: dict[str, AppSpec] = {}
    for env_name, override in overrides.items():
        origins: _Origins = {}
        merged = _overlay(base, override, (), ("environments", env_name), origins)
        _checked(document, merged, origins, env_name)
        environments[env_name] = replace(
            _build(document, merged, origins, env_name), depends_on=depends_on
        )
    return replace(spec, environments=environments)


def _under(defaults: Mapping[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    merged = dict(data)
    for key, value in defaults.items():
        if key not in merged or merged[key] is None:
            merged[key] = copy.deepcopy(value)
        elif isinstance(value, Mapping) and isinstance(merged[key], dict):
            merged[key] = _under(value, merged[key])
    return merged


def environment_data(
    file: Path, text: str | None = None
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The data the specs are built from, untyped: the base, and the merged data of each
    environment that has an override (by name). Only merges: check the file with
    ``load_app`` first."""
    base, overrides = _split(load_one(file, text).data)
    merged = {name: _overlay(base, o, (), (), {}) for name, o in overrides.items()}
    return base, merged


def _split(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The base spec, and the overrides of the environments that have one."""
    base = _without_nulls({k: v for k, v in data.items() if k != "environments"})
    # Overrides keep their nulls: there, null means "remove".
    overrides = data.get("environments") or {}
    return base, {name: o for name, o in overrides.items() if o is not None}


def _fail(
    document: Document, origins: _Origins, environment: str, invalid: SchemaViolation
) -> SourceError:
    source = _origin(origins, invalid.path)
    message = invalid.message
    if environment and source[:2] != ("environments", environment):
        message += f" (in environment {environment!r})"
    return SourceError(
        document.file,
        message,
        line=document.line_of(source),
        field=tuple(_short_key(part) for part in source),
        hint=invalid.hint,
    )


_KEY_CHARS = 60


def _short_key(part: str | int) -> str | int:
    # Keys are the user's text too: a megabyte-long one must not become the message.
    if isinstance(part, str) and len(part) > _KEY_CHARS:
        return f"{part[: _KEY_CHARS - 3]}..."
    return part


def _checked(document: Document, data: Any, origins: _Origins, environment: str) -> dict[str, Any]:
    try:
        check(SCHEMA, data)
    except SchemaViolation as e:
        raise _fail(document, origins, environment, e) from None
    checked: dict[str, Any] = dict(data)
    return checked


def _build(
    document: Document, data: dict[str, Any], origins: _Origins, environment: str
) -> AppSpec:
    def where(path: FieldPath) -> str:
        return f"{document.file}:{document.line_of(_origin(origins, path))}"

    try:
        spec = _typed(data, document.file, where)
        _cross_check(spec)
    except SchemaViolation as e:
        raise _fail(document, origins, environment, e) from None
    return spec


def _typed(data: dict[str, Any], file: Path, where: Callable[[FieldPath], str]) -> AppSpec:
    name: str = data["name"]
    workload: Workload = data.get("workload", "Deployment")
    check_fields(workload, data)
    return AppSpec(
        file=file,
        name=name,
        image=replace(parse_image(data["image"]), location=where(("image",))),
        component=data.get("component"),
        part_of=data.get("partOf"),
        replicas=data.get("replicas", 1),
        ports=tuple(
            Port(
                p["name"],
                p["port"],
                p.get("targetPort", p["port"]),
                p.get("protocol", "TCP"),
            )
            for p in data.get("ports", [])
        ),
        command=tuple(data["command"]) if "command" in data else None,
        args=tuple(data["args"]) if "args" in data else None,
        env=tuple(parse_env_var(k, v) for k, v in data.get("env", {}).items()),
        env_from=tuple(parse_env_from(item) for item in data.get("envFrom", [])),
        resources=parse_resources(data["resources"]) if "resources" in data else None,
        autoscaling=_autoscaling(data.get("autoscaling")),
        probes=parse_probes(data.get("probes", {})),
        ingress=_ingress(data, data["ingress"]) if "ingress" in data else None,
        disruption_budget=_budget(data.get("podDisruptionBudget")),
        config_files=_config_files(data.get("configFiles")),
        service_account=_service_account(name, data.get("serviceAccount")),
        workload=workload,
        sidecars=_containers(data, "sidecars", where),
        init_containers=_containers(data, "initContainers", where),
        volumes=parse_volumes(data.get("volumes", [])),
        mounts=parse_mounts(data.get("mounts", [])),
        security=parse_security(data.get("securityContext")),
        scheduling=parse_scheduling(data),
        service=ServiceOptions(
            data.get("service", {}).get("type", "ClusterIP"),
            data.get("service", {}).get("annotations", {}),
        ),
        services=tuple(_extra_service(item) for item in data.get("services", [])),
        job=parse_job(data.get("job")) if workload in ("Job", "CronJob") else None,
        cron_job=parse_cron_job(data["cronJob"]) if "cronJob" in data else None,
        claim_templates=parse_claim_templates(data.get("volumeClaimTemplates", [])),
        labels=data.get("labels", {}),
        annotations=data.get("annotations", {}),
        pod_annotations=data.get("podAnnotations", {}),
        extra_objects=tuple(copy.deepcopy(data.get("extraObjects", []))),
        patches=tuple(
            Patch(
                p["kind"],
                (p.get("metadata") or {}).get("name"),
                copy.deepcopy(p),
                where(("patches", index)),
            )
            for index, p in enumerate(data.get("patches", []))
        ),
        promote=_promote(data.get("promote", ["image"])),
        rollout=parse_rollout(data["rollout"], ("rollout",)) if "rollout" in data else None,
        base=data.get("base"),
        base_values=data.get("baseValues", {}),
    )


def _promote(paths: list[str]) -> tuple[tuple[str, ...], ...]:
    parsed: list[tuple[str, ...]] = []
    for index, text in enumerate(paths):
        path = tuple(text.split("."))
        if path[0] not in OVERRIDABLE:
            known = path[0] in SCHEMA["properties"]
            raise SchemaViolation(
                ("promote", index),
                f"cannot promote {shown(path[0])}: an environment cannot override it"
                if known
                else f"no field {shown(path[0])} to promote",
                None if known else suggest(path[0], list(OVERRIDABLE)),
            )
        for other in parsed:
            # Writing both would write one inside the other: the second undoes the first.
            shorter = min(len(path), len(other))
            if path[:shorter] == other[:shorter]:
                raise SchemaViolation(
                    ("promote", index),
                    f"{text} is listed twice"
                    if path == other
                    else f"{text} overlaps {'.'.join(other)}, listed before",
                    "list each field once: promoting a mapping carries everything in it",
                )
        parsed.append(path)
    return tuple(parsed)


def _autoscaling(value: dict[str, Any] | None) -> Autoscaling | None:
    if value is None or not value.get("enabled", True):
        return None
    memory = value.get("targetMemoryUtilizationPercentage")
    cpu = value.get("targetCPUUtilizationPercentage", None if memory else 80)
    return Autoscaling(value.get("minReplicas", 1), value["maxReplicas"], cpu, memory)


def _ingress(data: dict[str, Any], value: dict[str, Any]) -> Ingress:
    ports = data.get("ports", [])
    if not ports:
        raise SchemaViolation(
            ("ingress",),
            "an ingress needs a port to route to",
            "add the port the app serves HTTP on to ports",
        )
    names = [p["name"] for p in ports]
    port = value.get("port", names[0])
    if port not in names:
        raise SchemaViolation(
            ("ingress", "port"), f"no port is named {port!r}", f"use one of: {', '.join(names)}"
        )
    if "host" in value:
        host = value["host"]
        rules: tuple[IngressRule, ...] = (
            IngressRule(
                host,
                (IngressPath(value.get("path", "/"), value.get("pathType", "Prefix"), port),),
            ),
        )
        tls: tuple[IngressTLS, ...] = (
            (IngressTLS((host,), value["tls"]["secretName"]),) if "tls" in value else ()
        )
    else:
        for key in ("path", "pathType", "tls"):
            if key in value:
                raise SchemaViolation(
                    ("ingress", key),
                    f"{key} is for a single host; with hosts, each host has its own",
                    "move it into the entries of hosts (paths, tls)",
                )
        rules, tls = _ingress_hosts(value["hosts"], port, names)
    return Ingress(rules, tls, value.get("className"), value.get("annotations", {}))


def _ingress_hosts(
    hosts: list[dict[str, Any]], port: str, names: list[str]
) -> tuple[tuple[IngressRule, ...], tuple[IngressTLS, ...]]:
    rules: list[IngressRule] = []
    # Hosts that share a certificate share one TLS entry, in the order first written.
    secured: dict[str, list[str]] = {}
    for index, entry in enumerate(hosts):
        host = entry["host"]
        if any(rule.host == host for rule in rules):
            raise SchemaViolation(
                ("ingress", "hosts", index, "host"),
                f"host {host!r} is listed twice",
                "list each host once, with all its paths",
            )
        paths = entry.get("paths", [{"path": "/"}])
        for p, path in enumerate(paths):
            if path.get("port", port) not in names:
                raise SchemaViolation(
                    ("ingress", "hosts", index, "paths", p, "port"),
                    f"no port is named {path['port']!r}",
                    f"use one of: {', '.join(names)}",
                )
        rules.append(
            IngressRule(
                host,
                tuple(
                    IngressPath(p["path"], p.get("pathType", "Prefix"), p.get("port", port))
                    for p in paths
                ),
            )
        )
        if "tls" in entry:
            secured.setdefault(entry["tls"]["secretName"], []).append(host)
    tls = tuple(IngressTLS(tuple(names), secret) for secret, names in secured.items())
    return tuple(rules), tls


def _extra_service(value: dict[str, Any]) -> ExtraService:
    return ExtraService(
        name=value["name"],
        type=value.get("type", "ClusterIP"),
        ports=tuple(
            ServicePort(
                p["name"],
                p["port"],
                p.get("targetPort", p["name"]),
                p.get("protocol", "TCP"),
                p.get("nodePort"),
            )
            for p in value["ports"]
        ),
        annotations=value.get("annotations", {}),
    )


def _containers(
    data: dict[str, Any], key: str, where: Callable[[FieldPath], str]
) -> tuple[Container, ...]:
    return tuple(
        parse_container(item, where((key, index, "image")))
        for index, item in enumerate(data.get(key, []))
    )


def _budget(value: dict[str, Any] | None) -> DisruptionBudget | None:
    if value is None:
        return None
    return DisruptionBudget(value.get("minAvailable"), value.get("maxUnavailable"))


def _config_files(value: dict[str, Any] | None) -> ConfigFiles | None:
    if value is None:
        return None
    return ConfigFiles(value["mountPath"], dict(sorted(value["files"].items())))


def _service_account(app_name: str, value: dict[str, Any] | None) -> ServiceAccount | None:
    if value is None:
        return None
    create = value.get("create", True)
    if not create and "name" not in value:
        raise SchemaViolation(
            ("serviceAccount",),
            "an existing service account (create: false) needs a name",
            "add name: <the ServiceAccount's name>, or remove create: false",
        )
    return ServiceAccount(value.get("name", app_name), create, value.get("annotations", {}))


def _check_blue_green(spec: AppSpec, blue_green: BlueGreen) -> None:
    where = ("rollout", "blueGreen")
    if not spec.ports:
        raise SchemaViolation(
            where,
            "blue-green switches the app's Service between versions, but the app has no "
            "ports, so no Service",
            "declare ports, or use a canary rollout",
        )
    if blue_green.active_service not in (None, spec.name):
        raise SchemaViolation(
            (*where, "activeService"),
            f"the active Service of an app spec is the app's own Service {spec.name!r}, "
            f"not {blue_green.active_service!r}",
            "leave activeService out",
        )
    if blue_green.preview(spec.name) == spec.name:
        raise SchemaViolation(
            (*where, "previewService"),
            f"the preview Service must differ from the app's own Service {spec.name!r}",
            "name another Service, or leave previewService out for <app>-preview",
        )
    if blue_green.preview(spec.name) in {s.name for s in spec.services}:
        raise SchemaViolation(
            (*where, "previewService"),
            f"the preview Service {blue_green.preview(spec.name)!r} is also one of services",
            "name the preview Service differently",
        )


def _cross_check(spec: AppSpec) -> None:
    """What the schema cannot say: relations between fields."""
    _check_ports(spec)
    _check_probes(spec)
    _check_services(spec)
    _check_pod(spec)
    if spec.autoscaling:
        _check_autoscaling(spec.autoscaling, spec.resources)
    if spec.rollout and spec.workload not in ("Deployment", "Worker"):
        raise SchemaViolation(
            ("rollout",),
            f"a {spec.workload} cannot have a rollout: hakobu runs canary and blue-green "
            "rollouts of a Deployment (workload Deployment or Worker)",
            "remove rollout, or run the app as a Deployment",
        )
    if spec.rollout and spec.autoscaling:
        raise SchemaViolation(
            ("rollout",),
            "a rollout sizes its versions from a fixed number of replicas, but autoscaling "
            "changes it",
            "remove autoscaling (set replicas) in the environments that use a rollout",
        )
    if isinstance(spec.rollout, BlueGreen):
        _check_blue_green(spec, spec.rollout)
    for key in spec.labels:
        if key.startswith(RESERVED_LABEL_PREFIX):
            raise SchemaViolation(
                ("labels", key),
                f"labels under {RESERVED_LABEL_PREFIX} are set by hakobu",
                "use the fields name, component and partOf, or another key",
            )
    if spec.config_files:
        _check_config_files(spec.config_files)
    written = sum(len(v.name) + len(v.value) for v in spec.env if isinstance(v.value, str))
    if written > _ENV_CHARS:
        raise SchemaViolation(
            ("env",),
            f"the values hold {written} characters; the Deployment that carries them would be "
            "larger than the API server stores",
            "put large values in a ConfigMap and read them with envFrom or configFiles",
        )
    _check_metadata(spec)
    for index, obj in enumerate(spec.extra_objects):
        problem = identity_problem(obj)
        if problem is not None:
            field_path, message = problem
            raise SchemaViolation(
                ("extraObjects", index, *field_path.split(".")),
                message,
                "the API server refuses it, and its kind and name name the file it is rendered to",
            )


# What the API server accepts (apimachinery's validation): a label or annotation key's name
# part and its prefix, all of an object's annotations together, a ConfigMap's data, and an
# object as a whole.
_KEY_NAME_CHARS = 63
_KEY_PREFIX_CHARS = 253
_ANNOTATIONS_BYTES = 256 << 10
_CONFIG_MAP_BYTES = 1 << 20
# An object is stored whole in etcd, whose requests are at most 1.5 MiB by default.
_ENV_CHARS = 1 << 20


def _check_config_files(config_files: ConfigFiles) -> None:
    if not config_files.files:
        raise SchemaViolation(("configFiles", "files"), "expected at least one file")
    size = sum(len(k.encode()) + len(v.encode()) for k, v in config_files.files.items())
    if size > _CONFIG_MAP_BYTES:
        raise SchemaViolation(
            ("configFiles", "files"),
            f"the files hold {size} bytes; a ConfigMap holds at most {_CONFIG_MAP_BYTES}",
            "mount large files from a volume or bake them into the image",
        )


def _check_metadata(spec: AppSpec) -> None:
    """Label and annotation keys, and annotations' size on each object they end up on."""
    ingress = spec.ingress.annotations if spec.ingress else {}
    account = spec.service_account.annotations if spec.service_account else {}
    maps: list[tuple[FieldPath, Mapping[str, str]]] = [
        (("labels",), spec.labels),
        (("annotations",), spec.annotations),
        (("podAnnotations",), spec.pod_annotations),
        (("ingress", "annotations"), ingress),
        (("serviceAccount", "annotations"), account),
        (("service", "annotations"), spec.service.annotations),
        (("nodeSelector",), spec.scheduling.node_selector),
        *(
            (("services", index, "annotations"), service.annotations)
            for index, service in enumerate(spec.services)
        ),
    ]
    for path, keys in maps:
        for key in keys:
            prefix, _, name = key.rpartition("/")
            if len(name) > _KEY_NAME_CHARS or len(prefix) > _KEY_PREFIX_CHARS:
                raise SchemaViolation(
                    (*path, key),
                    f"the key's name is {len(name)} characters and its prefix {len(prefix)}; "
                    f"at most {_KEY_NAME_CHARS} and {_KEY_PREFIX_CHARS} are allowed",
                )
    # Pods carry podAnnotations only; every object carries annotations and its own.
    on_objects = [
        (("annotations",), dict(spec.annotations)),
        (("podAnnotations",), dict(spec.pod_annotations)),
        (("ingress", "annotations"), {**spec.annotations, **ingress}),
        (("serviceAccount", "annotations"), {**spec.annotations, **account}),
        (("service", "annotations"), {**spec.annotations, **spec.service.annotations}),
        *(
            (("services", index, "annotations"), {**spec.annotations, **service.annotations})
            for index, service in enumerate(spec.services)
        ),
    ]
    for path, written in on_objects:
        size = sum(len(k.encode()) + len(v.encode()) for k, v in written.items())
        if size > _ANNOTATIONS_BYTES:
            raise SchemaViolation(
                path,
                f"the annotations hold {size} bytes; an object's annotations hold at most "
                f"{_ANNOTATIONS_BYTES}",
                "keep large data in a ConfigMap (configFiles) instead",
            )


def _check_services(spec: AppSpec) -> None:
    own = (
        {spec.name, headless_service_name(spec.name)}
        if spec.workload == "StatefulSet"
        else {spec.name}
    )
    names = {p.name for p in spec.ports}
    seen: set[str] = set()
    for index, service in enumerate(spec.services):
        if service.name in own or service.name in seen:
            raise SchemaViolation(
                ("services", index, "name"),
                f"{service.name!r} is the name of the app's own Service"
                if service.name in own
                else f"Service {service.name!r} is listed twice",
                "name the Service after what it offers, such as web-public",
            )
        seen.add(service.name)
        for p, port in enumerate(service.ports):
            if isinstance(port.target_port, str) and port.target_port not in names:
                raise SchemaViolation(
                    ("services", index, "ports", p, "targetPort"),
                    f"no port of the app is named {port.target_port!r}",
                    f"use one of: {', '.join(sorted(names)) or 'none (add ports)'}, or a number",
                )


def headless_service_name(app: str) -> str:
    """The Service that gives a StatefulSet's pods their stable names."""
    return f"{app}-headless"


def _check_pod(spec: AppSpec) -> None:
    """Containers, volumes and mounts of the pod fit together."""
    check_containers(spec.name, spec.sidecars, spec.init_containers)
    taken = {t.name: f"volumeClaimTemplates[{i}]" for i, t in enumerate(spec.claim_templates)}
    if spec.config_files is not None:
        taken[CONFIG_VOLUME] = "the configFiles volume"
    check_volumes(spec.volumes, taken)
    declared = [*taken, *(v.name for v in spec.volumes)]
    config_path = [spec.config_files.mount_path] if spec.config_files else []
    check_mounts(("mounts",), spec.mounts, declared, config_path)
    for key, containers in (("sidecars", spec.sidecars), ("initContainers", spec.init_containers)):
        for index, container in enumerate(containers):
            check_mounts((key, index, "mounts"), container.mounts, declared)


def _check_ports(spec: AppSpec) -> None:
    seen_names: set[str] = set()
    seen_ports: set[tuple[int, str]] = set()
    for index, port in enumerate(spec.ports):
        if port.name in seen_names:
            raise SchemaViolation(
                ("ports", index, "name"), f"port name {port.name!r} is used twice"
            )
        if (port.port, port.protocol) in seen_ports:
            raise SchemaViolation(
                ("ports", index, "port"), f"port {port.port}/{port.protocol} is used twice"
            )
        seen_names.add(port.name)
        seen_ports.add((port.port, port.protocol))


def _check_probes(spec: AppSpec) -> None:
    ports = [(p.name, p.protocol) for p in spec.ports]
    check_probes(("probes",), spec.probes, ports, "the main port")
    for index, sidecar in enumerate(spec.sidecars):
        own = [(p.name, p.protocol or "TCP") for p in sidecar.ports]
        check_probes(("sidecars", index, "probes"), sidecar.probes, own, "its first port")
    for index, init in enumerate(spec.init_containers):
        if init.probes != Probes():
            raise SchemaViolation(
                ("initContainers", index, "probes"),
                "an init container runs to completion before the others start: it takes no probes",
                "give probes to sidecars, or check readiness inside the init container",
            )


def _check_autoscaling(autoscaling: Autoscaling, resources: Resources | None) -> None:
    if autoscaling.min_replicas > autoscaling.max_replicas:
        raise SchemaViolation(
            ("autoscaling", "minReplicas"),
            f"minReplicas ({autoscaling.min_replicas}) is above maxReplicas "
            f"({autoscaling.max_replicas})",
        )
    requests = resources.requests if resources else {}
    for resource, target in (
        ("cpu", autoscaling.target_cpu),
        ("memory", autoscaling.target_memory),
    ):
        if target is not None and resource not in requests:
            raise SchemaViolation(
                ("autoscaling",),
                f"scaling on {resource} utilization needs resources.requests.{resource}",
                f"set resources.requests.{resource}: utilization is measured against it",
            )


__all__ = [
    "RESERVED_LABEL_PREFIX",
    "SUPPORTED_KEYWORDS",
    "AppSpec",
    "Autoscaling",
    "ClaimTemplate",
    "ConfigFiles",
    "Container",
    "ContainerPort",
    "ContainerSecurity",
    "CronJobSpec",
    "DisruptionBudget",
    "EnvFrom",
    "EnvVar",
    "ExtraService",
    "FieldRef",
    "Image",
    "Ingress",
    "IngressPath",
    "IngressRule",
    "IngressTLS",
    "JobSpec",
    "KeyRef",
    "Mount",
    "Patch",
    "Port",
    "Probe",
    "ProbeSpec",
    "Probes",
    "Resources",
    "Scheduling",
    "Security",
    "ServiceAccount",
    "ServiceOptions",
    "ServicePort",
    "Volume",
    "Workload",
    "app_schema",
    "environment_data",
    "headless_service_name",
    "load_app",
    "load_app_document",
]
