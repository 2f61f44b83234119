"""One set of Hypothesis settings for every fuzzer: deterministic, no example database.

CI runs the same examples on every run (``derandomize``), so a failure is reproducible from
the test's name alone and a green run means the same thing twice.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
