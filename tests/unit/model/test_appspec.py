"""The app spec: loading, validation messages (file:line: field), overrides, the schema."""

from __future__ import annotations

import argparse
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hakobu.cli import schema as schema_cli
from hakobu.model.appspec import (
    SUPPORTED_KEYWORDS,
    AppSpec,
    FieldRef,
    Image,
    KeyRef,
    ProbeSpec,
    app_schema,
    load_app,
)
from hakobu.model.source import SourceError


def load(tmp_path: Path, text: str) -> AppSpec:
    file = tmp_path / "web.yaml"
    file.write_text(textwrap.dedent(text).lstrip("\n"))
    return load_app(file)


def load_error(tmp_path: Path, text: str) -> SourceError:
    with pytest.raises(SourceError) as raised:
        load(tmp_path, text)
    return raised.value


MINIMAL = """
name: web
image: example.test/web:1.0
"""


def test_minimal_app_gets_defaults(tmp_path: Path) -> None:
    app = load(tmp_path, MINIMAL)
    assert app.name == "web"
    assert app.image == Image("example.test/web", "1.0", None)
    assert app.replicas == 1
    assert app.ports == ()
    assert app.autoscaling is None
    assert app.environments == {}
    assert app.for_environment("production") is app
    assert app.promote == (("image",),)


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("web:1.0", Image("web", "1.0", None)),
        ("example.test:5000/team/web:v2", Image("example.test:5000/team/web", "v2", None)),
        ("web@sha256:" + "a" * 64, Image("web", None, "sha256:" + "a" * 64)),
        ("web:1.0@sha256:" + "b" * 64, Image("web", "1.0", "sha256:" + "b" * 64)),
        (
            "{repository: example.test/web, tag: '1.20', pullPolicy: Always}",
            Image("example.test/web", "1.20", None, "Always"),
        ),
    ],
)
def test_image_forms(tmp_path: Path, image: str, expected: Image) -> None:
    app = load(tmp_path, f"name: web\nimage: {image}\n")
    assert app.image == expected
    assert app.image.reference == expected.reference


def test_env_values_keep_their_order_and_become_text(tmp_path: Path) -> None:
    app = load(
        tmp_path,
        """
        name: web
        image: web:1
        env:
          B: 2
          A: true
          C: {secretKeyRef: {name: db, key: password}}
          D: {fieldRef: {fieldPath: status.podIP}}
        """,
    )
    assert [(var.name, var.value) for var in app.env] == [
        ("B", "2"),
        ("A", "true"),
        ("C", KeyRef("secret", "db", "password")),
        ("D", FieldRef("status.podIP")),
    ]


def test_empty_fields_count_as_absent(tmp_path: Path) -> None:
    app = load(tmp_path, "name: web\nimage: web:1\nenv:\ningress:\nenvironments:\n  dev:\n")
    assert app.env == ()
    assert app.ingress is None
    assert app.environments == {}


def test_probes_true_false_and_mapping(tmp_path: Path) -> None:
    app = load(
        tmp_path,
        """
        name: web
        image: web:1
        ports: [{name: http, port: 80}]
        probes:
          readiness: {path: /ready, periodSeconds: 3}
          liveness: false
          startup: true
        """,
    )
    assert app.probes.readiness == ProbeSpec(path="/ready", timings={"periodSeconds": 3})
    assert app.probes.liveness is False
    assert app.probes.startup == ProbeSpec()


def test_autoscaling_defaults_and_off_switch(tmp_path: Path) -> None:
    text = """
    name: web
    image: web:1
    resources: {requests: {cpu: 100m, memory: 64Mi}}
    autoscaling: {maxReplicas: 4}
    environments:
      dev: {autoscaling: {enabled: false}}
      memory: {autoscaling: {targetMemoryUtilizationPercentage: 60}}
    """
    app = load(tmp_path, text)
    assert app.autoscaling is not None
    assert (app.autoscaling.min_replicas, app.autoscaling.target_cpu) == (1, 80)
    assert app.for_environment("dev").autoscaling is None
    memory = app.for_environment("memory").autoscaling
    assert memory is not None
    # Memory alone replaces the cpu default instead of adding to it.
    assert (memory.target_cpu, memory.target_memory) == (None, 60)


# --- per-environment overrides -----------------------------------------------------------


