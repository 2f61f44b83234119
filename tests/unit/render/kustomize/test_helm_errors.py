"""Bad charts in kustomizations: each refusal names the kustomization file, the entry and
the field, says what to do, and exits 2."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from hakobu.errors import InvalidInput
from hakobu.render.helm import Helm
from hakobu.render.kustomize.build import build

CHART = {
    "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\n",
    "charts/web/values.yaml": "replicas: 1\n",
    "charts/web/templates/cm.yaml": """\
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: {{ .Release.Name }}
        data:
          replicas: {{ .Values.replicas | quote }}
        """,
}


@pytest.fixture
def helm(helm_bin: Path) -> Helm:
    return Helm(lambda: helm_bin, "v1.31.0")


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def refusal(root: Path, helm: Helm) -> InvalidInput:
    with pytest.raises(InvalidInput) as e:
        build(root, helm=helm)
    assert e.value.exit_code == 2
    return e.value


def test_a_chart_that_fails_to_render_reports_helm_s_words_and_the_entry(
    tmp_path: Path, helm: Helm
) -> None:
    write(tmp_path, CHART)
    write(tmp_path, {"charts/web/templates/fail.yaml": '{{ fail "a database host is required" }}'})
    write(tmp_path, {"kustomization.yaml": "helmCharts:\n- name: web\n  releaseName: shop\n"})
    error = refusal(tmp_path, helm)
    assert f"{tmp_path / 'kustomization.yaml'}:2: helmCharts[0]:" in error.message
    assert "helm template of chart 'web' failed" in error.message
    assert "a database host is required" in error.message


def test_a_chart_missing_locally_without_a_repo_is_refused(tmp_path: Path, helm: Helm) -> None:
    write(tmp_path, {"kustomization.yaml": "helmCharts:\n- name: web\n"})
    error = refusal(tmp_path, helm)
    assert "helmCharts[0].name: no chart found at" in error.message
    assert "charts/" in str(error.hint)


def test_a_pinned_chart_missing_locally_is_not_pulled_but_named_with_the_pull_to_vendor_it(
    tmp_path: Path, helm: Helm
) -> None:
    write(
        tmp_path,
        {
            "kustomization.yaml": """\
                helmCharts:
                - name: redis
                  repo: oci://registry.example.com/charts
                  version: 19.0.1
                """
        },
    )
    error = refusal(tmp_path, helm)
    assert "helmCharts[0].repo: chart 'redis' 19.0.1 is not in" in error.message
    assert "pull no charts" in error.message
    home = tmp_path.resolve() / "charts" / "redis-19.0.1"
    assert error.hint == (
        "vendor it where kustomize would pull it, and commit it: `helm pull "
        f"oci://registry.example.com/charts/redis --version 19.0.1 --untar --untardir {home}`"
    )


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("- name: web\n  valuesMerg: merge\n", r"helmCharts\[0\]\.valuesMerg: unknown field"),
        ("- name: web\n  valuesMerge: deep\n", r"helmCharts\[0\]\.valuesMerge: valuesMerge must"),
        ("- name: web\n  includeCRDs: 'yes'\n", r"helmCharts\[0\]\.includeCRDs: expected true"),
        ("- name: web\n  releaseName: --post-renderer\n", r"releaseName: must not start"),
        ("- name: web\n  apiVersions: v1\n", r"helmCharts\[0\]\.apiVersions: expected a list"),
        ("- releaseName: web\n", r"helmCharts\[0\]\.name: chart name cannot be empty"),
        ("- name: web\n  valuesFile: gone.yaml\n", r"valuesFile: values file .*does not exist"),
        ("- web\n", r"helmCharts\[0\]: expected a mapping"),
        (
            "- name: web\n  valuesInline: [a]\n",
            r"helmCharts\[0\]\.valuesInline: expected a mapping",
        ),
        (
            "- name: web\n  valuesFile: https://example.com/values.yaml\n",
            r"helmCharts\[0\]\.valuesFile: remote resource .* is not supported",
        ),
        (
            "- name: web\n  additionalValuesFiles: [../../etc/passwd]\n",
            r"helmCharts\[0\]\.additionalValuesFiles: security:",
        ),
    ],
)
def test_a_bad_field_is_named(tmp_path: Path, helm: Helm, entry: str, expected: str) -> None:
    write(tmp_path, CHART)
    write(tmp_path, {"kustomization.yaml": f"helmCharts:\n{entry}"})
    with pytest.raises(InvalidInput, match=expected):
        build(tmp_path, helm=helm)


def test_a_chart_home_outside_the_kustomization_is_refused(tmp_path: Path, helm: Helm) -> None:
    write(tmp_path / "elsewhere", CHART)
    write(
        tmp_path / "app",
        {
            "kustomization.yaml": "helmGlobals:\n  chartHome: ../elsewhere/charts\nhelmCharts:\n"
            "- name: web\n"
        },
    )
    error = refusal(tmp_path / "app", helm)
    assert "helmCharts[0].chartHome: security:" in error.message


def test_a_link_out_of_the_chart_is_refused(tmp_path: Path, helm: Helm) -> None:
    write(tmp_path, CHART)
    (tmp_path / "secret.txt").write_text("password\n")
    (tmp_path / "charts/web/templates/secret.txt").symlink_to(tmp_path / "secret.txt")
    write(tmp_path, {"kustomization.yaml": "helmCharts:\n- name: web\n"})
    error = refusal(tmp_path, helm)
    assert "symbolic link that leads out of the chart" in error.message


def test_the_builtin_generator_s_bad_field_is_named(tmp_path: Path, helm: Helm) -> None:
    write(tmp_path, CHART)
    write(
        tmp_path,
        {
            "kustomization.yaml": """\
                generators:
                - |
                  apiVersion: builtin
                  kind: HelmChartInflationGenerator
                  metadata: {name: web}
                  name: web
                  skipHook: true
                """
        },
    )
    error = refusal(tmp_path, helm)
    assert "kustomization.yaml: generators[0]: skipHook: unknown field" in error.message
    assert "skipHooks" in str(error.hint)


def test_a_chart_that_loops_without_end_is_stopped_under_its_entry(
    tmp_path: Path, helm: Helm, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("hakobu.render.helm.TEMPLATE_SECONDS", 1.0)
    write(tmp_path, CHART)
    write(
        tmp_path,
        {
            "charts/web/templates/spin.yaml": "{{ range until 100000 }}"
            "{{ range until 100000 }}{{ end }}{{ end }}\n",
            "kustomization.yaml": "helmCharts:\n- name: web\n",
        },
    )
    error = refusal(tmp_path, helm)
    assert "helmCharts[0]: helm template of chart 'web' failed" in error.message
    assert "helm took longer than 1 s and was stopped" in error.message


def test_a_chart_named_by_a_path_below_chart_home_renders(tmp_path: Path, helm: Helm) -> None:
    write(tmp_path, {name.replace("charts/", "charts/team/"): t for name, t in CHART.items()})
    write(tmp_path, {"kustomization.yaml": "helmCharts:\n- name: team/web\n  releaseName: a\n"})
    built = build(tmp_path, helm=helm)
    assert [(o["kind"], o["metadata"]["name"]) for o in built] == [("ConfigMap", "a")]
