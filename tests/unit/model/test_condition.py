"""Conditions on a query's result: what parses, what it decides, what it refuses."""

from __future__ import annotations

import pytest

from hakobu.model.condition import ConditionError, ConditionSyntaxError, parse_condition


@pytest.mark.parametrize(
    ("text", "result", "expected"),
    [
        ("result[0] >= 0.95", [0.97], True),
        ("result[0] >= 0.95", [0.90], False),
        ("result[0] < 1e-2", [0.001], True),
        ("result[1] == result[0]", [2.0, 2.0], True),
        ("len(result) == 0", [], True),
        ("result[0] > 0.5 and result[1] > 0.5", [0.6, 0.4], False),
        ("result[0] > 0.5 && result[1] > 0.5", [0.6, 0.6], True),
        ("result[0] > 0.5 or result[1] > 0.5", [0.1, 0.6], True),
        ("result[0] > 0.5 || result[1] > 0.5", [0.1, 0.1], False),
        ("not result[0] > 0.5", [0.1], True),
        ("!(result[0] > 0.5)", [0.9], False),
        ("(result[0] > 1 or result[0] < -1) and len(result) == 1", [-2.0], True),
        ("result[0] != -3", [-3.0], False),
    ],
)
def test_conditions_decide_on_the_result(text: str, result: list[float], expected: bool) -> None:
    assert parse_condition(text).holds(result) is expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("result[0] >=", "ends early"),
        ("result[0] >= 0.95)", "unexpected ')'"),
        ("result[0] = 1", "unexpected '='"),
        ("result[x] > 1", "expected an index"),
        ("result > 1", "expected '['"),
        ("nan > 1", "expected a number"),
        ("__import__('os') > 1", "unexpected"),
        ("result[0]", "ends early"),
        ("result[0] result[1]", "expected a comparison"),
        ("x" * 1001, "at most 1000"),
    ],
)
def test_what_does_not_parse_says_why(text: str, message: str) -> None:
    with pytest.raises(ConditionSyntaxError) as raised:
        parse_condition(text)
    assert message in str(raised.value)


def test_an_index_past_the_end_is_an_error_not_false() -> None:
    condition = parse_condition("not result[2] > 1")
    with pytest.raises(ConditionError, match=r"result\[2\] does not exist: the query returned 1"):
        condition.holds([5.0])
