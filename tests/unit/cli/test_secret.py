"""``hakobu secret seal`` and ``unseal``: inputs, outputs, exit codes and messages."""

from __future__ import annotations

import argparse
import base64
import io
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from hakobu.cli import secret
from hakobu.errors import HakobuError
from hakobu.model.objects import Object
from hakobu.secrets.keys import generate_key_pair
from hakobu.secrets.scope import NAMESPACE_WIDE_ANNOTATION


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def documents(self) -> list[Object]:
        return [doc for doc in yaml.safe_load_all(self.out) if doc is not None]


@dataclass(frozen=True)
class Files:
    key: Path
    cert: Path
    directory: Path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    directory = tmp_path_factory.mktemp("keys")
    private_pem, certificate_pem = generate_key_pair("cli", key_size=2048)
    (directory / "key.pem").write_bytes(private_pem)
    (directory / "cert.pem").write_bytes(certificate_pem)
    return Files(directory / "key.pem", directory / "cert.pem", directory)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Result:
    """Run ``hakobu secret …`` in-process, reporting errors as the command line does."""
    parser = argparse.ArgumentParser(prog="hakobu")
    secret.register(parser.add_subparsers(dest="command", required=True))
    try:
        args = parser.parse_args(["secret", *argv])
        code: int = args.handler(args)
    except SystemExit as e:
        code = int(e.code or 0)
    except HakobuError as e:
        print(f"error: {e}", file=sys.stderr)
        code = e.exit_code
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


SECRET_YAML = """\
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: prod
  labels:
    app: db
type: Opaque
stringData:
  password: hunter2
data:
  user: YWRtaW4=
"""


def decoded(secret: Object) -> dict[str, bytes]:
    return {key: base64.b64decode(value) for key, value in secret["data"].items()}


def test_seal_a_file_then_unseal(
    capsys: pytest.CaptureFixture[str], files: Files, tmp_path: Path
) -> None:
    (tmp_path / "secret.yaml").write_text(SECRET_YAML)
    sealed = run(capsys, "seal", "-f", str(tmp_path / "secret.yaml"), "--cert", str(files.cert))
    assert sealed.code == 0, sealed.err
    (document,) = sealed.documents()
    assert document["kind"] == "SealedSecret"
    assert sealed.out.index("apiVersion") < sealed.out.index("kind") < sealed.out.index("spec")
    (tmp_path / "sealed.yaml").write_text(sealed.out)
    opened = run(capsys, "unseal", "-f", str(tmp_path / "sealed.yaml"), "--key", str(files.key))
    assert opened.code == 0, opened.err
    (secret_out,) = opened.documents()
    assert decoded(secret_out) == {"password": b"hunter2", "user": b"admin"}
    assert secret_out["metadata"]["labels"] == {"app": "db"}


def test_seal_from_flags_to_a_file(
    capsys: pytest.CaptureFixture[str], files: Files, tmp_path: Path
) -> None:
    (tmp_path / "tls.key").write_bytes(b"\x00\x01binary")
    (tmp_path / "ca").write_bytes(b"ca bytes")
    output = tmp_path / "sealed.yaml"
    result = run(
        capsys,
        "seal",
        "--name=api",
        "--namespace=web",
        "--from-literal=token=a=b",
        f"--from-file=key={tmp_path / 'tls.key'}",
        f"--from-file={tmp_path / 'ca'}",
        "--cert",
        str(files.cert),
        "--scope",
        "namespace-wide",
        "-w",
        str(output),
    )
    assert (result.code, result.out) == (0, "")
    assert output.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    sealed = yaml.safe_load(output.read_text())
    assert sealed["metadata"]["annotations"] == {NAMESPACE_WIDE_ANNOTATION: "true"}
    assert sealed["spec"]["template"]["type"] == "Opaque"
    assert sorted(sealed["spec"]["encryptedData"]) == ["ca", "key", "token"]
    opened = run(capsys, "unseal", "-f", str(output), "--key", str(files.key))
    assert decoded(opened.documents()[0]) == {
        "ca": b"ca bytes",
        "key": b"\x00\x01binary",
        "token": b"a=b",
    }


def test_stdin_and_several_documents(
    capsys: pytest.CaptureFixture[str], files: Files, monkeypatch: pytest.MonkeyPatch
) -> None:
    two = SECRET_YAML + "---\n" + SECRET_YAML.replace("name: db", "name: cache")
    monkeypatch.setattr("sys.stdin", io.StringIO(two))
    result = run(capsys, "seal", "-f", "-", "--cert", str(files.cert))
    assert result.code == 0, result.err
    assert [doc["metadata"]["name"] for doc in result.documents()] == ["db", "cache"]
    monkeypatch.setattr("sys.stdin", io.StringIO(result.out))
    opened = run(capsys, "unseal", "-f", "-", "--key", str(files.key))
    assert [doc["metadata"]["name"] for doc in opened.documents()] == ["db", "cache"]


