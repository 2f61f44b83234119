"""Benchmark: what a platform base costs a render of 1,000 app specs, and an upgrade of one.

Generates two projects of N app specs and two environments that differ only in
``base: web@1``: the second has ``platform/bases/web/1/`` (defaults: a label, a pod
annotation, a topology spread; a values schema; a NetworkPolicy template) and ``/2/`` (the
same and a ServiceMonitor). Each is rendered cold (``--no-cache``) as its own process,
timed by the wall clock and by its CPU time (``wait4``), which a busy machine blurs
less. The outputs are checked: the based project has exactly the plain project's files
plus one NetworkPolicy per app and environment, and every Deployment carries the base's
label. With ``--repeat N`` the two cold renders take turns N times and the one with the
least CPU time of each counts (other work on the machine only ever adds). Then the based
project is rendered once more (warming the cache) and one app is upgraded with ``hakobu
bases upgrade APP --to 2``: the count of apps rendered again is read from its report and
must be one per environment.

    python benchmarks/render_bases.py [--apps 1000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ENVIRONMENTS = ("evaluation", "production")

BASE_FILE = """\
description: a web app with the platform's labels, log collection and a NetworkPolicy
defaults:
  labels: {example.com/cost-centre: shop}
  podAnnotations: {example.com/log-format: json}
  topologySpreadConstraints:
    - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway}
forbid: [extraObjects]
"""
VALUES_SCHEMA = """\
{"type": "object", "properties": {"allowFrom": {"type": "array", "items": {"type": "string"}}},
 "additionalProperties": false}
"""
NETWORK_POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: "{{ app }}", namespace: "{{ namespace }}", labels: {{ labels | tojson }}}
spec:
  podSelector: {matchLabels: {{ selector | tojson }}}
  policyTypes: [Ingress]
  ingress:
    - from:
        - podSelector: {}
{%- for name in values.allowFrom | default([]) %}
        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: "{{ name }}"}}
{%- endfor %}
"""
SERVICE_MONITOR = """\
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: "{{ app }}", namespace: "{{ namespace }}", labels: {{ labels | tojson }}}
spec:
  selector: {matchLabels: {{ selector | tojson }}}
  endpoints: [{port: "{{ ports[0].name }}"}]
"""


def generate(root: Path, apps: int, *, based: bool) -> None:
    root.mkdir()
    environments = "".join(f"  {env}:\n    namespace: shop-{env}\n" for env in ENVIRONMENTS)
    (root / "hakobu.yaml").write_text(
        f"apiVersion: hakobu.dev/v1alpha1\nkind: Project\nname: shop\nenvironments:\n{environments}"
    )
    (root / "apps").mkdir()
    base = "base: web@1\nbaseValues: {allowFrom: [monitoring]}\n" if based else ""
    for i in range(apps):
        (root / "apps" / f"app-{i:04d}.yaml").write_text(
            f"""\
name: app-{i:04d}
{base}image: registry.example.com/shop/app-{i:04d}:1.0.0
ports: [{{name: http, port: 80, targetPort: 8080}}]
env: {{LOG_LEVEL: info}}
resources: {{requests: {{cpu: 100m, memory: 128Mi}}}}
autoscaling: {{minReplicas: 2, maxReplicas: 6}}
environments:
  production:
    autoscaling: {{minReplicas: 3, maxReplicas: 12}}
"""
        )
    if based:
        for version, templates in (
            (1, {"networkpolicy.yaml.j2": NETWORK_POLICY}),
            (
                2,
                {
                    "networkpolicy.yaml.j2": NETWORK_POLICY,
                    "servicemonitor.yaml.j2": SERVICE_MONITOR,
                },
            ),
        ):
            directory = root / "platform" / "bases" / "web" / str(version)
            (directory / "templates").mkdir(parents=True)
            (directory / "base.yaml").write_text(BASE_FILE)
            (directory / "values.schema.json").write_text(VALUES_SCHEMA)
            for name, text in templates.items():
                (directory / "templates" / name).write_text(text)
    git = ["git", "-C", str(root), "-c", "user.name=b", "-c", "user.email=b@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "generated"], check=True)


@dataclass(frozen=True)
class Run:
    seconds: float  # wall clock
    cpu: float  # user and system time of the process: what a busy machine blurs least
    stdout: str


def run(command: list[str], cwd: Path) -> Run:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err)
        # wait4 reports the resources of this one process.
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            sys.exit(f"{' '.join(command)} failed:\n{err.read().decode()[-2000:]}")
        out.seek(0)
        return Run(elapsed, usage.ru_utime + usage.ru_stime, out.read().decode())


