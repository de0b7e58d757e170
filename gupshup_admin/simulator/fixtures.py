"""Built-in demo data: the partner, apps, channel and templates the simulator knows.

The demo seed and other tests import these constants, so they never change
between runs: template ids are derived from the app id and the template name.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from gupshup_admin.simulator.config import SimApp, SimChannel

# A fixed namespace so uuid5 gives the same template ids on every machine.
_TEMPLATE_NAMESPACE = uuid.UUID("3d6f4a52-8c1e-4b7a-9f20-5e8d1c3b7a64")

SPRING_SALE_IMAGE = "spring_sale_image"
NEW_ARRIVALS_IMAGE = "new_arrivals_image"
ORDER_UPDATE_TEXT = "order_update_text"
SUMMER_PREVIEW_IMAGE = "summer_preview_image"
FLASH_DEAL_IMAGE = "flash_deal_image"

# Milliseconds; fixed so the templates endpoint answers the same bytes each time.
_CREATED_ON = 1_717_200_000_000
_MODIFIED_ON = 1_717_286_400_000


@dataclass(frozen=True)
class TemplateSpec:
    """The parts of a template that differ between the built-in templates."""

    element_name: str
    template_type: str
    status: str
    category: str
    data: str
    header: str = ""
    reason: str | None = None
    language_code: str = "en"


TEMPLATE_SPECS: tuple[TemplateSpec, ...] = (
    TemplateSpec(
        SPRING_SALE_IMAGE,
        "IMAGE",
        "APPROVED",
        "MARKETING",
        "Hi {{1}}, our spring sale is on! Use code {{2}} for 20% off.",
    ),
    TemplateSpec(
        NEW_ARRIVALS_IMAGE,
        "IMAGE",
        "APPROVED",
        "MARKETING",
        "New arrivals just landed. Tap to see the collection.",
    ),
    TemplateSpec(
        ORDER_UPDATE_TEXT,
        "TEXT",
        "APPROVED",
        "UTILITY",
        "Your order {{1}} has shipped.",
        header="Order update",
    ),
    TemplateSpec(
        SUMMER_PREVIEW_IMAGE,
        "IMAGE",
        "PENDING",
        "MARKETING",
        "Summer preview for {{1}}: be the first to shop.",
    ),
    TemplateSpec(
        FLASH_DEAL_IMAGE,
        "IMAGE",
        "REJECTED",
        "MARKETING",
        "FLASH DEAL!!! {{1}} {{2}} {{3}}",
        reason="The template contains too many variable parameters relative "
        "to the message length.",
    ),
)

_SLOT = re.compile(r"\{\{(\d+)\}\}")


def template_id(app_id: str, element_name: str) -> str:
    """The stable Gupshup template UUID of a built-in template for an app."""
    return str(uuid.uuid5(_TEMPLATE_NAMESPACE, f"{app_id}:{element_name}"))


def slot_count(body: str) -> int:
    """How many distinct `{{n}}` parameters a template body has."""
    return len(set(_SLOT.findall(body)))


def templates_for(app: SimApp) -> list[dict[str, Any]]:
    """The templates endpoint's list for an app, in Gupshup's field names."""
    return [_template_json(app, spec) for spec in TEMPLATE_SPECS]


def _template_json(app: SimApp, spec: TemplateSpec) -> dict[str, Any]:
    meta: dict[str, Any] = {"data": spec.data, "sampleText": _sample(spec.data)}
    if spec.template_type == "IMAGE":
        meta["mediaId"] = "1852559851913765"
    else:
        meta["header"] = spec.header
    return {
        "id": template_id(app.app_id, spec.element_name),
        "appId": app.app_id,
        "elementName": spec.element_name,
        "languageCode": spec.language_code,
        "languagePolicy": "deterministic",
        "category": spec.category,
        "templateType": spec.template_type,
        "status": spec.status,
        "data": spec.data,
        "containerMeta": json.dumps(meta),
        "createdOn": _CREATED_ON,
        "modifiedOn": _MODIFIED_ON,
        "vertical": spec.element_name.replace("_", " ").title(),
        "reason": spec.reason,
        "wabaId": app.effective_waba_id,
        "namespace": "b7e0d3f1_5a2c_4c8e_9f61_3d2a7b8c4e10",
    }


def _sample(body: str) -> str:
    return _SLOT.sub(lambda m: f"[sample {m.group(1)}]", body)


@dataclass(frozen=True)
class _Demo:
    """The demo data as attributes: `DEMO.capi_app`, `DEMO.partner_email`, …"""

    partner_email: str
    partner_secret: str
    partner_id: int
    capi_app: SimApp
    non_capi_app: SimApp
    channel: SimChannel

    def template_id(self, element_name: str, app: SimApp | None = None) -> str:
        """Template UUID of a built-in template (of the CAPI app by default)."""
        return template_id((app or self.capi_app).app_id, element_name)

    @property
    def spring_sale_template_id(self) -> str:
        """APPROVED IMAGE template with two parameters, on the CAPI app."""
        return self.template_id(SPRING_SALE_IMAGE)

    @property
    def new_arrivals_template_id(self) -> str:
        """APPROVED IMAGE template without parameters, on the CAPI app."""
        return self.template_id(NEW_ARRIVALS_IMAGE)


DEMO = _Demo(
    partner_email="demo-partner@example.com",
    partner_secret="demo-partner-secret",
    partner_id=4242,
    capi_app=SimApp(
        app_id="5f0c1a8e-3b7d-4c2a-9e61-0d4b8f2a7c11",
        token="sk_demo0c1a8e3b7d4c2a9e610d4b8f2a7c11",
        app_name="GupshupAdminDemo",
        source="919643874844",
        capi=True,
        rate_per_minute=600,
        verified_name="Gupshup Admin Demo Store",
    ),
    non_capi_app=SimApp(
        app_id="7a2e9c44-1f3b-4e8d-b5a0-6c9d2e7f1b22",
        token="sk_noncapi9c441f3b4e8db5a06c9d2e7f1b22",
        app_name="LegacyDemo",
        source="919643874845",
        capi=False,
        rate_per_minute=600,
        verified_name="Legacy Demo Store",
    ),
    channel=SimChannel(stream_id="demo-stream-7Hq2", api_key="cbx_demo_key_4f9a2c"),
)
