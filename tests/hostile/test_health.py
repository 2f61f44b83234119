"""``hakobu health -f``: whatever the file or standard input holds, a clear refusal or a health.

Files are read through ``hakobu.model.files`` (regular files only, bounded, UTF-8); a
document of the wrong shape is refused as ``file:line: field: message``; a status the checks
cannot read makes that object's health Unknown, never a traceback.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hakobu.model.files import MAX_FILE_BYTES
from tests.hostile.harness import SECONDS, assert_refused, run_hakobu

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
"""


def refused(tmp_path: Path, *args: str, stdin: bytes | None = None, expect: str) -> None:
    assert_refused(run_hakobu("health", *args, cwd=tmp_path, stdin=stdin), expect=expect)


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "live.yaml")
    refused(tmp_path, "-f", "live.yaml", expect="live.yaml: is a FIFO, not a regular file")


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_is_refused_directly_and_through_a_link(tmp_path: Path, device: str) -> None:
    refused(tmp_path, "-f", device, expect=f"{device}: is a device")
    (tmp_path / "live.yaml").symlink_to(device)
    refused(tmp_path, "-f", "live.yaml", expect="live.yaml: is a device")


def test_an_oversized_file_is_refused(tmp_path: Path) -> None:
    with (tmp_path / "live.yaml").open("wb") as file:
        file.truncate(MAX_FILE_BYTES + 1)
    refused(tmp_path, "-f", "live.yaml", expect="live.yaml: is larger than 8 MiB")


def test_oversized_stdin_is_refused(tmp_path: Path) -> None:
    stdin = b"# padding\n" * (MAX_FILE_BYTES // 10 + 1)
    refused(tmp_path, "-f", "-", stdin=stdin, expect="<stdin>: is larger than 8 MiB")


def test_non_utf8_is_refused_in_a_file_and_on_stdin(tmp_path: Path) -> None:
    data = DEPLOYMENT.encode() + b"status: {phase: \xff}\n"
    (tmp_path / "live.yaml").write_bytes(data)
    refused(tmp_path, "-f", "live.yaml", expect="live.yaml:4: not UTF-8 text")
    refused(tmp_path, "-f", "-", stdin=data, expect="<stdin>:4: not UTF-8 text")


@pytest.mark.parametrize(
    ("name", "expect"),
    [("missing.yaml", "missing.yaml: file does not exist"), (".", ".: is a directory")],
)
def test_a_path_that_is_not_a_file(tmp_path: Path, name: str, expect: str) -> None:
    refused(tmp_path, "-f", name, expect=expect)


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("", "<stdin>: no objects found"),
        ("# only a comment\n", "<stdin>: no objects found"),
        ("kind: [\n", "<stdin>:2: invalid YAML"),
        ("a: 1\na: 2\n", "<stdin>:2: a: duplicate key 'a'"),
        ("just text\n", "<stdin>:1: expected a Kubernetes object, found str"),
        ("- 1\n- 2\n", "<stdin>:1: expected a Kubernetes object, found list"),
        ("kind: Deployment\n", "<stdin>:1: apiVersion: expected apiVersion to be set"),
        ("apiVersion: v1\nkind: [Pod]\n", "<stdin>:2: kind: expected kind to be set"),
        ("apiVersion: v1\nkind: Pod\nmetadata: web\n", "<stdin>:3: metadata: expected metadata"),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: [web]}\n",
            "<stdin>:3: metadata: expected metadata.name",
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: {a: b}\n",
            "<stdin>:5: metadata.namespace: expected a namespace name",
        ),
        ("apiVersion: v1\nkind: List\nitems: {a: b}\n", "<stdin>:3: items: expected a list"),
        (
            "apiVersion: v1\nkind: List\nitems:\n- 7\n",
            "<stdin>:4: items[0]: expected a Kubernetes object, found int",
        ),
        (
            "apiVersion: v1\nkind: PodList\nitems:\n- apiVersion: v1\n  kind: Pod\n",
            "<stdin>:4: items[0].metadata: expected metadata.name",
        ),
    ],
)
def test_documents_of_the_wrong_shape_name_file_line_and_field(
    tmp_path: Path, text: str, expect: str
) -> None:
    refused(tmp_path, "-f", "-", stdin=text.encode(), expect=expect)


def test_a_file_is_named_by_its_path(tmp_path: Path) -> None:
    (tmp_path / "live.yaml").write_text(DEPLOYMENT + "---\n- not an object\n")
    refused(tmp_path, "-f", "live.yaml", expect="live.yaml:5: expected a Kubernetes object")


@pytest.mark.parametrize(
    "text",
    [
        # An exponential expansion of aliases.
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n"
            for i in range(9)
        ),
        # Nesting past any stack.
        "a: " + "[" * 100_000 + "]" * 100_000 + "\n",
    ],
    ids=["alias-expansion", "deep-nesting"],
)
def test_yaml_bombs_are_refused(tmp_path: Path, text: str) -> None:
    run = run_hakobu("health", "-f", "-", cwd=tmp_path, stdin=text.encode())
    assert_refused(run, expect="<stdin>:")


@pytest.mark.parametrize(
    "status",
    [
        "{observedGeneration: 2, replicas: many, updatedReplicas: [1]}",
        "{observedGeneration: 2, conditions: {type: Ready}}",
        "{observedGeneration: 2, conditions: [7, {status: True}]}",
        "[1, 2, 3]",
        "{observedGeneration: 99999999999999999999}",
    ],
)
def test_a_status_of_the_wrong_types_is_unknown_health(tmp_path: Path, status: str) -> None:
    live = DEPLOYMENT.replace("namespace: shop}", "namespace: shop, generation: 2}")
    stdin = f"{live}status: {status}\n".encode()
    run = run_hakobu("health", "-f", "-", cwd=tmp_path, stdin=stdin)
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == 1, run.stderr
    assert run.seconds < SECONDS
    assert run.stdout.startswith("Unknown Deployment/shop/web — cannot assess health: status"), (
        run.stdout
    )
