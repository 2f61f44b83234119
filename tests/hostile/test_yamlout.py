"""Megabytes of text in one value are written within the bounds of every render.

A manifest may hold a large value (a certificate bundle, a script, a stranger's padding);
writing it out in kustomize's style (folded plain and quoted scalars, escapes, literal
blocks) must cost time in proportion to its size, not a Python step per character.
"""

from __future__ import annotations

import json

import pytest

from tests.hostile.conftest import Case
from tests.hostile.harness import MEMORY_MB, SECONDS

# Near the 8 MiB a file may hold once written as a JSON string.
_VALUES = {
    "plain-folded": "word " * 1_400_000,
    "single-quoted": "it's " * 1_400_000,
    "double-quoted-escapes": "a\tb\x07 " * 600_000,
    "astral": "🚀 x" * 1_000_000,
    "literal-lines": "line\n" * 1_000_000,
    "literal-carriage-returns": "a\r\n" * 1_000_000,
}


@pytest.mark.parametrize("value", list(_VALUES.values()), ids=list(_VALUES))
def test_a_huge_value_is_written_in_bounded_time(case: Case, value: str) -> None:
    case.write(
        "apps/web/big.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n"
        f"  value: {json.dumps(value, ensure_ascii=False)}\n",
    )
    run = case.hakobu("render")
    report = f"rc={run.returncode} in {run.seconds:.2f}s, {run.max_rss_mb:.0f} MB\n{run.stderr}"
    assert run.returncode == 0, report
    assert run.seconds < SECONDS, report
    assert run.max_rss_mb < MEMORY_MB, report
    written = (case.root / "generated/evaluation/web/configmap-big.yaml").read_text()
    assert len(written) > len(value)