def test_overrides_merge_maps_replace_lists_and_null_removes(tmp_path: Path) -> None:
    app = load(
        tmp_path,
        """
        name: web
        image: {repository: web, tag: "1"}
        ports: [{name: http, port: 80}, {name: admin, port: 81}]
        env: {A: a, B: b}
        labels: {team: shop}
        podDisruptionBudget: {maxUnavailable: 1}
        environments:
          production:
            image: {tag: "2"}
            ports: [{name: http, port: 8080}]
            env: {B: null, C: c}
            podDisruptionBudget: null
        """,
    )
    prod = app.for_environment("production")
    assert prod.image == Image("web", "2", None)
    assert [p.name for p in prod.ports] == ["http"]
    assert [(v.name, v.value) for v in prod.env] == [("A", "a"), ("C", "c")]
    assert prod.labels == {"team": "shop"}
    assert prod.disruption_budget is None
    # The base stays as written.
    assert app.image.tag == "1"
    assert len(app.ports) == 2
    assert app.disruption_budget is not None


def test_a_conflict_only_an_environment_creates_names_that_environment(tmp_path: Path) -> None:
    error = load_error(
        tmp_path,
        """
        name: web
        image: web:1
        resources: {requests: {cpu: 1}}
        autoscaling: {minReplicas: 2, maxReplicas: 4}
        environments:
          production:
            autoscaling:
              maxReplicas: 1
        """,
    )
    assert str(error).startswith(
        f"{tmp_path}/web.yaml:4: autoscaling.minReplicas: minReplicas (2) is above "
        "maxReplicas (1) (in environment 'production')"
    )


def test_override_value_errors_point_into_the_environment(tmp_path: Path) -> None:
    error = load_error(
        tmp_path,
        """
        name: web
        image: web:1
        environments:
          production:
            replicas: many
        """,
    )
    assert str(error).startswith(
        f"{tmp_path}/web.yaml:5: environments.production.replicas: expected an integer, "
        "got a string"
    )


def test_removing_a_required_field_in_an_environment(tmp_path: Path) -> None:
    error = load_error(
        tmp_path,
        """
        name: web
        image: web:1
        environments:
          production:
            image: null
        """,
    )
    assert str(error).startswith(
        f"{tmp_path}/web.yaml:4: environments.production: missing required field 'image'"
    )


_ENV_NAMES = st.sampled_from(["A", "B", "C", "D", "E"])
_ENV_VALUES = st.one_of(st.none(), st.text(alphabet="xyz", max_size=3))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    base=st.dictionaries(_ENV_NAMES, st.text(alphabet="abc", max_size=3)),
    override=st.dictionaries(_ENV_NAMES, _ENV_VALUES),
)
def test_env_override_property(
    tmp_path: Path, base: dict[str, str], override: dict[str, str | None]
) -> None:
    spec = {
        "name": "web",
        "image": "web:1",
        "env": base,
        "environments": {"prod": {"env": override}},
    }
    file = tmp_path / "web.yaml"
    file.write_text(json.dumps(spec))
    prod = load_app(file).for_environment("prod")
    expected = {**base, **override}
    assert [(var.name, var.value) for var in prod.env] == [
        (name, value) for name, value in expected.items() if value is not None
    ]


# --- validation errors: file, line, field, what was expected -----------------------------


