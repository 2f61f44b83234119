"""The app spec's JSON Schema: the single description of the format.

``hakobu schema app`` prints it for editors, ``hakobu.model.schemacheck`` checks files
against it, and its descriptions are the reference documentation of every field.
"""

from __future__ import annotations

import copy
from typing import Any

_DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_DNS_1035_LABEL = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
_DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
_PORT_NAME = r"^(?=.*[a-z])(?!.*--)[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_QUANTITY = r"^([0-9]+(\.[0-9]+)?|\.[0-9]+)([numkMGTPE]|[KMGTPE]i|[eE][0-9]+)?$"
_PERCENT = r"^(100|[1-9]?[0-9])%$"
_ENV_NAME = r"^[-._a-zA-Z][-._a-zA-Z0-9]*$"
_CONFIG_KEY = r"^[-._a-zA-Z0-9]+$"
# A platform base: NAME@VERSION, a directory name and a whole number.
BASE_REF_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?@[1-9][0-9]*$"
_LABEL_KEY = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
_LABEL_VALUE = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
_IMAGE_REPOSITORY = r"[a-z0-9]+([._-]+[a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-]+[a-z0-9]+)*)*"
_IMAGE_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_IMAGE_DIGEST = r"[a-z0-9]+([+._-][a-z0-9]+)*:[A-Za-z0-9=_-]{32,}"
_HOST = r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"

# Kubernetes keeps every count, duration and percentage of the objects an app spec becomes
# (replicas, probe timings, autoscaling bounds and targets) in a 32-bit integer.
INT32_MAX = 2**31 - 1

# Kubernetes reserves these for the labels hakobu sets itself; a user value would break the
# Deployment's selector or contradict the image's version.
RESERVED_LABEL_PREFIX = "app.kubernetes.io/"


def _ref(name: str, description: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"$ref": f"#/$defs/{name}"}
    if description:
        schema["description"] = description
    return schema


def _string(description: str, **keywords: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **keywords}


def _integer(description: str, minimum: int | None = None, **keywords: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "integer",
        "description": description,
        "maximum": INT32_MAX,
        **keywords,
    }
    if minimum is not None:
        schema["minimum"] = minimum
    return schema


def _boolean(description: str, **keywords: Any) -> dict[str, Any]:
    return {"type": "boolean", "description": description, **keywords}


def _list(description: str, items: dict[str, Any], **keywords: Any) -> dict[str, Any]:
    return {"type": "array", "description": description, "items": items, **keywords}


def _map(description: str, keys: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "propertyNames": keys,
        "additionalProperties": values,
    }


def _object(
    description: str,
    properties: dict[str, Any],
    required: tuple[str, ...] = (),
    **keywords: Any,
) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "description": description,
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    schema.update(keywords)
    return schema


def _surge_limit(description: str) -> dict[str, Any]:
    return {
        "description": f"{description}: a number of replicas, or a percentage of them "
        "(surge rounds up, unavailable down), as Argo Rollouts counts them",
        "anyOf": [
            _integer("a number of replicas", minimum=0, maximum=10_000),
            _string("a percentage of the replicas, such as 25%", pattern="^[0-9]{1,3}%$"),
        ],
    }


def _exactly_one_of(*names: str) -> list[dict[str, Any]]:
    return [{"required": [name]} for name in names]


