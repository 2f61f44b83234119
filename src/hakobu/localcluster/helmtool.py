"""The helm that renders chart apps: built from its Go module on first use, like every tool."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from hakobu.localcluster.toolchain import HELM, KUBERNETES_VERSION
from hakobu.render.helm import Helm

if TYPE_CHECKING:
    from hakobu.localcluster.gobuild import Progress


def helm_for_render(progress: Progress) -> Helm:
    """A ``Helm`` whose binary is built (once, announced through ``progress``) only when a
    chart app is rendered. Charts see the Kubernetes version hakobu's own control plane runs,
    as rendering is offline and must not depend on which cluster is reachable."""

    def binary() -> Path:
        # Here, not at the top: most renders have no chart, and the builder costs an import.
        from hakobu.localcluster.gobuild import ensure_tool  # noqa: PLC0415

        return ensure_tool(HELM, progress).binary("helm")

    return Helm(binary, KUBERNETES_VERSION)
