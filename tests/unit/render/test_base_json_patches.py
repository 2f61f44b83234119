"""A platform base's JSON 6902 patches: kustomize's ``patches:`` entries (target and
operations, inline or in a file), checked against the real kustomize."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.unit.render.test_project import hakobu, project, snapshot

__all__ = ["project"]  # the fixture: a project `hakobu init` wrote, committed to git

WEB2 = Path("platform") / "bases" / "web" / "2"

# Every operation, inline and from a file, with targets by kind, name pattern and labels.
PATCHES = """\
  - target: {kind: Deployment}
    patch: |-
      - op: add
        path: /spec/template/spec/containers/0/args
        value: [--log-format=json]
      - op: add
        path: /spec/template/spec/containers/0/args/-
        value: --verbose
      - op: replace
        path: /spec/revisionHistoryLimit
        value: 3
      - op: remove
        path: /spec/strategy/rollingUpdate/maxSurge
      - op: test
        path: /spec/replicas
        value: 1
      - op: copy
        from: /metadata/labels
        path: /metadata/annotations
      - op: move
        from: /spec/template/metadata/annotations/example.com~1log-format
        path: /spec/template/metadata/annotations/example.com~1logs
  - target: {kind: Service, name: "a.i"}
    path: patches/service.yaml
  - target: {labelSelector: "app.kubernetes.io/name=nobody"}
    patch: '[{"op": "add", "path": "/metadata/annotations", "value": {"never": "true"}}]'
"""
SERVICE_PATCH = "- {op: add, path: /metadata/annotations, value: {example.com/lb: internal}}\n"


def _with_patches(project: Path, patches: str) -> int:
    """web@2's base.yaml with ``patches`` appended; the line the first patch starts on."""
    base = project / WEB2 / "base.yaml"
    text = base.read_text()
    base.write_text(f"{text}patches:\n{patches}")
    return len(text.splitlines()) + 2


def _objects(files: dict[str, bytes], env: str, app: str, kinds: tuple[str, ...]) -> list[object]:
    return [yaml.safe_load(files[f"{env}/{app}/{kind}-{app}.yaml"].decode()) for kind in kinds]


def test_json_patches_change_what_kustomize_changes(project: Path, kustomize_bin: Path) -> None:
    assert hakobu(project, "render").returncode == 0
    before = snapshot(project / "generated")
    _with_patches(project, PATCHES)
    (project / WEB2 / "patches").mkdir()
    (project / WEB2 / "patches" / "service.yaml").write_text(SERVICE_PATCH)
    result = hakobu(project, "render")
    assert result.returncode == 0, result.stderr
    after = snapshot(project / "generated")

    # The same entries in a kustomization over the app's objects as rendered without them.
    oracle = project.parent / "oracle"
    (oracle / "patches").mkdir(parents=True)
    (oracle / "patches" / "service.yaml").write_text(SERVICE_PATCH)
    kinds = ("deployment", "service")
    for kind in kinds:
        (oracle / f"{kind}.yaml").write_bytes(before[f"evaluation/api/{kind}-api.yaml"])
    (oracle / "kustomization.yaml").write_text(
        "resources: [deployment.yaml, service.yaml]\npatches:\n" + PATCHES
    )
    built = subprocess.run(
        [str(kustomize_bin), "build", str(oracle)], capture_output=True, text=True, check=True
    ).stdout
    expected = sorted(yaml.safe_load_all(built), key=lambda o: o["kind"] != "Deployment")
    assert _objects(after, "evaluation", "api", kinds) == expected
    assert _objects(after, "evaluation", "api", kinds) != _objects(
        before, "evaluation", "api", kinds
    )
    # web is on web@1, which has no patches: its files are as they were.
    web = [name for name in after if "/web/" in name]
    assert web and all(after[name] == before[name] for name in web)


def test_a_patch_file_is_an_input_of_the_apps_on_the_version(project: Path) -> None:
    _with_patches(project, "  - target: {kind: Service}\n    path: patches/service.yaml\n")
    (project / WEB2 / "patches").mkdir()
    patch = project / WEB2 / "patches" / "service.yaml"
    patch.write_text(SERVICE_PATCH)
    assert hakobu(project, "render").returncode == 0
    patch.write_text(SERVICE_PATCH.replace("internal", "public"))
    result = hakobu(project, "render")
    assert result.returncode == 0, result.stderr
    assert "(1 apps rendered, 3 from cache)" in result.stdout
    service = (project / "generated" / "evaluation" / "api" / "service-api.yaml").read_text()
    assert "example.com/lb: public" in service


