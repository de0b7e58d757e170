"""Helpers for django-tasks, which has no retries of its own: those are ours."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone


def enqueue_on_commit(task: Any, *args: Any) -> None:
    """Enqueue once the surrounding transaction commits (the rows exist by then)."""
    transaction.on_commit(lambda: task.enqueue(*args))


def enqueue_later(task: Any, delay_seconds: float, *args: Any) -> None:
    """Enqueue to run after a delay where the backend can defer; at once where it
    cannot (the immediate backend used in tests), so retries stay bounded by the
    caller's attempt count either way."""
    if task.get_backend().supports_defer:
        run_after = timezone.now() + timedelta(seconds=delay_seconds)
        task = task.using(run_after=run_after)
    transaction.on_commit(lambda: task.enqueue(*args))


def enqueue_at(task: Any, when: datetime, *args: Any) -> None:
    """Enqueue to run at `when` where the backend can defer (once committed);
    where it cannot, `manage.py campaigns_tick` picks the work up when due."""
    if task.get_backend().supports_defer:
        deferred = task.using(run_after=when)
        transaction.on_commit(lambda: deferred.enqueue(*args))
