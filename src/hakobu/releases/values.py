"""Promotion of environment values: ``TO``'s values in ``hakobu.yaml`` take ``FROM``'s.

``promote: {values: [...]}`` in ``hakobu.yaml`` lists the paths into
``environments.<env>.values`` that travel. For each that differs, ``TO``'s value is
written with minimal text edits so that it becomes exactly ``FROM``'s. There is no base to
merge over here, so null is a value like any other: a path ``FROM`` lacks is deleted from
``TO``, and a mapping is made equal key by key (keys only ``TO`` has are deleted). The
edited file is loaded again and compared with the original: the promotion fails rather
than write a file in which anything but those paths of ``TO`` changed.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hakobu.errors import InvalidInput, OperationFailed
from hakobu.model.project import load_project
from hakobu.model.source import load_one
from hakobu.releases.appspec import FieldChange
from hakobu.releases.overrides import Keys, delete_path, inline, set_path


@dataclass(frozen=True)
class ValuesPromotion:
    # Fields are named values.<path>; a side without the path shows as null.
    changes: tuple[FieldChange, ...]
    text: str  # hakobu.yaml's new content


class _Absent:
    """No value at a path: not None, which environment values may hold."""


_ABSENT: Any = _Absent()


def promote_values(
    text: str, file: Path, from_env: str, to_env: str, paths: Sequence[Keys]
) -> ValuesPromotion | None:
    """``text`` (of ``file``, a ``hakobu.yaml``) with ``to_env``'s values at ``paths`` made
    ``from_env``'s; None when they are equal already.

    Raises OperationFailed when a path runs through something other than a mapping in
    either environment, or when the edit would change more than those paths of ``to_env``.
    """
    project = load_project(file.parent, text)
    source = project.environment(from_env).values
    target = project.environment(to_env).values
    expected = copy.deepcopy(target)
    changes: list[FieldChange] = []
    wanted: list[tuple[Keys, Any]] = []
    edited = text
    for path in paths:
        value = _read(source, path, from_env, file)
        old = _read(target, path, to_env, file)
        if _same(value, old):
            continue
        changes.append(FieldChange("values." + ".".join(path), _line(old), _line(value)))
        wanted.append((path, value))
        _put(expected, path, value)
        for keys, new in _edits(path, value, old):
            where = ("environments", to_env, "values", *keys)
            if new is _ABSENT:
                edited = delete_path(edited, file, where)
            else:
                edited = set_path(edited, file, where, new)
    if not changes:
        return None
    _verify(file, text, edited, to_env=to_env, expected=expected, wanted=wanted)
    return ValuesPromotion(tuple(changes), edited)


def _read(values: dict[str, Any], path: Keys, env: str, file: Path) -> Any:
    data: Any = values
    for depth, key in enumerate(path):
        if not isinstance(data, dict):
            prefix = ".".join(path[:depth])
            raise OperationFailed(
                f"{file}: cannot promote values.{'.'.join(path)}: "
                f"values.{prefix} is not a mapping in {env}",
                hint=f"promote {prefix} instead (in promote.values of {file})",
            )
        data = data.get(key, _ABSENT)
        if data is _ABSENT:
            return _ABSENT
    return data


def _edits(path: Keys, value: Any, old: Any) -> Iterator[tuple[Keys, Any]]:
    """The writes and deletions (``_ABSENT``) that turn ``old`` at ``path`` into ``value``."""
    # Key by key into a mapping both sides have, so its layout and comments stay.
    if not (value and isinstance(value, dict) and isinstance(old, dict)):
        yield path, value
        return
    for key, inner in value.items():
        before = old.get(key, _ABSENT)
        if not _same(inner, before):
            yield from _edits((*path, key), inner, before)
    for key in old:
        if key not in value:
            yield (*path, key), _ABSENT


def _put(values: dict[str, Any], path: Keys, value: Any) -> None:
    for key in path[:-1]:
        values = values.setdefault(key, {})
    if value is _ABSENT:
        values.pop(path[-1], None)
    else:
        values[path[-1]] = value


def _same(a: Any, b: Any) -> bool:
    if a is _ABSENT or b is _ABSENT:
        return a is b
    # Not ==: true == 1 in Python, but a template renders them differently.
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _line(value: Any) -> str:
    return inline(None if value is _ABSENT else value)


def _verify(
    file: Path,
    text: str,
    edited: str,
    *,
    to_env: str,
    expected: dict[str, Any],
    wanted: list[tuple[Keys, Any]],
) -> None:
    targets = ", ".join(f"environments.{to_env}.values.{'.'.join(p)}" for p, _ in wanted)
    try:
        project = load_project(file.parent, edited)
    except InvalidInput as e:
        # The message names the file and the line of the offending field.
        message = f"writing {targets} would make it invalid: {e.message}"
        raise _by_hand(message, to_env, wanted) from None
    differ = _differences(load_one(file, text).data, load_one(file, edited).data, to_env)
    values = project.environment(to_env).values
    differ += [
        f"environments.{to_env}.values.{key}"
        for key in sorted({*expected, *values})
        if not _same(expected.get(key, _ABSENT), values.get(key, _ABSENT))
    ]
    if differ:
        message = f"{file}: writing {targets} would change more: also {', '.join(differ)}"
        raise _by_hand(message, to_env, wanted)


def _differences(old: dict[str, Any], new: dict[str, Any], to_env: str) -> list[str]:
    """The top-level fields and environments' fields that differ, but TO's values."""
    differ = [
        key
        for key in sorted({*old, *new} - {"environments"})
        if not _same(old.get(key, _ABSENT), new.get(key, _ABSENT))
    ]
    # Both files loaded as projects: every environment is a mapping.
    old_envs, new_envs = old["environments"], new["environments"]
    for env in sorted({*old_envs, *new_envs}):
        before, after = old_envs.get(env, {}), new_envs.get(env, {})
        differ += [
            f"environments.{env}.{key}"
            for key in sorted({*before, *after})
            if not (env == to_env and key == "values")
            and not _same(before.get(key, _ABSENT), after.get(key, _ABSENT))
        ]
    return differ


def _by_hand(message: str, to_env: str, wanted: list[tuple[Keys, Any]]) -> OperationFailed:
    gets = [f"{'.'.join(p)}: {inline(v)}" for p, v in wanted if v is not _ABSENT]
    loses = [".".join(p) for p, v in wanted if v is _ABSENT]
    parts = ([", ".join(gets)] if gets else []) + ([f"no {', '.join(loses)}"] if loses else [])
    hint = f"edit environments.{to_env}.values by hand so that it has {' and '.join(parts)}"
    return OperationFailed(message, hint=hint)
