"""Four-eyes: a campaign with more recipients than `CAMPAIGN_APPROVAL_THRESHOLD`
starts only once someone other than its author has approved exactly what it
will send.

An approval freezes the audience and the content: it stores the recipient count
and a fingerprint of what recipients receive: the app, the kind, the template
and its version (body, slots, header, buttons), the image's bytes (their
sha256) and how they go out (uploaded from the library, or fetched by Gupshup
from the file's public link), the caption and the recipients.
Loading more recipients or editing what is sent after the approval voids it (the
author is not refused: late numbers are normal, but they need a second look); a
campaign that changed in any other way fails the fingerprint check at start and
its approval is voided then. A rejection, with its reason, blocks the start until
an approver approves it, whatever the size.

Authors are the campaign's creator, everyone who loaded recipients into it and
everyone who edited it; none of them may approve or reject it, not even a
superuser.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from audit.models import AuditAction
from audit.selectors import audit_events_for
from audit.services import audit_record
from campaigns.models import ApprovalState, Campaign, CampaignState
from gupshup_admin.exceptions import ApplicationError
from gupshup_admin.roles import APPROVE, Person

DECIDABLE = [CampaignState.DRAFT, CampaignState.SCHEDULED]


@dataclass(frozen=True)
class Audience:
    count: int
    last_pk: int


def campaign_audience(*, campaign: Campaign) -> Audience:
    """How many recipients, and the newest one's id (rows are only ever added)."""
    row = campaign.recipients.aggregate(n=Count("pk"), last=Max("pk"))
    return Audience(count=row["n"], last_pk=row["last"] or 0)


def campaign_fingerprint(
    *, campaign: Campaign, audience: Audience | None = None
) -> str:
    """A hash of what recipients receive and who they are: the app, the kind,
    the template with its version, the image's bytes and how they are sent, the
    caption and the recipients (their params are frozen on rows that are never
    edited, so the count and the newest id stand for them)."""
    audience = audience or campaign_audience(campaign=campaign)
    template = campaign.template
    image = campaign_image_sent(campaign=campaign)
    parts = {
        "app": campaign.partner_app_id,
        "kind": campaign.kind,
        "template": [
            template.pk,
            template.gupshup_id,
            template.language_code,
            template.body,
            template.slot_count,
            template.header_type,
            template.container_meta,
        ]
        if template
        else None,
        "media": [campaign.media_file_id, image.sha256, image.link],
        "caption": campaign.caption,
        "audience": [audience.count, audience.last_pk],
    }
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class ImageSent:
    """How a campaign's image reaches recipients."""

    sha256: str  # the bytes in the library
    link: str  # the public link Gupshup fetches, or "" when the bytes are uploaded

    @property
    def by_link(self) -> bool:
        return bool(self.link)


def campaign_image_sent(*, campaign: Campaign) -> ImageSent:
    """A file with a public link is mirrored by that link (Gupshup fetches it),
    and sent by it when no media id is valid: recipients get what it serves.
    Without one, the library's bytes are uploaded."""
    media = campaign.media_file
    return ImageSent(sha256=media.sha256, link=media.public_url or "")


@dataclass(frozen=True)
class ApprovalStatus:
    needed: bool  # above the threshold
    recipients: int
    threshold: int
    state: str
    current: bool  # approved, and nothing changed since
    blocks_start: bool
    message: str


def campaign_approval_status(*, campaign: Campaign) -> ApprovalStatus:
    """Whether the campaign may start as far as approval goes, said plainly."""
    audience = campaign_audience(campaign=campaign)
    threshold = settings.CAMPAIGN_APPROVAL_THRESHOLD
    needed = threshold > 0 and audience.count > threshold
    state = campaign.approval
    current = state == ApprovalState.APPROVED and (
        campaign.approval_fingerprint
        == campaign_fingerprint(campaign=campaign, audience=audience)
    )
    blocks = state == ApprovalState.REJECTED or (needed and not current)
    message = _message(campaign, audience.count, threshold, needed, current)
    return ApprovalStatus(
        needed, audience.count, threshold, state, current, blocks, message
    )


def _message(
    campaign: Campaign, count: int, threshold: int, needed: bool, current: bool
) -> str:
    who = _name(campaign.approval_by) if campaign.approval_by_id else "someone"
    if campaign.approval == ApprovalState.REJECTED:
        return (
            f"{campaign} was rejected by {who}: {campaign.approval_note} Change it "
            "and ask an approver to look again."
        )
    if current:
        when = timezone.localtime(campaign.approval_at).strftime("%Y-%m-%d %H:%M")
        return (
            f"Approved by {who} on {when} for {campaign.approved_recipients} "
            "recipient(s)."
        )
    if not needed:
        return ""
    why = f"it has {count} recipients, more than the approval threshold of {threshold}"
    if campaign.approval == ApprovalState.APPROVED:
        return (
            f"The campaign changed after {who} approved it and {why}: it needs "
            "approval again before it can start."
        )
    if campaign.approval == ApprovalState.VOIDED:
        return (
            f"The approval was voided ({campaign.approval_note}) and {why}: it needs "
            "approval again before it can start."
        )
    return (
        f"{campaign} needs approval before it can start: {why}. Someone other than "
        "its author, with the Approver role, must approve it."
    )


def _name(user: object) -> str:
    return user.get_username() if isinstance(user, AbstractBaseUser) else "someone"


