"""Forms of the marketer pages: a new campaign, and loading its recipients."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import phonenumbers
from django import forms
from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone

from campaigns.models import Campaign, CampaignKind
from gupshup_admin.models import PartnerApp, Template
from media_library.models import MediaFile, MediaState, ProviderMedia

OptionData = Callable[[Any], dict[str, str]]


class DataSelect(forms.Select):
    """A select whose options carry `data-*` attributes for the page's script."""

    def __init__(self, option_data: OptionData) -> None:
        super().__init__()
        self.option_data = option_data

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option: dict[str, Any] = super().create_option(*args, **kwargs)
        instance = getattr(option["value"], "instance", None)
        if instance is not None:
            option["attrs"].update(self.option_data(instance))
        return option


def _ready_apps(media: MediaFile) -> list[PartnerApp]:
    rows: list[ProviderMedia] = getattr(media, "ready_mirrors", [])
    return [row.partner_app for row in rows if row.partner_app is not None]


class TemplateChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Template) -> str:
        slots = f"{obj.slot_count} slot{'s' if obj.slot_count != 1 else ''}"
        return f"{obj} · {slots} · {obj.app}"


class ImageChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: MediaFile) -> str:
        apps = _ready_apps(obj)
        where = ", ".join(str(app) for app in apps) if apps else "no app yet"
        size = f" {obj.width}×{obj.height}" if obj.width else ""
        return f"{obj.original_name}{size} · media id ready for: {where}"


class CampaignForm(forms.ModelForm):  # type: ignore[type-arg]
    template = TemplateChoiceField(
        queryset=Template.objects.none(),
        required=False,
        widget=DataSelect(lambda t: {"data-app": str(t.app_id)}),
        help_text="Approved templates with an image header, of the chosen app.",
    )
    media_file = ImageChoiceField(
        queryset=MediaFile.objects.none(),
        label="Image",
        widget=DataSelect(
            lambda m: {"data-ready-apps": ",".join(str(a.pk) for a in _ready_apps(m))}
        ),
        help_text="From the media library. An image without a media id for the "
        "app is mirrored to it when you start.",
    )

    class Meta:
        model = Campaign
        fields = [
            "name",
            "partner_app",
            "kind",
            "template",
            "media_file",
            "caption",
            "scheduled_at",
        ]
        labels = {"partner_app": "Partner app", "scheduled_at": "Schedule"}
        widgets = {
            "kind": forms.RadioSelect,
            "caption": forms.Textarea(attrs={"rows": 3, "cols": 60}),
            "scheduled_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        now = timezone.now()
        # The admin leaves out the fields a user may only read.
        fields = self.fields
        if "partner_app" in fields:
            fields["partner_app"].queryset = PartnerApp.objects.filter(  # type: ignore[attr-defined]
                is_active=True
            )
        if "template" in fields:
            fields["template"].queryset = Template.objects.filter(  # type: ignore[attr-defined]
                status__iexact="APPROVED", header_type="IMAGE", is_present=True
            ).select_related("app")
        if "media_file" in fields:
            ready = ProviderMedia.objects.filter(
                partner_app__isnull=False, state=MediaState.READY, expires_at__gt=now
            ).select_related("partner_app")
            fields["media_file"].queryset = MediaFile.objects.filter(  # type: ignore[attr-defined]
                kind="image"
            ).prefetch_related(
                Prefetch("mirrors", queryset=ready, to_attr="ready_mirrors")
            )
        if "kind" in fields:
            fields["kind"].choices = CampaignKind.choices  # type: ignore[attr-defined]
            fields["kind"].initial = CampaignKind.TEMPLATE
        if "caption" in fields:
            fields["caption"].help_text = "Sent under the image (direct messages only)."
        if "scheduled_at" in fields:
            fields["scheduled_at"].help_text = (
                f"Leave blank to send as soon as you press Start. Time zone: "
                f"{settings.TIME_ZONE}."
            )

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        app: PartnerApp | None = data.get("partner_app")
        kind = data.get("kind")
        template: Template | None = data.get("template")
        if kind == CampaignKind.TEMPLATE:
            data["caption"] = ""
            if template is None:
                self.add_error("template", "Choose an approved image template.")
            elif app is not None and template.app_id != app.pk:
                self.add_error(
                    "template",
                    f"{template} belongs to {template.app}, not to {app}: choose "
                    f"one of {app}'s templates.",
                )
            else:
                self._check_slots_fit_the_recipients(template)
        elif kind == CampaignKind.DIRECT:
            data["template"] = None
            if app is not None and not app.is_capi:
                self.add_error(
                    "kind",
                    f"{app} is not a Cloud API (CAPI) app: it can only send "
                    "template messages.",
                )
        return data

    def _check_slots_fit_the_recipients(self, template: Template) -> None:
        """The recipients already loaded carry one value per slot of the
        template they were loaded for; another template must have as many."""
        if self.instance.pk is None:
            return
        loaded = self.instance.recipients.values_list("params", flat=True).first()
        if loaded is None or len(loaded) == template.slot_count:
            return
        values = len(loaded)
        self.add_error(
            "template",
            f"The recipients loaded have {values} value{'s' if values != 1 else ''} "
            f"each, but {template} has {template.slot_count} slot"
            f"{'s' if template.slot_count != 1 else ''}: choose a template with "
            f"{values}, or make a new campaign for this one.",
        )

    def clean_scheduled_at(self) -> datetime | None:
        when: datetime | None = self.cleaned_data.get("scheduled_at")
        if when is not None and when <= timezone.now():
            raise forms.ValidationError(
                "This time has already passed: leave it blank to send as soon as "
                "you press Start."
            )
        return when


class CampaignAdminForm(CampaignForm):
    """The same checks in the admin, with the admin's own date and time widget."""

    class Meta(CampaignForm.Meta):
        widgets = {
            "kind": forms.RadioSelect,
            "caption": forms.Textarea(attrs={"rows": 3, "cols": 60}),
        }


class _RecipientsForm(forms.Form):
    region = forms.CharField(
        max_length=2,
        required=False,
        label="Numbers without a country code are in",
        widget=forms.TextInput(attrs={"size": 3}),
        help_text="A two-letter country code, e.g. IN.",
    )

    def clean_region(self) -> str:
        region = str(self.cleaned_data.get("region") or "").strip().upper()
        if region and region not in phonenumbers.SUPPORTED_REGIONS:
            raise forms.ValidationError(
                f"{region!r} is not a country code; use two letters such as IN."
            )
        return region or settings.PHONE_DEFAULT_REGION


class UploadForm(_RecipientsForm):
    file = forms.FileField(
        label="CSV file",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,text/csv"}),
    )


class PasteForm(_RecipientsForm):
    numbers = forms.CharField(
        widget=forms.Textarea(
            attrs={"rows": 6, "cols": 50, "placeholder": "+919876543210,Asha,20%"}
        ),
        help_text="One per line: the phone number, then the template's values, "
        "separated by commas, semicolons or tabs.",
    )