_DEFS: dict[str, Any] = {
    "dnsLabel": _string(
        "a DNS-1123 label: at most 63 lowercase letters, digits or '-', starting and ending "
        "with a letter or digit",
        pattern=_DNS_LABEL,
        maxLength=63,
    ),
    "dns1035Label": _string(
        "a DNS-1035 label: at most 63 lowercase letters, digits or '-', starting with a letter "
        "and ending with a letter or digit",
        pattern=_DNS_1035_LABEL,
        maxLength=63,
    ),
    "dnsSubdomain": _string(
        "a DNS-1123 subdomain: at most 253 lowercase letters, digits, '-' or '.', starting and "
        "ending with a letter or digit",
        pattern=_DNS_SUBDOMAIN,
        maxLength=253,
    ),
    "portNumber": _integer("a port number from 1 to 65535", minimum=1, maximum=65535),
    "portName": _string(
        "a port name: at most 15 lowercase letters, digits or '-', with at least one letter, "
        "starting and ending with a letter or digit, no '--'",
        pattern=_PORT_NAME,
        maxLength=15,
    ),
    "quantity": {
        "description": "a Kubernetes quantity such as 250m, 0.5, 2 (cpu) or 128Mi, 1Gi (memory)",
        "anyOf": [
            _string(
                "a Kubernetes quantity: a number with an optional suffix (m, k, M, G, Ki, Mi, "
                "Gi, ...), such as 250m or 128Mi",
                pattern=_QUANTITY,
            ),
            {"type": "number", "minimum": 0},
        ],
    },
    "intOrPercent": {
        "description": "a number of pods or a percentage of them, such as 1 or '50%'",
        "anyOf": [
            {"type": "integer", "minimum": 0, "maximum": INT32_MAX},
            _string("a percentage from '0%' to '100%'", pattern=_PERCENT),
        ],
    },
    "labelKey": _string(
        "a label key: an optional DNS subdomain prefix and '/', then a name of letters, "
        "digits, '-', '_' or '.'",
        pattern=_LABEL_KEY,
    ),
    "labels": _map(
        "Kubernetes labels",
        _string(
            "a label key: an optional DNS subdomain prefix and '/', then a name of letters, "
            "digits, '-', '_' or '.'",
            pattern=_LABEL_KEY,
        ),
        _string(
            "a label value: at most 63 letters, digits, '-', '_' or '.', starting and ending "
            "with a letter or digit (quote numbers and booleans)",
            pattern=_LABEL_VALUE,
            maxLength=63,
        ),
    ),
    "annotations": _map(
        "Kubernetes annotations",
        _string(
            "an annotation key: an optional DNS subdomain prefix and '/', then a name of "
            "letters, digits, '-', '_' or '.'",
            pattern=_LABEL_KEY,
        ),
        _string("an annotation value (quote numbers and booleans)"),
    ),
    "keyRef": _object(
        "one key of a ConfigMap or Secret",
        {
            "name": _ref("dnsSubdomain", "the ConfigMap's or Secret's name"),
            "key": _string(
                "the key: letters, digits, '-', '_' or '.'", pattern=_CONFIG_KEY, maxLength=253
            ),
            "optional": _boolean("start the pod even if the key does not exist"),
        },
        required=("name", "key"),
    ),
    "envValue": {
        "description": "a plain value (strings, integers and booleans are written as text) or "
        "a reference to a ConfigMap key, a Secret key or a field of the pod",
        "anyOf": [
            {"type": "string"},
            {"type": "integer"},
            {"type": "boolean"},
            _object(
                "a value read when the pod starts; set exactly one of configMapKeyRef, "
                "secretKeyRef or fieldRef",
                {
                    "configMapKeyRef": _ref("keyRef", "a ConfigMap key: {name, key}"),
                    "secretKeyRef": _ref("keyRef", "a Secret key: {name, key}"),
                    "fieldRef": _object(
                        "a field of the pod, such as status.podIP or metadata.name",
                        {"fieldPath": _string("the field's path, such as status.podIP")},
                        required=("fieldPath",),
                    ),
                },
                oneOf=_exactly_one_of("configMapKeyRef", "secretKeyRef", "fieldRef"),
            ),
        ],
    },
    "probe": {
        "description": "true for the default check (a TCP connection to the main port), false "
        "to turn the probe off, or a mapping that sets path (an HTTP GET), port, command or "
        "timings",
        "anyOf": [
            {"type": "boolean"},
            _object(
                "a probe: an HTTP GET when path is set, a command when command is set, "
                "otherwise a TCP connection",
                {
                    "path": _string(
                        "a path beginning with /, such as /healthz: makes the probe an HTTP "
                        "GET of it",
                        pattern=r"^/",
                    ),
                    "port": {
                        "description": "the port to check, by name (from ports) or number; "
                        "defaults to the main port",
                        "anyOf": [_ref("portNumber"), _ref("portName")],
                    },
                    "scheme": _string(
                        "HTTP or HTTPS for an HTTP GET (default HTTP)", enum=["HTTP", "HTTPS"]
                    ),
                    "command": _list(
                        "make it a command run in the container; healthy when it exits with 0",
                        {"type": "string"},
                        minItems=1,
                    ),
                    "initialDelaySeconds": _integer("seconds before the first check", 0),
                    "periodSeconds": _integer("seconds between checks", 1),
                    "timeoutSeconds": _integer("seconds before a check fails", 1),
                    "failureThreshold": _integer("failed checks in a row that count", 1),
                    "successThreshold": _integer("successful checks in a row that count", 1),
                },
            ),
        ],
    },
}

_RESOURCE_AMOUNTS = _object(
    "amounts of cpu and memory",
    {
        "cpu": _ref("quantity", "cpu, in cores: 250m is a quarter of a core"),
        "memory": _ref("quantity", "memory, in bytes with a suffix: 128Mi, 1Gi"),
    },
)

_IMAGE_STRING = _string(
    "repository:tag or repository@digest, such as example.test/team/web:1.4.2",
    pattern=f"^{_IMAGE_REPOSITORY}(:{_IMAGE_TAG})?(@{_IMAGE_DIGEST})?$",
)

_ENV = _map(
    "Environment variables: NAME: value, or NAME: {configMapKeyRef|secretKeyRef: "
    "{name, key}} or NAME: {fieldRef: {fieldPath}}. Kept in the order written, so a "
    "value may refer to an earlier variable as $(NAME).",
    _string(
        "an environment variable name: letters, digits, '-', '_' or '.', not starting with a digit",
        pattern=_ENV_NAME,
    ),
    _ref("envValue"),
)

_ENV_FROM = _list(
    "Every key of a ConfigMap or Secret as environment variables.",
    _object(
        "a ConfigMap or Secret; set exactly one of configMapRef or secretRef",
        {
            "configMapRef": _object(
                "a ConfigMap",
                {
                    "name": _ref("dnsSubdomain", "the ConfigMap's name"),
                    "optional": _boolean("start the pod even if it does not exist"),
                },
                required=("name",),
            ),
            "secretRef": _object(
                "a Secret",
                {
                    "name": _ref("dnsSubdomain", "the Secret's name"),
                    "optional": _boolean("start the pod even if it does not exist"),
                },
                required=("name",),
            ),
            "prefix": _string(
                "a prefix for every variable's name: letters, digits, '-', '_' or '.', not "
                "starting with a digit",
                pattern=_ENV_NAME,
            ),
        },
        oneOf=_exactly_one_of("configMapRef", "secretRef"),
    ),
)

_RESOURCES = _object(
    "What the container is guaranteed (requests) and may use at most (limits).",
    {
        "requests": _RESOURCE_AMOUNTS,
        "limits": _RESOURCE_AMOUNTS,
    },
)

