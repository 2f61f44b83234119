"""An environment's render is bounded as a whole, not only file by file and app by app."""

from __future__ import annotations

from pathlib import Path

import pytest

from hakobu.model.project import load_project
from hakobu.model.source import SourceError
from hakobu.render import environment
from hakobu.render.environment import render_environment

PROJECT = """\
apiVersion: hakobu.dev/v1alpha1
kind: Project
name: shop
environments:
  evaluation: {namespace: shop-eval}
"""
SPIN = """\
{% for a in range(300) %}{% for b in range(300) %}{% endfor %}{% endfor %}
apiVersion: v1
kind: ConfigMap
metadata: {name: spin-{{ app }}}
"""


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / "hakobu.yaml").write_text(PROJECT)
    for name, text in files.items():
        (tmp_path / "apps" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "apps" / name).write_text(text)
    return tmp_path


def test_template_apps_share_one_deadline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path, {f"app{i}/spin.yaml.j2": SPIN for i in range(40)})
    project = load_project(root)
    # Each app alone stays within its own bounds; together they pass the shared deadline.
    render_environment(project, project.environments[0], only_app=None)
    monkeypatch.setattr(environment, "TEMPLATE_SECONDS", 0.05)
    with pytest.raises(SourceError, match="the render took too long"):
        render_environment(project, project.environments[0])


def test_files_share_one_node_total(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = "\n".join(f"  k{i}: v{i}" for i in range(5000))
    config = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{}}}\ndata:\n" + data + "\n"
    root = _project(tmp_path, {f"web/c{i}.yaml": config.format(i) for i in range(3)})
    project = load_project(root)
    render_environment(project, project.environments[0])
    monkeypatch.setattr(environment, "MAX_NODES", 25_000)
    with pytest.raises(SourceError, match="more than 25,000 YAML nodes together") as refused:
        render_environment(project, project.environments[0])
    assert "c2.yaml" in str(refused.value)
