"""hakobu.yaml: what is accepted, and errors that say file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from hakobu.model.project import find_root, load_project
from hakobu.model.source import SourceError

GOOD = """\
apiVersion: hakobu.dev/v1alpha1
kind: Project
name: shop
environments:
  production:
    namespace: shop
    values: {replicas: 3}
  evaluation:
    namespace: shop-eval
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "hakobu.yaml").write_text(text)
    return tmp_path


def test_a_valid_project(tmp_path: Path) -> None:
    project = load_project(write(tmp_path, GOOD))
    assert project.name == "shop"
    assert [e.name for e in project.environments] == ["evaluation", "production"]
    assert project.environment("production").values == {"replicas": 3}
    assert project.apps_dir == tmp_path / "apps"
    assert project.output_dir == tmp_path / "generated"


def test_find_root_walks_up(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    nested = tmp_path / "apps" / "web"
    nested.mkdir(parents=True)
    assert find_root(nested) == tmp_path.resolve()


def test_no_project_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"no hakobu\.yaml"):
        find_root(tmp_path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD.replace("kind: Project", "kind: Projekt"), "hakobu.yaml:2: kind: expected kind"),
        (GOOD + "colour: blue\n", "hakobu.yaml:10: colour: unknown field"),
        (
            GOOD.replace("namespace: shop-eval", "namespace: Shop_Eval"),
            "hakobu.yaml:9: environments.evaluation.namespace: expected a DNS label",
        ),
        (
            GOOD.replace("    values: {replicas: 3}\n", "    replica: 3\n"),
            "hakobu.yaml:7: environments.production.replica: unknown field",
        ),
        (GOOD + "output: ../elsewhere\n", "hakobu.yaml:10: output: expected a directory inside"),
        (GOOD.replace("name: shop", "name: shop\nname: again"), "duplicate key 'name'"),
    ],
)
def test_invalid_projects_name_file_line_and_field(
    tmp_path: Path, text: str, expected: str
) -> None:
    with pytest.raises(SourceError) as error:
        load_project(write(tmp_path, text))
    assert expected in str(error.value)
    assert error.value.exit_code == 2


def test_unknown_environment_lists_the_known_ones(tmp_path: Path) -> None:
    project = load_project(write(tmp_path, GOOD))
    with pytest.raises(SourceError) as error:
        project.environment("staging")
    assert "evaluation, production" in str(error.value)


def test_environments_may_follow_their_own_branch(tmp_path: Path) -> None:
    text = GOOD.replace(
        "    namespace: shop-eval\n", "    namespace: shop-eval\n    branch: tier-0\n"
    )
    project = load_project(write(tmp_path, text))
    assert project.environment("evaluation").branch == "tier-0"
    assert project.environment("production").branch is None


@pytest.mark.parametrize("branch", ["has space", "a..b", "x.lock", "'[x]'"])
def test_invalid_branch_names_are_refused(tmp_path: Path, branch: str) -> None:
    text = GOOD.replace(
        "    namespace: shop-eval\n", f"    namespace: shop-eval\n    branch: {branch}\n"
    )
    with pytest.raises(SourceError, match="expected a git branch name"):
        load_project(write(tmp_path, text))


def test_sealed_secrets_mode_and_auto_rollback(tmp_path: Path) -> None:
    text = GOOD.replace(
        "    namespace: shop-eval\n",
        "    namespace: shop-eval\n    sealedSecrets: hakobu\n    autoRollback: {window: 120}\n",
    )
    project = load_project(write(tmp_path, text))
    evaluation = project.environment("evaluation")
    assert (evaluation.sealed_secrets, evaluation.auto_rollback_window) == ("hakobu", 120)
    production = project.environment("production")
    assert (production.sealed_secrets, production.auto_rollback_window) == ("controller", None)
    bad = GOOD.replace(
        "    namespace: shop-eval\n", "    namespace: shop-eval\n    sealedSecrets: kubeseal\n"
    )
    with pytest.raises(SourceError, match="expected one of controller, hakobu"):
        load_project(write(tmp_path, bad))
    window = GOOD.replace(
        "    namespace: shop-eval\n", "    namespace: shop-eval\n    autoRollback: {window: 0}\n"
    )
    with pytest.raises(SourceError, match="expected seconds from 1 to 86400"):
        load_project(write(tmp_path, window))


def test_promoted_values_are_dot_separated_paths(tmp_path: Path) -> None:
    assert load_project(write(tmp_path, GOOD)).promoted_values == ()
    text = GOOD + "promote:\n  values: [release, features.checkout]\n"
    project = load_project(write(tmp_path, text))
    assert project.promoted_values == (("release",), ("features", "checkout"))


def test_a_project_loads_from_text_instead_of_its_file(tmp_path: Path) -> None:
    project = load_project(tmp_path, GOOD.replace("name: shop", "name: store"))
    assert (project.name, project.file) == ("store", tmp_path / "hakobu.yaml")


@pytest.mark.parametrize(
    ("promote", "expected"),
    [
        ("promote: [release]\n", "hakobu.yaml:10: promote: expected a mapping, found list"),
        (
            "promote:\n  images: [web]\n",
            "hakobu.yaml:11: promote.images: unknown field; expected one of: values",
        ),
        (
            "promote:\n  values: release\n",
            "hakobu.yaml:11: promote.values: expected a list of paths, found str",
        ),
        (
            "promote:\n  values:\n  - release\n  - features..checkout\n",
            "hakobu.yaml:13: promote.values[1]: expected a dot-separated path",
        ),
        ("promote:\n  values:\n  - ''\n", "hakobu.yaml:12: promote.values[0]: expected a dot"),
        ("promote:\n  values:\n  - 3\n", "hakobu.yaml:12: promote.values[0]: expected a dot"),
        (
            "promote:\n  values:\n  - release\n  - queue\n  - release\n",
            "hakobu.yaml:14: promote.values[2]: release is listed twice",
        ),
        (
            "promote:\n  values:\n  - features.checkout\n  - features\n",
            "hakobu.yaml:13: promote.values[1]: features.checkout lies inside features",
        ),
        (
            "promote:\n  values:\n  - features\n  - release\n  - features.checkout.beta\n",
            "hakobu.yaml:14: promote.values[2]: features.checkout.beta lies inside features",
        ),
    ],
)
def test_invalid_promoted_values_name_line_and_field(
    tmp_path: Path, promote: str, expected: str
) -> None:
    with pytest.raises(SourceError) as error:
        load_project(write(tmp_path, GOOD + promote))
    assert expected in str(error.value)
