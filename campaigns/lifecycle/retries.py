"""Sending again: retry failed recipients, and resolve unknown ones by hand.

Whatever is sent again is a new attempt (`SendAttempt`) with ids of its own;
the earlier attempts keep their history.

Both build on the lifecycle controls in `controls.py`: a completed
campaign runs again after its pre-flight, a running one gets fresh senders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, F, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.models import AuditAction
from campaigns.dispatch.slots import senders_ensure
from campaigns.lifecycle.controls import (
    STARTABLE,
    campaign_audit,
    campaign_preflight_or_refuse,
    campaign_to_running,
    transition_refused,
)
from campaigns.models import (
    AttemptStatus,
    Campaign,
    CampaignState,
    Recipient,
    RecipientStatus,
    SendAttempt,
)
from gupshup_admin.exceptions import ApplicationError
from gupshup_admin.providers.failure_codes import failure_explained


@dataclass(frozen=True)
class LeftOut:
    """Failed recipients whose failure will not change by sending again."""

    code: str
    label: str
    count: int


@dataclass(frozen=True)
class RetryPlan:
    """What "retry failed" would do with the failures ticked."""

    will_send: int
    left_out: list[LeftOut]
    including_permanent: bool = False

    @property
    def permanent(self) -> int:
        return sum(group.count for group in self.left_out)

    def reasons(self) -> str:
        return ", ".join(f"{group.label}: {group.count}" for group in self.left_out)

    def __str__(self) -> str:
        plural = "s" if self.will_send != 1 else ""
        sent = f"{self.will_send} recipient{plural} will be sent again"
        if not self.left_out:
            return f"{sent}."
        if self.including_permanent:
            return (
                f"{sent}, including {self.permanent} that failed for good "
                f"({self.reasons()})."
            )
        return f"{sent}, {self.permanent} left out ({self.reasons()})."


def _failed(campaign: Campaign, codes: Sequence[str]) -> QuerySet[Recipient]:
    rows = Recipient.objects.filter(campaign=campaign, status=RecipientStatus.FAILED)
    return rows.filter(error_code__in=list(codes)) if codes else rows


def _permanent_codes(rows: QuerySet[Recipient]) -> dict[str, int]:
    """The failures among `rows` that are permanent (the failure table's
    class), with how many recipients each."""
    counts = rows.values("error_code").annotate(n=Count("pk")).order_by()
    return {
        row["error_code"]: row["n"]
        for row in counts
        if failure_explained(row["error_code"]).kind == "permanent"
    }


def campaign_retry_preview(
    *,
    campaign: Campaign,
    codes: Sequence[str] = (),
    include_permanent: bool = False,
) -> RetryPlan:
    """What `campaign_retry_failed` would send again: failures that are
    permanent (not on WhatsApp, opted out, stopped marketing…) are left out
    unless `include_permanent`."""
    rows = _failed(campaign, codes)
    permanent = _permanent_codes(rows)
    left_out = [
        LeftOut(code, failure_explained(code).label, count)
        for code, count in sorted(permanent.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    total = rows.count()
    if include_permanent:
        return RetryPlan(total, left_out, including_permanent=True)
    return RetryPlan(total - sum(permanent.values()), left_out)


def campaign_retry_failed(
    *,
    campaign: Campaign,
    codes: Sequence[str] = (),
    user_id: int | None,
    include_permanent: int = 0,
) -> int:
    """Send the failed recipients with these error codes (all when empty) again,
    each as a new attempt.

    Recipients whose latest failure is permanent stay failed, unless
    `include_permanent` is the number of them that the approver was shown and
    confirmed. A completed campaign runs again; a paused one keeps them for its
    resume. Raises ApplicationError for a cancelled campaign, a failed
    pre-flight, or a confirmation that no longer matches.
    """
    if campaign.state in (CampaignState.CANCELLED, *STARTABLE):
        raise transition_refused(campaign, "retried")
    with transaction.atomic():
        rows = _failed(campaign, codes).select_for_update()
        plan = campaign_retry_preview(
            campaign=campaign, codes=codes, include_permanent=bool(include_permanent)
        )
        if include_permanent and include_permanent != plan.permanent:
            raise ApplicationError(
                f"{plan.permanent} of these recipients failed for good now, not "
                f"{include_permanent} as confirmed ({plan.reasons() or 'none'}). "
                "Look at the numbers again and confirm."
            )
        if not include_permanent:
            rows = rows.exclude(error_code__in=[g.code for g in plan.left_out])
        count = rows.update(
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
            summary = f"{count} failed recipient(s) sent again ({which})."
            if plan.left_out and include_permanent:
                summary += (
                    f" Included after confirmation: {plan.permanent} that failed "
                    f"for good ({plan.reasons()})."
                )
            elif plan.left_out:
                summary += f" Left out, failed for good: {plan.reasons()}."
            campaign_audit(campaign, user_id, AuditAction.CAMPAIGN_RETRIED, summary,
                   codes=list(codes), included_permanent=include_permanent)  # fmt: skip
    return count


def _send_again(campaign: Campaign, *, user_id: int | None) -> None:
    """Recipients became pending again: make sure someone sends them."""
    if campaign.state == CampaignState.COMPLETED:
        campaign_preflight_or_refuse(campaign, user_id=user_id)
        campaign_to_running(campaign, [CampaignState.COMPLETED], user_id=user_id)
    elif campaign.state == CampaignState.RUNNING:
        senders_ensure()  # the senders may have retired already


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
    latest = SendAttempt.objects.filter(
        pk__in=rows.values("latest_attempt_id"), status=AttemptStatus.UNKNOWN
    )
    if outcome == "submitted":
        latest.update(
            status=AttemptStatus.SUBMITTED,
            submitted_at=Coalesce(F("submitted_at"), F("created_at")),
            error_code="",
            error_message=note,
            updated_at=now,
        )
        return rows.update(
            status=RecipientStatus.SUBMITTED,
            error_code="",
            error_message=note,
            updated_at=now,
        )
    if outcome == "failed":
        failed = {"error_code": "operator", "error_message": note, "updated_at": now}
        latest.update(status=AttemptStatus.FAILED, failed_at=now, **failed)
        return rows.update(status=RecipientStatus.FAILED, **failed)
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
