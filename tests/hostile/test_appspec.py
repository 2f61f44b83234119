"""App specs with hostile values: each refused as ``file:line: field: message``, exit 2.

An app's name becomes the name of its objects (and of the files they are rendered to),
its numbers become 32-bit fields of those objects, and its strings land in objects the API
server stores whole: whatever the API server would refuse is refused when the spec loads,
naming the line and the field, and quoting at most a short part of the value.
"""

from __future__ import annotations

import pytest

from tests.hostile.conftest import Case

HEAD = "name: api\nimage: example.test/api:1.0\n"
PORTS = "ports: [{name: http, port: 80}]\n"


def _nested(depth: int) -> str:
    return "{a: " * depth + "x" + "}" * depth


@pytest.mark.parametrize(
    ("name", "expect"),
    [
        ("a/b", "name: 'a/b' is not valid: expected a DNS-1035 label"),
        ("..", "name: '..' is not valid"),
        ("Api", "name: 'Api' is not valid"),
        ("1api", "name: '1api' is not valid"),
        ("api.example", "name: 'api.example' is not valid"),
        ("a" * 64, f"name: '{'a' * 55}...' is too long: 64 characters where at most 63"),
        ("a" * 2_000_000, f"name: '{'a' * 55}...' is too long: 2000000 characters where"),
    ],
    ids=["slash", "dot-dot", "uppercase", "digit-first", "dotted", "64-chars", "2-mb"],
)
def test_names_that_cannot_name_objects(case: Case, name: str, expect: str) -> None:
    case.write("apps/api.yaml", f"name: {name}\nimage: example.test/api:1.0\n{PORTS}")
    run = case.refuses("render", expect=f"apps/api.yaml:1: {expect}")
    # A huge value is quoted only in part.
    assert len(run.stderr) < 400, run.stderr[:400]


@pytest.mark.parametrize(
    ("spec", "expect"),
    [
        ("replicas: 2147483648\n", "3: replicas: expected a value from 0 to 2147483647"),
        ("replicas: 99999999999999999999999\n", "3: replicas: expected an integer, got a number"),
        ("replicas: -1\n", "3: replicas: expected a value of at least 0, got -1"),
        ("replicas: .inf\n", "3: replicas: expected an integer, got a number"),
        (
            "ports: [{name: http, port: 65536}]\n",
            "3: ports[0].port: expected a value from 1 to 65535, got 65536",
        ),
        (
            "ports: [{name: http, port: 80, targetPort: 0}]\n",
            "3: ports[0].targetPort: expected a value of at least 1, got 0",
        ),
        (
            "ports: [{name: http, port: -80}]\n",
            "3: ports[0].port: expected a value of at least 1, got -80",
        ),
        (
            "autoscaling: {maxReplicas: 4294967296}\n",
            "3: autoscaling.maxReplicas: expected a value from 1 to 2147483647",
        ),
        (
            PORTS + "probes: {readiness: {periodSeconds: 99999999999}}\n",
            "4: probes.readiness.periodSeconds: expected a value from 1 to 2147483647",
        ),
        (
            "podDisruptionBudget: {minAvailable: 2147483648}\n",
            "3: podDisruptionBudget.minAvailable: expected a value from 0 to 2147483647",
        ),
        (
            "resources: {requests: {cpu: .inf}}\n",
            "3: resources.requests.cpu: expected a finite number, got inf",
        ),
        (
            "resources: {limits: {memory: .nan}}\n",
            "3: resources.limits.memory: expected a finite number, got nan",
        ),
    ],
    ids=[
        "replicas-int32",
        "replicas-huge",
        "replicas-negative",
        "replicas-infinite",
        "port-above",
        "target-port-zero",
        "port-negative",
        "max-replicas-huge",
        "probe-period-huge",
        "budget-huge",
        "cpu-infinite",
        "memory-nan",
    ],
)
def test_numbers_out_of_range(case: Case, spec: str, expect: str) -> None:
    case.write("apps/api.yaml", HEAD + spec)
    case.refuses("render", expect=f"apps/api.yaml:{expect}")