_IMAGE = {
    "description": "The container image, as 'repository:tag', as {repository, tag}, or as "
    "{name} of an image declared in hakobu.yaml (its content-addressed tag is filled in "
    "at render time). A tag or digest is required so that every render deploys the same "
    "image; the tag becomes the app.kubernetes.io/version label.",
    "anyOf": [
        _IMAGE_STRING,
        _object(
            "the image in parts",
            {
                "repository": _string(
                    "a repository: lowercase letters, digits and separators, such as "
                    "example.test/team/web",
                    pattern=f"^{_IMAGE_REPOSITORY}$",
                ),
                "tag": _string(
                    "a tag: at most 128 letters, digits, '_', '.' or '-', such as 1.4.2 "
                    "(quote tags YAML would read as numbers)",
                    pattern=f"^{_IMAGE_TAG}$",
                ),
                "digest": _string(
                    "a digest, algorithm:hex such as sha256:…; pins the image even if the tag "
                    "moves",
                    pattern=f"^{_IMAGE_DIGEST}$",
                ),
                "name": _ref(
                    "dnsLabel",
                    "an image declared under images: in hakobu.yaml; hakobu fills in its "
                    "registry, repository and content-addressed tag",
                ),
                "pullPolicy": _string(
                    "when the node pulls the image (Kubernetes' default if unset)",
                    enum=["Always", "IfNotPresent", "Never"],
                ),
            },
            oneOf=_exactly_one_of("repository", "name"),
        ),
    ],
}

_CAPABILITY = r"^[A-Z][A-Z0-9_]*$"

_CONTAINER_SECURITY: dict[str, Any] = {
    "readOnlyRootFilesystem": _boolean(
        "mount the container's root filesystem read-only (default false); write to volumes "
        "(an emptyDir) instead"
    ),
    "allowPrivilegeEscalation": _boolean(
        "let a process gain more privileges than its parent, through setuid binaries "
        "(default false)"
    ),
    "runAsUser": _integer("the user id the container's processes run as", 0),
    "runAsGroup": _integer("the primary group id of the container's processes", 0),
    "capabilities": _object(
        "Linux capabilities: every one is dropped (ALL); add names the few the container "
        "needs back",
        {
            "add": _list(
                "capabilities to keep, such as NET_BIND_SERVICE",
                _string(
                    "a capability name without CAP_, such as NET_BIND_SERVICE", pattern=_CAPABILITY
                ),
            )
        },
    ),
}

_KEY_TO_PATH = _list(
    "only these keys, each written to its own path (every key otherwise, named as the key)",
    _object(
        "a key and the file it becomes",
        {
            "key": _string("the key", pattern=_CONFIG_KEY, maxLength=253),
            "path": _string("the file's path inside the volume, relative", pattern=r"^[^/]"),
        },
        required=("key", "path"),
    ),
    minItems=1,
)

_FILE_MODE = _integer(
    "the files' permission bits, in octal with a leading 0 (0440) or 0o (0o440), or in "
    "decimal (288)",
    0,
    maximum=0o777,
)

_PROJECTED_SOURCE = _object(
    "one source of a projected volume; set exactly one of secret, configMap, downwardAPI or "
    "serviceAccountToken",
    {
        "secret": _object(
            "keys of a Secret",
            {
                "name": _ref("dnsSubdomain", "the Secret's name"),
                "items": _KEY_TO_PATH,
                "optional": _boolean("start the pod even if it does not exist"),
            },
            required=("name",),
        ),
        "configMap": _object(
            "keys of a ConfigMap",
            {
                "name": _ref("dnsSubdomain", "the ConfigMap's name"),
                "items": _KEY_TO_PATH,
                "optional": _boolean("start the pod even if it does not exist"),
            },
            required=("name",),
        ),
        "downwardAPI": _object(
            "fields of the pod as files",
            {
                "items": _list(
                    "the files",
                    _object(
                        "a field of the pod written to a file",
                        {
                            "path": _string("the file's path, relative", pattern=r"^[^/]"),
                            "fieldRef": _object(
                                "the field",
                                {"fieldPath": _string("the field's path, such as metadata.labels")},
                                required=("fieldPath",),
                            ),
                        },
                        required=("path", "fieldRef"),
                    ),
                    minItems=1,
                )
            },
            required=("items",),
        ),
        "serviceAccountToken": _object(
            "a token of the pod's ServiceAccount, renewed before it expires",
            {
                "path": _string("the file's path, relative", pattern=r"^[^/]"),
                "audience": _string("who the token is meant for (the API server if unset)"),
                "expirationSeconds": _integer(
                    "how long the token is valid (at least 600; default 3600)", 600
                ),
            },
            required=("path",),
        ),
    },
    oneOf=_exactly_one_of("secret", "configMap", "downwardAPI", "serviceAccountToken"),
)

