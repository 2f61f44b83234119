"""``hakobu health -f``: reading live objects, the two outputs and the exit codes."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

from hakobu.cli import health as health_command
from hakobu.errors import HakobuError

FIXTURES = Path(__file__).parents[1] / "health" / "fixtures"

HEALTHY_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, generation: 2}
spec: {replicas: 2}
status: {observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2}
"""

PAUSED_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker, namespace: shop}
spec: {paused: true}
"""

PENDING_LOAD_BALANCER = """\
apiVersion: v1
kind: Service
metadata: {name: edge, namespace: shop}
spec: {type: LoadBalancer}
status: {loadBalancer: {}}
"""

CLUSTER_ROLE = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader}
rules: []
"""

# As `kubectl get deploy,svc -o yaml` prints it.
LIST = """\
apiVersion: v1
kind: List
metadata:
  resourceVersion: ""
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web, namespace: shop, generation: 2}
  spec: {replicas: 2}
  status: {observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2}
- apiVersion: v1
  kind: Service
  metadata: {name: edge, namespace: shop}
  spec: {type: LoadBalancer}
  status: {loadBalancer: {ingress: [{ip: 203.0.113.10}]}}
"""


def run(*argv: str) -> int:
    """Run the command as ``hakobu`` would, registered on a parser of its own."""
    parser = argparse.ArgumentParser(prog="hakobu")
    health_command.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    code: int = args.handler(args)
    return code


def stdin(text: str) -> io.TextIOWrapper:
    """Standard input as the process has it: text over bytes, which hakobu reads."""
    return io.TextIOWrapper(io.BytesIO(text.encode()))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "live.yaml"
    path.write_text(text)
    return path


def test_healthy_and_suspended_objects_exit_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "---\n".join([HEALTHY_DEPLOYMENT, PAUSED_DEPLOYMENT, CLUSTER_ROLE]))
    assert run("health", "-f", str(path)) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Healthy Deployment/shop/web",
        "Suspended Deployment/shop/worker — Deployment is paused",
        "Healthy ClusterRole/reader",
    ]


def test_anything_else_exits_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "---\n".join([HEALTHY_DEPLOYMENT, PENDING_LOAD_BALANCER]))
    assert run("health", "-f", str(path)) == 1
    assert capsys.readouterr().out.splitlines()[1] == (
        "Progressing Service/shop/edge — Waiting for the load balancer to publish an address"
    )


def test_stdin_and_list_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", stdin(LIST))
    assert run("health", "-f", "-") == 0
    assert capsys.readouterr().out.splitlines() == [
        "Healthy Deployment/shop/web",
        "Healthy Service/shop/edge — published at 203.0.113.10",
    ]


def test_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "---\n".join([PENDING_LOAD_BALANCER, CLUSTER_ROLE]))
    assert run("health", "-f", str(path), "-o", "json") == 1
    assert json.loads(capsys.readouterr().out) == [
        {
            "kind": "Service",
            "namespace": "shop",
            "name": "edge",
            "status": "Progressing",
            "message": "Waiting for the load balancer to publish an address",
        },
        {
            "kind": "ClusterRole",
            "namespace": None,
            "name": "reader",
            "status": "Healthy",
            "message": "",
        },
    ]


def test_every_fixture_file_is_readable(capsys: pytest.CaptureFixture[str]) -> None:
    # The fixtures mix every status, so the command must report failure for them.
    assert run("health", "-f", str(FIXTURES / "pods.yaml")) == 1
    lines = capsys.readouterr().out.splitlines()
    assert "Degraded Pod/shop/oom — container 'migrate' was OOMKilled" in lines
    assert len(lines) == 16


def test_an_empty_list_is_fine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "apiVersion: v1\nkind: List\nitems: []\n")
    assert run("health", "-f", str(path)) == 0
    assert capsys.readouterr().out == ""


def assert_invalid(argv: list[str], *fragments: str) -> None:
    with pytest.raises(HakobuError) as raised:
        run(*argv)
    assert raised.value.exit_code == 2
    for fragment in fragments:
        assert fragment in str(raised.value)


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, HEALTHY_DEPLOYMENT + "---\nkind: Service\nmetadata: {name: [\n")
    assert_invalid(["health", "-f", str(path)], f"{path}:9:", "invalid YAML")