@pytest.mark.parametrize(
    ("spec", "expect"),
    [
        (
            "annotations: {a: " + "x" * 300_000 + "}\n",
            "3: annotations: the annotations hold 300001 bytes",
        ),
        (
            "ingress: {host: a.test, annotations: {b: " + "x" * 200_000 + "}}\n"
            "annotations: {a: " + "x" * 100_000 + "}\n" + PORTS,
            "3: ingress.annotations: the annotations hold 300002 bytes",
        ),
        (
            "labels: {" + "k" * 64 + ": v}\n",
            "3: labels.kkkkk",
        ),
        (
            "podAnnotations: {" + "p" * 254 + "/k: v}\n",
            "its prefix 254; at most 63 and 253 are allowed",
        ),
        (
            "configFiles: {mountPath: /etc/api, files: {a: " + "x" * 1_100_000 + "}}\n",
            "3: configFiles.files: the files hold 1100001 bytes; a ConfigMap holds at most",
        ),
        ("env: {A: " + "x" * 2_000_000 + "}\n", "3: env: the values hold 2000001 characters"),
        (
            "env:\n  ? 1" + "A" * 1_000_000 + "\n  : x\n",
            f"4: env.1{'A' * 56}...: '1{'A' * 54}...' is not valid",
        ),
    ],
    ids=[
        "annotations-huge",
        "ingress-annotations-huge",
        "label-key-long",
        "annotation-prefix-long",
        "config-files-huge",
        "env-value-huge",
        "env-name-huge",
    ],
)
def test_sizes_the_api_server_refuses(case: Case, spec: str, expect: str) -> None:
    case.write("apps/api.yaml", HEAD + spec)
    located = expect[0].isdigit()
    run = case.refuses("render", expect=f"apps/api.yaml:{expect}" if located else expect)
    assert len(run.stderr) < 600, run.stderr[:600]


@pytest.mark.parametrize(
    ("spec", "expect"),
    [
        ("env: {A: " + _nested(60) + "}\n", "apps/api.yaml:3: env.A.a: unknown field"),
        ("env: {A: " + _nested(5000) + "}\n", "apps/api.yaml:3:"),
        ("labels: " + _nested(60) + "\n", "apps/api.yaml:3: labels.a: expected a string"),
        (
            "environments: {evaluation: {env: {A: " + _nested(80) + "}}}\n",
            "apps/api.yaml:3: environments.evaluation.env.A.a: unknown field",
        ),
    ],
    ids=["env-60", "env-5000", "labels-60", "override-80"],
)
def test_deeply_nested_values(case: Case, spec: str, expect: str) -> None:
    case.write("apps/api.yaml", HEAD + spec)
    case.refuses("render", expect=expect)


@pytest.mark.parametrize(
    ("patch", "expect"),
    [
        (
            "{kind: Deployment, metadata: {namespace: ../../x}}",
            "patches[0]: the patched Deployment's metadata.namespace '../../x' is not a "
            "namespace name",
        ),
        (
            "{kind: Deployment, metadata: {name: api}, apiVersion: ../v1}",
            "patches[0]: the patched Deployment's apiVersion '../v1' is not a group/version",
        ),
        (
            "{kind: Deployment, $patch: replace}",
            "patches[0]: the patched Deployment's apiVersion is missing",
        ),
        (
            "{kind: Deployment, metadata: {name: ../../x}}",
            "the patch for Deployment/../../x matches no generated object",
        ),
        (
            "{kind: Deployment, spec: {template: {spec: {containers: 7}}}}",
            "spec.template.spec.containers: the object has a list here but the patch has a scalar",
        ),
        ("{kind: Deployment, spec: " + _nested(5000) + "}", "apps/api.yaml:3:"),
        ("{kind: [Deployment]}", "patches[0].kind: expected a string, got a list"),
        ("{kind: Deployment, metadata: {name: [api]}}", "patches[0].metadata.name: expected"),
        ("7", "patches[0]: expected a mapping, got an integer"),
    ],
    ids=[
        "namespace",
        "api-version",
        "replace",
        "name-no-match",
        "wrong-shape",
        "deep",
        "kind-list",
        "name-list",
        "scalar",
    ],
)
def test_hostile_patches(case: Case, patch: str, expect: str) -> None:
    case.write("apps/api.yaml", f"{HEAD}patches: [{patch}]\n")
    case.refuses("render", expect=f"apps/api.yaml:3: {expect}" if "patches" in expect else expect)


@pytest.mark.parametrize(
    ("extra", "expect"),
    [
        (
            "{apiVersion: v1, kind: ConfigMap, metadata: {name: ../../x}}",
            "extraObjects[0].metadata.name: '../../x' is not a valid name",
        ),
        (
            "{apiVersion: v1, kind: ../x, metadata: {name: x}}",
            "extraObjects[0].kind: '../x' is not a kind",
        ),
        (
            "{apiVersion: v1, kind: ConfigMap, metadata: {name: x, namespace: A/B}}",
            "extraObjects[0].metadata.namespace: 'A/B' is not a namespace name",
        ),
        (
            "{apiVersion: ../v1, kind: ConfigMap, metadata: {name: x}}",
            "extraObjects[0].apiVersion: '../v1' is not a group/version",
        ),
    ],
    ids=["name", "kind", "namespace", "api-version"],
)
def test_extra_objects_with_identities_the_api_server_refuses(
    case: Case, extra: str, expect: str
) -> None:
    case.write("apps/api.yaml", f"{HEAD}extraObjects:\n- {extra}\n")
    case.refuses("render", expect=f"apps/api.yaml:4: {expect}")


def test_an_undeclared_image_names_the_line(case: Case) -> None:
    case.write("apps/api.yaml", "name: api\n\nimage: {name: base}\n")
    case.refuses("render", expect="apps/api.yaml:3: image.name: no image named 'base'")
