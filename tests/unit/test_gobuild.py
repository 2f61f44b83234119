"""Building pinned Go tools: the wrapper module, and failures that explain themselves."""

from __future__ import annotations

from pathlib import Path

import pytest

from hakobu.errors import OperationFailed
from hakobu.localcluster import gobuild
from hakobu.localcluster.toolchain import KUBERNETES, GoTool

UPSTREAM_GO_MOD = """\
module k8s.io/kubernetes

go 1.26.0

godebug default=go1.26

require (
\tgithub.com/blang/semver/v4 v4.0.0
\tk8s.io/api v0.0.0
\tk8s.io/client-go v0.0.0
\tk8s.io/utils v0.0.0-20260210185600-b8788abfbbc2
)

require (
\tk8s.io/kms v0.0.0 // indirect
)

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
)
"""


def test_wrapper_replaces_every_staging_module_with_its_published_tag() -> None:
    wrapper = gobuild._wrapper_go_mod(KUBERNETES, UPSTREAM_GO_MOD)
    minor_patch = ".".join(KUBERNETES.version.split(".")[1:])
    assert f"require k8s.io/kubernetes {KUBERNETES.version}" in wrapper
    assert f"\tk8s.io/api => k8s.io/api v0.{minor_patch}" in wrapper
    assert f"\tk8s.io/client-go => k8s.io/client-go v0.{minor_patch}" in wrapper
    # Indirect staging modules need a replace too; pseudo-versions and others do not.
    assert f"\tk8s.io/kms => k8s.io/kms v0.{minor_patch}" in wrapper
    assert "k8s.io/utils =>" not in wrapper
    assert "blang" not in wrapper
    assert "godebug default=go1.26" in wrapper
    assert "go 1.26.0" in wrapper


def test_a_release_without_staging_modules_is_refused() -> None:
    with pytest.raises(OperationFailed, match="no staging modules"):
        gobuild._wrapper_go_mod(KUBERNETES, "module k8s.io/kubernetes\n\ngo 1.26.0\n")


def test_missing_go_toolchain_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    tool = GoTool("example", "example.com/tool", "v1.0.0", (("tool", "example.com/tool"),))
    with pytest.raises(OperationFailed) as failed:
        gobuild.ensure_tool(tool, lambda _: None, root=tmp_path)
    assert "Go toolchain was not found" in failed.value.message
    assert failed.value.hint is not None
    assert "go version" in failed.value.hint


def test_failed_module_download_names_the_cause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOPROXY", "off")
    monkeypatch.setenv("GOMODCACHE", str(tmp_path / "modcache"))
    tool = GoTool(
        "missing", "example.invalid/missing", "v9.9.9", (("m", "example.invalid/missing"),)
    )
    with pytest.raises(OperationFailed) as failed:
        gobuild.ensure_tool(tool, lambda _: None, root=tmp_path)
    assert "downloading Go modules failed" in failed.value.message
    assert "GOPROXY=off" in failed.value.message
    assert not (tmp_path / "tools" / tool.key / ".complete").exists()
