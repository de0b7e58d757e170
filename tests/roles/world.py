"""One of everything the pages show: an app with a token, a channel, a template,
a real image, a campaign made by Maya with recipients (one rejected row), a
provider exchange, a callback and audit lines."""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.utils import timezone
from PIL import Image

from campaigns.lifecycle import drafts
from campaigns.models import (
    Campaign,
    CampaignKind,
    Recipient,
    RecipientImport,
    WebhookEvent,
)
from campaigns.recipients import loading
from gupshup_admin.models import (
    ApiExchange,
    CommBoxChannel,
    PartnerApp,
    Provider,
)
from media_library import services as media_services
from media_library.models import MediaFile, MediaState, ProviderMedia
from tests.factories import SIM_MEDIA_ID, sim_app, sim_template

CHANNEL_KEY = "cbx_live_key_0123456789abcdef"


@dataclass
class World:
    app: PartnerApp
    channel: CommBoxChannel
    media: MediaFile
    campaign: Campaign
    recipient: Recipient
    loaded: RecipientImport
    exchange: ApiExchange
    callback: WebhookEvent


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 40), (18, 140, 126)).save(out, "PNG")
    return out.getvalue()


def build_world(author: User) -> World:
    """Call with MEDIA_ROOT pointing at a temporary directory."""
    app = sim_app(name="Spring shop")
    channel = CommBoxChannel(name="Main CommBox", stream_id="Zx81-stream_ID=")
    channel.set_api_key(CHANNEL_KEY)
    channel.save()
    upload = media_services.media_file_create(fileobj=io.BytesIO(png()), name="b.png")
    now = timezone.now()
    ProviderMedia.objects.create(
        media_file=upload.media_file,
        partner_app=app,
        state=MediaState.READY,
        media_id=SIM_MEDIA_ID,
        uploaded_at=now,
        expires_at=now + media_services.media_id_lifetime(),
    )
    campaign = drafts.campaign_create(
        user_id=author.pk,
        name="Spring sale",
        partner_app=app,
        kind=CampaignKind.TEMPLATE,
        template=sim_template(app),
        media_file=upload.media_file,
    )
    loaded = loading.recipients_import_pasted(
        campaign=campaign,
        text="+919000018888,Asha,20%\n+919000028888,Ravi,10%\n12345,Bad,1%",
        user_id=author.pk,
    )
    recipient = campaign.recipients.order_by("pk").first()
    assert recipient is not None
    exchange = ApiExchange.objects.create(
        provider=Provider.GUPSHUP,
        endpoint="template/msg",
        method="POST",
        url="https://gupshup.test/partner/app/x/template/msg",
        status_code=202,
        partner_app=app,
        ref=f"recipient:{recipient.pk}",
    )
    callback = WebhookEvent.objects.create(
        partner_app=app, event_type="message-event", body='{"type": "sent"}'
    )
    return World(
        app, channel, upload.media_file, campaign, recipient, loaded, exchange, callback
    )