def test_namespace_fills_in_but_must_not_contradict(
    capsys: pytest.CaptureFixture[str], files: Files, tmp_path: Path
) -> None:
    path = tmp_path / "secret.yaml"
    path.write_text(SECRET_YAML.replace("  namespace: prod\n", ""))
    filled = run(capsys, "seal", "-f", str(path), "--namespace", "dev", "--cert", str(files.cert))
    assert filled.documents()[0]["metadata"]["namespace"] == "dev"
    path.write_text(SECRET_YAML)
    clash = run(capsys, "seal", "-f", str(path), "--namespace", "dev", "--cert", str(files.cert))
    assert clash.code == 2
    assert f"{path}:5: metadata.namespace: the Secret's namespace is 'prod'" in clash.err


def test_errors_point_at_file_line_and_field(
    capsys: pytest.CaptureFixture[str], files: Files, tmp_path: Path
) -> None:
    path = tmp_path / "secret.yaml"
    path.write_text(SECRET_YAML.replace("user: YWRtaW4=", "user: not*base64"))
    result = run(capsys, "seal", "-f", str(path), "--cert", str(files.cert))
    assert result.code == 2
    assert f"{path}:12: data.user: not valid base64" in result.err
    assert "put clear text under stringData" in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--from-literal", "a=b"], "a Secret needs a name"),
        (["--name", "x", "--from-literal", "novalue"], "expected KEY=VALUE"),
        (["--name", "x", "--from-literal", "a=1", "--from-literal", "a=2"], "given twice"),
        (["--name", "x", "--from-file", "k=/does/not/exist"], "cannot be read"),
        (["--name", "x", "--from-literal", "a=b"], "must name its namespace"),
        (["--name", "x", "--namespace", "n", "--scope", "galaxy"], "invalid choice: 'galaxy'"),
        (["-f", "-", "--from-literal", "a=b"], "cannot be combined with -f"),
        (["-f", "-", "--type", "kubernetes.io/tls"], "cannot be combined with -f"),
    ],
)
def test_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], files: Files, argv: list[str], message: str
) -> None:
    result = run(capsys, "seal", *argv, "--cert", str(files.cert))
    assert result.code == 2
    assert message in result.err


def test_a_bad_certificate_exits_2(
    capsys: pytest.CaptureFixture[str], files: Files, tmp_path: Path
) -> None:
    argv = ["seal", "--name", "x", "--namespace", "n", "--from-literal", "a=b", "--cert"]
    missing = run(capsys, *argv, str(tmp_path / "none.pem"))
    assert missing.code == 2
    assert "certificate" in missing.err
    assert "cannot be read" in missing.err
    wrong = run(capsys, *argv, str(files.key))
    assert wrong.code == 2
    assert "expected a PEM certificate" in wrong.err


def test_unseal_with_the_wrong_key_exits_1(
    capsys: pytest.CaptureFixture[str], files: Files, tmp_path: Path
) -> None:
    (tmp_path / "secret.yaml").write_text(SECRET_YAML)
    sealed = run(capsys, "seal", "-f", str(tmp_path / "secret.yaml"), "--cert", str(files.cert))
    (tmp_path / "sealed.yaml").write_text(sealed.out)
    other_pem, _ = generate_key_pair("other", key_size=2048)
    (tmp_path / "other.pem").write_bytes(other_pem)
    result = run(
        capsys, "unseal", "-f", str(tmp_path / "sealed.yaml"), "--key", str(tmp_path / "other.pem")
    )
    assert result.code == 1
    assert "SealedSecret/prod/db: cannot open password, user" in result.err
    both = run(
        capsys,
        "unseal",
        "-f",
        str(tmp_path / "sealed.yaml"),
        "--key",
        str(tmp_path / "other.pem"),
        "--key",
        str(files.key),
    )
    assert both.code == 0


def test_unseal_input_errors_exit_2(
    capsys: pytest.CaptureFixture[str], files: Files, tmp_path: Path
) -> None:
    path = tmp_path / "sealed.yaml"
    path.write_text(
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: x}\n"
        "spec:\n  encryptedData:\n    k: '%%%'\n"
    )
    result = run(capsys, "unseal", "-f", str(path), "--key", str(files.key))
    assert result.code == 2
    assert "not valid base64" in result.err
    path.write_text("- a list\n")
    result = run(capsys, "unseal", "-f", str(path), "--key", str(files.key))
    assert result.code == 2
    assert "expected a Kubernetes object" in result.err
    path.write_text("")
    result = run(capsys, "unseal", "-f", str(path), "--key", str(files.key))
    assert result.code == 2
    assert "no YAML documents" in result.err
    missing = run(capsys, "unseal", "-f", str(path))
    assert missing.code == 2
    assert "--key" in missing.err


def test_an_unwritable_output_file_exits_2(
    capsys: pytest.CaptureFixture[str], files: Files, tmp_path: Path
) -> None:
    target = tmp_path / "missing-directory" / "sealed.yaml"
    argv = ["seal", "--name", "x", "--namespace", "n", "--from-literal", "a=b"]
    result = run(capsys, *argv, "--cert", str(files.cert), "-w", str(target))
    assert result.code == 2
    assert f"{target}: cannot be written" in result.err
