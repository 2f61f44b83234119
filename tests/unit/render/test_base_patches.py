"""A platform base's patches: strategic merge patches of the objects of every app on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.render.test_project import hakobu, project, snapshot

__all__ = ["project"]  # the fixture: a project `hakobu init` wrote, committed to git

WEB2 = Path("platform") / "bases" / "web" / "2" / "base.yaml"


def _with_patches(project: Path, patches: str) -> int:
    """web@2's base.yaml with ``patches`` appended; the line the first patch starts on."""
    base = project / WEB2
    text = base.read_text()
    base.write_text(f"{text}patches:\n{patches}")
    return len(text.splitlines()) + 2


def test_patches_change_the_objects_they_match_and_skip_the_apps_without_them(
    project: Path,
) -> None:
    assert hakobu(project, "render").returncode == 0
    before = snapshot(project / "generated")
    _with_patches(
        project,
        "  - kind: Deployment\n"
        "    spec: {progressDeadlineSeconds: 300}\n"
        "    metadata: {annotations: {example.com/owner: platform}}\n"
        # api has no Ingress: this one is skipped for it.
        "  - kind: Ingress\n"
        "    metadata: {annotations: {example.com/waf: strict}}\n",
    )
    result = hakobu(project, "render")
    assert result.returncode == 0, result.stderr
    after = snapshot(project / "generated")
    for env in ("evaluation", "production"):
        deployment = after[f"{env}/api/deployment-api.yaml"].decode()
        assert "progressDeadlineSeconds: 300" in deployment
        assert "example.com/owner: platform" in deployment
        assert not any(name.startswith(f"{env}/api/ingress") for name in after)
        # web is on web@1, which has no patches: its files are as they were.
        web = [name for name in after if name.startswith(f"{env}/web/")]
        assert web and all(after[name] == before[name] for name in web)
    assert "(1 apps rendered, 3 from cache)" in result.stdout


@pytest.mark.parametrize(
    ("patches", "offset", "expected"),
    [
        pytest.param(
            "  kind: Deployment\n", -1, "patches: expected a list of partial objects", id="not-list"
        ),
        pytest.param(
            "  - spec: {replicas: 2}\n",
            0,
            "patches[0]: expected a partial object with a kind",
            id="no-kind",
        ),
        pytest.param(
            "  - kind: 7\n",
            0,
            "patches[0]: expected a partial object with a kind",
            id="kind-number",
        ),
        pytest.param(
            "  - kind: Deployment\n    metadata: {name: [api]}\n",
            1,
            "patches[0].metadata.name: expected a string",
            id="name-list",
        ),
        pytest.param(
            "  - kind: Deployment\n    spec: {template: {spec: {containers: {name: x}}}}\n",
            0,
            "patches[0]: strategic merge patch does not apply to Deployment/shop-eval/api: "
            "spec.template.spec.containers: the object has a list here but the patch has a "
            "mapping",
            id="wrong-shape",
        ),
        pytest.param(
            "  - kind: Deployment\n    metadata: {namespace: Not Valid}\n",
            0,
            "patches[0]: the patched Deployment's metadata.namespace 'Not Valid' is not a "
            "namespace name",
            id="identity",
        ),
    ],
)
def test_a_bad_patch_names_the_bases_file_line_and_field_and_writes_nothing(
    project: Path, patches: str, offset: int, expected: str
) -> None:
    assert hakobu(project, "render").returncode == 0
    before = snapshot(project / "generated")
    line = _with_patches(project, patches) + offset
    result = hakobu(project, "render")
    assert result.returncode == 2, result.stdout
    assert f"{WEB2}:{line}: {expected}" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(project / "generated") == before


def test_a_patch_that_matches_no_app_on_the_version_is_no_error(project: Path) -> None:
    assert hakobu(project, "render").returncode == 0
    before = snapshot(project / "generated")
    _with_patches(project, "  - kind: CronJob\n    spec: {suspend: true}\n")
    result = hakobu(project, "render")
    assert result.returncode == 0, result.stderr
    assert snapshot(project / "generated") == before