_VOLUME = _object(
    "a volume; set exactly one of emptyDir, persistentVolumeClaim, secret, configMap or projected",
    {
        "name": _ref("dnsLabel", "the volume's name, which mounts refer to"),
        "emptyDir": _object(
            "an empty directory that lives as long as the pod",
            {
                "medium": _string(
                    "Memory for a tmpfs (default: the node's disk)", enum=["", "Memory"]
                ),
                "sizeLimit": _ref("quantity", "the most it may hold, such as 1Gi"),
            },
        ),
        "persistentVolumeClaim": _object(
            "an existing PersistentVolumeClaim",
            {
                "claimName": _ref("dnsSubdomain", "the claim's name"),
                "readOnly": _boolean("mount it read-only"),
            },
            required=("claimName",),
        ),
        "secret": _object(
            "the keys of a Secret as files",
            {
                "secretName": _ref("dnsSubdomain", "the Secret's name"),
                "items": _KEY_TO_PATH,
                "optional": _boolean("start the pod even if it does not exist"),
                "defaultMode": _FILE_MODE,
            },
            required=("secretName",),
        ),
        "configMap": _object(
            "the keys of a ConfigMap as files",
            {
                "name": _ref("dnsSubdomain", "the ConfigMap's name"),
                "items": _KEY_TO_PATH,
                "optional": _boolean("start the pod even if it does not exist"),
                "defaultMode": _FILE_MODE,
            },
            required=("name",),
        ),
        "projected": _object(
            "several Secrets, ConfigMaps, pod fields and tokens in one directory",
            {
                "sources": _list("what the directory holds", _PROJECTED_SOURCE, minItems=1),
                "defaultMode": _FILE_MODE,
            },
            required=("sources",),
        ),
    },
    required=("name",),
    oneOf=_exactly_one_of("emptyDir", "persistentVolumeClaim", "secret", "configMap", "projected"),
)

_MOUNTS = _list(
    "Volumes mounted into the container, by name: one of volumes, of volumeClaimTemplates "
    "(a StatefulSet), or config (the configFiles volume).",
    _object(
        "a mount",
        {
            "name": _ref("dnsLabel", "the volume's name"),
            "mountPath": _string("an absolute directory, such as /var/cache/web", pattern=r"^/"),
            "subPath": _string(
                "mount only this path inside the volume, relative", pattern=r"^[^/]"
            ),
            "readOnly": _boolean("mount it read-only (default false)"),
        },
        required=("name", "mountPath"),
    ),
)

_CONTAINER = _object(
    "a container of the pod besides the app's own",
    {
        "name": _ref("dnsLabel", "the container's name: unique in the pod, and not the app's"),
        "image": {
            **_IMAGE,
            "description": "the container image, in any form the app's image takes",
        },
        "command": _list("replaces the image's entrypoint", {"type": "string"}),
        "args": _list("replaces the image's command arguments", {"type": "string"}),
        "env": {**_ENV, "description": "environment variables, as the app's env"},
        "envFrom": {**_ENV_FROM, "description": "ConfigMaps and Secrets, as the app's envFrom"},
        "ports": _list(
            "the ports the container listens on (no Service routes to them)",
            _object(
                "a port",
                {
                    "name": _ref("portName", "the port's name"),
                    "containerPort": _ref("portNumber", "the port"),
                    "protocol": _string("the protocol (default TCP)", enum=["TCP", "UDP", "SCTP"]),
                },
                required=("name", "containerPort"),
            ),
        ),
        "resources": {**_RESOURCES, "description": "requests and limits, as the app's"},
        "mounts": _MOUNTS,
        "securityContext": _object(
            "overrides of the app's securityContext for this container; writing it turns on "
            "the safe defaults for this container",
            _CONTAINER_SECURITY,
        ),
        "probes": _object(
            "Health checks of a sidecar (an init container runs to completion and has none), "
            "none unless given: true is a TCP connection to its first port; give path to make "
            "one an HTTP GET, port to check another of its ports, or command.",
            {
                "readiness": _ref("probe", "is the sidecar ready? (the pod is ready when all are)"),
                "liveness": _ref("probe", "should the sidecar be restarted?"),
                "startup": _ref("probe", "has the sidecar finished starting?"),
            },
        ),
    },
    required=("name", "image"),
)

_WORKLOADS = ["Deployment", "StatefulSet", "Worker", "Job", "CronJob"]

_TOLERATION = _object(
    "a taint the pods tolerate",
    {
        "key": _string("the taint's key (every key if unset, with operator Exists)"),
        "operator": _string("Equal (default) or Exists", enum=["Equal", "Exists"]),
        "value": _string("the taint's value, with operator Equal"),
        "effect": _string(
            "the taint's effect (every effect if unset)",
            enum=["NoSchedule", "PreferNoSchedule", "NoExecute"],
        ),
        "tolerationSeconds": _integer("how long a NoExecute taint is tolerated before eviction", 0),
    },
)

_SPREAD = _object(
    "spread the app's pods across a topology (nodes, zones): the pods are selected by the "
    "app's selector labels",
    {
        "maxSkew": _integer("the most the count of pods may differ between domains", 1),
        "topologyKey": _ref(
            "labelKey", "the node label that names the domain, such as topology.kubernetes.io/zone"
        ),
        "whenUnsatisfiable": _string(
            "DoNotSchedule (default) or ScheduleAnyway",
            enum=["DoNotSchedule", "ScheduleAnyway"],
        ),
        "minDomains": _integer("the fewest domains to count (DoNotSchedule only)", 1),
    },
    required=("maxSkew", "topologyKey"),
)

_SERVICE_TYPE = _string(
    "ClusterIP (default), NodePort or LoadBalancer",
    enum=["ClusterIP", "NodePort", "LoadBalancer"],
)

_EXTRA_SERVICE = _object(
    "a Service besides the app's own, selecting the same pods",
    {
        "name": _ref("dns1035Label", "the Service's name: not the app's, nor another's"),
        "type": _SERVICE_TYPE,
        "ports": _list(
            "the Service's ports",
            _object(
                "a port",
                {
                    "name": _ref("portName", "the port's name"),
                    "port": _ref("portNumber", "the Service's port"),
                    "targetPort": {
                        "description": "the container port: a name from ports, or a number "
                        "(default the port's name)",
                        "anyOf": [_ref("portNumber"), _ref("portName")],
                    },
                    "protocol": _string("the protocol (default TCP)", enum=["TCP", "UDP", "SCTP"]),
                    "nodePort": _integer(
                        "the port on every node (NodePort and LoadBalancer types; allocated "
                        "if unset)",
                        1,
                        maximum=65535,
                    ),
                },
                required=("name", "port"),
            ),
            minItems=1,
        ),
        "annotations": _ref("annotations", "annotations for this Service only"),
    },
    required=("name", "ports"),
)

