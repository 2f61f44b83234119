"""What an environment's ``ignoreDifferences`` take out of a manifest whose object exists,
before it is applied and compared (pure): hakobu stops owning those fields, so whoever
sets them keeps them, and they are never drift (``hakobu.model.ignoredifferences``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hakobu.model.ignoredifferences import IgnoreRule
from hakobu.model.objects import Object
from hakobu.sync.policy import managers_fields, without_fields


def ignoring(desired: Object, live: Object, rules: Sequence[IgnoreRule]) -> Object:
    """``desired`` less the fields the rules matching it name."""
    matching = [rule for rule in rules if rule.matches(desired)]
    if not matching:
        return desired
    result = desired
    managers = {manager for rule in matching for manager in rule.managers}
    if managers:
        result = without_fields(result, managers_fields(live, managers))
    for rule in matching:
        for tokens in rule.json_pointers:
            result = _removed(result, tokens)
    return result


def _removed(value: Any, tokens: tuple[str, ...]) -> Any:
    """``value`` without the member ``tokens`` lead to, copied only along that path;
    ``value`` itself when there is no such member."""
    head, rest = tokens[0], tokens[1:]
    if isinstance(value, dict):
        if head not in value:
            return value
        if not rest:
            return {key: item for key, item in value.items() if key != head}
        return {**value, head: _removed(value[head], rest)}
    if isinstance(value, list) and head.isdigit() and int(head) < len(value):
        index = int(head)
        inner = [] if not rest else [_removed(value[index], rest)]
        return [*value[:index], *inner, *value[index + 1 :]]
    return value
