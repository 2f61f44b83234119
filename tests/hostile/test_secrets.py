"""The secret tools and the kubeconfig on hostile input: bounded, and never quoting a secret."""

from __future__ import annotations

import base64
import os
import subprocess

import pytest

from hakobu.secrets.keys import generate_key_pair
from tests.hostile.conftest import Case
from tests.hostile.harness import MEMORY_MB, SECONDS, Run

MARKER = "s3cr3t-M4RKER-do-not-print"
SECRET = f"""\
apiVersion: v1
kind: Secret
metadata: {{name: db, namespace: prod}}
stringData: {{password: {MARKER}}}
"""
KUBECONFIG = """\
apiVersion: v1
kind: Config
current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "https://127.0.0.1:1"}}]
users:
- name: u
  user:
    USER
"""


@pytest.fixture(scope="module")
def key_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    return generate_key_pair("hostile", key_size=2048)


def quiet(run: Run) -> Run:
    assert MARKER not in run.stderr, run.stderr
    assert MARKER not in run.stdout, run.stdout
    return run


def special(case: Case, name: str, kind: str) -> str:
    """A file that a plain read would hang on, exhaust memory with, or choke on."""
    path = case.root / name
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "zero":
        path.symlink_to("/dev/zero")
    elif kind == "large":
        path.write_bytes(SECRET.encode() + b"#" * (9 << 20))
    elif kind == "not-utf8":
        path.write_bytes(SECRET.encode() + b"# \xff\xfe\n")
    return name


EXPECTED = {
    "fifo": "is a FIFO",
    "zero": "is a device",
    "large": "is larger than 8 MiB",
    "not-utf8": "not UTF-8",
}


@pytest.mark.parametrize(
    ("user", "expect"),
    [
        (f"token: {MARKER}: [", "kubeconfig:9: not valid YAML"),
        (f"token: {{value: {MARKER}}}", "users[0].user.token: expected a single value"),
        (f'token: "{MARKER}\\r\\nX-Injected: 1"', "users[0].user.token: the token holds"),
        (f"client-key-data: '!{MARKER}'\n    client-certificate-data: eA==", "not valid base64"),
    ],
    ids=["broken-line", "token-mapping", "header-injection", "key-data"],
)
def test_a_bad_kubeconfig_never_shows_its_credentials(case: Case, user: str, expect: str) -> None:
    case.write("kubeconfig", KUBECONFIG.replace("USER", user))
    quiet(case.refuses("secret", "keys", "list", "--kubeconfig", "kubeconfig", expect=expect))


@pytest.mark.parametrize("kind", ["fifo", "zero", "large"])
def test_files_a_kubeconfig_names_are_read_bounded(case: Case, kind: str) -> None:
    name = special(case, "token", kind)
    case.write("kubeconfig", KUBECONFIG.replace("USER", f"tokenFile: {name}"))
    run = case.refuses("secret", "keys", "list", "--kubeconfig", "kubeconfig")
    assert f"kubeconfig:9: users[0].user.tokenFile: {name}: {EXPECTED[kind]}" in quiet(run).stderr


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        (SECRET.replace("apiVersion: v1\n", ""), "secret.yaml:1: apiVersion: expected v1"),
        (SECRET.replace("apiVersion: v1", "apiVersion: {x: 1}"), "apiVersion: expected v1"),
        (SECRET.replace("kind: Secret", f"kind: {{k: {MARKER}}}"), "found a dict"),
        (SECRET.replace(f"password: {MARKER}", f"password: [{MARKER}]"), "found list"),
        (SECRET.replace("stringData", "data"), "data.password: not valid base64"),
        (SECRET.replace(f"{{password: {MARKER}}}", f"[{MARKER}]"), "expected a mapping"),
        (f"- {MARKER}\n", "expected a Kubernetes object (a mapping), found a list"),
        (SECRET.replace(f"password: {MARKER}", f"password: {MARKER}: ["), "invalid YAML"),
        (SECRET.replace("name: db", f"name: {{n: {MARKER}}}"), "secret.yaml:"),
    ],
    ids=[
        "no-api-version",
        "api-version-mapping",
        "kind-mapping",
        "value-list",
        "data-not-base64",
        "string-data-list",
        "top-level-list",
        "broken-line",
        "name-mapping",
    ],
)
def test_sealing_a_bad_secret_never_shows_its_data(
    case: Case, key_pair: tuple[bytes, bytes], text: str, expect: str
) -> None:
    case.write("cert.pem", key_pair[1])
    case.write("secret.yaml", text)
    quiet(case.refuses("secret", "seal", "-f", "secret.yaml", "--cert", "cert.pem", expect=expect))
    run = case.refuses("secret", "seal", "-f", "-", "--cert", "cert.pem", stdin=text.encode())
    assert "<stdin>" in quiet(run).stderr


