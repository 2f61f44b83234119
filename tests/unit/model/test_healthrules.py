"""hakobu.yaml's ``health``: rules compiled at load, errors at their file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from hakobu.health import HealthStatus, assess
from hakobu.model.project import load_project
from hakobu.model.source import SourceError

PROJECT = """\
apiVersion: hakobu.dev/v1alpha1
kind: Project
name: shop
environments:
  production:
    namespace: shop
health:
"""
WIDGET = """\
- apiVersion: example.com/v1
  kind: Widget
  current: "status.phase == 'Running'"
"""


def load(tmp_path: Path, rules: str) -> None:
    (tmp_path / "hakobu.yaml").write_text(PROJECT + rules)
    load_project(tmp_path)


def test_rules_are_read_in_order_and_judge_objects(tmp_path: Path) -> None:
    (tmp_path / "hakobu.yaml").write_text(
        PROJECT + WIDGET + "- {apiVersion: '*', kind: Gadget, current: 'true'}\n"
    )
    rules = load_project(tmp_path).health
    assert [(r.group, r.kind, r.origin) for r in rules.rules] == [
        ("example.com", "Widget", "hakobu.yaml health[0]"),
        ("*", "Gadget", "hakobu.yaml health[1]"),
    ]
    widget = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "status": {"phase": "Running"},
    }
    assert assess(widget, rules).status is HealthStatus.HEALTHY


def test_no_rules(tmp_path: Path) -> None:
    (tmp_path / "hakobu.yaml").write_text(PROJECT.replace("health:\n", ""))
    assert load_project(tmp_path).health.rules == ()


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        (
            WIDGET + "- apiVersion: example.com/v1\n  kind: Gadget\n  current: 'true'\n"
            "  failed: \"status.conditions.exists(c, c.type == 'Ready'\"\n",
            "hakobu.yaml:14: health[1].failed: does not compile as CEL: 1:46: Syntax error: "
            "missing ')'",
        ),
        (
            "- {apiVersion: example.com/v1, kind: Widget, inProgress: 'true'}\n",
            "hakobu.yaml:8: health[0]: current is required",
        ),
        ("- {apiVersion: example.com/v1, current: 'true'}\n", "health[0]: kind is required"),
        (
            "- {apiVersion: example.com/v1, kind: Widget, current: true}\n",
            "hakobu.yaml:8: health[0].current: expected a string, found bool",
        ),
        (
            "- {apiVersion: example.com/v1, kind: Widget, current: 'true', ready: 'x'}\n",
            "health[0].ready: unknown field; expected one of: apiVersion, kind, match, "
            "suspended, inProgress, failed, current",
        ),
        (
            "- {apiVersion: example.com, kind: Widget, current: 'true'}\n",
            "health[0].apiVersion: expected group/version",
        ),
        ("  apiVersion: x\n", "hakobu.yaml:7: health: expected a list of rules, found dict"),
        ("- just-a-string\n", "health[0]: expected a rule (a mapping), found str"),
    ],
)
def test_rules_that_do_not_load(tmp_path: Path, rules: str, expected: str) -> None:
    with pytest.raises(SourceError) as raised:
        load(tmp_path, rules)
    assert expected in str(raised.value)
