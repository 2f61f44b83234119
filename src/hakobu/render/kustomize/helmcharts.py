"""Helm chart inflation: ``helmCharts:``, ``helmGlobals:``, the deprecated
``helmChartInflationGenerator:`` and the built-in ``HelmChartInflationGenerator``.

What ``kustomize build --enable-helm`` does, step for step:

- The chart is ``{chartHome}/{name}``, where ``chartHome`` (``helmGlobals.chartHome``,
  default ``charts``) is relative to the kustomization; a chart with both ``repo`` and
  ``version`` lives in ``{chartHome}/{name}-{version}/{name}``, where kustomize's own pull
  would put it.
- Values: ``valuesFile`` (default: the chart's ``values.yaml``), merged with
  ``valuesInline`` by ``valuesMerge``: ``override`` (the default: inline values win),
  ``merge`` (the file's values win) or ``replace`` (the inline values alone). A null in the
  winning side removes the key. Lists are replaced whole. ``additionalValuesFiles`` follow.
- The namespace is the entry's, else the kustomization's, else that of the nearest
  kustomization above that sets one; ``releaseName`` defaults to helm's ``release-name``.
- ``helm template`` runs with kustomize's arguments (``--include-crds``, ``--no-hooks``,
  ``--skip-tests``, ``--api-versions``, ``--kube-version``, ``--name-template``), through
  the same bounded, offline process as chart apps (``hakobu.render.helm``). Every object is
  marked helm-generated, so the kustomization's ``namespace:`` leaves it alone.

One difference, by design: a chart that is not in ``chartHome`` is not pulled. A build reads
only the repository (and runs charts without network), so such a chart is refused with the
``helm pull`` command that puts it where kustomize would: run it and commit the chart.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hakobu.errors import HakobuError, InvalidInput
from hakobu.model.files import decode
from hakobu.model.objects import Object
from hakobu.model.source import FieldPath
from hakobu.render import helm as helm_process
from hakobu.render.charts import copy_chart, parse_manifests
from hakobu.render.kustomize.kustomization import Kustomization, scalar_text
from hakobu.render.kustomize.loader import Loader, load_as_written

GENERATOR = "HelmChartInflationGenerator"
HELM_GENERATED = "kustomize.config.k8s.io/helm-generated"
DEFAULT_CHART_HOME = "charts"
MERGE_MODES = ("override", "merge", "replace")

_GLOBAL_FIELDS = ("chartHome", "configHome")
_STRING_FIELDS = (
    "name",
    "version",
    "repo",
    "releaseName",
    "namespace",
    "valuesFile",
    "valuesMerge",
    "kubeVersion",
    "nameTemplate",
)
_FLAG_FIELDS = ("includeCRDs", "skipHooks", "skipTests", "debug", "devel")
_LIST_FIELDS = ("additionalValuesFiles", "apiVersions")
_CHART_FIELDS = frozenset((*_STRING_FIELDS, *_FLAG_FIELDS, *_LIST_FIELDS, "valuesInline"))
# The deprecated field's spelling of the same settings (kustomize's HelmChartArgs); the
# fields kustomize reads but drops (releaseNamespace, extraArgs, chartRepoName, helmBin)
# are refused rather than silently ignored.
_DEPRECATED_NAMES = {
    "chartName": "name",
    "chartVersion": "version",
    "chartRepoUrl": "repo",
    "values": "valuesFile",
    "valuesLocal": "valuesInline",
    "valuesMerge": "valuesMerge",
    "releaseName": "releaseName",
}
_DEPRECATED_GLOBALS = {"chartHome": "chartHome", "helmHome": "configHome"}

Report = Callable[[FieldPath, str, str | None], HakobuError]


@dataclass(frozen=True)
class HelmChart:
    """One chart to inflate, as kustomize's HelmGlobals and HelmChart describe it."""

    settings: Mapping[str, Any]
    chart_home: str
    # Where the entry is written, for errors: the field path and how to report at it.
    path: FieldPath
    report: Report

    def text(self, key: str) -> str:
        return scalar_text(self.settings.get(key))

    def error(self, key: str | None, message: str, hint: str | None = None) -> HakobuError:
        return self.report((*self.path, key) if key else self.path, message, hint)


