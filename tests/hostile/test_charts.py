"""Hostile charts: Go templates run by the real helm, held to the same bounds as every case.

A chart's templates are code outside Python, so the bounds are helm's process bounds (time,
heap, output) and the copy of the chart that refuses links leading out of it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hakobu.model.usercache import cache_root
from tests.hostile.conftest import Case
from tests.hostile.harness import assert_refused, run_hakobu

CHART = "apiVersion: v2\nname: shop\nversion: 0.1.0\n"

PAYLOADS = {
    "endless loop": (
        "{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}",
        "helm took longer than 2 s and was stopped",
    ),
    # helm builds its whole output in memory before it writes any, so memory is the bound
    # these meet first, or time on a machine too loaded to allocate fast: either refuses.
    "huge value": ("{{ $x := until 50000000 }}a: {{ len $x }}", "helm template failed:\nhelm "),
    "endless output": (
        'a: {{ range until 4000000 }}{{ "0123456789" }}{{ end }}',
        "helm template failed:\nhelm ",
    ),
    "endless include": (
        '{{ define "f" }}{{ include "f" . }}{{ end }}{{ include "f" . }}',
        "helm template failed",
    ),
    "fail": ('{{ fail "refused by the chart" }}', "refused by the chart"),
}


def with_tools(tmp_path: Path) -> dict[str, str]:
    """A cache of the run's own that holds the tools already built (helm among them)."""
    cache = tmp_path / "run-cache"
    (cache / "hakobu").mkdir(parents=True)
    (cache / "hakobu" / "tools").symlink_to(cache_root() / "tools")
    return {"XDG_CACHE_HOME": str(cache)}


def refused_everywhere(case: Case, env: dict[str, str], expect: str) -> None:
    case.commit("hostile chart")
    for args in (("render",), ("render", "--check")):
        before = case.state()
        run = run_hakobu(*args, cwd=case.root, env=env)
        assert_refused(run, expect=expect)
        assert case.state() == before, f"the run changed files\n{run.stderr}"


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_chart_templates_are_bounded(
    case: Case, helm_bin: Path, tmp_path: Path, payload: tuple[str, str]
) -> None:
    template, expect = payload
    case.write("apps/shop/Chart.yaml", CHART)
    case.write("apps/shop/templates/evil.yaml", template + "\n")
    refused_everywhere(case, with_tools(tmp_path), expect)


@pytest.mark.parametrize("where", ["outside", "project"])
def test_a_chart_reads_nothing_outside_itself(
    case: Case, helm_bin: Path, tmp_path: Path, where: str
) -> None:
    case.write("apps/shop/Chart.yaml", CHART)
    target = case.outside / "victim.txt" if where == "outside" else case.root / "hakobu.yaml"
    (case.root / "apps/shop/templates").mkdir()
    (case.root / "apps/shop/templates/leak.yaml").symlink_to(target)
    refused_everywhere(case, with_tools(tmp_path), "leak.yaml")
