"""Making and editing draft campaigns, each change written to the audit trail."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction

from audit.models import AuditAction
from audit.services import audit_record
from campaigns.lifecycle.approvals import campaign_approval_void
from campaigns.models import Campaign
from gupshup_admin.models import PartnerApp, Template
from media_library.models import MediaFile

# What an approver approves; a change to any of these voids the approval.
CONTENT_FIELDS = ("partner_app", "kind", "template", "media_file", "caption")


def campaign_create(
    *,
    user_id: int | None,
    name: str,
    partner_app: PartnerApp,
    kind: str,
    media_file: MediaFile,
    template: Template | None = None,
    caption: str = "",
    scheduled_at: datetime | None = None,
) -> Campaign:
    """A new draft campaign (the form checked that its parts fit together)."""
    with transaction.atomic():
        campaign = Campaign.objects.create(
            name=name,
            partner_app=partner_app,
            kind=kind,
            template=template,
            media_file=media_file,
            caption=caption,
            scheduled_at=scheduled_at,
            created_by_id=user_id,
        )
        audit_record(
            actor_id=user_id,
            action=AuditAction.CAMPAIGN_CREATED,
            target=campaign,
            summary=f"Created: {campaign.get_kind_display()} through {partner_app}.",
            details={
                "partner_app": partner_app.pk,
                "kind": kind,
                "template": template.pk if template else None,
                "media_file": media_file.pk,
            },
        )
    return campaign


def campaign_update(
    *, campaign: Campaign, changed: Sequence[str], user_id: int | None
) -> Campaign:
    """Save edits made to a campaign (`changed`: the names of the fields).

    A change to what is sent (app, kind, template, image, caption) voids the
    campaign's approval.
    """
    # Only the edited columns are written: the approval columns may have moved
    # since the form was loaded, and a stale copy must not overwrite them.
    columns = {f.name for f in Campaign._meta.concrete_fields}
    changed = [name for name in changed if name in columns]
    if not changed:
        return campaign
    with transaction.atomic():
        campaign.save(update_fields=changed)
        audit_record(
            actor_id=user_id,
            action=AuditAction.CAMPAIGN_EDITED,
            target=campaign,
            summary=f"Edited: {', '.join(changed)}.",
            details={"fields": list(changed)},
        )
        content = [name for name in changed if name in CONTENT_FIELDS]
        if content:
            campaign_approval_void(
                campaign=campaign,
                user_id=user_id,
                reason=f"{', '.join(content)} changed after the approval",
            )
    return campaign