def from_kustomization(k: Kustomization) -> list[HelmChart]:
    """The charts ``helmCharts:`` and the deprecated ``helmChartInflationGenerator:`` list."""
    globals_ = _mapping(k.get("helmGlobals"), ("helmGlobals",), k.error)
    _check_fields(globals_, _GLOBAL_FIELDS, ("helmGlobals",), k.error)
    home = scalar_text(globals_.get("chartHome"))
    charts = []
    for path, entry in k.items("helmCharts"):
        settings = _mapping(entry, path, k.error)
        _check_fields(settings, _CHART_FIELDS, path, k.error)
        charts.append(HelmChart(settings, home, path, k.error))
    for path, entry in k.items("helmChartInflationGenerator"):
        old = _mapping(entry, path, k.error)
        known = (*_DEPRECATED_NAMES, *_DEPRECATED_GLOBALS)
        _check_fields(old, known, path, k.error)
        # As kustomize's FixKustomization: the last non-empty chartHome wins, unless
        # helmGlobals is set.
        if "helmGlobals" not in k.raw and old.get("chartHome"):
            home = scalar_text(old["chartHome"])
        settings = {new: old[key] for key, new in _DEPRECATED_NAMES.items() if key in old}
        _check_fields(settings, _CHART_FIELDS, path, k.error)
        charts.append(HelmChart(settings, home, path, k.error))
    # kustomize reads helmGlobals once for the kustomization: every chart sees the final one.
    return [HelmChart(c.settings, home, c.path, c.report) for c in charts]


def from_plugin(config: Object, where: str) -> HelmChart:
    """A ``HelmChartInflationGenerator`` configuration (globals and chart in one document)."""

    def report(path: FieldPath, message: str, hint: str | None = None) -> HakobuError:
        field = ".".join(str(part) for part in path)
        return InvalidInput(f"{where}: {field + ': ' if field else ''}{message}", hint=hint)

    settings = {k: v for k, v in config.items() if k not in ("apiVersion", "kind", "metadata")}
    _check_fields(settings, (*_CHART_FIELDS, *_GLOBAL_FIELDS), (), report)
    home = scalar_text(settings.pop("chartHome", None))
    settings.pop("configHome", None)
    return HelmChart(settings, home, (), report)


def namespaced(charts: list[HelmChart], namespace: str) -> list[HelmChart]:
    """``charts`` with ``namespace`` where they name none (kustomize passes its own)."""
    if not namespace:
        return charts
    return [
        c
        if c.text("namespace")
        else HelmChart({**c.settings, "namespace": namespace}, c.chart_home, c.path, c.report)
        for c in charts
    ]


