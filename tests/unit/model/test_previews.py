"""``previews:`` in hakobu.yaml: what is accepted, the namespace a branch becomes, and errors
that say file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from hakobu.errors import InvalidInput
from hakobu.model.previews import branch_slug
from hakobu.model.project import load_project
from hakobu.model.source import SourceError

PROJECT = """\
apiVersion: hakobu.dev/v1alpha1
kind: Project
name: shop
environments:
  evaluation:
    namespace: shop-eval
"""

SECTION = """\
previews:
  from: evaluation
  branches: "feature/*"
  namespace: "preview-{{ branch }}"
  host: "{{branch}}.preview.example.com"
  ttl: 72h
  maxCount: 3
"""


def test_a_previews_section_is_read(tmp_path: Path) -> None:
    previews = load_project(tmp_path, PROJECT + SECTION).previews
    assert previews is not None
    assert previews.source_env == "evaluation"
    assert previews.ttl == 72 * 3600
    assert previews.max_count == 3
    assert previews.namespace("feature/Login_Page") == "preview-feature-login-page"
    assert previews.url("feature/Login_Page") == "https://feature-login-page.preview.example.com"


def test_without_the_section_there_are_no_previews(tmp_path: Path) -> None:
    assert load_project(tmp_path, PROJECT).previews is None


def test_the_pattern_decides_which_branches_get_a_preview(tmp_path: Path) -> None:
    previews = load_project(tmp_path, PROJECT + SECTION).previews
    assert previews is not None
    assert previews.matches("feature/a")
    assert not previews.matches("main")
    with pytest.raises(InvalidInput, match=r"does not match previews.branches 'feature/\*'"):
        previews.namespace("main")


def test_a_long_branch_is_cut_to_a_namespace_with_a_hash() -> None:
    first = branch_slug("feature/" + "x" * 80 + "-one", 55)
    second = branch_slug("feature/" + "x" * 80 + "-two", 55)
    assert len(first) == len(second) == 55
    assert first != second
    assert first.startswith("feature-xxx")
    assert branch_slug("Feature//A..b") == "feature-a-b"


def test_a_branch_that_cannot_become_a_namespace_is_refused(tmp_path: Path) -> None:
    previews = load_project(tmp_path, PROJECT + SECTION.replace("feature/*", "*")).previews
    assert previews is not None
    with pytest.raises(InvalidInput, match=r"branch '__' cannot become a namespace"):
        previews.namespace("__")


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "message"),
    [
        ("from: evaluation", "from: staging", 8, "previews.from", "an environment to copy"),
        ('branches: "feature/*"', "branches: 7", 9, "previews.branches", "branch pattern"),
        ("preview-{{ branch }}", "preview", 10, "previews.namespace", "does not say"),
        ("preview-{{ branch }}", "Preview-{{branch}}", 10, "previews.namespace", "DNS label"),
        ("preview-{{ branch }}", "{{ env }}-{{branch}}", 10, "previews.namespace", "{{env}}"),
        ("preview-{{ branch }}", "p" * 60 + "{{branch}}", 10, "previews.namespace", "at least"),
        ("{{branch}}.preview", "preview", 11, "previews.host", "says {{branch}}"),
        ("{{branch}}.preview", "{{ branch.__class__ }}.x", 11, "previews.host", "placeholder"),
        ("ttl: 72h", "ttl: 72", 12, "previews.ttl", "expected a duration"),
        ("ttl: 72h", "ttl: 3 days", 12, "previews.ttl", "is not a duration"),
        ("maxCount: 3", "maxCount: 0", 13, "previews.maxCount", "from 1 to 1000"),
        ("maxCount: 3", "color: red", 13, "previews.color", "unknown field"),
    ],
)
def test_bad_previews_name_file_line_and_field(
    tmp_path: Path, old: str, new: str, *, line: int, field: str, message: str
) -> None:
    assert old in SECTION
    with pytest.raises(SourceError) as caught:
        load_project(tmp_path, PROJECT + SECTION.replace(old, new))
    text = str(caught.value)
    assert f"hakobu.yaml:{line}" in text
    assert field in text
    assert message in text