def campaign_approval_check(*, campaign: Campaign) -> bool:
    """Refuse to start a campaign whose approval is missing, stale or rejected.

    Returns whether an approval was needed. A stale approval (the campaign
    changed since) is voided. Raises ApplicationError saying why.
    """
    status = campaign_approval_status(campaign=campaign)
    if status.state == ApprovalState.APPROVED and not status.current:
        campaign_approval_void(
            campaign=campaign,
            user_id=None,
            reason="the campaign changed after it was approved",
        )
    if status.blocks_start:
        raise ApplicationError(status.message)
    return status.needed


def campaign_approval_recheck_locked(*, campaign: Campaign) -> None:
    """Inside the transaction that starts or schedules the campaign: lock its row
    (a recipient import holds it while it adds rows and voids the approval) and
    check again, so rows loaded meanwhile cannot slip out unapproved."""
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    status = campaign_approval_status(campaign=locked)
    if status.blocks_start:
        raise ApplicationError(status.message)


def campaign_authors(*, campaign: Campaign) -> set[int]:
    """The ids of who created the campaign, loaded its recipients or edited it
    (the audit trail's "edited" lines)."""
    loaders = campaign.imports.exclude(created_by=None).values_list(
        "created_by_id", flat=True
    )
    editors = (
        audit_events_for(target=campaign)
        .filter(action=AuditAction.CAMPAIGN_EDITED)
        .exclude(actor=None)
        .values_list("actor_id", flat=True)
    )
    people = [campaign.created_by_id, *loaders, *editors]
    return {pk for pk in people if pk is not None}


def _may_decide(campaign: Campaign, user: Person, doing: str) -> None:
    if not user.has_perm(APPROVE):
        raise ApplicationError(f"You may not {doing} campaigns: ask an approver.")
    if user.pk in campaign_authors(campaign=campaign):
        raise ApplicationError(
            f"You may not {doing} {campaign}: you created it, loaded its "
            "recipients or edited it, and four eyes means someone else decides."
        )
    if campaign.state not in DECIDABLE:
        raise ApplicationError(
            f"{campaign} is {campaign.get_state_display().lower()}: only a draft or "
            f"scheduled campaign can be {doing}d."
        )


def campaign_approve(*, campaign: Campaign, user: Person, fingerprint: str) -> Campaign:
    """Approve what the approver saw (`fingerprint`, from the approval screen).

    Raises ApplicationError for the author, for someone without the permission,
    for a campaign that is not a draft or scheduled or has no recipients, and
    when the campaign changed since the screen was shown.
    """
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        _may_decide(locked, user, "approve")
        audience = campaign_audience(campaign=locked)
        if not audience.count:
            raise ApplicationError("There is nothing to approve: load recipients.")
        current = campaign_fingerprint(campaign=locked, audience=audience)
        if fingerprint != current:
            raise ApplicationError(
                f"{campaign} changed while you were reviewing it (recipients loaded "
                "or content edited): look at it again, then approve."
            )
        Campaign.objects.filter(pk=campaign.pk).update(
            approval=ApprovalState.APPROVED,
            approval_by_id=user.pk,
            approval_at=timezone.now(),
            approval_note="",
            approved_recipients=audience.count,
            approval_fingerprint=current,
        )
        audit_record(
            actor_id=user.pk,
            action=AuditAction.CAMPAIGN_APPROVED,
            target=campaign,
            summary=f"Approved for {audience.count} recipient(s).",
            details={"recipients": audience.count, "fingerprint": current},
        )
    campaign.refresh_from_db()
    return campaign


def campaign_reject(*, campaign: Campaign, user: Person, reason: str) -> Campaign:
    """Reject with a reason the author will read; a scheduled campaign goes back
    to draft. Raises ApplicationError as `campaign_approve` does, or when the
    reason is empty."""
    reason = " ".join(reason.split())
    if not reason:
        raise ApplicationError("Say why it is rejected, so the author can fix it.")
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        _may_decide(locked, user, "reject")
        Campaign.objects.filter(pk=campaign.pk).update(
            approval=ApprovalState.REJECTED,
            approval_by_id=user.pk,
            approval_at=timezone.now(),
            approval_note=reason,
            approval_fingerprint="",
        )
        Campaign.objects.filter(pk=campaign.pk, state=CampaignState.SCHEDULED).update(
            state=CampaignState.DRAFT, state_reason=f"Rejected: {reason}"
        )
        audit_record(
            actor_id=user.pk,
            action=AuditAction.CAMPAIGN_REJECTED,
            target=campaign,
            summary=f"Rejected: {reason}"[:500],
            details={"reason": reason},
        )
    campaign.refresh_from_db()
    return campaign


def campaign_approval_void(
    *, campaign: Campaign, user_id: int | None, reason: str
) -> bool:
    """Void a current approval because the campaign changed; a scheduled campaign
    that needs approval goes back to draft. Returns whether one was voided."""
    with transaction.atomic():
        voided = Campaign.objects.filter(
            pk=campaign.pk, approval=ApprovalState.APPROVED
        ).update(
            approval=ApprovalState.VOIDED, approval_note=reason, approval_fingerprint=""
        )
        if not voided:
            return False
        threshold = settings.CAMPAIGN_APPROVAL_THRESHOLD
        if threshold and campaign_audience(campaign=campaign).count > threshold:
            Campaign.objects.filter(
                pk=campaign.pk, state=CampaignState.SCHEDULED
            ).update(
                state=CampaignState.DRAFT,
                state_reason=f"Back to draft: {reason}; it needs approval again.",
            )
        audit_record(
            actor_id=user_id,
            action=AuditAction.APPROVAL_VOIDED,
            target=campaign,
            summary=f"Approval voided: {reason}."[:500],
            details={"reason": reason},
        )
    campaign.refresh_from_db()
    return True
