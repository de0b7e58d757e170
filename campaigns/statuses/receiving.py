"""Receiving callbacks: store raw first, process in a task, replay on demand."""

from __future__ import annotations

import hmac
import itertools
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from campaigns import tasks
from campaigns.models import (
    RefusedCallback,
    WebhookDrain,
    WebhookEvent,
    WebhookState,
)
from campaigns.statuses.callbacks import (
    webhook_event_process,
    webhook_events_process_batch,
)
from campaigns.statuses.machine import parked_events_exist, parked_may_exist
from gupshup_admin.models import PartnerApp
from gupshup_admin.providers.masking import mask_value
from gupshup_admin.taskutils import enqueue_on_commit

logger = logging.getLogger(__name__)
REFUSED_SAMPLE_CHARS = 2000
REFUSED_LOG_EVERY = 1000
DRAIN_BATCH = 200
# Callbacks still unprocessed after this long get a drain from the tick.
DRAIN_STALL_SECONDS = 60
KEPT_HEADERS = ("content-type", "user-agent", "x-forwarded-for", "content-length")


# Callback secrets are remembered per process for a few seconds, so a flood of
# callbacks does not read and decrypt the app row each time. Saving an app
# forgets its entry in this process; other processes see a new secret within
# SECRET_CACHE_SECONDS.
SECRET_CACHE_SECONDS = 10.0
_secrets: dict[int, tuple[float, str]] = {}


def callback_secret(app_pk: int) -> str | None:
    """The app's callback secret ("" when it has none); None: no such app."""
    now = time.monotonic()
    cached = _secrets.get(app_pk)
    if cached is not None and cached[0] > now:
        return cached[1]
    app = PartnerApp.objects.filter(pk=app_pk).first()
    if app is None:
        return None  # not remembered: made-up app ids must not fill the cache
    _secrets[app_pk] = (now + SECRET_CACHE_SECONDS, app.callback_secret)
    return app.callback_secret


def callback_secret_forget(app_pk: int) -> None:
    _secrets.pop(app_pk, None)


def callback_secret_ok(secret: str | None, presented: str) -> bool:
    """Constant-time comparison with the app's callback secret."""
    return bool(presented and secret) and hmac.compare_digest(
        presented.encode(), str(secret).encode()
    )


def _text(body: bytes) -> str:
    """The body as storable text: bytes that are not UTF-8, and NUL (which
    PostgreSQL text cannot hold), become U+FFFD. Such a body is not valid JSON
    anyway; it is kept to be seen, and marked invalid by the drain."""
    return body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def _headers(headers: Mapping[str, str]) -> dict[str, str]:
    secret_header = settings.WEBHOOK_SECRET_HEADER.lower()
    kept = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower == secret_header:
            kept[name] = mask_value(value)
        elif lower in KEPT_HEADERS:
            kept[name] = value[:500].replace("\x00", "\ufffd")
    return kept


def webhook_receive(
    *,
    app_id: int,
    body: bytes,
    headers: Mapping[str, str],
    remote_addr: str | None,
) -> WebhookEvent:
    """Store an authenticated callback as it came and ask for it to be processed."""
    event = WebhookEvent.objects.create(
        partner_app_id=app_id,
        body=_text(body),
        headers=_headers(headers),
        remote_addr=remote_addr,
    )
    webhooks_drain_request()
    return event


def webhook_refuse(
    *,
    app_pk: int,
    app_exists: bool,
    body: bytes,
    headers: Mapping[str, str],
    remote_addr: str | None,
    reason: str,
) -> RefusedCallback:
    """Count a refused callback (wrong or missing secret, no such app) under its
    app, source and reason, keeping it as the latest sample; nothing is
    processed. One UPDATE per request once the source is known, so a flood
    cannot fill a table; logged when a source first appears and every
    REFUSED_LOG_EVERY after."""
    now = timezone.now()
    key = {
        "app_number": app_pk if app_exists else 0,
        "remote_addr": (remote_addr or "")[:45],
        "reason": reason[:100],
    }
    sample = {
        "sample_body": _text(body[:REFUSED_SAMPLE_CHARS]),
        "sample_headers": {**_headers(headers), "url_app_id": str(app_pk)},
        "last_at": now,
    }
    rows = RefusedCallback.objects.filter(**key)
    for _ in range(2):
        if rows.update(count=F("count") + 1, **sample):
            break
        try:
            with transaction.atomic():
                RefusedCallback.objects.create(
                    partner_app_id=app_pk if app_exists else None,
                    first_at=now,
                    **key,
                    **sample,
                )
        except IntegrityError:
            continue  # another request made it first: count on it
        logger.warning("Callback refused from %s: %s", remote_addr, reason)
        break
    refused = rows.get()
    if refused.count % REFUSED_LOG_EVERY == 0:
        logger.warning(
            "%d callbacks refused from %s: %s", refused.count, remote_addr, reason
        )
    return refused