@pytest.mark.parametrize(
    ("text", "expected", "hint"),
    [
        pytest.param("- web\n", "web.yaml:1: expected a mapping, got a list", None, id="list"),
        pytest.param(
            "image: web:1\n", "web.yaml:1: missing required field 'name'", None, id="required"
        ),
        pytest.param(
            "name: Web_1\nimage: web:1\n",
            "web.yaml:1: name: 'Web_1' is not valid: expected a DNS-1035 label",
            None,
            id="dns-label",
        ),
        pytest.param(
            "name: " + "a" * 64 + "\nimage: web:1\n",
            "web.yaml:1: name: '" + "a" * 55 + "...' is too long: 64 characters where at most 63",
            None,
            id="too-long",
        ),
        pytest.param(
            "name: web\nimage: web:1\nreplica: 2\n",
            "web.yaml:3: replica: unknown field",
            "did you mean 'replicas'?",
            id="unknown-close",
        ),
        pytest.param(
            "name: web\nimage: web:1\nzzz: 2\n",
            "web.yaml:3: zzz: unknown field",
            "accepted fields: name, image,",
            id="unknown-far",
        ),
        pytest.param(
            "name: web\nimage: web\n",
            "web.yaml:2: image: image 'web' has no tag or digest",
            "pin a tag",
            id="no-tag",
        ),
        pytest.param(
            "name: web\nimage: Web:1\n",
            "web.yaml:2: image: 'Web:1' is not valid: expected repository:tag",
            None,
            id="image-pattern",
        ),
        pytest.param(
            "name: web\nimage: {repository: web, tag: 1.20}\n",
            "web.yaml:2: image.tag: expected a string, got a number",
            "quote the value",
            id="tag-number",
        ),
        pytest.param(
            "name: web\nimage: [web]\n",
            "web.yaml:2: image: expected a string or a mapping, got a list",
            None,
            id="any-of",
        ),
        pytest.param(
            "name: web\nimage: web:1\nports:\n  - {name: http, port: 70000}\n",
            "web.yaml:4: ports[0].port: expected a value from 1 to 65535, got 70000",
            None,
            id="port-range",
        ),
        pytest.param(
            "name: web\nimage: web:1\nports:\n  - {name: http, port: '80'}\n",
            "web.yaml:4: ports[0].port: expected an integer, got a string",
            "without quotes",
            id="port-quoted",
        ),
        pytest.param(
            "name: web\nimage: web:1\nports:\n  - {name: http, port: 80, protocol: tcp}\n",
            "web.yaml:4: ports[0].protocol: expected one of TCP, UDP, SCTP, got 'tcp'",
            None,
            id="enum",
        ),
        pytest.param(
            "name: web\nimage: web:1\nports:\n  - {name: http, port: 80}\n"
            "  - {name: http, port: 81}\n",
            "web.yaml:5: ports[1].name: port name 'http' is used twice",
            None,
            id="port-name-twice",
        ),
        pytest.param(
            "name: web\nimage: web:1\nports:\n  - {name: a, port: 80}\n  - {name: b, port: 80}\n",
            "web.yaml:5: ports[1].port: port 80/TCP is used twice",
            None,
            id="port-twice",
        ),
        pytest.param(
            "name: web\nimage: web:1\nports:\n  - {name: '8080', port: 80}\n",
            "web.yaml:4: ports[0].name: '8080' is not valid: expected a port name",
            None,
            id="port-name",
        ),
        pytest.param(
            "name: web\nimage: web:1\nserviceAccount: {create: no, name: x}\n",
            "web.yaml:3: serviceAccount.create: expected a boolean (true or false), got a string",
            "write true or false",
            id="boolean",
        ),
        pytest.param(
            "name: web\nimage: web:1\nreplicas: -1\n",
            "web.yaml:3: replicas: expected a value of at least 0, got -1",
            None,
            id="minimum",
        ),
        pytest.param(
            "name: web\nimage: web:1\nresources: {requests: {cpu: 1}}\n"
            "autoscaling:\n  minReplicas: 5\n  maxReplicas: 2\n",
            "web.yaml:5: autoscaling.minReplicas: minReplicas (5) is above maxReplicas (2)",
            None,
            id="min-above-max",
        ),
        pytest.param(
            "name: web\nimage: web:1\nresources: {requests: {cpu: 1}}\n"
            "autoscaling: {maxReplicas: 2, targetCPUUtilizationPercentage: 0}\n",
            "web.yaml:4: autoscaling.targetCPUUtilizationPercentage: expected a value of at "
            "least 1, got 0",
            None,
            id="percentage",
        ),
        pytest.param(
            "name: web\nimage: web:1\nautoscaling: {maxReplicas: 2}\n",
            "web.yaml:3: autoscaling: scaling on cpu utilization needs resources.requests.cpu",
            "set resources.requests.cpu",
            id="autoscaling-needs-requests",
        ),
        pytest.param(
            "name: web\nimage: web:1\nautoscaling: {minReplicas: 2}\n",
            "web.yaml:3: autoscaling: missing required field 'maxReplicas'",
            None,
            id="autoscaling-max",
        ),
        pytest.param(
            "name: web\nimage: web:1\nresources:\n  requests: {cpu: 100 m}\n",
            "web.yaml:4: resources.requests.cpu: '100 m' is not valid: expected a Kubernetes "
            "quantity",
            None,
            id="quantity",
        ),
        pytest.param(
            "name: web\nimage: web:1\npodDisruptionBudget: {minAvailable: 1, maxUnavailable: 1}\n",
            "web.yaml:3: podDisruptionBudget: set exactly one of minAvailable, maxUnavailable "
            "(found minAvailable, maxUnavailable)",
            None,
            id="exactly-one",
        ),
        pytest.param(
            "name: web\nimage: web:1\npodDisruptionBudget: {}\n",
            "web.yaml:3: podDisruptionBudget: set exactly one of minAvailable, maxUnavailable "
            "(found none)",
            None,
            id="exactly-one-none",
        ),
        pytest.param(
            "name: web\nimage: web:1\npodDisruptionBudget: {maxUnavailable: 150%}\n",
            "web.yaml:3: podDisruptionBudget.maxUnavailable: '150%' is not valid: expected a "
            "percentage",
            None,
            id="percent",
        ),
        pytest.param(
            "name: web\nimage: web:1\nenv:\n  DB: {secretKeyRef: {name: db}}\n",
            "web.yaml:4: env.DB.secretKeyRef: missing required field 'key'",
            None,
            id="key-ref",
        ),
        pytest.param(
            "name: web\nimage: web:1\nenv:\n  DB: {secretKeyref: {name: db, key: k}}\n",
            "web.yaml:4: env.DB.secretKeyref: unknown field",
            "did you mean 'secretKeyRef'?",
            id="key-ref-typo",
        ),
        pytest.param(
            "name: web\nimage: web:1\nenv:\n  RATIO: 0.5\n",
            "web.yaml:4: env.RATIO: expected a string or an integer or a boolean (true or false) "
            "or a mapping, got a number",
            "quote the value",
            id="env-float",
        ),
        pytest.param(
            "name: web\nimage: web:1\nenv:\n  2FA: x\n",
            "web.yaml:4: env.2FA: '2FA' is not valid: expected an environment variable name",
            None,
            id="env-name",
        ),
        pytest.param(
            "name: web\nimage: web:1\nenvFrom:\n  - {prefix: X_}\n",
            "web.yaml:4: envFrom[0]: set exactly one of configMapRef, secretRef (found none)",
            None,
            id="env-from",
        ),
        pytest.param(
            "name: web\nimage: web:1\ningress: {host: web.example.test}\n",
            "web.yaml:3: ingress: an ingress needs a port to route to",
            "add the port",
            id="ingress-no-port",
        ),
        pytest.param(
            "name: web\nimage: web:1\nports: [{name: http, port: 80}]\n"
            "ingress:\n  host: web.example.test\n  port: https\n",
            "web.yaml:6: ingress.port: no port is named 'https'",
            "use one of: http",
            id="ingress-port",
        ),
        pytest.param(
            "name: web\nimage: web:1\nports: [{name: http, port: 80}]\n"
            "ingress: {host: Web.Example}\n",
            "web.yaml:4: ingress.host: 'Web.Example' is not valid: expected a host name",
            None,
            id="host",
        ),
        pytest.param(
            "name: web\nimage: web:1\nports: [{name: http, port: 80}]\n"
            "probes:\n  liveness: {path: /live, port: admin}\n",
            "web.yaml:5: probes.liveness.port: no port is named 'admin' (ports: http)",
            None,
            id="probe-port",
        ),
        pytest.param(
            "name: web\nimage: web:1\nports: [{name: http, port: 80}]\n"
            "probes:\n  liveness: {path: /live, command: [check]}\n",
            "web.yaml:5: probes.liveness: set path (an HTTP GET) or command, not both",
            None,
            id="probe-both",
        ),
        pytest.param(
            "name: web\nimage: web:1\nsidecars:\n- name: proxy\n  image: proxy:1\n"
            "  ports: [{name: admin, containerPort: 9901}]\n"
            "  probes:\n    readiness: {path: /ready, port: http}\n",
            "web.yaml:8: sidecars[0].probes.readiness.port: no port is named 'http' (ports: admin)",
            None,
            id="sidecar-probe-port",
        ),
        pytest.param(
            "name: web\nimage: web:1\nports: [{name: http, port: 80}]\nsidecars:\n"
            "- name: proxy\n  image: proxy:1\n  probes:\n    liveness: true\n",
            "web.yaml:8: sidecars[0].probes.liveness: the probe has nothing to check: there "
            "are no ports",
            None,
            id="sidecar-probe-no-port",
        ),
        pytest.param(
            "name: web\nimage: web:1\ninitContainers:\n- name: migrate\n  image: m:1\n"
            "  probes: {readiness: true}\n",
            "web.yaml:6: initContainers[0].probes: an init container runs to completion "
            "before the others start: it takes no probes",
            None,
            id="init-container-probe",
        ),
        pytest.param(
            "name: web\nimage: web:1\nprobes:\n  readiness: true\n",
            "web.yaml:4: probes.readiness: the probe has nothing to check: there are no ports",
            None,
            id="probe-no-port",
        ),
        pytest.param(
            "name: web\nimage: web:1\nports: [{name: dns, port: 53, protocol: UDP}]\n"
            "probes:\n  readiness: {}\n",
            "web.yaml:5: probes.readiness: the main port 'dns' is UDP",
            None,
            id="probe-udp",
        ),
        pytest.param(
            "name: web\nimage: web:1\nprobes:\n  readiness: {path: healthz}\n",
            "web.yaml:4: probes.readiness.path: 'healthz' is not valid: expected a path "
            "beginning with /",
            None,
            id="probe-path",
        ),
        pytest.param(
            "name: web\nimage: web:1\nserviceAccount: {create: false}\n",
            "web.yaml:3: serviceAccount: an existing service account (create: false) needs a name",
            None,
            id="service-account",
        ),
        pytest.param(
            "name: web\nimage: web:1\nlabels:\n  app.kubernetes.io/name: x\n",
            "web.yaml:4: labels.app.kubernetes.io/name: labels under app.kubernetes.io/ are set "
            "by hakobu",
            None,
            id="reserved-label",
        ),
        pytest.param(
            "name: web\nimage: web:1\nlabels:\n  team: -shop\n",
            "web.yaml:4: labels.team: '-shop' is not valid: expected a label value",
            None,
            id="label-value",
        ),
        pytest.param(
            "name: web\nimage: web:1\nconfigFiles: {mountPath: /etc/web, files: {}}\n",
            "web.yaml:3: configFiles.files: expected at least one file",
            None,
            id="config-files-empty",
        ),
        pytest.param(
            "name: web\nimage: web:1\nconfigFiles: {mountPath: etc, files: {a: b}}\n",
            "web.yaml:3: configFiles.mountPath: 'etc' is not valid: expected an absolute directory",
            None,
            id="mount-path",
        ),
        pytest.param(
            "name: web\nimage: web:1\nextraObjects:\n  - {apiVersion: v1, metadata: {name: x}}\n",
            "web.yaml:4: extraObjects[0]: missing required field 'kind'",
            None,
            id="extra-object",
        ),
        pytest.param(
            "name: web\nimage: web:1\npatches:\n  - {metadata: {name: web}}\n",
            "web.yaml:4: patches[0]: missing required field 'kind'",
            None,
            id="patch-kind",
        ),
        pytest.param(
            "name: web\nimage: web:1\nenvironments:\n  Prod: {}\n",
            "web.yaml:4: environments.Prod: 'Prod' is not valid: expected a DNS-1123 label",
            None,
            id="environment-name",
        ),
        pytest.param(
            "name: web\nimage: web:1\nenvironments:\n  prod:\n    name: other\n",
            "web.yaml:5: environments.prod.name: unknown field",
            None,
            id="environment-name-fixed",
        ),
        pytest.param(
            "name: web\nimage: web:1\nenvironments:\n  prod:\n    replica: 3\n",
            "web.yaml:5: environments.prod.replica: unknown field",
            "did you mean 'replicas'?",
            id="environment-typo",
        ),
        pytest.param(
            "name: web\nimage: web:1\npromote:\n  - image\n  - replica\n",
            "web.yaml:5: promote[1]: no field 'replica' to promote",
            "did you mean 'replicas'?",
            id="promote-unknown",
        ),
        pytest.param(
            "name: web\nimage: web:1\npromote: [name]\n",
            "web.yaml:3: promote[0]: cannot promote 'name': an environment cannot override it",
            None,
            id="promote-name",
        ),
        pytest.param(
            "name: web\nimage: web:1\npromote:\n  - env..A\n",
            "web.yaml:4: promote[0]: 'env..A' is not valid: expected a field path",
            None,
            id="promote-empty-key",
        ),
        pytest.param(
            "name: web\nimage: web:1\npromote:\n  - env.A\n  - replicas\n  - env\n",
            "web.yaml:6: promote[2]: env overlaps env.A, listed before",
            "list each field once",
            id="promote-overlap",
        ),
        pytest.param(
            "name: web\nimage: web:1\npromote: [image, image]\n",
            "web.yaml:3: promote[1]: image is listed twice",
            None,
            id="promote-twice",
        ),
        pytest.param(
            "name: web\nimage: web:1\nenvironments:\n  prod:\n    promote: [replicas]\n",
            "web.yaml:5: environments.prod.promote: unknown field",
            None,
            id="promote-per-environment",
        ),
    ],
)
def test_validation_errors(tmp_path: Path, text: str, expected: str, hint: str | None) -> None:
    error = load_error(tmp_path, text)
    assert str(error).startswith(f"{tmp_path}/{expected}"), str(error)
    assert error.exit_code == 2
    if hint is not None:
        assert error.hint is not None
        assert hint in error.hint