_INGRESS_HOST = _object(
    "a host, its paths and its certificate",
    {
        "host": _string(
            "a host name, such as web.example.test (a leading '*.' makes a wildcard)",
            pattern=_HOST,
            maxLength=253,
        ),
        "paths": _list(
            "the paths to route (default / to the default port)",
            _object(
                "a path",
                {
                    "path": _string("a path beginning with /", pattern=r"^/"),
                    "pathType": _string(
                        "how path matches (default Prefix)",
                        enum=["Prefix", "Exact", "ImplementationSpecific"],
                    ),
                    "port": _ref("portName", "the Service port to route to (default ingress.port)"),
                },
                required=("path",),
            ),
            minItems=1,
        ),
        "tls": _object(
            "serve HTTPS for this host with the certificate in a Secret (hosts that name the "
            "same Secret share one TLS entry)",
            {"secretName": _ref("dnsSubdomain", "the kubernetes.io/tls Secret's name")},
            required=("secretName",),
        ),
    },
    required=("host",),
)

_JOB = _object(
    "How a Job (workload Job, or each run of a CronJob) runs its pods.",
    {
        "backoffLimit": _integer("retries before the Job fails (Kubernetes' default 6)", 0),
        "activeDeadlineSeconds": _integer("seconds the Job may run at most", 1),
        "completions": _integer("successful pods that complete the Job (default 1)", 1),
        "parallelism": _integer("pods that run at once (default 1)", 0),
        "restartPolicy": _string(
            "OnFailure (default: restart the container in its pod) or Never (a new pod)",
            enum=["OnFailure", "Never"],
        ),
    },
)

_CRON_JOB = _object(
    "When and how a CronJob starts its Jobs; required for workload CronJob.",
    {
        "schedule": _string(
            "a cron schedule of five fields (minute hour day month weekday), such as "
            "'*/15 * * * *', or @hourly, @daily, @weekly, @monthly, @yearly",
            minLength=1,
        ),
        "timeZone": _string(
            "the IANA time zone the schedule is read in, such as Europe/Berlin (the "
            "controller's if unset)",
            minLength=1,
        ),
        "concurrencyPolicy": _string(
            "what a run does while the last one still runs: Forbid (default: skip this run), "
            "Allow (run both) or Replace (stop the last one)",
            enum=["Forbid", "Allow", "Replace"],
        ),
        "successfulJobsHistoryLimit": _integer("finished Jobs kept (default 3)", 0),
        "failedJobsHistoryLimit": _integer("failed Jobs kept (default 1)", 0),
        "startingDeadlineSeconds": _integer("seconds a missed run may still start late", 0),
        "suspend": _boolean("start no new runs (default false)"),
    },
    required=("schedule",),
)

_CLAIM_TEMPLATE = _object(
    "a PersistentVolumeClaim made for each pod of a StatefulSet, kept when the pod goes",
    {
        "name": _ref("dnsLabel", "the claim's name, which mounts refer to"),
        "size": _ref("quantity", "the storage requested, such as 10Gi"),
        "accessModes": _list(
            "how the volume may be mounted (default [ReadWriteOnce])",
            _string(
                "an access mode",
                enum=["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"],
            ),
            minItems=1,
        ),
        "storageClassName": _string(
            "the StorageClass (the cluster's default if unset)", minLength=1
        ),
    },
    required=("name", "size"),
)