def test_a_document_that_is_not_an_object(tmp_path: Path) -> None:
    path = write(tmp_path, HEALTHY_DEPLOYMENT + "---\n- just\n- a list\n")
    assert_invalid(["health", "-f", str(path)], f"{path}:7:", "expected a Kubernetes object")


def test_an_object_without_kind_names_the_list_item(tmp_path: Path) -> None:
    broken = LIST.replace("  kind: Service\n", "")
    path = write(tmp_path, broken)
    assert_invalid(["health", "-f", str(path)], f"{path}:11:", "items[1].kind", "kubectl get")


def test_an_object_without_a_name(tmp_path: Path) -> None:
    path = write(tmp_path, "apiVersion: v1\nkind: ConfigMap\nmetadata: {namespace: shop}\n")
    assert_invalid(["health", "-f", str(path)], f"{path}:3:", "metadata.name")


def test_list_items_must_be_a_list(tmp_path: Path) -> None:
    path = write(tmp_path, "apiVersion: v1\nkind: List\nitems: {}\n")
    assert_invalid(["health", "-f", str(path)], f"{path}:3:", "expected a list of objects")


def test_missing_empty_and_unreadable_files(tmp_path: Path) -> None:
    assert_invalid(["health", "-f", str(tmp_path / "nope.yaml")], "nope.yaml", "does not exist")
    assert_invalid(["health", "-f", str(write(tmp_path, "# nothing\n"))], "no objects found")
    assert_invalid(["health", "-f", str(tmp_path)], str(tmp_path), "is a directory")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    assert_invalid(["health", "-f", str(binary)], f"{binary}:1: not UTF-8 text")


def test_empty_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", stdin(""))
    assert_invalid(["health", "-f", "-"], "<stdin>", "no objects found")


def test_file_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run("health")
    assert exited.value.code == 2
    assert "-f/--filename" in capsys.readouterr().err


# As `kubectl get certificates,widgets -o yaml` prints them.
CUSTOM_LIST = """\
apiVersion: v1
kind: List
items:
- apiVersion: cert-manager.io/v1
  kind: Certificate
  metadata: {name: tls, namespace: shop, generation: 1}
  status:
    conditions:
    - {type: Ready, status: "True", message: Certificate is up to date and has not expired}
- apiVersion: example.com/v1
  kind: Widget
  metadata: {name: w, namespace: shop, generation: 3}
  status: {observedGeneration: 3, phase: Jammed}
"""
WIDGET_RULES = """\
apiVersion: hakobu.dev/v1alpha1
kind: Project
name: shop
environments:
  production: {namespace: shop}
health:
- apiVersion: example.com/v1
  kind: Widget
  failed: "status.phase == 'Jammed'"
  current: "status.phase == 'Turning'"
"""


def test_custom_resources_under_the_project_rules_around(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "hakobu.yaml").write_text(WIDGET_RULES)
    (tmp_path / "apps").mkdir()
    path = write(tmp_path, CUSTOM_LIST)
    monkeypatch.chdir(tmp_path / "apps")
    assert run("health", "-f", str(path)) == 1
    assert capsys.readouterr().out.splitlines() == [
        "Healthy Certificate/shop/tls — Certificate is up to date and has not expired",
        "Degraded Widget/shop/w",
    ]


def test_outside_a_project_only_hakobus_rules_apply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, CUSTOM_LIST)
    monkeypatch.chdir(tmp_path)
    assert run("health", "-f", str(path)) == 0
    assert capsys.readouterr().out.splitlines()[1] == "Healthy Widget/shop/w"


def test_the_project_named_by_c(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "shop"
    project.mkdir()
    (project / "hakobu.yaml").write_text(WIDGET_RULES)
    path = write(tmp_path, CUSTOM_LIST)
    assert run("health", "-f", str(path), "-C", str(project)) == 1
    assert capsys.readouterr().out.splitlines()[1] == "Degraded Widget/shop/w"
    assert_invalid(["health", "-f", str(path), "-C", str(tmp_path)], "no hakobu.yaml here")


def test_a_rule_that_does_not_compile(tmp_path: Path) -> None:
    (tmp_path / "hakobu.yaml").write_text(WIDGET_RULES.replace("'Jammed'", "'Jammed"))
    path = write(tmp_path, CUSTOM_LIST)
    assert_invalid(
        ["health", "-f", str(path), "-C", str(tmp_path)],
        "hakobu.yaml:9: health[0].failed: does not compile as CEL",
    )
