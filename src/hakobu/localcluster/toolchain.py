"""The pinned versions of every external tool hakobu builds, in one place.

Everything is built from Go modules with ``go build`` so that a machine needs only Go and
access to a Go module proxy. Bumping a version here re-builds that tool once into a new
cache directory; old ones stay until the cache directory is cleared.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

KUBERNETES_VERSION = "v1.36.3"
# The etcd release Kubernetes v1.36 is built and tested against (its go.mod requires it).
ETCD_VERSION = "v3.6.8"
KWOK_VERSION = "v0.8.0"
# The reference implementation that `hakobu build` is tested and benchmarked against.
KUSTOMIZE_VERSION = "v5.8.2"
# Bitnami Sealed Secrets: kubeseal and the controller, for interoperability tests. The
# newest release published under this module path (v0.40 declares a new path that the
# module proxy does not serve).
SEALED_SECRETS_VERSION = "v0.36.0"
# Helm renders chart apps: the newest v3 release, so `helm template`'s output is the output.
HELM_VERSION = "v3.22.0"
# The Gateway API's CRDs (its standard channel), installed by tests of canary traffic routing:
# the newest release whose module the pinned Go accepts (v1.7 requires go 1.27).
GATEWAY_API_MODULE = "sigs.k8s.io/gateway-api"
GATEWAY_API_VERSION = "v1.6.3"


@dataclass(frozen=True)
class GoTool:
    """A set of binaries built from one Go module at one version.

    ``binaries`` maps each output file name to the main package it is built from.
    ``replace_staging`` marks k8s.io/kubernetes: its go.mod requires its ~30 staging
    modules at v0.0.0 with local ``./staging`` replaces that Go ignores in a dependency,
    so the wrapper module must replace each with its published tag.
    """

    name: str
    module: str
    version: str
    binaries: tuple[tuple[str, str], ...]
    tags: tuple[str, ...] = ()
    ldflags: tuple[str, ...] = ()
    replace_staging: bool = False
    # Files copied out of the module next to the binaries (kwok's Stage definitions).
    data_files: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        if not self.data_files:
            return f"{self.name}-{self.version}"
        # A changed file list is a different build output: give it its own cache entry.
        digest = hashlib.sha256("\n".join(self.data_files).encode()).hexdigest()[:8]
        return f"{self.name}-{self.version}-{digest}"


def _kubernetes_version_ldflags(version: str) -> tuple[str, ...]:
    major, minor = version.removeprefix("v").split(".")[:2]
    flags = ["-s", "-w"]
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [
            f"-X {package}.gitVersion={version}",
            f"-X {package}.gitMajor={major}",
            f"-X {package}.gitMinor={minor}",
            f"-X {package}.gitTreeState=clean",
        ]
    return tuple(flags)


KUBERNETES = GoTool(
    name="kubernetes",
    module="k8s.io/kubernetes",
    version=KUBERNETES_VERSION,
    binaries=tuple(
        (binary, f"k8s.io/kubernetes/cmd/{binary}")
        for binary in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl")
    ),
    # The tags and flags of Kubernetes' own release build (hack/lib/golang.sh).
    tags=("selinux", "notest"),
    ldflags=_kubernetes_version_ldflags(KUBERNETES_VERSION),
    replace_staging=True,
)

ETCD = GoTool(
    name="etcd",
    module="go.etcd.io/etcd/server/v3",
    version=ETCD_VERSION,
    binaries=(("etcd", "go.etcd.io/etcd/server/v3"),),
    ldflags=("-s", "-w"),
)

# kwok's own stage definitions, shipped inside its module: nodes become Ready and stay so,
# Pods become Ready, Pods owned by a Job complete, deleted Pods go away, and Pods labelled
# `pod-container-running-failed.stage.kwok.x-k8s.io: "true"` fail (for failing hooks).
KWOK_STAGE_FILES = (
    "kustomize/stage/node/fast/node-initialize.yaml",
    "kustomize/stage/node/heartbeat/node-heartbeat.yaml",
    "kustomize/stage/pod/fast/pod-ready.yaml",
    "kustomize/stage/pod/fast/pod-complete.yaml",
    "kustomize/stage/pod/fast/pod-delete.yaml",
    "kustomize/stage/pod/chaos/pod-container-running-failed.yaml",
)


KWOK = GoTool(
    name="kwok",
    module="sigs.k8s.io/kwok",
    version=KWOK_VERSION,
    binaries=(("kwok", "sigs.k8s.io/kwok/cmd/kwok"),),
    ldflags=("-s", "-w"),
    data_files=KWOK_STAGE_FILES,
)

CONTROL_PLANE_TOOLS = (KUBERNETES, ETCD, KWOK)


KUSTOMIZE = GoTool(
    name="kustomize",
    module="sigs.k8s.io/kustomize/kustomize/v5",
    version=KUSTOMIZE_VERSION,
    binaries=(("kustomize", "sigs.k8s.io/kustomize/kustomize/v5"),),
    ldflags=(
        "-s",
        "-w",
        f"-X sigs.k8s.io/kustomize/api/provenance.version=kustomize/{KUSTOMIZE_VERSION}",
    ),
)

SEALED_SECRETS = GoTool(
    name="sealed-secrets",
    module="github.com/bitnami-labs/sealed-secrets",
    version=SEALED_SECRETS_VERSION,
    binaries=(
        ("kubeseal", "github.com/bitnami-labs/sealed-secrets/cmd/kubeseal"),
        ("controller", "github.com/bitnami-labs/sealed-secrets/cmd/controller"),
    ),
    ldflags=("-s", "-w", f"-X main.VERSION={SEALED_SECRETS_VERSION}"),
)

HELM = GoTool(
    name="helm",
    module="helm.sh/helm/v3",
    version=HELM_VERSION,
    binaries=(("helm", "helm.sh/helm/v3/cmd/helm"),),
    # Helm's own release build sets its version so `helm version` and `.Capabilities` say it.
    ldflags=(
        "-s",
        "-w",
        f"-X helm.sh/helm/v3/internal/version.version={HELM_VERSION}",
        "-X helm.sh/helm/v3/internal/version.gitTreeState=clean",
    ),
)
