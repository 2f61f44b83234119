"""Every case under cases/ built by kustomize and by hakobu: the output must be identical."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hakobu.localcluster.toolchain import KUSTOMIZE_VERSION
from hakobu.render.kustomize.build import build
from hakobu.render.kustomize.buildmetadata import KUSTOMIZE_VERSION as BUILT_LIKE
from hakobu.render.kustomize.loader import NONE as LOAD_RESTRICTIONS_NONE
from hakobu.render.kustomize.loader import ROOT_ONLY as LOAD_RESTRICTIONS_ROOT_ONLY
from hakobu.render.yamlout import dump_documents

CASES = Path(__file__).parent / "cases"
# A case that reads files outside its directory says so with this marker file.
NONE_MARKER = "LOAD_RESTRICTIONS_NONE"
# A Component is built only by the overlays using it, unless its directory has this marker.
COMPONENT_MARKER = "BUILD_ON_ITS_OWN"


def _buildable() -> list[Path]:
    found = []
    for file in sorted(CASES.rglob("kustomization.yaml")):
        if "kind: Component" not in file.read_text() or (file.parent / COMPONENT_MARKER).exists():
            found.append(file.parent)
    return found


@pytest.mark.parametrize("case", _buildable(), ids=lambda p: str(p.relative_to(CASES)))
def test_same_output_as_kustomize(case: Path, kustomize_bin: Path) -> None:
    restrictor = (
        LOAD_RESTRICTIONS_NONE if (case / NONE_MARKER).exists() else LOAD_RESTRICTIONS_ROOT_ONLY
    )
    expected = subprocess.run(
        [str(kustomize_bin), "build", "--load-restrictor", restrictor, str(case)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert dump_documents(build(case, load_restrictor=restrictor)) == expected


def test_corpus_covers_the_features() -> None:
    text = "\n".join(p.read_text() for p in CASES.rglob("kustomization.yaml"))
    for feature in (
        "namespace:",
        "namePrefix:",
        "nameSuffix:",
        "commonLabels:",
        "labels:",
        "includeSelectors:",
        "includeTemplates:",
        "commonAnnotations:",
        "images:",
        "imageTags:",
        "replicas:",
        "patches:",
        "patchesStrategicMerge:",
        "patchesJson6902:",
        "labelSelector:",
        "annotationSelector:",
        "components:",
        "bases:",
        "configMapGenerator:",
        "secretGenerator:",
        "behavior: merge",
        "sortOptions:",
        "vars:",
        "replacements:",
        "allowNameChange:",
        "configurations:",
        "buildMetadata:",
        "transformers:",
        "generators:",
        "openapi:",
        "crds:",
        "validators:",
    ):
        assert feature in text, feature


def test_managed_by_label_names_the_kustomize_these_cases_run() -> None:
    # buildMetadata's managed-by label carries this version: the two must move together.
    assert BUILT_LIKE == KUSTOMIZE_VERSION