def inflate(chart: HelmChart, loader: Loader) -> list[Object]:
    """The objects ``helm template`` renders of ``chart``, marked helm-generated."""
    helm = loader.helm
    if helm is None:
        raise chart.error(
            None,
            "Helm chart inflation needs helm, and this build was not given it",
            hint="`hakobu build` inflates charts with --enable-helm, as `kustomize build` does",
        )
    name = chart.text("name")
    if not name:
        raise chart.error("name", "chart name cannot be empty")
    release = chart.text("releaseName")
    for key, value in (("name", name), ("releaseName", release)):
        if value.startswith("-"):
            raise chart.error(key, f"must not start with '-', got {value!r}")
    mode = chart.text("valuesMerge") or "override"
    if mode not in MERGE_MODES:
        raise chart.error("valuesMerge", f"valuesMerge must be one of {list(MERGE_MODES)}")
    home = _chart_home(chart, loader)
    chart_dir = _resolve(chart, loader, str(home / name), "chartHome")
    additional = [
        _resolve(chart, loader, scalar_text(file), "additionalValuesFiles")
        for file in chart.settings.get("additionalValuesFiles") or []
    ]
    if not loader.files.is_dir(chart_dir):
        raise _missing(chart, name, home, chart_dir)
    with tempfile.TemporaryDirectory(prefix="hakobu-helm-") as temporary:
        work = Path(temporary)
        # The name may hold a path (a chart below chartHome's top): helm needs only the chart.
        target = work / chart_dir.name
        copy_chart(chart_dir, target, loader.files)
        values = work / "kustomize-values.yaml"
        values.write_bytes(_values(chart, loader, chart_dir, mode))
        files = [values]
        for index, file in enumerate(additional):
            copy = work / f"additional-{index}.yaml"
            copy.write_bytes(_read(chart, loader, file, "additionalValuesFiles"))
            files.append(copy)
        outcome = helm_process.run(
            helm,
            _arguments(chart, release, target, files),
            home=work,
            seconds=helm_process.TEMPLATE_SECONDS,
            offline=True,
        )
    if not outcome.ok:
        raise chart.error(None, f"helm template of chart {name!r} failed:\n{outcome.message()}")
    objects = parse_manifests(chart_dir, outcome.stdout)
    for obj in objects:
        metadata = obj.setdefault("metadata", {})
        if not isinstance(metadata, dict):
            raise chart.error(None, f"chart {name!r} rendered an object whose metadata is no map")
        annotations = metadata.get("annotations")
        kept = annotations if isinstance(annotations, dict) else {}
        metadata["annotations"] = {**kept, HELM_GENERATED: "true"}
    return objects


def _arguments(chart: HelmChart, release: str, target: Path, values: list[Path]) -> list[str]:
    """``helm template``'s arguments, in the order kustomize's AsHelmArgs gives them."""
    args = ["template", release] if release else ["template", "--generate-name"]
    args.append(str(target))
    for key, flag in (("namespace", "--namespace"), ("nameTemplate", "--name-template")):
        if chart.text(key):
            args += [flag, chart.text(key)]
    for file in values:
        args += ["-f", str(file)]
    for version in chart.settings.get("apiVersions") or []:
        args += ["--api-versions", scalar_text(version)]
    if chart.text("kubeVersion"):
        args += ["--kube-version", chart.text("kubeVersion")]
    for key, flag in (
        ("includeCRDs", "--include-crds"),
        ("skipTests", "--skip-tests"),
        ("skipHooks", "--no-hooks"),
        ("debug", "--debug"),
    ):
        if chart.settings.get(key):
            args.append(flag)
    return args


def _chart_home(chart: HelmChart, loader: Loader) -> Path:
    home = Path(chart.chart_home or DEFAULT_CHART_HOME)
    if not home.is_absolute():
        home = loader.root / home
    if chart.text("version") and chart.text("repo"):
        home = home / f"{chart.text('name')}-{chart.text('version')}"
    return home


def _missing(chart: HelmChart, name: str, home: Path, chart_dir: Path) -> HakobuError:
    repo, version = chart.text("repo"), chart.text("version")
    if not repo:
        return chart.error(
            "name",
            f"no chart found at {chart_dir}, and no repo to pull it from",
            hint="put the chart there (chartHome, default charts/, beside the kustomization)",
        )
    if not version:
        return chart.error(
            "version",
            f"chart {name!r} is not in {home} and is not pinned to a version",
            hint="set version, then vendor the chart into the repository with "
            "`helm pull --untar` and commit it",
        )
    source = f"{repo.rstrip('/')}/{name}" if repo.startswith("oci://") else f"--repo {repo} {name}"
    return chart.error(
        "repo",
        f"chart {name!r} {version} is not in {home}: builds read only the repository and "
        "pull no charts",
        hint=f"vendor it where kustomize would pull it, and commit it: "
        f"`helm pull {source} --version {version} --untar --untardir {home}`",
    )


