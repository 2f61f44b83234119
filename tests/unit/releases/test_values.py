"""Promotion of environment values: the text edit of hakobu.yaml and its verification."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hakobu.errors import OperationFailed
from hakobu.model.project import load_project
from hakobu.releases.appspec import FieldChange
from hakobu.releases.values import ValuesPromotion, promote_values

FILE = Path("shop/hakobu.yaml")

HEAD = """\
apiVersion: hakobu.dev/v1alpha1
kind: Project
name: shop
environments:
"""

PROJECT = (
    HEAD
    + """\
  evaluation:
    namespace: shop-eval
    values:
      release: "1.3"  # under test
      workerReplicas: 1
      features:
        checkout: true
        search: beta
  production:
    namespace: shop
    values:
      # what customers run
      release: "1.2"
      workerReplicas: 3
      # the live queue, until the migration
      queue: jobs  # shared with billing
      # sizes below
      sizes: [s, m]
promote:
  values: [release, features.checkout]
"""
)


def promote(
    text: str, *paths: str, source: str = "evaluation", target: str = "production"
) -> ValuesPromotion:
    keys = [tuple(path.split(".")) for path in paths]
    promotion = promote_values(text, FILE, source, target, keys)
    assert promotion is not None
    return promotion


def values(text: str, env: str) -> dict[str, Any]:
    return load_project(FILE.parent, text).environment(env).values


def test_a_scalar_is_replaced_in_place() -> None:
    promotion = promote(PROJECT, "release")

    assert promotion.changes == (FieldChange("values.release", '"1.2"', '"1.3"'),)
    assert promotion.text == PROJECT.replace('release: "1.2"', 'release: "1.3"')


def test_a_nested_path_creates_its_mappings_after_the_other_values() -> None:
    promotion = promote(PROJECT, "features.checkout")

    assert promotion.changes == (FieldChange("values.features.checkout", "null", "true"),)
    assert promotion.text == PROJECT.replace(
        "      sizes: [s, m]\n", "      sizes: [s, m]\n      features:\n        checkout: true\n"
    )


def test_a_key_is_added_to_an_existing_mapping() -> None:
    text = PROJECT.replace("      sizes: [s, m]\n", "      features:\n        search: stable\n")
    promotion = promote(text, "features.checkout")

    assert promotion.text == text.replace(
        "        search: stable\n", "        search: stable\n        checkout: true\n"
    )
    assert values(promotion.text, "production")["features"] == {
        "search": "stable",
        "checkout": True,
    }


def test_an_environment_without_values_gets_them() -> None:
    text = PROJECT + "  staging:\n    namespace: shop-staging  # soon\n"
    text = text.replace("promote:\n  values: [release, features.checkout]\n", "")
    text += "promote:\n  values: [release]\n"
    promotion = promote(text, "release", target="staging")

    assert promotion.text == text.replace(
        "shop-staging  # soon\n", 'shop-staging  # soon\n    values:\n      release: "1.3"\n'
    )


def test_values_written_as_a_flow_mapping_stay_one() -> None:
    text = HEAD + (
        "  evaluation: {namespace: shop-eval, values: {release: '1.3', features: {checkout: on}}}\n"
        "  production:\n    namespace: shop\n    values: {release: '1.2', queue: jobs}  # live\n"
    )
    promotion = promote(text, "release", "features.checkout", "queue")

    assert promotion.text == text.replace(
        "{release: '1.2', queue: jobs}", '{release: "1.3", features: {checkout: "on"}}'
    )
    assert [c.field for c in promotion.changes] == [
        "values.release",
        "values.features.checkout",
        "values.queue",
    ]


def test_a_path_the_source_lacks_is_deleted_and_the_comments_stay() -> None:
    promotion = promote(PROJECT, "queue")

    assert promotion.changes == (FieldChange("values.queue", "jobs", "null"),)
    assert promotion.text == PROJECT.replace("      queue: jobs  # shared with billing\n", "")
    assert "queue" not in values(promotion.text, "production")


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("{queue: jobs, release: '1.3'}", "{release: '1.3'}"),
        ("{release: '1.3', queue: jobs, sizes: [s]}", "{release: '1.3', sizes: [s]}"),
        ("{queue: jobs}", "{}"),
    ],
)
def test_a_key_is_deleted_from_a_flow_mapping(before: str, after: str) -> None:
    text = HEAD + (
        "  evaluation: {namespace: shop-eval, values: {release: '1.3', sizes: [s]}}\n"
        f"  production:\n    namespace: shop\n    values: {before}  # live\n"
    )
    promotion = promote(text, "queue")

    assert promotion.text == text.replace(before, after)


def test_null_is_a_value_that_travels() -> None:
    text = PROJECT.replace('release: "1.3"', "release: null")
    promotion = promote(text, "release")

    assert promotion.text == text.replace('release: "1.2"', "release: null")
    assert values(promotion.text, "production")["release"] is None


def test_deleting_the_last_key_of_a_mapping_leaves_it_empty() -> None:
    text = PROJECT.replace("        checkout: true\n        search: beta\n", "        search: on\n")
    text = text.replace("      sizes: [s, m]\n", "      features:\n        checkout: true\n")
    promotion = promote(text, "features.checkout")

    assert promotion.text == text.replace(
        "      features:\n        checkout: true\n", "      features: {}\n"
    )
    assert values(promotion.text, "production")["features"] == {}


def test_a_mapping_is_made_equal_key_by_key() -> None:
    text = PROJECT.replace(
        "      sizes: [s, m]\n",
        "      features:\n        legacy: true  # going away\n        search: stable\n",
    )
    promotion = promote(text, "features")

    assert promotion.changes == (
        FieldChange(
            "values.features", "{legacy: true, search: stable}", "{checkout: true, search: beta}"
        ),
    )
    assert promotion.text == text.replace(
        "        legacy: true  # going away\n        search: stable\n",
        "        search: beta\n        checkout: true\n",
    )
    assert values(promotion.text, "production")["features"] == {"checkout": True, "search": "beta"}


def test_a_mapping_replaces_a_scalar_and_a_list_replaces_a_mapping() -> None:
    text = PROJECT.replace("      sizes: [s, m]\n", "      features: none\n")
    text = text.replace(
        "      workerReplicas: 1\n", "      workerReplicas: 1\n      sizes: {s: 1}\n"
    )
    promotion = promote(text, "features", "sizes")

    assert values(promotion.text, "production")["features"] == {"checkout": True, "search": "beta"}
    assert values(promotion.text, "production")["sizes"] == {"s": 1}
    assert "      features: {checkout: true, search: beta}\n" in promotion.text


def test_equal_values_are_nothing_to_promote() -> None:
    promotion = promote(PROJECT, "release", "features.checkout", "queue")
    again = promote_values(promotion.text, FILE, "evaluation", "production", [("release",)])
    assert again is None
    assert values(promotion.text, "production") == {
        "release": "1.3",
        "workerReplicas": 3,
        "sizes": ["s", "m"],
        "features": {"checkout": True},
    }
    assert load_project(FILE.parent, promotion.text).environment("evaluation") == load_project(
        FILE.parent, PROJECT
    ).environment("evaluation")


def test_a_path_through_something_else_than_a_mapping_is_refused() -> None:
    text = PROJECT.replace("      features:\n        checkout: true\n        search: beta\n", "")
    text = text.replace(
        "      workerReplicas: 1\n", "      workerReplicas: 1\n      features: on\n"
    )
    with pytest.raises(OperationFailed) as error:
        promote_values(text, FILE, "evaluation", "production", [("features", "checkout")])
    assert "values.features is not a mapping in evaluation" in error.value.message
    assert error.value.hint == f"promote features instead (in promote.values of {FILE})"


def test_an_edit_that_would_change_another_environment_is_refused() -> None:
    text = HEAD + (
        "  evaluation:\n    namespace: shop-eval\n"
        "    values:\n      features: &features\n        checkout: false\n"
        "  production:\n    namespace: shop\n    values:\n      features: *features\n"
        "  staging:\n    namespace: shop-staging\n    values: {features: {checkout: true}}\n"
    )
    with pytest.raises(OperationFailed) as error:
        promote_values(text, FILE, "staging", "production", [("features", "checkout")])
    assert error.value.message == (
        f"{FILE}: writing environments.production.values.features.checkout would change "
        "more: also environments.evaluation.values"
    )
    assert error.value.hint == (
        "edit environments.production.values by hand so that it has features.checkout: true"
    )
