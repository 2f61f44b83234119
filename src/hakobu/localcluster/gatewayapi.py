"""The Gateway API's CustomResourceDefinitions, for a local cluster that routes canaries.

They ship in the ``sigs.k8s.io/gateway-api`` Go module (``config/crd/standard/``), so they
come the way every tool does: from the Go module proxy, at the version ``toolchain`` pins,
copied once into ``~/.cache/hakobu/tools/gateway-api-crds-<version>/crds.yaml``. Only the
CustomResourceDefinitions are kept (the directory also holds an admission policy).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import yaml

from hakobu.errors import OperationFailed
from hakobu.localcluster.gobuild import find_go, go_env
from hakobu.localcluster.toolchain import GATEWAY_API_MODULE, GATEWAY_API_VERSION
from hakobu.model.objects import Object
from hakobu.model.usercache import cache_root


def gateway_api_crds(root: Path | None = None) -> list[Object]:
    """The standard channel's CustomResourceDefinitions, fetched on first use."""
    cached = (root or cache_root() / "tools") / f"gateway-api-crds-{GATEWAY_API_VERSION}"
    target = cached / "crds.yaml"
    if not target.exists():
        module = _module_directory()
        documents = []
        for path in sorted((module / "config" / "crd" / "standard").glob("*.yaml")):
            documents += [d for d in yaml.safe_load_all(path.read_text()) if _is_crd(d)]
        if not documents:
            raise OperationFailed(
                f"{GATEWAY_API_MODULE}@{GATEWAY_API_VERSION} has no CRDs in config/crd/standard"
            )
        cached.mkdir(parents=True, exist_ok=True)
        partial = cached / "crds.yaml.partial"
        partial.write_text(yaml.safe_dump_all(documents, sort_keys=True))
        partial.rename(target)
    return [d for d in yaml.safe_load_all(target.read_text()) if d]


def _module_directory() -> Path:
    with tempfile.TemporaryDirectory() as scratch:
        done = subprocess.run(
            [find_go(), "mod", "download", "-json", f"{GATEWAY_API_MODULE}@{GATEWAY_API_VERSION}"],
            cwd=scratch,
            env=go_env(),
            capture_output=True,
            text=True,
            check=False,
        )
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        answer = {}
    if done.returncode != 0 or "Dir" not in answer:
        reason = answer.get("Error") or done.stderr.strip() or f"exit code {done.returncode}"
        raise OperationFailed(
            f"cannot download {GATEWAY_API_MODULE}@{GATEWAY_API_VERSION}: {reason}",
            hint="check that `go mod download` reaches the Go module proxy (GOPROXY)",
        )
    return Path(answer["Dir"])


def _is_crd(document: object) -> bool:
    return isinstance(document, dict) and document.get("kind") == "CustomResourceDefinition"
