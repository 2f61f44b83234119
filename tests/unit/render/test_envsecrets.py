"""SealedSecrets of one environment live in secrets/<env>/<app>/ and match its namespace."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = """\
apiVersion: hakobu.dev/v1alpha1
kind: Project
name: shop
environments:
  evaluation: {namespace: shop-eval}
  production: {namespace: shop}
"""
CONFIG = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {a: b}\n"


def sealed(namespace: str, *, cluster_wide: bool = False) -> str:
    annotations = (
        '  annotations: {sealedsecrets.bitnami.com/cluster-wide: "true"}\n' if cluster_wide else ""
    )
    return (
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: db\n"
        f"  namespace: {namespace}\n{annotations}spec:\n  encryptedData: {{password: AgB=}}\n"
    )


def hakobu(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hakobu", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "hakobu.yaml").write_text(PROJECT)
    (tmp_path / "apps/web").mkdir(parents=True)
    (tmp_path / "apps/web/config.yaml").write_text(CONFIG)
    return tmp_path


def test_each_environment_renders_its_own_sealed_secrets(root: Path) -> None:
    for env, namespace in (("evaluation", "shop-eval"), ("production", "shop")):
        (root / f"secrets/{env}/web").mkdir(parents=True)
        (root / f"secrets/{env}/web/db.yaml").write_text(sealed(namespace))
    result = hakobu(root, "render")
    assert result.returncode == 0, result.stderr
    for env, namespace in (("evaluation", "shop-eval"), ("production", "shop")):
        text = (root / f"generated/{env}/web/sealedsecret-db.yaml").read_text()
        assert f"namespace: {namespace}\n" in text


def test_a_sealed_secret_in_a_shared_app_is_refused_for_the_other_namespace(root: Path) -> None:
    (root / "apps/web/db.yaml").write_text(sealed("shop-eval"))
    result = hakobu(root, "render")
    assert result.returncode == 2
    assert "app web: SealedSecret 'db' is sealed for namespace 'shop-eval'" in result.stderr
    assert "environment production deploys to 'shop'" in result.stderr
    assert "secrets/production/web/" in result.stderr
    assert not (root / "generated").exists()


def test_a_cluster_wide_sealed_secret_may_be_shared(root: Path) -> None:
    (root / "apps/web/db.yaml").write_text(sealed("shop-eval", cluster_wide=True))
    assert hakobu(root, "render").returncode == 0


@pytest.mark.parametrize(
    ("path", "content", "expect"),
    [
        ("secrets/evaluation/web/db.yaml", sealed("shop"), "db.yaml:5: metadata.namespace"),
        ("secrets/evaluation/web/cm.yaml", CONFIG, "expected a SealedSecret"),
        ("secrets/evaluation/web/notes.txt", "x", "only YAML files of SealedSecrets"),
        ("secrets/evaluation/wbe/db.yaml", sealed("shop-eval"), "there is no app 'wbe'"),
    ],
)
def test_what_does_not_belong_in_secrets_is_refused(
    root: Path, path: str, content: str, expect: str
) -> None:
    (root / path).parent.mkdir(parents=True)
    (root / path).write_text(content)
    result = hakobu(root, "render")
    assert result.returncode == 2
    assert expect in result.stderr
