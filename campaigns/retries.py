"""Sending again: retry failed recipients, and resolve unknown ones by hand.

Both build on the lifecycle controls in `campaigns/services.py`: a completed
campaign runs again after its pre-flight, a running one gets fresh senders.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from audit.models import AuditAction
from campaigns.models import Campaign, CampaignState, Recipient, RecipientStatus
from campaigns.services import (
    STARTABLE,
    campaign_audit,
    campaign_checked,
    campaign_go,
    campaign_senders_start,
    transition_refused,
)
from gupshup_admin.exceptions import ApplicationError


def _failed(campaign: Campaign, codes: Sequence[str]) -> QuerySet[Recipient]:
    rows = Recipient.objects.filter(campaign=campaign, status=RecipientStatus.FAILED)
    return rows.filter(error_code__in=list(codes)) if codes else rows


def campaign_retry_preview(*, campaign: Campaign, codes: Sequence[str] = ()) -> int:
    """How many failed recipients `campaign_retry_failed` would send again."""
    return _failed(campaign, codes).count()


def campaign_retry_failed(
    *, campaign: Campaign, codes: Sequence[str] = (), user_id: int | None
) -> int:
    """Send the failed recipients with these error codes (all when empty) again.

    A completed campaign runs again; a paused one keeps them for its resume.
    Raises ApplicationError for a cancelled campaign or a failed pre-flight.
    """
    if campaign.state in (CampaignState.CANCELLED, *STARTABLE):
        raise transition_refused(campaign, "retried")
    with transaction.atomic():
        count = _failed(campaign, codes).update(
            status=RecipientStatus.PENDING,
            retries=0,
            next_attempt_at=None,
            error_code="",
            error_message="",
            updated_at=timezone.now(),
        )
        if count:
            _send_again(campaign, user_id=user_id)
            which = ", ".join(codes) if codes else "any error"
            campaign_audit(campaign, user_id, AuditAction.CAMPAIGN_RETRIED,
                   f"{count} failed recipient(s) sent again ({which}).",
                   codes=list(codes))  # fmt: skip
    return count


def _send_again(campaign: Campaign, *, user_id: int | None) -> None:
    """Recipients became pending again: make sure someone sends them."""
    if campaign.state == CampaignState.COMPLETED:
        campaign_checked(campaign, user_id=user_id)
        campaign_go(campaign, [CampaignState.COMPLETED], user_id=user_id)
    elif campaign.state == CampaignState.RUNNING:
        campaign_senders_start(campaign)  # the old senders may have finished already


def recipients_resolve_unknown(
    *, recipients: QuerySet[Recipient], outcome: str, user_id: int | None
) -> int:
    """An operator settles "unknown" rows: `submitted` (it arrived), `failed`
    (it did not and should not be sent), or `resend` (it did not: send again)."""
    rows = recipients.filter(status=RecipientStatus.UNKNOWN)
    if outcome not in ("submitted", "failed", "resend"):
        raise ApplicationError(f"Unknown outcome {outcome!r}.")
    with transaction.atomic():
        _audit_resolved(rows, outcome, user_id)
        return _resolve(rows, outcome, user_id)


def _audit_resolved(
    rows: QuerySet[Recipient], outcome: str, user_id: int | None
) -> None:
    per_campaign = rows.values("campaign_id").annotate(n=Count("pk")).order_by()
    counts = {row["campaign_id"]: row["n"] for row in per_campaign}
    for campaign in Campaign.objects.filter(pk__in=counts):
        text = f"{counts[campaign.pk]} unknown send(s) resolved as {outcome}."
        campaign_audit(campaign, user_id, AuditAction.UNKNOWNS_RESOLVED, text)


def _resolve(rows: QuerySet[Recipient], outcome: str, user_id: int | None) -> int:
    note = f"Resolved by an operator as {outcome}."
    now = timezone.now()
    if outcome == "submitted":
        return rows.update(
            status=RecipientStatus.SUBMITTED, error_message=note, updated_at=now
        )
    if outcome == "failed":
        return rows.update(
            status=RecipientStatus.FAILED,
            error_code="operator",
            error_message=note,
            updated_at=now,
        )
    campaign_ids = set(rows.values_list("campaign_id", flat=True))
    stopped = Campaign.objects.filter(
        pk__in=campaign_ids, state__in=[CampaignState.CANCELLED, *STARTABLE]
    ).first()
    if stopped is not None:
        raise ApplicationError(
            f"{stopped} is {stopped.get_state_display().lower()}: nothing would send "
            "these recipients. Resolve them as arrived or failed instead."
        )
    with transaction.atomic():
        count = rows.update(
            status=RecipientStatus.PENDING,
            error_code="",
            error_message=note,
            updated_at=now,
        )
        for campaign in Campaign.objects.filter(pk__in=campaign_ids):
            _send_again(campaign, user_id=user_id)
    return count