_PROPERTIES: dict[str, Any] = {
    "name": _ref(
        "dns1035Label",
        "The app's name: the name of its Deployment, Service and other objects, and of its "
        "container. A Service's name must start with a letter.",
    ),
    "image": _IMAGE,
    "workload": _string(
        "What runs the app's pods: Deployment (default), StatefulSet (stable names and a "
        "PersistentVolumeClaim per pod), Worker (a Deployment without a Service, for "
        "queue consumers), Job (runs once to completion) or CronJob (runs on a schedule). "
        "The same in every environment.",
        enum=_WORKLOADS,
        default="Deployment",
    ),
    "component": _ref(
        "dnsLabel", "The app.kubernetes.io/component label, such as frontend or worker."
    ),
    "partOf": _ref("dnsLabel", "The app.kubernetes.io/part-of label: the larger system."),
    "replicas": _integer(
        "How many pods run (default 1). Ignored while autoscaling is on.", 0, default=1
    ),
    "ports": _list(
        "The ports the container listens on; each becomes a port of the Service, by name. "
        "The first is the main port: default probes and the ingress use it.",
        _object(
            "a port",
            {
                "name": _ref("portName", "the port's name, such as http or grpc"),
                "port": _ref("portNumber", "the Service's port"),
                "targetPort": _ref("portNumber", "the container's port (defaults to port)"),
                "protocol": _string(
                    "the protocol (default TCP)", enum=["TCP", "UDP", "SCTP"], default="TCP"
                ),
            },
            required=("name", "port"),
        ),
    ),
    "command": _list("Replaces the image's entrypoint.", {"type": "string"}),
    "args": _list("Replaces the image's command arguments.", {"type": "string"}),
    "env": _ENV,
    "envFrom": _ENV_FROM,
    "resources": _RESOURCES,
    "autoscaling": _object(
        "Scale between minReplicas and maxReplicas on cpu (and optionally memory) use, with "
        "an autoscaling/v2 HorizontalPodAutoscaler. While on, the Deployment has no replicas "
        "field, so a sync never fights the autoscaler. Utilization is relative to "
        "resources.requests, which must therefore be set.",
        {
            "enabled": _boolean(
                "set false to turn autoscaling off (in one environment, say)", default=True
            ),
            "minReplicas": _integer("the fewest pods (default 1)", 1, default=1),
            "maxReplicas": _integer("the most pods", 1),
            "targetCPUUtilizationPercentage": _integer(
                "the average cpu use to aim for, in percent of the cpu request (default 80 "
                "unless only memory is given)",
                1,
            ),
            "targetMemoryUtilizationPercentage": _integer(
                "the average memory use to aim for, in percent of the memory request", 1
            ),
        },
        required=("maxReplicas",),
    ),
    "probes": _object(
        "Health checks. Without this field, readiness and liveness are TCP connections to the "
        "main port (if it is a TCP port); give path to make one an HTTP GET, or false to turn "
        "it off. A startup probe runs only if given.",
        {
            "readiness": _ref("probe", "is the pod ready for traffic?"),
            "liveness": _ref("probe", "should the container be restarted?"),
            "startup": _ref("probe", "has the container finished starting?"),
        },
    ),
    "ingress": _object(
        "Route HTTP(S) to the Service with a networking.k8s.io/v1 Ingress: one host (host, "
        "path, tls) or several (hosts, each with its paths and tls); set exactly one of "
        "host or hosts.",
        {
            "host": _string(
                "a host name, such as web.example.test (a leading '*.' makes a wildcard)",
                pattern=_HOST,
                maxLength=253,
            ),
            "path": _string(
                "a path beginning with /: the prefix to route (default /)",
                pattern=r"^/",
                default="/",
            ),
            "pathType": _string(
                "how path matches (default Prefix)",
                enum=["Prefix", "Exact", "ImplementationSpecific"],
                default="Prefix",
            ),
            "port": _ref("portName", "the Service port to route to (default the main port)"),
            "className": _string(
                "the IngressClass, such as nginx (the cluster's default if unset)"
            ),
            "tls": _object(
                "serve HTTPS with the certificate in a Secret",
                {"secretName": _ref("dnsSubdomain", "the kubernetes.io/tls Secret's name")},
                required=("secretName",),
            ),
            "hosts": _list(
                "several hosts, each with its own paths and TLS", _INGRESS_HOST, minItems=1
            ),
            "annotations": _ref("annotations", "annotations for the Ingress only"),
        },
        oneOf=_exactly_one_of("host", "hosts"),
    ),
    "podDisruptionBudget": _object(
        "Limit how many pods voluntary disruptions (node drains) may take down at once, with "
        "a policy/v1 PodDisruptionBudget; set exactly one of minAvailable or maxUnavailable.",
        {
            "minAvailable": _ref("intOrPercent", "pods that must stay up"),
            "maxUnavailable": _ref("intOrPercent", "pods that may be down"),
        },
        oneOf=_exactly_one_of("minAvailable", "maxUnavailable"),
    ),
    "configFiles": _object(
        "Files written into a ConfigMap named <name>-config and mounted read-only into the "
        "container. A change of content restarts the pods (the pod template carries a "
        "hakobu.dev/config-checksum annotation).",
        {
            "mountPath": _string("an absolute directory, such as /etc/web", pattern=r"^/"),
            "files": _map(
                "file name: content",
                _string(
                    "a file name: letters, digits, '-', '_' or '.'",
                    pattern=_CONFIG_KEY,
                    maxLength=253,
                ),
                _string("the file's content"),
            ),
        },
        required=("mountPath", "files"),
    ),
    "serviceAccount": _object(
        "The pods' ServiceAccount. Without this field the pods use the namespace's default.",
        {
            "create": _boolean(
                "create it (default true); false uses an existing one, which needs name",
                default=True,
            ),
            "name": _ref("dnsSubdomain", "its name (default the app's name)"),
            "annotations": _ref("annotations", "annotations for the ServiceAccount only"),
        },
    ),
    "sidecars": _list(
        "Containers that run beside the app's own in every pod, such as a log shipper or a "
        "proxy. They share the pod's volumes and securityContext. In a Job or CronJob they "
        "are native sidecars (init containers with restartPolicy Always), so that they stop "
        "when the app's container has exited and the Job completes.",
        _ref("container"),
    ),
    "initContainers": _list(
        "Containers that run to completion, one after another, before the pod's other "
        "containers start, such as a schema migration or a file download.",
        _ref("container"),
    ),
    "volumes": _list(
        "Volumes of the pod, mounted by name with mounts (of the app or of a sidecar or "
        "init container). The name config is taken when configFiles is set.",
        _VOLUME,
    ),
    "mounts": {
        **_MOUNTS,
        "description": "Volumes mounted into the app's container, by name: "
        "one of volumes, of volumeClaimTemplates (a StatefulSet), or config (the "
        "configFiles volume, which configFiles mounts already).",
    },
    "securityContext": _object(
        "Run the pods with least privilege. Writing this field (even {}) turns on safe "
        "defaults for the pod and every container: runAsNonRoot true, seccompProfile "
        "RuntimeDefault, allowPrivilegeEscalation false, every capability dropped; the "
        "fields below change them. Without it, nothing is set and the image's and "
        "cluster's defaults apply.",
        {
            "runAsNonRoot": _boolean(
                "refuse to start a container whose user is root (default true)"
            ),
            "runAsUser": _integer("the user id every container's processes run as", 0),
            "runAsGroup": _integer("the primary group id of every container's processes", 0),
            "fsGroup": _integer("the group that owns the pod's volumes", 0),
            "seccompProfile": _string(
                "the seccomp profile: RuntimeDefault (default) or Unconfined",
                enum=["RuntimeDefault", "Unconfined"],
            ),
            **{k: v for k, v in _CONTAINER_SECURITY.items() if not k.startswith("runAs")},
        },
    ),
    "nodeSelector": _ref("labels", "Run the pods only on nodes with these labels."),
    "affinity": _object(
        "Attract the pods to nodes or to other pods, or keep them apart, as Kubernetes' "
        "affinity field (passed through as written; the API server checks it).",
        {
            "nodeAffinity": {"type": "object", "description": "rules on node labels"},
            "podAffinity": {"type": "object", "description": "run near pods like these"},
            "podAntiAffinity": {"type": "object", "description": "run away from pods like these"},
        },
    ),
    "tolerations": _list("Taints of nodes the pods may run on.", _TOLERATION),
    "topologySpreadConstraints": _list("Spread the app's pods across nodes or zones.", _SPREAD),
    "priorityClassName": _ref(
        "dnsSubdomain",
        "The pods' PriorityClass: which pods the scheduler preempts first when the cluster "
        "is full. The PriorityClass must exist.",
    ),
    "service": _object(
        "The app's own Service (made from ports; Deployment and StatefulSet only).",
        {
            "type": _SERVICE_TYPE,
            "annotations": _ref("annotations", "annotations for this Service only"),
        },
    ),
    "services": _list(
        "More Services selecting the app's pods, such as a LoadBalancer for one port "
        "(Deployment and StatefulSet only).",
        _EXTRA_SERVICE,
    ),
    "job": _JOB,
    "cronJob": _CRON_JOB,
    "volumeClaimTemplates": _list(
        "A PersistentVolumeClaim per pod, mounted by name with mounts (StatefulSet only).",
        _CLAIM_TEMPLATE,
    ),
    "labels": _ref(
        "labels",
        "Labels for every object and pod (keys under app.kubernetes.io/ are set by hakobu).",
    ),
    "annotations": _ref("annotations", "Annotations for every generated object."),
    "podAnnotations": _ref("annotations", "Annotations for the pods only."),
    "extraObjects": _list(
        "Kubernetes objects added to the output exactly as written (set their namespace "
        "yourself if they need one).",
        {
            "type": "object",
            "description": "a Kubernetes object",
            "properties": {
                "apiVersion": {"type": "string"},
                "kind": {"type": "string"},
                "metadata": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}},
                    "required": ["name"],
                },
            },
            "required": ["apiVersion", "kind", "metadata"],
        },
    ),
    "patches": _list(
        "Partial objects merged into the generated objects, for fields the spec does not "
        "cover. Each names its target by kind and, optionally, metadata.name (every generated "
        "object of that kind otherwise); it must match at least one. They are strategic "
        "merge patches, applied as kustomize applies them: mappings merge, null deletes a "
        "field, lists with a merge key (containers, env, volumes, ...) merge by it, other "
        "lists replace, and $patch: delete removes the object.",
        {
            "type": "object",
            "description": "a partial Kubernetes object",
            "properties": {
                "kind": {"type": "string"},
                "metadata": {"type": "object", "properties": {"name": {"type": "string"}}},
            },
            "required": ["kind"],
        },
    ),
    "promote": _list(
        "What `hakobu promote FROM TO` carries from FROM into TO (default [image]; [] "
        "carries nothing): paths of fields, keys separated by '.', such as image, replicas, "
        "env.FEATURE_FLAGS or resources.limits. For each path, TO's override is written so "
        "that TO's value there becomes exactly FROM's (removed if FROM has none); nothing "
        "else changes. A path starts with a field an environment can override; a key that "
        "contains '.' cannot be addressed, so promote the mapping that holds it. Every path "
        "is promoted once: a path inside another listed one is refused. The same in every "
        "environment.",
        _string(
            "a field path: keys separated by '.', such as env.FEATURE_FLAGS",
            pattern=r"^[^.]+(\.[^.]+)*$",
        ),
        default=["image"],
    ),
    "rollout": _object(
        "How a new version replaces the running one: a canary that moves a rising share of "
        "the replicas (and so of the traffic through the app's Service) to the new version, "
        "step by step. canary.steps is a list of steps, each one of: setWeight: N (the "
        "percentage of replicas that run the new version, 1 to 100, rising from step to "
        "step); pause: {} (until `hakobu rollout promote`) or pause: {duration: 5m}; "
        "analysis: a Prometheus query (address, query) or an HTTP check (web: {url, method, "
        "headers, body, timeoutSeconds, jsonPath}; a 2xx answer passes) measured count "
        "times, interval apart, with successCondition and/or failureCondition "
        "(comparisons on result[N] or len(result), joined by and, or, not, such as "
        "result[0] >= 0.95), interval (default 30s), count (default 1), failureLimit "
        "(default 0), inconclusiveLimit (default 0) and consecutiveErrorLimit (default 4). "
        "An empty result is inconclusive. Or blueGreen: the new version runs beside the "
        "running one behind a preview Service, and promotion switches the app's Service to "
        "it at once. `hakobu rollout run|status|promote|abort|retry ENV APP` drives and "
        "steers either. Exactly one of canary or blueGreen. Not with autoscaling: a rollout "
        "needs a fixed number of replicas.",
        {
            "canary": _object(
                "a canary rollout",
                {
                    "steps": _list(
                        "the steps, in order",
                        {"type": "object", "description": "one of setWeight, pause, analysis"},
                        minItems=1,
                    ),
                    "trafficRouting": {
                        "type": "object",
                        "description": "a router whose weights carry the canary's share of the "
                        "traffic: plugins: {argoproj-labs/gatewayAPI: {httpRoute: NAME}} (a "
                        "Gateway API HTTPRoute the app renders) or nginx: {stableIngress: NAME} "
                        "(an Ingress the app renders, served by ingress-nginx). The canary runs "
                        "ceil(replicas x weight / 100) replicas; the stable side keeps all of "
                        "them unless dynamicStableScale",
                    },
                    "stableService": _string(
                        "with trafficRouting: the Service the route sends to (default: the "
                        "app's name); hakobu adds NAME-canary, selecting the canary's pods",
                        minLength=1,
                    ),
                    "dynamicStableScale": {
                        "type": "boolean",
                        "description": "with trafficRouting: the stable side shrinks as the "
                        "traffic leaves it (default false: it keeps every replica)",
                    },
                    "analysis": {
                        "type": "object",
                        "description": "background analysis: {templates: [analyses, each "
                        "with the fields of an analysis step], startingStep: N (0-based, "
                        "default 0)}, measured every interval while the steps proceed; a "
                        "failure aborts at any step. Without count, an analysis measures until "
                        "the rollout ends",
                    },
                    "maxSurge": _surge_limit(
                        "how many replicas above the app's replicas a step may run while it "
                        "moves (default 100%: the canary starts beside every stable replica)"
                    ),
                    "maxUnavailable": _surge_limit(
                        "how many replicas below the app's replicas may be unavailable while "
                        "a step moves (default 0). Both only without trafficRouting, as in Argo "
                        "Rollouts"
                    ),
                },
                required=("steps",),
            ),
            "blueGreen": _object(
                "a blue-green rollout (Argo Rollouts' names)",
                {
                    "activeService": _ref(
                        "dnsLabel", "the Service serving the running version: the app's own"
                    ),
                    "previewService": _ref(
                        "dnsLabel",
                        "the Service hakobu renders for the new version before promotion; "
                        "default <app>-preview",
                    ),
                    "autoPromotionEnabled": _boolean(
                        "promote without a person once the preview is ready (and its "
                        "prePromotionAnalysis passed); false: wait for `hakobu rollout promote`",
                        default=True,
                    ),
                    "autoPromotionSeconds": _integer(
                        "with autoPromotionEnabled, wait this long after the preview is ready",
                        minimum=0,
                    ),
                    "scaleDownDelaySeconds": _integer(
                        "how long the old version keeps running after the switch, for a fast "
                        "way back",
                        minimum=0,
                        default=30,
                    ),
                    "previewReplicaCount": _integer(
                        "replicas of the new version before promotion; default all", minimum=1
                    ),
                    "prePromotionAnalysis": {
                        "type": "object",
                        "description": "an analysis (the fields of a canary's analysis step) "
                        "of the preview; failing aborts",
                    },
                    "postPromotionAnalysis": {
                        "type": "object",
                        "description": "an analysis after the switch, before the old version "
                        "goes; failing switches back and aborts",
                    },
                },
            ),
        },
    ),
    "base": _string(
        "The platform base this app is built on, as NAME@VERSION (such as web@2): the "
        "directory platform/bases/NAME/VERSION/ of the project. A base adds objects, labels "
        "and defaults and may forbid fields. Without it, the environment's default base "
        "(environments.<env>.base in hakobu.yaml) applies, if it sets one. The same in every "
        "environment.",
        pattern=BASE_REF_PATTERN,
    ),
    "baseValues": {
        "type": "object",
        "description": "Values for the base, checked against the base's values.schema.json "
        "(a base without one takes none). Mappings merge in environment overrides.",
    },
    "dependsOn": _list(
        "Apps of the same project this app depends on: a sync applies this app only after "
        "every one of them is Healthy, and skips it when one fails. A name must be another "
        "app of the project, and dependencies may not form a cycle. The same in every "
        "environment.",
        _string("the name of another app of the project", minLength=1),
        default=[],
    ),
}

