"""What the start page at `/` shows: what the signed-in person can act on now,
by their role, as counted tiles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditAction, AuditEvent
from campaigns.models import ApprovalState, Campaign, CampaignState, RecipientImport
from gupshup_admin.roles import APPROVE, Person
from media_library.models import MediaState, ProviderMedia

EXPIRING_WITHIN = timedelta(days=3)


@dataclass(frozen=True)
class Tile:
    key: str
    label: str
    count: int
    url: str
    help: str = ""


def start_tiles(*, user: Person) -> list[Tile]:
    """Counts of what this person may see or act on, each linking to the list."""
    tiles: list[Tile] = []
    campaigns_url = reverse("campaigns:list")
    if user.has_perm("campaigns.view_campaign"):
        states = dict(
            Campaign.objects.values_list("state")
            .annotate(n=Count("pk"))
            .values_list("state", "n")
        )
        for state, label in [
            (CampaignState.RUNNING, "Running"),
            (CampaignState.PAUSED, "Paused"),
            (CampaignState.SCHEDULED, "Scheduled"),
            (CampaignState.DRAFT, "Drafts"),
        ]:
            url = f"{campaigns_url}?state={state}"
            tiles.append(Tile(state, label, states.get(state, 0), url))
    if user.has_perm(APPROVE):
        waiting = _waiting_for(user)
        tiles.append(
            Tile(
                "approval",
                "Waiting for your approval",
                len(waiting),
                reverse("campaigns:approve", args=[waiting[0]]) if waiting else "",
                "campaigns others made that need a second pair of eyes",
            )
        )
    if user.has_perm("media_library.view_providermedia"):
        soon = timezone.now() + EXPIRING_WITHIN
        expiring = ProviderMedia.objects.filter(
            state=MediaState.READY, expires_at__lte=soon
        ).count()
        tiles.append(
            Tile(
                "expiring",
                "Media ids expiring within 3 days",
                expiring,
                reverse("media_library:library"),
                "mirror them again, or mark the files 'keep fresh'",
            )
        )
    return tiles


def _waiting_for(user: Person) -> list[int]:
    """Drafts and scheduled campaigns with recipients, neither approved nor
    rejected, that this approver did not make, load or edit (the same authors
    as `campaign_authors`, looked up for all of them at once)."""
    undecided = (
        Campaign.objects.filter(
            state__in=[CampaignState.DRAFT, CampaignState.SCHEDULED],
            recipients__isnull=False,
        )
        .exclude(approval__in=[ApprovalState.APPROVED, ApprovalState.REJECTED])
        .exclude(created_by_id=user.pk)
        .distinct()
        .order_by("-created_at")
    )
    pks = list(undecided.values_list("pk", flat=True)[:200])
    loaded = RecipientImport.objects.filter(campaign_id__in=pks, created_by_id=user.pk)
    edited = AuditEvent.objects.filter(
        action=AuditAction.CAMPAIGN_EDITED,
        target_type=Campaign._meta.label_lower,
        target_id__in=[str(pk) for pk in pks],
        actor_id=user.pk,
    )
    authored = set(loaded.values_list("campaign_id", flat=True))
    authored |= {int(pk) for pk in edited.values_list("target_id", flat=True)}
    return [pk for pk in pks if pk not in authored]
