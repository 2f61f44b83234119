"""Charts in kustomizations (``helmCharts:`` and its other spellings), built by
``kustomize build --enable-helm`` with the same helm, and by hakobu: the same documents."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from hakobu.render.helm import Helm
from hakobu.render.kustomize.build import build
from hakobu.render.yamlout import dump_documents

CASES = Path(__file__).parent / "helm-cases"
SHARED = CASES / "shared"
# Each case lists, one a line, where (relative to it) it expects the shared chart.
CHARTS_MARKER = "CHARTS"


def _roots() -> list[Path]:
    return sorted(
        file.parent.relative_to(CASES)
        for file in CASES.rglob("kustomization.yaml")
        if SHARED not in file.parents
    )


def place_case(name: str, into: Path) -> Path:
    """A copy of case ``name`` under ``into``, with the shared chart where it expects it."""
    case = into / name
    shutil.copytree(CASES / name, case)
    for line in (case / CHARTS_MARKER).read_text().split():
        shutil.copytree(SHARED / "web", case / line)
    return case


@pytest.fixture(scope="session")
def helm(helm_bin: Path) -> Helm:
    # Charts see helm's own default Kubernetes version unless a chart entry sets one, as
    # under kustomize.
    return Helm(lambda: helm_bin, "unused")


@pytest.mark.parametrize("root", _roots(), ids=str)
def test_same_output_as_kustomize_enable_helm(
    root: Path, tmp_path: Path, kustomize_bin: Path, helm_bin: Path, helm: Helm
) -> None:
    case = place_case(root.parts[0], tmp_path)
    directory = tmp_path / root
    expected = subprocess.run(
        [
            str(kustomize_bin),
            "build",
            "--enable-helm",
            "--helm-command",
            str(helm_bin),
            str(directory),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "helm-generated" not in expected
    assert dump_documents(build(directory, helm=helm)) == expected, case


def test_cases_cover_the_fields() -> None:
    text = "\n".join(p.read_text() for p in CASES.rglob("kustomization.yaml"))
    for feature in (
        "helmCharts:",
        "helmChartInflationGenerator:",
        "kind: HelmChartInflationGenerator",
        "chartHome:",
        "releaseName:",
        "namespace:",
        "valuesFile:",
        "valuesInline:",
        "valuesMerge: merge",
        "valuesMerge: replace",
        "additionalValuesFiles:",
        "includeCRDs:",
        "skipHooks:",
        "skipTests:",
        "apiVersions:",
        "kubeVersion:",
        "patches:",
    ):
        assert feature in text, feature