# Fields an environment may not change: the name is the identity of every object, the
# workload their kind, the base is upgraded app by app, what promotion carries must not
# depend on which environment is promoted, and the order in which apps are synced is the
# same in every environment a release passes through.
_NOT_OVERRIDABLE = {"name", "workload", "promote", "dependsOn", "base"}

OVERRIDABLE = tuple(key for key in _PROPERTIES if key not in _NOT_OVERRIDABLE)

_PROPERTIES["environments"] = _map(
    "Overrides per environment, merged over the fields above: mappings merge, lists "
    "replace, null removes a field. The result must be a valid spec.",
    _ref("dnsLabel"),
    {
        "type": "object",
        "description": "the fields that differ in this environment",
        "properties": {
            key: {"description": f"overrides {key}; null removes it"} for key in OVERRIDABLE
        },
        "additionalProperties": False,
    },
)

_DEFS["container"] = _CONTAINER

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "hakobu app spec",
    "description": "One app: hakobu expands it into a Deployment (or the StatefulSet, Job or "
    "CronJob its workload names) and, as needed, Services, HorizontalPodAutoscaler, "
    "PodDisruptionBudget, Ingress, ConfigMap and ServiceAccount.",
    "type": "object",
    "properties": _PROPERTIES,
    "required": ["name", "image"],
    "additionalProperties": False,
    "$defs": _DEFS,
}


def app_schema() -> dict[str, Any]:
    """The app spec's JSON Schema (draft 2020-12); a copy the caller may change."""
    return copy.deepcopy(SCHEMA)