def test_invalid_yaml_is_a_source_error(tmp_path: Path) -> None:
    error = load_error(tmp_path, "name: web\nimage: [web\n")
    assert "invalid YAML" in str(error)


# --- the schema ----------------------------------------------------------------------------


def _walk(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every subschema with its location (property maps hold names, not schemas)."""
    found: list[tuple[str, dict[str, Any]]] = []
    if not isinstance(node, dict):
        return found
    found.append((path, node))
    for key, value in node.items():
        if key in ("properties", "$defs"):
            for name, sub in value.items():
                found += _walk(sub, f"{path}/{key}/{name}")
        elif key in ("items", "additionalProperties", "propertyNames"):
            found += _walk(value, f"{path}/{key}")
        elif key in ("anyOf", "oneOf"):
            for index, sub in enumerate(value):
                found += _walk(sub, f"{path}/{key}/{index}")
    return found


def test_schema_is_draft_2020_12_and_uses_only_what_the_validator_knows() -> None:
    schema = app_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    for where, sub in _walk(schema):
        unknown = set(sub) - SUPPORTED_KEYWORDS
        assert not unknown, f"{where} uses {unknown}"
        if "$ref" in sub:
            assert sub["$ref"].removeprefix("#/$defs/") in schema["$defs"], where
        if "pattern" in sub:
            # The pattern's message is "expected <description>".
            assert sub.get("description"), where
        for branch in sub.get("oneOf", []):
            assert list(branch) == ["required"] and len(branch["required"]) == 1, where


def test_every_top_level_field_is_documented() -> None:
    properties = app_schema()["properties"]
    assert list(properties)[:2] == ["name", "image"]
    for name, sub in properties.items():
        assert sub.get("description"), name


def test_promote_paths_are_parsed_into_keys(tmp_path: Path) -> None:
    app = load(tmp_path, MINIMAL + "promote: [image, env.FEATURE_FLAGS, resources.limits]\n")
    assert app.promote == (("image",), ("env", "FEATURE_FLAGS"), ("resources", "limits"))
    assert load(tmp_path, MINIMAL + "promote: []\n").promote == ()


def test_only_overridable_fields_are_promotable() -> None:
    schema = app_schema()
    overridable = schema["properties"]["environments"]["additionalProperties"]["properties"]
    assert set(schema["properties"]) - set(overridable) == {
        "name",
        "workload",
        "promote",
        "base",
        "dependsOn",
        "environments",
    }
    assert schema["properties"]["promote"]["default"] == ["image"]


def test_app_schema_returns_a_copy() -> None:
    app_schema()["properties"].clear()
    assert "name" in app_schema()["properties"]


def test_schema_app_command_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    schema_cli.register(parser.add_subparsers())
    args = parser.parse_args(["schema", "app"])
    assert args.handler(args) == 0
    assert json.loads(capsys.readouterr().out) == app_schema()
