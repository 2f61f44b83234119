"""Every command that reads a repository, run on every class of hostile repository.

The other files of this directory hold each class to its precise message. Here the classes
meet every command that might read them — render, its check, build, the image tags, the
secret scan, the commands that read generated/ before asking a cluster, and `health -f` on
the hostile file itself — and each run must end within the bounds (no hang, no memory
blow-up), without a traceback, and without changing a file anywhere. Commands that never
read the hostile part may succeed; render and its check must refuse every case.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.hostile.conftest import Case
from tests.hostile.harness import MEMORY_MB, SECONDS, Run

LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)
OBJECT = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  {body}\n"


def _template(body: str) -> Callable[[Case], str]:
    def build(case: Case) -> str:
        case.write("apps/web/evil.yaml.j2", OBJECT.format(name="evil", body=body))
        return "apps/web/evil.yaml.j2"

    return build


def _file(path: str, content: str | bytes) -> Callable[[Case], str]:
    def build(case: Case) -> str:
        case.write(path, content)
        return path

    return build


def _link(path: str, target: str) -> Callable[[Case], str]:
    def build(case: Case) -> str:
        link = case.root / path
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(target.replace("{outside}", str(case.outside)))
        return path

    return build


def _fifo(case: Case) -> str:
    os.mkfifo(case.root / "apps/web/pipe.yaml")
    return "apps/web/pipe.yaml"


def _project(text: str) -> Callable[[Case], str]:
    def build(case: Case) -> str:
        case.write("hakobu.yaml", (case.root / "hakobu.yaml").read_text() + text)
        return "hakobu.yaml"

    return build


def _kustomize(case: Case) -> str:
    case.write("apps/web/kustomization.yaml", "resources:\n  - bomb.yaml\n")
    case.write("apps/web/bomb.yaml", OBJECT.format(name="bomb", body="k: v") + LAUGHS)
    return "apps/web/bomb.yaml"


CORPUS: dict[str, Callable[[Case], str]] = {
    "template runs a command": _template("a: {{ lipsum.__globals__.os.popen('id').read() }}"),
    "template doubles a string": _template(
        "{% set s = 'xxxxxxxxxx' %}" + "{% set s = s ~ s %}" * 40 + "a: {{ s }}"
    ),
    "template spins": _template(
        "{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}a: b"
    ),
    "template includes a file outside": _template('{% include "../../../outside/victim.txt" %}'),
    "billion laughs": _file("apps/web/laughs.yaml", OBJECT.format(name="l", body="k: v") + LAUGHS),
    "billion laughs in a kustomize resource": _kustomize,
    "billion laughs in hakobu.yaml": _project(LAUGHS.replace("a:", "x-a:", 1)),
    "deep nesting": _file("apps/web/deep.yaml", "a: " + "[" * 5000 + "]" * 5000 + "\n"),
    "huge file": _file("apps/web/huge.yaml", "# " + "x" * (9 << 20) + "\n"),
    "FIFO": _fifo,
    "link to /dev/zero": _link("apps/web/zero.yaml", "/dev/zero"),
    "link out of the project": _link("apps/web/passwd.yaml", "/etc/passwd"),
    "app directory linked out": _link("apps/stolen", "{outside}"),
    "not UTF-8": _file("apps/web/values.yaml", b"replicas: \xff\xfe\n"),
    "kind names a path": _file(
        "apps/web/path.yaml", "apiVersion: v1\nkind: ../../outside/victim\nmetadata: {name: x}\n"
    ),
    "name with a slash": _file("apps/web/slash.yaml", OBJECT.format(name='"a/../b"', body="k: v")),
    "secret data in a broken object": _file(
        "apps/web/secret.yaml",
        "kind: Secret\nmetadata: {name: s}\nstringData: {p: MARKER-s3cr3t}\n",
    ),
    "output inside .git": _file(
        "hakobu.yaml",
        "apiVersion: hakobu.dev/v1alpha1\nkind: Project\nname: shop\noutput: .git\n"
        "environments:\n  evaluation: {namespace: shop-eval}\n",
    ),
    "link in generated/": _link("generated/evaluation/web/configmap-planted.yaml", "/etc/passwd"),
    "app spec with a hostile name": _file("apps/Evil..Name.yaml", "name: Evil..Name\nimage: x\n"),
}

COMMANDS: dict[str, tuple[str, ...]] = {
    "render": ("render",),
    "render --check": ("render", "--check"),
    "build": ("build", "apps/web"),
    "images": ("images", "--offline"),
    "secret check": ("secret", "check"),
    "status": ("status", "evaluation"),
    "diff": ("diff", "evaluation"),
    "sync --dry-run": ("sync", "evaluation", "--dry-run"),
    "history": ("history", "evaluation"),
    "health -f": ("health", "-f"),
}
MUST_REFUSE = {"render", "render --check"}


@pytest.mark.parametrize("name", CORPUS)
def test_no_command_breaks_on_hostile_input(case: Case, name: str) -> None:
    hostile = CORPUS[name](case)
    before = case.state()
    # Two at a time, as the machine has two cores: each run is still measured alone.
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = dict(
            zip(
                COMMANDS,
                pool.map(
                    lambda c: case.hakobu(*COMMANDS[c], *([hostile] if c == "health -f" else [])),
                    COMMANDS,
                ),
                strict=True,
            )
        )
    failures = [f"{c}: {problem}" for c, run in runs.items() for problem in _problems(c, run)]
    if case.state() != before:
        failures.append("a command changed files")
    assert not failures, "\n".join(failures)


def _problems(command: str, run: Run) -> list[str]:
    problems = []
    if run.timed_out or run.seconds >= SECONDS:
        problems.append(f"took {run.seconds:.1f}s")
    if run.max_rss_mb >= MEMORY_MB:
        problems.append(f"used {run.max_rss_mb:.0f} MB")
    if "Traceback" in run.stderr:
        problems.append("printed a traceback")
    if "MARKER" in run.stderr + run.stdout:
        problems.append("printed secret data")
    if command in MUST_REFUSE and run.returncode != 2:
        problems.append(f"exited {run.returncode}, not 2")
    if run.returncode not in (0, 1, 2):
        problems.append(f"exited {run.returncode}")
    return [f"{p}\n{run.stderr[-600:]}" for p in problems]