@pytest.mark.parametrize(
    ("patches", "where", "expected"),
    [
        pytest.param(
            "  - target: {kind: Deployment}\n"
            "    patch: |-\n"
            "      - op: add\n"
            "        path: /spec/paused\n"
            "        value: true\n"
            "      - op: frobnicate\n"
            "        path: /spec/replicas\n",
            (5, WEB2 / "base.yaml"),
            "patches[0].patch[1].op: unknown JSON patch operation 'frobnicate'",
            id="bad-op",
        ),
        pytest.param(
            "  - target: {kind: Deployment}\n"
            "    patch: |-\n"
            "      - op: remove\n"
            "        path: /spec/nothing/here\n",
            (2, WEB2 / "base.yaml"),
            "patches[0].patch[0]: JSON patch operation 0 (remove /spec/nothing/here) does not "
            "apply to Deployment/shop-eval/api: path '/spec/nothing/here' does not exist",
            id="missing-path",
        ),
        pytest.param(
            "  - target: {kind: Deployment}\n    patch: '[{op: move, path: /spec/x}]'\n",
            (1, WEB2 / "base.yaml"),
            "patches[0].patch[0]: expected from: a JSON pointer such as /spec/replicas",
            id="move-without-from",
        ),
        pytest.param(
            "  - target: {kind: Deployment}\n    patch: 'op: add'\n",
            (1, WEB2 / "base.yaml"),
            "patches[0].patch: expected a list of JSON patch operations",
            id="not-a-list",
        ),
        pytest.param(
            "  - target: {kind: Deployment, owner: me}\n    patch: '[{op: add, path: /a}]'\n",
            (0, WEB2 / "base.yaml"),
            "patches[0].target.owner: unknown field",
            id="target-field",
        ),
        pytest.param(
            "  - patch: '[{op: add, path: /a}]'\n",
            (0, WEB2 / "base.yaml"),
            "patches[0].target: expected a target: the objects the patch applies to",
            id="no-target",
        ),
        pytest.param(
            "  - target: {kind: Deployment}\n",
            (0, WEB2 / "base.yaml"),
            "patches[0]: expected one of patch (inline operations) and path (a file)",
            id="no-operations",
        ),
        pytest.param(
            "  - target: {kind: Deployment}\n    path: ../1/base.yaml\n",
            (1, WEB2 / "base.yaml"),
            "patches[0].path: expected the path of a file in the base's directory",
            id="path-outside",
        ),
        pytest.param(
            "  - target: {kind: Deployment}\n    path: patches/none.yaml\n",
            (0, WEB2 / "base.yaml"),
            "patches[0]: the patch file patches/none.yaml does not exist",
            id="no-file",
        ),
        pytest.param(
            "  - target: {kind: Deployment}\n    path: patches/bad.yaml\n",
            (2, WEB2 / "patches" / "bad.yaml"),
            "[1].op: unknown JSON patch operation 'delete'",
            id="bad-op-in-file",
        ),
        pytest.param(
            "  - target: {kind: Deployment}\n"
            "    patch: '[{op: replace, path: /metadata/name, value: Not Valid}]'\n",
            (0, WEB2 / "base.yaml"),
            "patches[0]: the patched Deployment/shop-eval/api's metadata.name 'Not Valid'",
            id="identity",
        ),
        pytest.param(
            "  - target: {kind: Deployment, name: '('}\n    patch: '[{op: add, path: /a}]'\n",
            (0, WEB2 / "base.yaml"),
            "patches[0].target: target name '(':",
            id="bad-pattern",
        ),
    ],
)
def test_a_bad_json_patch_names_the_file_line_and_field_and_writes_nothing(
    project: Path, patches: str, where: tuple[int, Path], expected: str
) -> None:
    assert hakobu(project, "render").returncode == 0
    before = snapshot(project / "generated")
    (project / WEB2 / "patches").mkdir()
    (project / WEB2 / "patches" / "bad.yaml").write_text(
        "- {op: add, path: /spec/paused, value: true}\n- op: delete\n  path: /spec/replicas\n"
    )
    first = _with_patches(project, patches)
    offset, file = where
    line = offset + (first if file.name == "base.yaml" else 0)
    result = hakobu(project, "render")
    assert result.returncode == 2, result.stdout
    assert f"{file}:{line}: {expected}" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(project / "generated") == before
