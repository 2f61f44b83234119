"""Charts pinned in an OCI registry (Debian's docker-registry on loopback): locked by digest,
pulled once, and refused before anything renders when the digest or version does not hold."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from hakobu.model.usercache import cache_root
from tests.unit.images.test_registry import start_registry
from tests.unit.render.charts import push_chart, write_chart

PROJECT = """\
apiVersion: hakobu.dev/v1alpha1
kind: Project
name: shop
environments:
  evaluation: {namespace: shop-eval}
  production: {namespace: shop}
"""


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "registry").mkdir()
    yield from start_registry(tmp_path / "registry", auth=False)


def hakobu(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hakobu", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **(env or {})},
    )


def pinned_project(root: Path, registry: str, version: str = "0.3.0") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "hakobu.yaml").write_text(PROJECT)
    app = root / "apps" / "web"
    app.mkdir(parents=True, exist_ok=True)
    source = {
        "chart": {
            "repository": f"oci://{registry}/charts",
            "name": "shop",
            "version": version,
            "plainHTTP": True,
        }
    }
    (app / "helm.yaml").write_text(yaml.safe_dump(source))
    (app / "values.yaml").write_text("greeting: from-the-app\n")
    (app / "values-production.yaml").write_text("replicas: 4\n")
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "pinned chart"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
            cwd=root,
            check=True,
            capture_output=True,
        )
    return root


def snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_a_chart_pulled_over_oci_is_locked_rendered_and_checked(
    registry: str, helm_bin: Path, tmp_path: Path
) -> None:
    archive = push_chart(helm_bin, write_chart(tmp_path / "chart"), registry, tmp_path / "pub")
    root = pinned_project(tmp_path / "shop", registry)

    unlocked = hakobu(root, "render")
    assert unlocked.returncode == 2, unlocked.stderr
    assert "has no recorded digest" in unlocked.stderr
    assert "hakobu chart lock web" in unlocked.stderr
    assert not (root / "generated").exists()

    locked = hakobu(root, "chart", "lock", "web")
    assert locked.returncode == 0, locked.stderr
    lock = yaml.safe_load((root / "apps" / "web" / "helm.lock").read_text())
    digest = "sha256:" + hashlib.sha256(archive.read_bytes()).hexdigest()
    assert lock == {
        "repository": f"oci://{registry}/charts",
        "name": "shop",
        "version": "0.3.0",
        "digest": digest,
    }
    assert (cache_root() / "charts" / f"{digest.replace(':', '-')}.tgz").is_file()

    result = hakobu(root, "render")
    assert result.returncode == 0, result.stderr
    production = root / "generated" / "production" / "web"
    settings = yaml.safe_load((production / "configmap-web-settings.yaml").read_text())
    assert settings["data"]["greeting"] == "from-the-app"
    deployment = yaml.safe_load((production / "deployment-web.yaml").read_text())
    assert deployment["spec"]["replicas"] == 4
    assert deployment["metadata"]["namespace"] == "shop"

    before = snapshot(root / "generated")
    lock_file = root / "apps" / "web" / "helm.lock"
    lock_file.write_text(lock_file.read_text().replace(digest, "sha256:" + "0" * 64))
    tampered = hakobu(root, "render")
    assert tampered.returncode == 2, tampered.stderr
    assert f"has digest {digest}, not the sha256:{'0' * 64} recorded here" in tampered.stderr
    assert snapshot(root / "generated") == before


def test_a_chart_published_again_under_its_version_is_refused(
    registry: str, helm_bin: Path, tmp_path: Path
) -> None:
    chart = write_chart(tmp_path / "chart")
    push_chart(helm_bin, chart, registry, tmp_path / "pub")
    root = pinned_project(tmp_path / "shop", registry)
    assert hakobu(root, "chart", "lock").returncode == 0
    recorded = yaml.safe_load((root / "apps" / "web" / "helm.lock").read_text())["digest"]

    (chart / "values.yaml").write_text("replicas: 1\ngreeting: changed\nimage: evil:1\n")
    push_chart(helm_bin, chart, registry, tmp_path / "pub-again")
    # A machine that has not pulled the chart before: an empty chart cache, the same tools.
    fresh = tmp_path / "fresh-cache"
    (fresh / "hakobu").mkdir(parents=True)
    (fresh / "hakobu" / "tools").symlink_to(cache_root() / "tools")
    result = hakobu(root, "render", "--check", env={"XDG_CACHE_HOME": str(fresh)})
    assert result.returncode == 2, result.stderr
    assert f"not the {recorded} recorded here" in result.stderr
    assert "published again under the same version" in result.stderr


def test_a_missing_version_is_refused_before_anything_renders(
    registry: str, helm_bin: Path, tmp_path: Path
) -> None:
    push_chart(helm_bin, write_chart(tmp_path / "chart"), registry, tmp_path / "pub")
    root = pinned_project(tmp_path / "shop", registry, version="9.9.9")
    result = hakobu(root, "chart", "lock", "web")
    assert result.returncode == 2, result.stderr
    assert "shop 9.9.9 is not in" in result.stderr
    assert not (root / "apps" / "web" / "helm.lock").exists()

    # A lock for another version than helm.yaml names is refused without pulling anything.
    (root / "apps" / "web" / "helm.lock").write_text(
        yaml.safe_dump(
            {
                "repository": f"oci://{registry}/charts",
                "name": "shop",
                "version": "0.3.0",
                "digest": "sha256:" + "1" * 64,
            }
        )
    )
    stale = hakobu(root, "render")
    assert stale.returncode == 2, stale.stderr
    assert "the lock is for '0.3.0' but helm.yaml says '9.9.9'" in stale.stderr
