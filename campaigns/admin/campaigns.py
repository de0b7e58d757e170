"""Admin for campaigns and recipients: read-mostly, with the marketer page one click
away. Recipients are never edited by hand; "unknown" ones are settled by actions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from campaigns.admin.history import (  # also registers the WebhookEvent admin
    CHANGE_LIST_TEMPLATE,
    EstimatedCountPaginator,
    SendAttemptInline,
)
from campaigns.forms import CampaignAdminForm
from campaigns.lifecycle import drafts, retries
from campaigns.models import (
    Campaign,
    CampaignState,
    Recipient,
    RecipientImport,
)
from campaigns.reporting import export
from gupshup_admin.exceptions import ApplicationError
from gupshup_admin.roles import SEND

_STATE_COLOURS = {
    CampaignState.DRAFT: ("#555", "#eee"),
    CampaignState.SCHEDULED: ("#1a56b0", "#e8f0fe"),
    CampaignState.RUNNING: ("#1e7e34", "#e6f4ea"),
    CampaignState.PAUSED: ("#9a6700", "#fff4ce"),
    CampaignState.COMPLETED: ("#155724", "#d4edda"),
    CampaignState.CANCELLED: ("#555", "#eee"),
}
ACTIVE = [CampaignState.SCHEDULED, CampaignState.RUNNING, CampaignState.PAUSED]
CAMPAIGN_RECORD = [
    "page_link",
    "state",
    "state_reason",
    "created_by",
    "created_at",
    "started_by",
    "started_at",
    "finished_at",
    "auth_failures",
    "approval",
    "approval_by",
    "approval_at",
    "approval_note",
    "approved_recipients",
]
# What a marketer edits: the form's fields, the same in the admin.
CAMPAIGN_CONTENT = CampaignAdminForm.Meta.fields
IMPORT_FIELDS = [
    "created_at",
    "filename",
    "accepted",
    "rejected",
    "duplicates",
    "phone_column",
    "created_by",
]
RECIPIENT_FIELDS = [
    "campaign",
    "phone",
    "params",
    "source_line",
    "status",
    "attempts",
    "retries",
    "next_attempt_at",
    "latest_attempt",
    "error_code",
    "error_message",
    "claimed_at",
    "claimed_by",
    "updated_at",
]


class RecipientImportInline(admin.TabularInline):  # type: ignore[type-arg]
    model = RecipientImport
    extra = 0
    can_delete = False
    fields = tuple(IMPORT_FIELDS)
    readonly_fields = IMPORT_FIELDS

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "name",
        "state_badge",
        "partner_app",
        "kind",
        "created_by",
        "created_at",
        "page_link",
    ]
    list_filter = ["state", "kind", "partner_app"]
    list_select_related = ["partner_app", "created_by"]
    search_fields = ["name"]
    date_hierarchy = "created_at"
    # The campaign page's form, so an edit here is checked as a new campaign is
    # (the template fits the app and the loaded recipients, a direct message
    # needs a CAPI app), with its lists of approved templates and images.
    form = CampaignAdminForm
    readonly_fields = CAMPAIGN_RECORD
    fields = (*CAMPAIGN_CONTENT, *CAMPAIGN_RECORD)
    inlines = [RecipientImportInline]

    @admin.display(description="state", ordering="state")
    def state_badge(self, obj: Campaign) -> str:
        fg, bg = _STATE_COLOURS.get(CampaignState(obj.state), ("#555", "#eee"))
        return format_html(
            '<span class="state-badge" style="color:{};background:{};padding:2px 8px;'
            'border-radius:10px;font-weight:600">{}</span>',
            fg,
            bg,
            obj.get_state_display(),
        )

    @admin.display(description="campaign page")
    def page_link(self, obj: Campaign) -> str:
        if not obj.pk:
            return "—"
        url = reverse("campaigns:detail", args=[obj.pk])
        return format_html(
            '<a href="{}" class="campaign-page">Open campaign page</a>', url
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # campaigns are made on the campaign page, which checks them

    def save_model(
        self, request: HttpRequest, obj: Campaign, form: Any, change: bool
    ) -> None:
        # An edit of what is sent voids the campaign's approval.
        drafts.campaign_update(
            campaign=obj, changed=form.changed_data, user_id=request.user.pk
        )

    def has_change_permission(
        self, request: HttpRequest, obj: Campaign | None = None
    ) -> bool:
        # What is sent is frozen once the campaign left the draft state: its
        # page is read-only then, with no Save button that would save nothing.
        if obj is not None and obj.state != CampaignState.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(
        self, request: HttpRequest, obj: Campaign | None = None
    ) -> bool:
        if obj is not None and obj.state in ACTIVE:
            return False  # cancel it first: its senders may be running
        return super().has_delete_permission(request, obj)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # it would bypass the check above
        return actions


@admin.register(Recipient)
class RecipientAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "phone",
        "history_link",
        "campaign",
        "status",
        "error_code",
        "latest_message_id",
        "attempts",
        "updated_at",
    ]
    list_filter = ["status", "campaign"]
    list_select_related = ["campaign", "latest_attempt"]
    search_fields = ["phone"]  # and any attempt's ids: get_search_results
    raw_id_fields = ["campaign", "latest_attempt"]
    readonly_fields = [*RECIPIENT_FIELDS, "history_link"]
    actions = ["resolve_arrived", "resolve_failed", "resolve_resend"]
    inlines = [SendAttemptInline]
    # A million rows: no COUNT(*) of the table on every page (see the paginator).
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    change_list_template = CHANGE_LIST_TEMPLATE

    @admin.display(description="message id (latest attempt)")
    def latest_message_id(self, obj: Recipient) -> str:
        attempt = obj.latest_attempt
        return attempt.message_id if attempt is not None and attempt.message_id else "—"

    @admin.display(description="history")
    def history_link(self, obj: Recipient) -> str:
        url = reverse("campaigns:recipient", args=[obj.campaign_id, obj.pk])
        return format_html('<a href="{}" class="history-link">Timeline</a>', url)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Recipient], search_term: str
    ) -> tuple[QuerySet[Recipient], bool]:
        # Part of a number, or a whole message id or wamid of any attempt: each
        # answered by an index, where three ILIKE '%…%' would scan every row.
        if not search_term.strip():
            return queryset, False
        return queryset.filter(export.recipient_search(search_term)), False

    def lookup_allowed(
        self, lookup: str, value: str, request: HttpRequest | None = None
    ) -> bool:
        # The report's failure groups link here filtered by error code.
        if lookup in {"error_code", "error_code__exact"}:
            return True
        return super().lookup_allowed(lookup, value, request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: Recipient | None = None
    ) -> bool:
        return False  # what was sent is history; statuses move by services only

    def has_delete_permission(
        self, request: HttpRequest, obj: Recipient | None = None
    ) -> bool:
        return False

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(SEND)

    def _resolve(
        self, request: HttpRequest, queryset: QuerySet[Recipient], outcome: str
    ) -> int | None:
        try:
            return retries.recipients_resolve_unknown(
                recipients=queryset, outcome=outcome, user_id=request.user.pk
            )
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return None

    @admin.action(description="Resolve unknown: it arrived", permissions=["resolve"])
    def resolve_arrived(
        self, request: HttpRequest, queryset: QuerySet[Recipient]
    ) -> None:
        if (count := self._resolve(request, queryset, "submitted")) is not None:
            self.message_user(request, f"{count} unknown recipient(s) marked as sent.")

    @admin.action(description="Resolve unknown: it failed", permissions=["resolve"])
    def resolve_failed(
        self, request: HttpRequest, queryset: QuerySet[Recipient]
    ) -> None:
        if (count := self._resolve(request, queryset, "failed")) is not None:
            self.message_user(
                request, f"{count} unknown recipient(s) marked as failed."
            )

    @admin.action(description="Resolve unknown: send again", permissions=["resolve"])
    def resolve_resend(
        self, request: HttpRequest, queryset: QuerySet[Recipient]
    ) -> None:
        if (count := self._resolve(request, queryset, "resend")) is not None:
            self.message_user(
                request, f"{count} unknown recipient(s) will be sent again."
            )
