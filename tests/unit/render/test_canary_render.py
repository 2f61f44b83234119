"""`hakobu render` refuses a bad canary before writing anything, naming where it is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from hakobu.cli.main import main


def project(root: Path) -> Path:
    root.mkdir()
    (root / "hakobu.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "hakobu.dev/v1alpha1",
                "kind": "Project",
                "name": "shop",
                "apps": "apps",
                "output": "generated",
                "environments": {"production": {"namespace": "shop"}},
            }
        )
    )
    (root / "apps" / "db").mkdir(parents=True)
    return root


def test_a_canary_on_a_statefulset_of_a_manifest_app_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path / "shop")
    declared = json.dumps({"canary": {"steps": [{"setWeight": 10}]}})
    (root / "apps" / "db" / "db.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "apps/v1",
                "kind": "StatefulSet",
                "metadata": {"name": "db", "annotations": {"hakobu.dev/rollout": declared}},
                "spec": {"serviceName": "db", "selector": {"matchLabels": {"app": "db"}}},
            }
        )
    )
    assert main(["render", "-C", str(root)]) == 2
    err = capsys.readouterr().err
    assert (
        "app db (apps/db): StatefulSet/db: metadata.annotations.hakobu.dev/rollout: a "
        "StatefulSet cannot have a rollout" in err
    )
    assert not (root / "generated").exists()


def test_a_condition_that_does_not_parse_names_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path / "shop")
    (root / "apps" / "web.yaml").write_text(
        "name: web\n"
        "image: example.test/web:1.0\n"
        "rollout:\n"
        "  canary:\n"
        "    steps:\n"
        "      - setWeight: 10\n"
        "      - analysis:\n"
        "          address: http://prom.test\n"
        "          query: up\n"
        "          failureCondition: result[0] <\n"
    )
    assert main(["render", "-C", str(root)]) == 2
    err = capsys.readouterr().err
    assert (
        "web.yaml:10: rollout.canary.steps[1].analysis.failureCondition: 'result[0] <' does "
        "not parse: the condition ends early"
    ) in err
