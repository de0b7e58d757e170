"""Campaign services: start, schedule, pause, resume, cancel.

Every transition is one conditional UPDATE (`filter(state=…).update(…)`), so two
people (or a person and a worker) pressing buttons at once cannot both win.
Retrying failed recipients and resolving unknown ones: `retries.py`.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from audit.models import AuditAction
from audit.services import audit_record
from campaigns import tasks
from campaigns.dispatch.sender import campaign_complete
from campaigns.dispatch.slots import senders_ensure
from campaigns.lifecycle.approvals import (
    campaign_approval_check,
    campaign_approval_recheck_locked,
)
from campaigns.lifecycle.preflight import Preflight, campaign_preflight
from campaigns.models import (
    Campaign,
    CampaignState,
    Recipient,
    RecipientStatus,
)
from gupshup_admin.exceptions import ApplicationError
from gupshup_admin.taskutils import enqueue_at
from media_library import services as media_services

STARTABLE = [CampaignState.DRAFT, CampaignState.SCHEDULED]


def campaign_audit(
    campaign: Campaign, user_id: int | None, action: AuditAction, summary: str,
    **details: object,
) -> None:  # fmt: skip
    audit_record(
        actor_id=user_id, action=action, target=campaign, summary=summary,
        details=details,
    )  # fmt: skip


def transition_refused(campaign: Campaign, doing: str) -> ApplicationError:
    return ApplicationError(
        f"{campaign} is {campaign.get_state_display().lower()}; it cannot be {doing}."
    )


def campaign_preflight_or_refuse(
    campaign: Campaign, *, user_id: int | None
) -> Preflight:
    """Run pre-flight; refuse with every failed check, said plainly.

    When only the media id is missing or expires too soon, it is mirrored again
    at once, so that a minute later the same button works.
    """
    result = campaign_preflight(campaign=campaign)
    failures = result.failures()
    if not failures:
        return result
    lines = [check.message for check in failures]
    # A media id can be made again for a CAPI app only (the others send by link).
    refresh = campaign.partner_app.is_capi and any(
        check.name == "media" for check in failures
    )
    if refresh:
        media_services.media_ensure_fresh(
            media_file=campaign.media_file,
            app=campaign.partner_app,
            until=result.last_due_at or timezone.now(),
            user_id=user_id,
        )
        lines.append("A fresh media id is being made now; try again in a minute.")
    raise ApplicationError(
        "The campaign cannot start: " + " ".join(lines), extra={"preflight": result}
    )


def campaign_start(
    *, campaign: Campaign, user_id: int | None, confirm_late: bool = False
) -> Preflight:
    """Start now, or schedule when `scheduled_at` is in the future.

    Raises ApplicationError when the campaign needs an approval it does not have
    (`approvals.py`), naming each failed pre-flight check, or when a late
    scheduled start needs confirmation.
    """
    return _start(campaign, user_id=user_id, confirm_late=confirm_late)


def _start(
    campaign: Campaign,
    *,
    user_id: int | None,
    confirm_late: bool,
    on_schedule: bool = False,
) -> Preflight:
    if campaign.state not in STARTABLE:
        raise transition_refused(campaign, "started")
    campaign_approval_check(campaign=campaign)
    result = campaign_preflight_or_refuse(campaign, user_id=user_id)
    now = timezone.now()
    if campaign.scheduled_at and campaign.scheduled_at > now:
        _schedule(campaign, user_id)
        return result
    if result.needs_confirmation and not confirm_late:
        raise ApplicationError(result.needs_confirmation, extra={"preflight": result})
    summary = "Started on schedule." if on_schedule else "Started."
    campaign_to_running(
        campaign,
        STARTABLE,
        user_id=user_id,
        started=True,
        action=AuditAction.CAMPAIGN_STARTED,
        summary=f"{summary} {result.pending} recipient(s) to send.",
        actor_id=None if on_schedule else user_id,
    )
    return result


def _schedule(campaign: Campaign, user_id: int | None) -> None:
    assert campaign.scheduled_at is not None
    with transaction.atomic():
        campaign_approval_recheck_locked(campaign=campaign)
        moved = Campaign.objects.filter(pk=campaign.pk, state__in=STARTABLE).update(
            state=CampaignState.SCHEDULED, started_by_id=user_id, state_reason=""
        )
        if not moved:
            raise transition_refused(campaign, "scheduled")
        when = timezone.localtime(campaign.scheduled_at).strftime("%Y-%m-%d %H:%M %Z")
        campaign_audit(campaign, user_id, AuditAction.CAMPAIGN_SCHEDULED,
               f"Scheduled to start at {when}.")  # fmt: skip
        enqueue_at(tasks.start_scheduled_campaign, campaign.scheduled_at, campaign.pk)
    campaign.refresh_from_db()


def campaign_start_scheduled(*, campaign: Campaign) -> bool:
    """The schedule came due: start, or wait for confirmation with the reason."""
    if campaign.state != CampaignState.SCHEDULED:
        return False
    if campaign.scheduled_at and campaign.scheduled_at > timezone.now():
        return False
    try:
        _start(
            campaign,
            user_id=campaign.started_by_id,
            confirm_late=False,
            on_schedule=True,
        )
    except ApplicationError as exc:
        Campaign.objects.filter(pk=campaign.pk, state=CampaignState.SCHEDULED).update(
            state=CampaignState.DRAFT, state_reason=f"Did not start: {exc.message}"
        )
        return False
    return True


def campaign_to_running(
    campaign: Campaign,
    from_states: Sequence[str],
    *,
    user_id: int | None,
    started: bool = False,
    action: AuditAction | None = None,
    summary: str = "",
    actor_id: int | None = None,
) -> None:
    """Move to running and start the senders, in one transaction; a first start
    checks the approval again under the row lock. Writes `action` to the audit
    trail, by `actor_id` (None: the system)."""
    changes: dict[str, object] = {
        "state": CampaignState.RUNNING,
        "state_reason": "",
        "auth_failures": 0,
        "finished_at": None,
    }
    if started:
        changes.update(started_by_id=user_id, started_at=timezone.now())
    with transaction.atomic():
        if started:
            campaign_approval_recheck_locked(campaign=campaign)
        moved = Campaign.objects.filter(pk=campaign.pk, state__in=from_states).update(
            **changes
        )
        if not moved:
            raise transition_refused(campaign, "started")
        if action is not None:
            campaign_audit(campaign, actor_id, action, summary)
        senders_ensure()
    campaign.refresh_from_db()


def campaign_pause(*, campaign: Campaign, user_id: int | None) -> None:
    """Running → paused; senders stop before their next send."""
    with transaction.atomic():
        paused = Campaign.objects.filter(
            pk=campaign.pk, state=CampaignState.RUNNING
        ).update(state=CampaignState.PAUSED, state_reason="Paused by an operator.")
        if not paused:
            raise transition_refused(campaign, "paused")
        campaign_audit(campaign, user_id, AuditAction.CAMPAIGN_PAUSED, "Paused.")
    campaign.refresh_from_db()


def campaign_resume(*, campaign: Campaign, user_id: int | None) -> None:
    """Paused → running, after the pre-flight checks pass again."""
    if campaign.state != CampaignState.PAUSED:
        raise transition_refused(campaign, "resumed")
    resumed = AuditAction.CAMPAIGN_RESUMED
    if not _open_rows(campaign).exists():
        campaign_to_running(
            campaign,
            [CampaignState.PAUSED],
            user_id=user_id,
            action=resumed,
            summary="Resumed; nothing was left.",
            actor_id=user_id,
        )
        campaign_complete(campaign)
        campaign.refresh_from_db()
        return
    campaign_preflight_or_refuse(campaign, user_id=user_id)
    campaign_to_running(
        campaign,
        [CampaignState.PAUSED],
        user_id=user_id,
        action=resumed,
        summary="Resumed.",
        actor_id=user_id,
    )


def campaign_cancel(*, campaign: Campaign, user_id: int | None) -> int:
    """Stop for good; recipients not yet sent are cancelled. Returns how many."""
    with transaction.atomic():
        stopped = Campaign.objects.filter(
            pk=campaign.pk,
            state__in=[*STARTABLE, CampaignState.RUNNING, CampaignState.PAUSED],
        ).update(
            state=CampaignState.CANCELLED,
            finished_at=timezone.now(),
            state_reason="Cancelled by an operator.",
        )
        if not stopped:
            raise transition_refused(campaign, "cancelled")
        cancelled = Recipient.objects.filter(
            campaign=campaign, status=RecipientStatus.PENDING
        ).update(status=RecipientStatus.CANCELLED, updated_at=timezone.now())
        campaign_audit(campaign, user_id, AuditAction.CAMPAIGN_CANCELLED,
               f"Cancelled; {cancelled} recipient(s) will not be sent.")  # fmt: skip
    campaign.refresh_from_db()
    return cancelled


def _open_rows(campaign: Campaign) -> QuerySet[Recipient]:
    return Recipient.objects.filter(
        campaign=campaign,
        status__in=[RecipientStatus.PENDING, RecipientStatus.SENDING],
    )
