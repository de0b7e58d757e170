"""Hypothesis settings for the bad-input tests.

A fixed seed (`derandomize`): the same examples every run, so the counts in
docs/faults.md change only when the tests or the code do. No example database
(nothing written into the tree). pytest-django wraps the whole test, every
example included, in one database transaction: each example makes its own rows
(a fresh campaign, a fresh callback) instead of relying on a clean database, so
the function-scoped fixtures are shared on purpose.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

BAD_INPUT = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
