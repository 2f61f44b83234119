"""``environments.<env>.clusters`` in hakobu.yaml: names, contexts, and errors with file,
line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from hakobu.errors import InvalidInput
from hakobu.model.clusters import Cluster
from hakobu.model.project import load_project
from hakobu.model.source import SourceError

HEAD = """\
apiVersion: hakobu.dev/v1alpha1
kind: Project
name: shop
environments:
  production:
    namespace: shop
"""


def project_with(tmp_path: Path, clusters: str) -> Path:
    (tmp_path / "hakobu.yaml").write_text(HEAD + "    clusters:\n" + clusters)
    return tmp_path


def test_clusters_with_and_without_a_context(tmp_path: Path) -> None:
    root = project_with(tmp_path, "    - {name: eu, context: prod-eu}\n    - name: us\n")
    env = load_project(root).environment("production")
    assert env.clusters == (Cluster("eu", "prod-eu"), Cluster("us", "us"))
    assert env.cluster("us") == Cluster("us", "us")


def test_an_environment_without_clusters_has_none(tmp_path: Path) -> None:
    (tmp_path / "hakobu.yaml").write_text(HEAD)
    assert load_project(tmp_path).environment("production").clusters == ()


def test_an_unknown_cluster_names_the_known_ones(tmp_path: Path) -> None:
    root = project_with(tmp_path, "    - {name: eu}\n    - {name: us}\n")
    with pytest.raises(InvalidInput, match="no cluster named 'asia'") as error:
        load_project(root).environment("production").cluster("asia")
    assert error.value.hint == "its clusters in hakobu.yaml: eu, us"


@pytest.mark.parametrize(
    ("clusters", "expected"),
    [
        (
            "    - {name: eu}\n    - {name: eu, context: other}\n",
            "hakobu.yaml:9: environments.production.clusters[1].name: cluster 'eu' is listed twice",
        ),
        (
            "    - {name: EU}\n",
            "hakobu.yaml:8: environments.production.clusters[0].name: expected a DNS label",
        ),
        (
            "    - {name: eu, context: 7}\n",
            "hakobu.yaml:8: environments.production.clusters[0].context: expected the name of "
            "a kubeconfig context, found 7",
        ),
        (
            "    - {name: eu, server: https://x}\n",
            "hakobu.yaml:8: environments.production.clusters[0].server: unknown field",
        ),
        ("    - eu\n", "environments.production.clusters[0]: expected a mapping"),
        ("      []\n", "environments.production.clusters: expected a non-empty list"),
    ],
)
def test_invalid_clusters_name_file_line_and_field(
    tmp_path: Path, clusters: str, expected: str
) -> None:
    with pytest.raises(SourceError) as error:
        load_project(project_with(tmp_path, clusters))
    assert expected in str(error.value)
    assert error.value.exit_code == 2