def test_a_literal_without_a_key_is_not_repeated(case: Case, key_pair: tuple[bytes, bytes]) -> None:
    case.write("cert.pem", key_pair[1])
    args = ("secret", "seal", "--name", "db", "--namespace", "prod", "--cert", "cert.pem")
    run = case.refuses(*args, "--from-literal", MARKER, expect="expected KEY=VALUE")
    quiet(run)
    twice = ("--from-literal", f"a={MARKER}", "--from-literal", f"a={MARKER}")
    quiet(case.refuses(*args, *twice, expect="'a' is given twice"))


@pytest.mark.parametrize("kind", ["fifo", "zero", "large", "not-utf8"])
def test_secret_files_are_read_bounded(
    case: Case, key_pair: tuple[bytes, bytes], kind: str
) -> None:
    case.write("key.pem", key_pair[0])
    case.write("cert.pem", key_pair[1])
    name = special(case, "input.yaml", kind)
    for args in (
        ("seal", "-f", name, "--cert", "cert.pem"),
        ("unseal", "-f", name, "--key", "key.pem"),
        ("edit", name, "--key", "key.pem", "--cert", "cert.pem"),
    ):
        run = quiet(case.refuses("secret", *args, expect=EXPECTED[kind]))
        assert f"error: {name}" in run.stderr


@pytest.mark.parametrize("kind", ["fifo", "zero", "large"])
def test_key_certificate_and_item_files_are_read_bounded(
    case: Case, key_pair: tuple[bytes, bytes], kind: str
) -> None:
    case.write("cert.pem", key_pair[1])
    case.write("sealed.yaml", "kind: SealedSecret\n")
    name = special(case, "given", kind)
    seal = ("secret", "seal", "--name", "db", "--namespace", "prod")
    for args in (
        (*seal, "--from-file", name, "--cert", "cert.pem"),
        (*seal, "--from-literal", "a=b", "--cert", name),
        ("secret", "unseal", "-f", "sealed.yaml", "--key", name),
        ("secret", "keys", "restore", name),
    ):
        run = case.refuses(*args, expect=EXPECTED[kind])
        assert f"error: {name}: " in run.stderr


def test_oversized_standard_input_is_refused(case: Case, key_pair: tuple[bytes, bytes]) -> None:
    case.write("cert.pem", key_pair[1])
    large = SECRET.encode() + b"#" * (9 << 20)
    run = case.refuses("secret", "seal", "-f", "-", "--cert", "cert.pem", stdin=large)
    assert "standard input: is larger than 8 MiB" in quiet(run).stderr


def bounded(run: Run) -> Run:
    assert not run.timed_out, run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    assert run.seconds < SECONDS, run.stderr
    assert run.max_rss_mb < MEMORY_MB, run.stderr
    return run