def _resolve(chart: HelmChart, loader: Loader, path: str, key: str) -> Path:
    """A file or directory the chart reads, under the load restrictor; remote ones refused."""
    try:
        return loader.resolve_file(path)
    except HakobuError as e:
        raise chart.error(key, e.message, e.hint) from None


def _read(chart: HelmChart, loader: Loader, file: Path, key: str) -> bytes:
    try:
        return loader.files.read_bytes(file)
    except FileNotFoundError:
        raise chart.error(key, f"values file {file} does not exist") from None
    except HakobuError as e:
        raise chart.error(key, e.message, e.hint) from None


def _values(chart: HelmChart, loader: Loader, chart_dir: Path, mode: str) -> bytes:
    """The values file kustomize hands helm: the values file as it is, or merged with (or
    replaced by) the inline values."""
    inline = _mapping(
        chart.settings.get("valuesInline"), (*chart.path, "valuesInline"), chart.report
    )
    if inline and mode == "replace":
        return _dump(inline)
    key = "valuesFile" if chart.text("valuesFile") else "name"
    file = (
        _resolve(chart, loader, chart.text("valuesFile"), "valuesFile")
        if chart.text("valuesFile")
        else _resolve(chart, loader, str(chart_dir / "values.yaml"), "name")
    )
    data = _read(chart, loader, file, key)
    if not inline:
        return data
    from_file = load_as_written(file, decode(file, data))
    if from_file is None:
        from_file = {}
    if not isinstance(from_file, dict):
        raise chart.error(key, f"values file {file} does not hold a mapping")
    if mode == "override":
        return _dump(merge_values(from_file, inline))
    return _dump(merge_values(inline, from_file))


def merge_values(dest: Mapping[str, Any], src: Mapping[str, Any]) -> dict[str, Any]:
    """``src`` merged into ``dest`` as kyaml's merge2 does without a schema: maps merge key by
    key, a null in ``src`` removes the key, anything else in ``src`` (lists too) wins; a key
    of ``dest`` written with no value (``key:``) that ``src`` does not name goes."""
    merged = _written(dest)
    for key, value in src.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_values(merged[key], value)
        elif isinstance(value, dict) and key not in merged:
            # A mapping new to ``dest`` is walked against itself: its nulls go.
            merged[key] = _without_nulls(value)
        else:
            merged[key] = value
    return merged


def _written(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` without the keys written with no value, in every mapping below (kyaml's
    walk visits them; it leaves lists whole)."""
    empty = getattr(values, "empty", ())
    return {
        key: _written(value) if isinstance(value, dict) else value
        for key, value in values.items()
        if key not in empty
    }


def _without_nulls(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: _without_nulls(value) if isinstance(value, dict) else value
        for key, value in values.items()
        if value is not None
    }


def _dump(values: Mapping[str, Any]) -> bytes:
    return yaml.safe_dump(_plain(values), sort_keys=True, allow_unicode=True).encode()


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _mapping(value: Any, path: FieldPath, report: Report) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise report(path, "expected a mapping", None)
    return {str(k): v for k, v in value.items()}


def _check_fields(settings: Mapping[str, Any], known: Any, path: FieldPath, report: Report) -> None:
    for key, value in settings.items():
        if key not in known:
            raise report((*path, key), "unknown field", f"fields: {', '.join(sorted(known))}")
        if value is None:
            continue
        if key in _STRING_FIELDS or key in _GLOBAL_FIELDS:
            if isinstance(value, dict | list):
                raise report((*path, key), "expected a string", None)
        elif key in _FLAG_FIELDS and not isinstance(value, bool):
            raise report((*path, key), "expected true or false", None)
        elif key in _LIST_FIELDS and (
            not isinstance(value, list) or any(isinstance(v, dict | list) for v in value)
        ):
            raise report((*path, key), "expected a list of strings", None)