def files(root: Path) -> dict[str, str]:
    generated = root / "generated"
    return {str(p.relative_to(generated)): p.read_text() for p in generated.rglob("*.yaml")}


def check(plain: dict[str, str], based: dict[str, str], apps: int) -> list[str]:
    problems: list[str] = []
    added = sorted(based.keys() - plain.keys())
    if plain.keys() - based.keys():
        problems.append(f"files missing with the base: {sorted(plain.keys() - based.keys())[:3]}")
    expected = len(ENVIRONMENTS) * apps
    if len(added) != expected or not all("/networkpolicy-" in name for name in added):
        problems.append(f"expected {expected} NetworkPolicies added, found {added[:3]}…")
    unlabelled = [
        name
        for name, text in based.items()
        if "/deployment-" in name and "example.com/cost-centre: shop" not in text
    ]
    if unlabelled:
        problems.append(f"Deployments without the base's label: {unlabelled[:3]}")
    return problems


def rendered_counts(report: str) -> list[tuple[int, int]]:
    return [
        (int(a), int(b))
        for a, b in re.findall(r"\((\d+) apps rendered, (\d+) from cache\)", report)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    hakobu = shutil.which("hakobu") or sys.exit("hakobu is not on PATH (activate .venv)")
    top = Path(tempfile.mkdtemp(prefix="hakobu-bases-bench-"))
    try:
        plain_root, based_root = top / "plain", top / "based"
        generate(plain_root, args.apps, based=False)
        generate(based_root, args.apps, based=True)
        plains, baseds = [], []
        for _ in range(max(args.repeat, 1)):
            plains.append(run([hakobu, "render", "--no-cache"], plain_root))
            baseds.append(run([hakobu, "render", "--no-cache"], based_root))
        plain = min(plains, key=lambda r: r.cpu)
        based = min(baseds, key=lambda r: r.cpu)
        problems = check(files(plain_root), files(based_root), args.apps)
        run([hakobu, "render"], based_root)  # the cache, as a repository's renders leave it
        app = f"app-{args.apps // 2:04d}"
        upgrade = run([hakobu, "bases", "upgrade", app, "--to", "2"], based_root)
        counts = rendered_counts(upgrade.stdout)
        if counts != [(1, args.apps - 1)] * len(ENVIRONMENTS):
            problems.append(f"the upgrade rendered (again, from cache) per environment: {counts}")
        monitors = sorted(name for name in files(based_root) if "/servicemonitor-" in name)
        if monitors != [f"{env}/{app}/servicemonitor-{app}.yaml" for env in ENVIRONMENTS]:
            problems.append(f"ServiceMonitors after the upgrade: {monitors[:4]}")
        print(f"{args.apps} app specs x {len(ENVIRONMENTS)} environments (wall clock, CPU time)")
        for label, result in (
            ("render, no base (cold):        ", plain),
            ("render, on base web@1 (cold):  ", based),
            (f"bases upgrade {app} --to 2: ", upgrade),
        ):
            print(f"  {label} {result.seconds:7.2f}s  {result.cpu:7.2f}s CPU")
        for problem in problems:
            print(f"FAIL: {problem}", file=sys.stderr)
        if problems:
            sys.exit(1)
        print(
            "same result: the based output is the plain one plus a NetworkPolicy per app and "
            "environment, every Deployment labelled; the upgrade rendered "
            + ", ".join(f"{r} app, {c} from cache" for r, c in counts)
        )
        print(
            f"ratio with base / without: {based.seconds / plain.seconds:.2f}x wall clock, "
            f"{based.cpu / plain.cpu:.2f}x CPU time (target ≤ 1.5x)"
        )
    finally:
        shutil.rmtree(top)


if __name__ == "__main__":
    main()
