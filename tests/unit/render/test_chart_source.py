"""helm.yaml and helm.lock: read with file, line and field named when they are wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from hakobu.model.source import SourceError
from hakobu.render.charts import Lock, PinnedChart, lock_text, read_lock, read_source
from hakobu.render.inputs import Inputs

DIGEST = "sha256:" + "ab" * 32
SOURCE = """\
chart:
  repository: oci://registry.example.com/charts
  name: web
  version: 1.4.2
"""


def app(tmp_path: Path, source: str, lock: str | None = None) -> Path:
    directory = tmp_path / "web"
    directory.mkdir(parents=True)
    (directory / "helm.yaml").write_text(source)
    if lock is not None:
        (directory / "helm.lock").write_text(lock)
    return directory


def test_a_pinned_chart_and_its_lock_read_back(tmp_path: Path) -> None:
    chart = PinnedChart("oci://registry.example.com/charts", "web", "1.4.2")
    directory = app(tmp_path, SOURCE, lock_text(Lock(chart, DIGEST)))
    assert read_source(directory, Inputs()) == chart
    assert read_lock(directory, chart, Inputs()) == Lock(chart, DIGEST)
    plain = app(tmp_path / "plain", SOURCE.replace("1.4.2\n", "1.4.2\n  plainHTTP: true\n"))
    assert read_source(plain, Inputs()).plain_http


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("chart: web\n", "helm.yaml:1: chart: expected a mapping"),
        (SOURCE + "values: {}\n", "helm.yaml:5: values: unknown field: helm.yaml holds only chart"),
        (SOURCE.replace("  name: web\n", ""), "chart.name: expected a non-empty string"),
        (SOURCE + "  digest: x\n", "helm.yaml:5: chart.digest: unknown field"),
        (SOURCE.replace("oci://", "ftp://"), "chart.repository: 'ftp://"),
        (SOURCE.replace("name: web", "name: ../web"), "chart.name: '../web' is not a chart"),
        (SOURCE.replace("1.4.2", "--devel"), "chart.version: '--devel' is not a version"),
        (SOURCE + "  plainHTTP: yes\n", "chart.plainHTTP: expected true or false"),
    ],
)
def test_a_wrong_source_names_file_line_and_field(
    tmp_path: Path, source: str, expected: str
) -> None:
    with pytest.raises(SourceError) as refused:
        read_source(app(tmp_path, source), Inputs())
    assert expected in str(refused.value)


@pytest.mark.parametrize(
    ("lock", "expected"),
    [
        (None, "has no recorded digest"),
        ("digest: " + DIGEST + "\n", "expected the fields repository, name, version, digest"),
        (
            "repository: oci://registry.example.com/charts\nname: web\nversion: 1.4.1\n"
            f"digest: {DIGEST}\n",
            "helm.lock:3: version: the lock is for '1.4.1' but helm.yaml says '1.4.2'",
        ),
        (
            "repository: oci://registry.example.com/charts\nname: web\nversion: 1.4.2\n"
            "digest: md5:abc\n",
            "helm.lock:4: digest: expected sha256: and 64 hexadecimal digits",
        ),
    ],
)
def test_a_missing_or_stale_lock_is_refused(
    tmp_path: Path, lock: str | None, expected: str
) -> None:
    directory = app(tmp_path, SOURCE, lock)
    chart = read_source(directory, Inputs())
    with pytest.raises(SourceError) as refused:
        read_lock(directory, chart, Inputs())
    assert expected in str(refused.value)
    if lock is None:
        assert refused.value.hint == "run `hakobu chart lock web` and commit helm.lock"
