"""Promotion of an app spec: the values one environment runs become another's.

The spec's ``promote`` field lists the paths that travel (default: the image). For each
whose value in ``FROM``'s merged spec differs from ``TO``'s, ``environments.<TO>.<path>`` is
written with a minimal text edit so that ``TO``'s value becomes exactly ``FROM``'s: keys
that only the base has there are written as null, and so is a path ``FROM`` lacks (null
removes). The edited file is loaded again and compared with the original, environment by
environment: the promotion fails rather than commit a file in which anything but those
paths of ``TO`` changed.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hakobu.errors import InvalidInput, OperationFailed
from hakobu.model.appspec import environment_data, load_app
from hakobu.releases.overrides import Keys, inline, set_override


@dataclass(frozen=True)
class FieldChange:
    field: str  # the promoted path, such as env.FEATURE_FLAGS
    before: str  # TO's value before, as one line of YAML; null when it had none
    after: str  # FROM's, now TO's


@dataclass(frozen=True)
class AppPromotion:
    app: str
    changes: tuple[FieldChange, ...]
    text: str  # the edited file's new content: the spec, or the target's kustomization


def promote_spec(
    app: str, file: Path, text: str, from_env: str, to_env: str
) -> AppPromotion | None:
    """The edited spec, or None when ``to_env`` already has ``from_env``'s promoted values."""
    promoted = load_app(file, text).promote
    base, merged = environment_data(file, text)
    source, target = merged.get(from_env, base), merged.get(to_env, base)
    expected = copy.deepcopy(target)
    changes: list[FieldChange] = []
    writes: list[tuple[Keys, Any]] = []
    for path in promoted:
        value = _read(source, path, from_env, file)
        old = _read(target, path, to_env, file)
        if _same(value, old):
            continue
        changes.append(FieldChange(".".join(path), inline(old), inline(value)))
        writes.append((path, _exactly(value, _at(base, path))))
        _put(expected, path, value)
    if not changes:
        return None
    # A new field goes first in TO's override, a new key inside a field last: writing the
    # fields last to first, each one's keys in order, keeps the declared order in the file.
    fields = [path[0] for path in promoted]
    writes.sort(key=lambda write: -fields.index(write[0][0]))
    edited = text
    for path, value in writes:
        edited = set_override(edited, file, to_env, path, value)
    _verify(
        file,
        (base, merged),
        edited,
        from_env=from_env,
        to_env=to_env,
        expected=expected,
        changes=changes,
    )
    return AppPromotion(app, tuple(changes), edited)


def _at(data: Any, path: Keys) -> Any:
    """The value at ``path``; None where there is none (merged mappings hold no nulls)."""
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _read(data: dict[str, Any], path: Keys, env: str, file: Path) -> Any:
    for depth in range(1, len(path)):
        above = _at(data, path[:depth])
        if above is not None and not isinstance(above, dict):
            prefix = ".".join(path[:depth])
            raise OperationFailed(
                f"{file}: cannot promote {'.'.join(path)}: {prefix} is not a mapping in {env}",
                hint=f"promote {prefix} instead (in promote:)",
            )
    return _at(data, path)


def _exactly(value: Any, base: Any) -> Any:
    """What to write over ``base`` so that the merge gives exactly ``value``."""
    if not (isinstance(value, dict) and isinstance(base, dict)):
        return value
    written = {key: _exactly(value.get(key), inner) for key, inner in base.items()}
    written.update((key, inner) for key, inner in value.items() if key not in base)
    return written


def _put(data: dict[str, Any], path: Keys, value: Any) -> None:
    for key in path[:-1]:
        inner = data.get(key)
        if not isinstance(inner, dict):
            inner = data[key] = {}
        data = inner
    if value is None:
        data.pop(path[-1], None)
    else:
        data[path[-1]] = value


def _same(a: Any, b: Any) -> bool:
    # Not ==: true == 1 in Python, but an env value true renders as "true", 1 as "1".
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _verify(
    file: Path,
    before: tuple[dict[str, Any], dict[str, dict[str, Any]]],
    edited: str,
    *,
    from_env: str,
    to_env: str,
    expected: dict[str, Any],
    changes: list[FieldChange],
) -> None:
    targets = ", ".join(f"environments.{to_env}.{c.field}" for c in changes)
    try:
        load_app(file, edited)
    except InvalidInput as e:
        # The message names the file and the line of the offending field.
        message = f"writing {targets} would make the spec invalid: {e.message}"
        raise _by_hand(message, to_env, changes) from None
    base, merged = before
    new_base, new_merged = environment_data(file, edited)
    for env in sorted({"", *merged, *new_merged, to_env}):
        old = expected if env == to_env else merged.get(env, base)
        new = new_merged.get(env, new_base)
        if _same(old, new):
            continue
        keys = ", ".join(sorted(k for k in {*old, *new} if not _same(old.get(k), new.get(k))))
        fields = ", ".join(c.field for c in changes)
        if env == to_env:
            problem = f"would change {to_env} other than by taking {from_env}'s {fields}"
            problem += f" (its {keys} would differ)"
        else:
            who = f"environment {env}" if env else "the base spec"
            problem = f"would change more than {to_env}'s {fields}: also {keys} of {who}"
        raise _by_hand(f"{file}: writing {targets} {problem}", to_env, changes)


def _by_hand(message: str, to_env: str, changes: list[FieldChange]) -> OperationFailed:
    values = ", ".join(f"{c.field}: {c.after}" for c in changes)
    hint = f"edit environments.{to_env} by hand so that {to_env} gets {values}"
    return OperationFailed(message, hint=hint)
