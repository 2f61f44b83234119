"""Fixtures shared by unit and integration tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from hakobu.localcluster.gobuild import ensure_tool
from hakobu.localcluster.toolchain import HELM, KUSTOMIZE


@pytest.fixture(scope="session")
def kustomize_bin() -> Path:
    """The real kustomize, the oracle for `hakobu build` (built once, cached)."""
    built = ensure_tool(KUSTOMIZE, lambda m: print(f"[kustomize] {m}", file=sys.stderr))
    return built.binary("kustomize")


@pytest.fixture(scope="session")
def helm_bin() -> Path:
    """The real helm, which renders chart apps and is their oracle (built once, cached)."""
    built = ensure_tool(HELM, lambda m: print(f"[helm] {m}", file=sys.stderr))
    return built.binary("helm")
