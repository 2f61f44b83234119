"""Agreement of `hakobu build` with `kustomize build` on kustomizations of real projects.

The corpus is not held in this repository: it is the kustomization directories shipped by
the pinned Go modules below, downloaded with `go mod download` into
`~/.cache/hakobu/corpus` (the same go environment the tool builds use). Every directory
holding a kustomization file is built by both tools, each as a whole process with a
timeout; where kustomize refuses a file outside the directory, both build again with
`--load-restrictor LoadRestrictionsNone`, as the projects do. Each is sorted into one of:

- agree: both succeed and their outputs, parsed, are the same documents in the same order;
- both refuse: both exit non-zero;
- differ: both succeed with different documents;
- hakobu refuses: kustomize succeeds, hakobu exits non-zero;
- refused by design: hakobu refuses a remote (URL or git) resource, as it does when no
  `--allow-remote` allows it (none is given: the corpus's remotes are on github.com, which
  this measurement does not reach); kustomize fetches it or fails on the way;
- kustomize refuses: kustomize exits non-zero and hakobu succeeds.

Agreement is (agree + both refuse) / all directories, printed twice: with the
refused-by-design directories counted as disagreement, and with them left out of the total.
The script exits 1 when the first figure is below the bar.

    python benchmarks/kustomize_corpus.py [--jobs 2] [--timeout 120] [--show 20]
                                          [--only SUBSTRING] [--bar 97]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

from hakobu.localcluster.gobuild import ensure_tool, go_env
from hakobu.localcluster.toolchain import KUSTOMIZE
from hakobu.model.usercache import cache_root

# Projects that ship many kustomizations (operator config/ trees, cluster templates, e2e
# overlays), each pinned so the corpus and its figure are reproducible.
MODULES = (
    ("sigs.k8s.io/cluster-api", "v1.14.2"),
    ("sigs.k8s.io/cluster-api/test", "v1.14.2"),
    ("sigs.k8s.io/cluster-api-provider-aws/v2", "v2.13.0"),
    ("sigs.k8s.io/kueue", "v0.17.0"),
    ("sigs.k8s.io/gateway-api", "v1.6.3"),
    ("github.com/argoproj/argo-cd/v3", "v3.5.8"),
    ("github.com/fluxcd/source-controller", "v1.9.6"),
    ("github.com/fluxcd/kustomize-controller", "v1.9.6"),
    ("github.com/prometheus-operator/prometheus-operator", "v0.85.0"),
    ("github.com/external-secrets/external-secrets", "v1.3.2"),
    ("github.com/kubeflow/training-operator", "v1.8.1"),
    ("github.com/open-policy-agent/gatekeeper/v3", "v3.23.1"),
    ("github.com/kyverno/kyverno", "v1.19.1"),
)
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
CATEGORIES = (
    "agree",
    "both refuse",
    "differ",
    "hakobu refuses",
    "refused by design",
    "kustomize refuses",
)
_REMOTE_REFUSAL = "remote resource"
_RESTRICTED = "is not in or below"
_UNRESTRICTED = ("--load-restrictor", "LoadRestrictionsNone")


@dataclass(frozen=True)
class Run:
    ok: bool
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Outcome:
    directory: Path
    category: str
    detail: str


def download(modules: tuple[tuple[str, str], ...], corpus: Path) -> list[tuple[str, Path]]:
    env = go_env()
    env["GOMODCACHE"] = str(corpus / "mod")
    roots = []
    for module, version in modules:
        result = subprocess.run(
            ["go", "mod", "download", "-json", f"{module}@{version}"],
            cwd=corpus,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        try:
            data = json.loads(result.stdout)
        except json.JSONDecodeError:
            data = {"Error": result.stderr.strip()}
        if "Error" in data or result.returncode != 0:
            sys.exit(f"downloading {module}@{version} failed: {data.get('Error', '')}")
        roots.append((f"{module}@{version}", Path(data["Dir"])))
    return roots


def kustomization_directories(root: Path) -> list[Path]:
    found = {
        path.parent for name in KUSTOMIZATION_FILES for path in root.rglob(name) if path.is_file()
    }
    return sorted(found)


def run(command: list[str], timeout: float) -> Run:
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return Run(False, "", f"timed out after {timeout:.0f}s")
    return Run(result.returncode == 0, result.stdout, result.stderr)


def classify(directory: Path, kustomize: str, timeout: float) -> Outcome:
    theirs, ours = _both(directory, kustomize, timeout, ())
    if not theirs.ok and _RESTRICTED in theirs.stderr:
        # Projects build these with the restrictor off (cluster templates reading shared
        # bases by file): so do both tools here, else both refuse the same way trivially.
        theirs, ours = _both(directory, kustomize, timeout, _UNRESTRICTED)
    if not ours.ok and _REMOTE_REFUSAL in ours.stderr:
        return Outcome(directory, "refused by design", _first_line(ours.stderr))
    if theirs.ok and ours.ok:
        # Compared parsed: a difference in quoting or key order is not a different object.
        difference = first_difference(theirs.stdout, ours.stdout)
        if difference is None:
            return Outcome(directory, "agree", "")
        return Outcome(directory, "differ", difference)
    if not theirs.ok and not ours.ok:
        return Outcome(directory, "both refuse", _first_line(theirs.stderr))
    if theirs.ok:
        return Outcome(directory, "hakobu refuses", _first_line(ours.stderr))
    return Outcome(directory, "kustomize refuses", _first_line(theirs.stderr))


class _Loader(yaml.CSafeLoader):
    """libyaml's safe loader, reading a plain ``=`` as the string it is to Kubernetes
    (YAML 1.1's value tag has no constructor in PyYAML)."""


def _plain_value(loader: _Loader, node: yaml.Node) -> str:
    return str(node.value)


_Loader.add_constructor("tag:yaml.org,2002:value", _plain_value)


def _both(
    directory: Path, kustomize: str, timeout: float, options: tuple[str, ...]
) -> tuple[Run, Run]:
    theirs = run([kustomize, "build", *options, str(directory)], timeout)
    ours = run([sys.executable, "-m", "hakobu", "build", *options, str(directory)], timeout)
    return theirs, ours


def first_difference(expected: str, actual: str) -> str | None:
    """None when both parse to the same documents in the same order, else where they part."""
    if expected == actual:
        return None
    try:
        theirs = [d for d in yaml.load_all(expected, Loader=_Loader) if d is not None]
        ours = [d for d in yaml.load_all(actual, Loader=_Loader) if d is not None]
    except yaml.YAMLError as error:
        return f"output does not parse: {error}"
    if theirs == ours:
        return None
    for index, (a, b) in enumerate(zip(theirs, ours, strict=False)):
        if a != b:
            return f"document {index + 1}: " + _first_differing_line(a, b)
    return f"kustomize wrote {len(theirs)} documents, hakobu {len(ours)}"


def _first_differing_line(expected: object, actual: object) -> str:
    left = yaml.safe_dump(expected, sort_keys=True).splitlines()
    right = yaml.safe_dump(actual, sort_keys=True).splitlines()
    for number, (a, b) in enumerate(zip(left, right, strict=False), start=1):
        if a != b:
            return f"line {number}: kustomize {a.strip()!r}, hakobu {b.strip()!r}"
    return f"kustomize {len(left)} lines, hakobu {len(right)} lines"


def _first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[0][:200] if lines else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--show", type=int, default=20, help="disagreements to list")
    parser.add_argument("--only", default="", help="build only directories containing this")
    parser.add_argument("--bar", type=float, default=97.0, help="agreement %% to pass")
    args = parser.parse_args()

    corpus = cache_root() / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    kustomize = str(ensure_tool(KUSTOMIZE, print).binary("kustomize"))
    directories: list[tuple[str, Path]] = []
    for module, root in download(MODULES, corpus):
        found = kustomization_directories(root)
        print(f"{module}: {len(found)} kustomization directories")
        directories += [(module, d) for d in found if args.only in str(d)]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        outcomes = list(pool.map(lambda item: _classified(item[1], kustomize, args), directories))
    elapsed = time.monotonic() - started
    load = os.getloadavg()[0]
    report(outcomes, corpus / "mod", args.show)
    counts = Counter(o.category for o in outcomes)
    agreed = counts["agree"] + counts["both refuse"]
    total = len(outcomes)
    by_design = counts["refused by design"]
    overall = 100.0 * agreed / total if total else 0.0
    local = 100.0 * agreed / (total - by_design) if total > by_design else 0.0
    print(f"\n{total} directories in {elapsed:.0f}s (load average {load:.2f})")
    for category in CATEGORIES:
        print(f"  {category:<18} {counts[category]:4d}")
    print(f"agreement: {overall:.1f}% of all directories (remote refusals counted against)")
    print(f"agreement: {local:.1f}% of directories without remote resources")
    if overall < args.bar:
        sys.exit(1)


def _classified(directory: Path, kustomize: str, args: argparse.Namespace) -> Outcome:
    outcome = classify(directory, kustomize, args.timeout)
    print(f"{outcome.category:<18} {directory}  {outcome.detail[:120]}", flush=True)
    return outcome


def report(outcomes: list[Outcome], cache: Path, show: int) -> None:
    wrong = [o for o in outcomes if o.category not in ("agree", "both refuse")]
    for outcome in wrong[:show] if show else wrong:
        print(f"{outcome.category}: {outcome.directory.relative_to(cache)}\n    {outcome.detail}")
    if len(wrong) > show > 0:
        print(f"... and {len(wrong) - show} more")


if __name__ == "__main__":
    main()
