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
from gupshup_admin.providers.gupshup import TemplateInfo, WabaInfo
from gupshup_admin.providers.masking import mask_value
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
    healthy: bool  # usable: healthy, or healthy with warnings
    message: str
    status: str = HealthStatus.UNKNOWN
    # The age of each stored secret; those about to lapse are also in `message`.
    secrets: tuple[SecretAge, ...] = field(default=())


@dataclass
class _Findings:
    """What a health check learnt, sorted by what it means for sending."""

    details: dict[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # facts, shown
    warnings: list[str] = field(default_factory=list)  # shown, do not stop sends
    blockers: list[str] = field(default_factory=list)  # the app cannot send

    def verdict(self) -> tuple[str, str]:
        """(status, message) for the app."""
        facts = "".join(f" · {note}" for note in self.notes)
        if self.blockers:
            return HealthStatus.UNHEALTHY, "; ".join(self.blockers) + facts
        if self.warnings:
            warned = "; ".join(self.warnings)
            return HealthStatus.WARNING, f"Healthy, with warnings: {warned}{facts}"
        return HealthStatus.HEALTHY, "Healthy" + facts


def partner_app_check_health(
    *, app: PartnerApp, user_id: int | None = None
) -> HealthReport:
    """Check the app's health, what WhatsApp says of its number (waba/info:
    whether it may send, tier, quality, throughput), its balance and the age of
    its secrets; store it. A secret about to lapse (or past its end) is named in
    the message with what to do, whether the app is healthy or not.

    A number WhatsApp blocks is unhealthy whatever `health` says; quality RED or
    YELLOW, LIMITED sending or errors Meta reports are warnings (shown on the
    app's page and in pre-flight, not blocking). Never raises for provider
    trouble: the report says what went wrong.
    """
    report = _check_health(app, user_id)
    # After the calls: a token refreshed during them has a new age.
    ages = tuple(partner_app_secret_ages(app=app))
    message = " · ".join([report.message, *secret_age_warnings(ages)])
    if message != report.message:
        PartnerApp.objects.filter(pk=app.pk).update(health_message=message)
        app.health_message = message
    return HealthReport(report.healthy, message, report.status, secrets=ages)


def _check_health(app: PartnerApp, user_id: int | None) -> HealthReport:
    try:
        health = with_app_client(app=app, user_id=user_id, call=lambda c: c.health())
    except (ProviderError, ApplicationError) as exc:
        partner_app_mark_unhealthy(app, exc)
        return HealthReport(False, str(exc), HealthStatus.UNHEALTHY)
    if not health.healthy:
        message = "Gupshup says the app is not healthy."
        partner_app_set_health(app, HealthStatus.UNHEALTHY, message, {})
        return HealthReport(False, message, HealthStatus.UNHEALTHY)
    found = _Findings()
    _read_waba(app, user_id, found)
    _read_wallet(app, user_id, found)
    found.details["warnings"] = list(found.warnings)
    status, message = found.verdict()
    partner_app_set_health(app, status, message, found.details)
    return HealthReport(status in HealthStatus.usable(), message, status)


def _read_waba(app: PartnerApp, user_id: int | None, found: _Findings) -> None:
    try:
        waba = with_app_client(app=app, user_id=user_id, call=lambda c: c.waba_info())
    except ProviderError as exc:
        found.notes.append(f"WABA info unavailable ({exc.message})")
        return
    found.details.update(
        can_send_message=waba.can_send_message,
        messaging_limit=waba.messaging_limit,
        phone_quality=waba.phone_quality,
        throughput=waba.throughput,
        account_status=waba.account_status,
        verified_name=waba.verified_name,
        waba_id=waba.waba_id,
        mm_lite_status=waba.mm_lite_status,
        waba_errors=list(waba.errors),
    )
    found.notes.append(
        f"tier {waba.messaging_limit or '?'}, quality {waba.phone_quality or '?'}, "
        f"throughput {waba.throughput or '?'}"
    )
    _judge_waba(waba, found)


def _judge_waba(waba: WabaInfo, found: _Findings) -> None:
    said = f" (WhatsApp says: {'; '.join(waba.errors)})" if waba.errors else ""
    if waba.can_send_message == "BLOCKED":
        found.blockers.append(
            f"WhatsApp will not send from this number: canSendMessage is BLOCKED"
            f"{said}. Fix what it names in Meta's WhatsApp Manager or ask Gupshup "
            "support, then run 'Check health' again"
        )
        return
    if waba.can_send_message == "LIMITED":
        found.warnings.append(
            f"canSendMessage is LIMITED{said}: WhatsApp restricts what this number "
            "may send, so some messages may be refused"
        )
    elif waba.errors:
        found.warnings.append(f"WhatsApp reports problems{said}")
    quality = _QUALITY_WARNINGS.get(waba.phone_quality)
    if quality:
        found.warnings.append(f"phone quality is {waba.phone_quality}: {quality}")
    if waba.account_status not in ("", "ACTIVE"):
        found.warnings.append(
            f"the WhatsApp Business Account is {waba.account_status}, not ACTIVE"
        )


_QUALITY_WARNINGS = {
    "RED": "recipients block or report this number's messages; WhatsApp may lower "
    "its tier or stop it. Send only to people who expect the message and review "
    "the template",
    "YELLOW": "quality is falling; watch how people react to the template",
}


def _read_wallet(app: PartnerApp, user_id: int | None, found: _Findings) -> None:
    try:
        wallet = with_app_client(
            app=app, user_id=user_id, call=lambda c: c.wallet_balance()
        )
    except ProviderError as exc:
        found.notes.append(f"wallet balance unavailable ({exc.message})")
        return
    found.details.update(balance=wallet.current_balance, currency=wallet.currency)
    found.notes.append(
        f"balance {wallet.current_balance:.2f} {wallet.currency}".rstrip()
    )


@dataclass(frozen=True)
class TemplateSyncResult:
    created: int
    changed: int
    unchanged: int
    gone: int  # were on Gupshup at the last sync, are not now
    # What changed, for the message: names, with the status move when there is one.
    changes: tuple[str, ...] = ()

    def __str__(self) -> str:
        if not (self.created or self.changed or self.gone):
            return f"nothing changed ({self.unchanged} templates as before)"
        shown = ", ".join(self.changes[:5]) + (", …" if len(self.changes) > 5 else "")
        parts = [
            f"{self.created} new" if self.created else "",
            f"{self.changed} changed ({shown})" if self.changed else "",
            f"{self.unchanged} unchanged" if self.unchanged else "",
            f"{self.gone} no longer on Gupshup" if self.gone else "",
        ]
        return ", ".join(part for part in parts if part)


def partner_app_sync_templates(
    *, app: PartnerApp, user_id: int | None = None
) -> TemplateSyncResult:
    """Copy the app's templates from Gupshup, counting what is new, changed,
    unchanged and gone. Raises ProviderError, ApplicationError."""
    infos = {
        info.gupshup_id: info
        for info in with_app_client(
            app=app, user_id=user_id, call=lambda c: c.templates()
        )
    }
    now = timezone.now()
    created: list[Template] = []
    changes: list[str] = []
    unchanged: list[int] = []
    with transaction.atomic():
        rows = {t.gupshup_id: t for t in Template.objects.filter(app=app)}
        for gupshup_id, info in infos.items():
            values = _template_values(info)
            row = rows.get(gupshup_id)
            if row is None:
                created.append(
                    Template(app=app, gupshup_id=gupshup_id, synced_at=now, **values)
                )
            elif row.is_present and all(
                getattr(row, name) == value for name, value in values.items()
            ):
                unchanged.append(row.pk)
            else:
                changes.append(_change(row, info))
                Template.objects.filter(pk=row.pk).update(
                    **values, is_present=True, synced_at=now
                )
        Template.objects.bulk_create(created)
        # Seen again: their synced_at says when Gupshup last listed them.
        Template.objects.filter(pk__in=unchanged).update(synced_at=now)
        gone = (
            Template.objects.filter(app=app, is_present=True)
            .exclude(gupshup_id__in=infos)
            .update(is_present=False, synced_at=now)
        )
    return TemplateSyncResult(
        created=len(created),
        changed=len(changes),
        unchanged=len(unchanged),
        gone=gone,
        changes=tuple(changes),
    )


def _template_values(info: TemplateInfo) -> dict[str, object]:
    return {
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
    }


def _change(row: Template, info: TemplateInfo) -> str:
    if row.status != info.status:
        return f"{info.element_name}: {row.status or '?'} → {info.status or '?'}"
    return info.element_name


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
    """Where Gupshup should POST this app's callbacks (SITE_URL must be public):
    the URL carries the app's callback secret, so it authenticates on its own."""
    path = reverse("webhooks:gupshup-token", args=[app.pk, app.callback_secret])
    return f"{settings.SITE_URL}{path}"


@sensitive_variables()  # every frame below may hold the plaintext
def partner_app_register_callback(
    *, app: PartnerApp, user_id: int | None = None
) -> str:
    """Subscribe the app's callbacks to this site. The app's secret goes both in
    the URL and in a header (the subscription's `meta`), so either alone lets
    a callback in.

    Returns the URL registered with its secret masked, for showing. Raises
    ProviderError, ApplicationError.
    """
    secret = app.callback_secret
    url = partner_app_callback_url(app=app)
    header = settings.WEBHOOK_SECRET_HEADER
    with_app_client(
        app=app,
        user_id=user_id,
        call=lambda c: c.subscribe(
            url=url,
            modes=CALLBACK_MODES,
            tag="gupshup-admin",
            version=int(settings.GUPSHUP_CALLBACK_VERSION),
            headers={header: secret},
            secrets=[secret],
        ),
    )
    shown = url.replace(secret, mask_value(secret))
    audit_record(
        actor_id=user_id,
        action=AuditAction.APP_CALLBACK_REGISTERED,
        target=app,
        summary=f"Delivery callbacks registered to {shown}, with the app's callback "
        f"secret in the URL and in the {header} header.",
        details={"url": shown, "header": header},
    )
    return shown
