"""Partner-app services that ask Gupshup about the app: its health and limits, its
templates, and the delivery-callback subscription.

Each goes through `with_app_client` (services.py), which supplies the token and
refreshes it once on a 401.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from audit.models import AuditAction
from audit.services import audit_record
from gupshup_admin.exceptions import ApplicationError
from gupshup_admin.models import HealthStatus, PartnerApp, Template
from gupshup_admin.providers.errors import ProviderError
from gupshup_admin.secret_ages import (
    SecretAge,
    partner_app_secret_ages,
    secret_age_warnings,
)
from gupshup_admin.services import (
    partner_app_mark_unhealthy,
    partner_app_set_health,
    with_app_client,
)


@dataclass(frozen=True)
class HealthReport:
    healthy: bool
    message: str
    # The age of each stored secret; those about to lapse are also in `message`.
    secrets: tuple[SecretAge, ...] = field(default=())


def partner_app_check_health(
    *, app: PartnerApp, user_id: int | None = None
) -> HealthReport:
    """Check the app's health and limits (tier, quality, TPS, balance) and the age
    of its secrets, and store it. A secret about to lapse (or past its end) is
    named in the message with what to do, whether the app is healthy or not.

    Never raises for provider trouble: the report says what went wrong.
    """
    report = _check_health(app, user_id)
    # After the calls: a token refreshed during them has a new age.
    ages = tuple(partner_app_secret_ages(app=app))
    message = " · ".join([report.message, *secret_age_warnings(ages)])
    if message != report.message:
        PartnerApp.objects.filter(pk=app.pk).update(health_message=message)
        app.health_message = message
    return HealthReport(report.healthy, message, ages)


def _check_health(app: PartnerApp, user_id: int | None) -> HealthReport:
    try:
        health = with_app_client(app=app, user_id=user_id, call=lambda c: c.health())
    except (ProviderError, ApplicationError) as exc:
        partner_app_mark_unhealthy(app, exc)
        return HealthReport(False, str(exc))
    if not health.healthy:
        message = "Gupshup says the app is not healthy."
        partner_app_set_health(app, HealthStatus.UNHEALTHY, message, {})
        return HealthReport(False, message)
    details, notes = _limits(app, user_id)
    message = "Healthy" + "".join(f" · {note}" for note in notes)
    partner_app_set_health(app, HealthStatus.HEALTHY, message, details)
    return HealthReport(True, message)


def _limits(
    app: PartnerApp, user_id: int | None
) -> tuple[dict[str, object], list[str]]:
    details: dict[str, object] = {}
    notes: list[str] = []
    try:
        waba = with_app_client(app=app, user_id=user_id, call=lambda c: c.waba_info())
        details.update(
            messaging_limit=waba.messaging_limit,
            phone_quality=waba.phone_quality,
            allowed_tps=waba.allowed_tps,
            can_send_message=waba.can_send_message,
        )
        notes.append(
            f"tier {waba.messaging_limit or '?'}, quality {waba.phone_quality or '?'}"
        )
        if waba.allowed_tps:
            notes.append(f"{waba.allowed_tps} msg/s allowed")
    except ProviderError as exc:
        notes.append(f"WABA info unavailable ({exc.message})")
    try:
        wallet = with_app_client(
            app=app, user_id=user_id, call=lambda c: c.wallet_balance()
        )
        details.update(balance=wallet.current_balance, currency=wallet.currency)
        notes.append(f"balance {wallet.current_balance:.2f} {wallet.currency}".rstrip())
    except ProviderError as exc:
        notes.append(f"wallet balance unavailable ({exc.message})")
    return details, notes


@dataclass(frozen=True)
class TemplateSyncResult:
    created: int
    updated: int
    gone: int

    def __str__(self) -> str:
        return (
            f"{self.created} new, {self.updated} updated, "
            f"{self.gone} no longer on Gupshup"
        )


def partner_app_sync_templates(
    *, app: PartnerApp, user_id: int | None = None
) -> TemplateSyncResult:
    """Copy the app's templates from Gupshup. Raises ProviderError, ApplicationError."""
    infos = with_app_client(app=app, user_id=user_id, call=lambda c: c.templates())
    now = timezone.now()
    created = updated = 0
    with transaction.atomic():
        for info in infos:
            _, was_created = Template.objects.update_or_create(
                app=app,
                gupshup_id=info.gupshup_id,
                defaults={
                    "element_name": info.element_name,
                    "language_code": info.language_code,
                    "category": info.category,
                    "template_type": info.template_type,
                    "status": info.status,
                    "body": info.body,
                    "slot_count": info.slot_count,
                    "header_type": info.header_type,
                    "container_meta": info.container_meta,
                    "rejected_reason": info.reason,
                    "synced_at": now,
                    "is_present": True,
                },
            )
            created += was_created
            updated += not was_created
        gone = (
            Template.objects.filter(app=app, is_present=True)
            .exclude(gupshup_id__in=[info.gupshup_id for info in infos])
            .update(is_present=False, synced_at=now)
        )
    return TemplateSyncResult(created=created, updated=updated, gone=gone)


CALLBACK_MODES = [
    "ENQUEUED",
    "SENT",
    "DELIVERED",
    "READ",
    "FAILED",
    "DELETED",
    "TEMPLATE",
    "ACCOUNT",
    "OTHERS",
]


def partner_app_callback_url(*, app: PartnerApp) -> str:
    """Where Gupshup should POST this app's callbacks (SITE_URL must be public)."""
    return f"{settings.SITE_URL}{reverse('webhooks:gupshup', args=[app.pk])}"


@sensitive_variables()  # every frame below may hold the plaintext
def partner_app_register_callback(
    *, app: PartnerApp, user_id: int | None = None
) -> str:
    """Subscribe the app's callbacks to this site, the secret in a `meta` header.

    Returns the URL registered. Raises ProviderError, ApplicationError.
    """
    url = partner_app_callback_url(app=app)
    with_app_client(
        app=app,
        user_id=user_id,
        call=lambda c: c.subscribe(
            url=url,
            modes=CALLBACK_MODES,
            tag="gupshup-admin",
            version=int(settings.GUPSHUP_CALLBACK_VERSION),
            meta={settings.WEBHOOK_SECRET_HEADER: app.callback_secret},
        ),
    )
    audit_record(
        actor_id=user_id,
        action=AuditAction.APP_CALLBACK_REGISTERED,
        target=app,
        summary=f"Delivery callbacks registered to {url}, with the app's callback "
        f"secret in the {settings.WEBHOOK_SECRET_HEADER} header.",
        details={"url": url, "header": settings.WEBHOOK_SECRET_HEADER},
    )
    return url
