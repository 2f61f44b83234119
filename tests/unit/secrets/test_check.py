"""``hakobu secret check``: plaintext Secrets in tracked files and in the history."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from hakobu.cli.main import main
from hakobu.errors import InvalidInput
from hakobu.repo.contents import repository_contents
from hakobu.secrets.check import Finding, check_contents, plaintext_secrets


def _findings(path: Path, *, history: bool = False) -> list[Finding]:
    return check_contents(repository_contents(path, history=history))


PLAIN = """\
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: prod}
stringData: {password: hunter2}
"""
EMPTY = """\
apiVersion: v1
kind: Secret
metadata: {name: placeholder, namespace: prod}
data: {}
"""
SEALED = """\
apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata: {name: db, namespace: prod}
spec: {encryptedData: {password: AgBy}}
"""
LISTED = """\
# a comment before the first document
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: fast}
--- # two objects in one file, the second one not YAML at all
{{ template "broken" }}: [
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Secret
  metadata: {name: api}
  data: {token: YWJj}
"""


def git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "PATH": "/usr/bin:/bin",
        "HOME": str(repo),
    }
    result = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=True
    )
    return result.stdout.strip()


def commit(repo: Path, files: dict[str, str | None], message: str) -> str:
    for name, text in files.items():
        path = repo / name
        if text is None:
            git(repo, "rm", "-q", name)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        git(repo, "add", name)
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "--short=7", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    return tmp_path


def test_plaintext_secrets_in_text() -> None:
    assert plaintext_secrets(PLAIN) == [("prod", "db")]
    assert plaintext_secrets(EMPTY) == []
    assert plaintext_secrets(SEALED) == []
    assert plaintext_secrets(LISTED) == [("", "api")]
    assert plaintext_secrets('{"kind": "Secret", "metadata": {"name": "j"}, "data": {"a": ""}}')


def test_tracked_files_only_without_history(repo: Path) -> None:
    commit(repo, {"apps/db.yaml": PLAIN, "apps/sealed.yaml": SEALED}, "one")
    (repo / "untracked.yaml").write_text(PLAIN)
    findings = _findings(repo)
    assert [str(f) for f in findings] == ["apps/db.yaml: Secret/prod/db"]


def test_history_finds_a_deleted_secret_once(repo: Path) -> None:
    first = commit(repo, {"apps/db.yaml": PLAIN, "list.yaml": LISTED}, "add")
    commit(repo, {"apps/db.yaml": None, "list.yaml": None, "apps/sealed.yaml": SEALED}, "fix")
    # The same blob again, on a branch, under another name: still reported once.
    git(repo, "checkout", "-q", "-b", "other")
    commit(repo, {"copy/db.yaml": PLAIN}, "copy")
    git(repo, "checkout", "-q", "main")
    assert _findings(repo) == []
    lines = [str(f) for f in _findings(repo, history=True)]
    assert lines == [f"apps/db.yaml@{first}: Secret/prod/db", f"list.yaml@{first}: Secret/api"]


def test_a_path_limits_the_scan(repo: Path) -> None:
    commit(repo, {"apps/db.yaml": PLAIN, "other/db.yaml": PLAIN}, "one")
    assert [f.path for f in _findings(repo / "apps", history=True)] == [
        "apps/db.yaml",
        "apps/db.yaml",
    ]
    assert _findings(repo / "apps", history=True)[1].commit is not None


def test_command_exit_codes_and_output(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    commit(repo, {"ok.yaml": SEALED}, "clean")
    assert main(["secret", "check", str(repo)]) == 0
    assert capsys.readouterr().out == ""
    commit(repo, {"bad.yaml": PLAIN}, "leak")
    monkeypatch.chdir(repo)
    assert main(["secret", "check", "-o", "json"]) == 1
    assert json.loads(capsys.readouterr().out) == [
        {"path": "bad.yaml", "kind": "Secret", "namespace": "prod", "name": "db", "commit": None}
    ]


def test_outside_a_repository(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not inside a git repository"):
        _findings(tmp_path)