def test_check_reads_no_special_file_and_follows_no_link(case: Case) -> None:
    (case.outside / "leak.yaml").write_text(SECRET)
    case.write("apps/link.yaml", "placeholder\n")
    case.write("apps/zero.yaml", "placeholder\n")
    case.write("apps/pipe.yaml", SECRET)
    case.commit("files")
    (case.root / "apps/out.yaml").symlink_to(case.outside / "leak.yaml")
    (case.root / "apps/abs.yaml").symlink_to("/dev/zero")
    subprocess.run(["git", "-C", str(case.root), "add", "apps"], check=True)
    # The work tree then changes under git's feet: links where files were, and a FIFO.
    for name, target in (("link.yaml", case.outside / "leak.yaml"), ("zero.yaml", "/dev/zero")):
        (case.root / "apps" / name).unlink()
        (case.root / "apps" / name).symlink_to(target)
    (case.root / "apps/pipe.yaml").unlink()
    os.mkfifo(case.root / "apps/pipe.yaml")
    run = bounded(case.hakobu("secret", "check"))
    # Only the FIFO's path holds a Secret in what git has: that is what is reported.
    assert run.returncode == 1, run.stderr
    assert run.stdout == "apps/pipe.yaml: Secret/prod/db\n"
    assert MARKER not in run.stdout + run.stderr
    assert bounded(case.hakobu("secret", "check", "--history")).returncode == 1


def test_check_follows_no_directory_link(case: Case) -> None:
    (case.outside / "leak.yaml").write_text(SECRET)
    case.write("conf/leak.yaml", "placeholder\n")
    case.commit("conf")
    (case.root / "conf/leak.yaml").unlink()
    (case.root / "conf").rmdir()
    (case.root / "conf").symlink_to(case.outside)
    run = bounded(case.hakobu("secret", "check"))
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout == ""


def test_check_reports_what_is_too_large_to_scan(case: Case) -> None:
    case.write("big.yaml", SECRET + "#" * (9 << 20))
    case.commit("big")
    run = bounded(case.hakobu("secret", "check", "--history"))
    assert run.returncode == 0, run.stderr
    assert "warning: big.yaml: not scanned: is larger than 8 MiB" in run.stderr
    assert "warning: big.yaml@" in run.stderr


def test_check_survives_yaml_that_does_not_construct(case: Case) -> None:
    case.write("a.yaml", f"kind: Secret\nstringData: {{x: !!int {MARKER}}}\n")
    case.write("b.yaml", "&a {kind: List, items: [*a]}\n---\nkind: Secret\n" + "[" * 5000)
    data = base64.b64encode(MARKER.encode()).decode()
    case.write("c.yaml", f"kind: Secret\nmetadata: {{name: [x]}}\ndata: {{k: {data}}}\n")
    case.commit("odd")
    run = bounded(case.hakobu("secret", "check", "--history"))
    assert run.returncode == 1, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "c.yaml: Secret/?"
    assert [line.split("@")[0] for line in lines[1:]] == ["c.yaml"]
    assert MARKER not in run.stdout + run.stderr


@pytest.mark.parametrize(
    ("args", "file", "expect"),
    [
        (
            ("seal", "-f", "given.yaml", "--name", "db", "--cert", "cert.pem"),
            SECRET.replace("name: db", f"name: {{n: {MARKER}}}"),
            "the Secret's name is a dict but --name says 'db'",
        ),
        (
            ("edit", "given.yaml", "--key", "cert.pem", "--cert", "cert.pem"),
            f"kind: {{k: {MARKER}}}\n",
            "given.yaml:1: kind: expected a SealedSecret, found a dict",
        ),
        (
            ("unseal", "-f", "cert.pem", "--key", "given.yaml"),
            f"kind: Secret\ndata: [{MARKER}]\n",
            "given.yaml: the Secret has no data.tls.key",
        ),
        (
            ("keys", "restore", "given.yaml"),
            f"kind: {{k: {MARKER}}}\n",
            "given.yaml: expected a key Secret (kind Secret), found a dict",
        ),
    ],
    ids=["seal-name", "edit-kind", "unseal-key-backup", "restore-backup"],
)
def test_other_inputs_never_show_their_data(
    case: Case, key_pair: tuple[bytes, bytes], args: tuple[str, ...], file: str, expect: str
) -> None:
    case.write("cert.pem", key_pair[1])
    case.write("given.yaml", file)
    quiet(case.refuses("secret", *args, expect=expect))