def webhooks_drain_request() -> None:
    """Enqueue a drain unless one is already on its way: one UPDATE.

    The flag row is made after every `migrate` (`webhook_drain_row_ensure`); if
    it is missing anyway, or a requested drain never ran, the tick's
    `webhooks_drain_watchdog` requests one.
    """
    flipped = WebhookDrain.objects.filter(pk=1, requested=False).update(
        requested=True, requested_at=timezone.now()
    )
    if flipped:
        enqueue_on_commit(tasks.drain_webhooks)


def webhook_drain_row_ensure() -> None:
    WebhookDrain.objects.get_or_create(pk=1)


def webhooks_drain_watchdog(*, now: datetime | None = None) -> bool:
    """Request a drain, whatever the flag says, when callbacks have waited
    longer than DRAIN_STALL_SECONDS (a lost task, a worker that died in a
    drain, a missing flag row). Returns whether it did."""
    now = now or timezone.now()
    waited = now - timedelta(seconds=DRAIN_STALL_SECONDS)
    waiting = WebhookEvent.objects.filter(
        state=WebhookState.RECEIVED, received_at__lt=waited
    )
    if not waiting.exists():
        return False
    WebhookDrain.objects.update_or_create(
        pk=1, defaults={"requested": True, "requested_at": now}
    )
    logger.warning("Callbacks waited over %s s: drain requested", DRAIN_STALL_SECONDS)
    enqueue_on_commit(tasks.drain_webhooks)
    return True


def webhooks_drain() -> int:
    """Process every received callback, oldest first. Returns how many.

    The flag is reset first, so a callback stored while this runs either is
    seen here or requests a drain of its own: none is left behind.
    """
    WebhookDrain.objects.filter(pk=1).update(requested=False)
    done = 0
    while True:
        hint = parked_may_exist.set(parked_events_exist())
        try:
            batch = _drain_batch()
        finally:
            parked_may_exist.reset(hint)
        if not batch:
            return done
        done += batch


def _drain_batch() -> int:
    """Process up to DRAIN_BATCH received callbacks in one transaction."""
    with transaction.atomic():
        batch = list(
            WebhookEvent.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(state=WebhookState.RECEIVED)
            .select_related("partner_app")
            .order_by("pk")[:DRAIN_BATCH]
        )
        if batch:
            _process_batch_safely(batch)
    return len(batch)


def _process_batch_safely(batch: list[WebhookEvent]) -> None:
    """The batched path; if it breaks, each event alone, so one bad event
    cannot hold the others back."""
    try:
        with transaction.atomic():
            webhook_events_process_batch(events=batch)
    except Exception:
        logger.exception("A batch of %d callbacks fell back to one by one", len(batch))
        for event in batch:
            _process_safely(event)


def _process_safely(event: WebhookEvent) -> None:
    """A bug in processing must not lose the callback: it is marked, kept and
    can be replayed once fixed."""
    try:
        with transaction.atomic():
            webhook_event_process(event=event)
    except Exception as exc:
        logger.exception("Callback %s could not be processed", event.pk)
        WebhookEvent.objects.filter(pk=event.pk).update(
            state=WebhookState.INVALID,
            error=f"Processing failed: {type(exc).__name__}: {exc}",
            processed_at=timezone.now(),
        )


@dataclass(frozen=True)
class ReplayResult:
    events: int
    applied: int
    parked: int

    def __str__(self) -> str:
        return (
            f"{self.events} stored callback(s) processed again: {self.applied} "
            f"status change(s) applied, {self.parked} still waiting for their send"
        )


def webhooks_replay(
    *,
    app: PartnerApp | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> ReplayResult:
    """Process stored callbacks again. Idempotent."""
    events = WebhookEvent.objects.all()
    if app is not None:
        events = events.filter(partner_app=app)
    if since is not None:
        events = events.filter(received_at__gte=since)
    if until is not None:
        events = events.filter(received_at__lt=until)
    count = applied = parked = 0
    rows = events.select_related("partner_app").order_by("pk").iterator(DRAIN_BATCH)
    while batch := list(itertools.islice(rows, DRAIN_BATCH)):
        for result in webhook_events_process_batch(events=batch).values():
            count += 1
            applied += result.applied
            parked += result.parked
    return ReplayResult(count, applied, parked)
