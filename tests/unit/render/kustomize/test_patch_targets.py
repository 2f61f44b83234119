"""Patch targets match whole names, as kustomize's anchored Go expressions do."""

from __future__ import annotations

from hakobu.model.objects import Object
from hakobu.render.kustomize.index import ResourceIndex
from hakobu.render.kustomize.selectors import Target


def _select(target: Target, objects: list[Object]) -> list[str]:
    return [
        obj["metadata"]["name"] for obj in ResourceIndex(objects).select(target.compile("here"))
    ]


def _config_map(name: str) -> Object:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}


def test_a_name_does_not_match_itself_followed_by_a_newline() -> None:
    # Python's '$' also matches before a final newline; Go's does not.
    assert _select(Target(name="web"), [_config_map("web"), _config_map("web\n")]) == ["web"]


def test_an_unescaped_dot_matches_any_character() -> None:
    objects = [_config_map("web.config"), _config_map("webxconfig"), _config_map("web")]
    assert _select(Target(name="web.config"), objects) == ["web.config", "webxconfig"]
    assert _select(Target(name=r"web\.config"), objects) == ["web.config"]
