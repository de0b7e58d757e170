"""Why a message failed, in plain words, and what to do: one table.

Gupshup's own codes, Meta's (which Gupshup passes through, in v3 callbacks and
sometimes in v2), HTTP statuses from the send call, and this project's own
codes. Each is classified twice:

- its `kind`: `transient` (sending again later can work), `permanent` (the same
  message to the same number will fail again) or `human` (someone must fix
  something first: the wallet, the template, the token);
- what it is `about`: the `recipient` (this number only), the `template` (the
  message itself, its template or image: the same for every recipient of a
  campaign), the whole `app` (every send of the app gets the same answer until
  someone fixes the app) or the `provider` (Gupshup itself failed).

Answers about the app are never a verdict on the recipient: the dispatcher puts
the recipient back and pauses (campaigns/settle.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["transient", "permanent", "human"]
About = Literal["recipient", "template", "app", "provider"]

# This project's codes for Gupshup's answers about the app (it sends no code of
# its own with them); errors.py maps the answers' words to these.
APP_BILLING_OFF = "app-billing-off"
APP_UNKNOWN = "app-unknown"
APP_NOT_LIVE = "app-not-live"


@dataclass(frozen=True)
class FailureCode:
    code: str
    label: str  # a few words, for lists ("opted out: 3")
    meaning: str
    action: str
    kind: Kind
    about: About = "recipient"

    @property
    def retry_helps(self) -> bool:
        """Whether "retry failed" is worth offering for this code as it stands."""
        return self.kind == "transient"


def _table(*rows: tuple[str, str, str, str, Kind, About]) -> dict[str, FailureCode]:
    return {
        code: FailureCode(code, label, meaning, action, kind, about)
        for code, label, meaning, action, kind, about in rows
    }


FAILURE_CODES = _table(
    # Gupshup
    (
        "1002",
        "not on WhatsApp",
        "The number is not on WhatsApp.",
        "Remove it from your list.",
        "permanent",
        "recipient",
    ),
    (
        "1003",
        "wallet balance low",
        "The Gupshup wallet balance is too low.",
        "Recharge the wallet, then retry these.",
        "human",
        "app",
    ),
    (
        "1010",
        "media URL unreachable",
        "Gupshup could not fetch the media URL.",
        "Check the image's public link or mirror it again, then retry.",
        "human",
        "template",
    ),
    (
        "1011",
        "media too large",
        "The media is larger than WhatsApp allows.",
        "Use a smaller image (JPEG/PNG up to 5 MB).",
        "human",
        "template",
    ),
    (
        "1012",
        "opted out",
        "The person opted out of messages from this business.",
        "Do not send again; remove them from marketing lists.",
        "permanent",
        "recipient",
    ),
    (
        "4001",
        "rate-limited by Gupshup",
        "Gupshup rate-limited the app.",
        "Lower the app's send rate; retry later.",
        "transient",
        "app",
    ),
    (
        "4003",
        "no template match",
        "No template matched the message.",
        "Sync templates and check the params; fix, then retry.",
        "human",
        "template",
    ),
    (
        "4004",
        "needs a CAPI app",
        "The feature needs a Cloud API (CAPI) app.",
        "Migrate the app to CAPI or use another app.",
        "human",
        "app",
    ),
    (
        "4005",
        "template paused",
        "The template is paused by WhatsApp (low quality).",
        "Wait for it to be unpaused or use another template.",
        "human",
        "template",
    ),
    # Meta (passed through by Gupshup)
    (
        "130429",
        "throughput exceeded",
        "WhatsApp's throughput limit for the number was exceeded.",
        "Lower the send rate; retry later.",
        "transient",
        "app",
    ),
    (
        "131026",
        "undeliverable",
        "WhatsApp could not deliver (not on WhatsApp, old app, or blocked).",
        "Check the number; do not retry at once.",
        "permanent",
        "recipient",
    ),
    (
        "131042",
        "billing problem",
        "A billing problem on the WhatsApp Business Account.",
        "Fix the payment method in Meta Business, then retry.",
        "human",
        "app",
    ),
    (
        "131047",
        "outside the 24 h window",
        "More than 24 hours since the person last wrote; only templates may be sent.",
        "Send a template message instead.",
        "permanent",
        "recipient",
    ),
    (
        "131049",
        "held back by WhatsApp",
        "WhatsApp held back this marketing message to protect engagement.",
        "Retry hours or days later, never at once.",
        "transient",
        "recipient",
    ),
    (
        "131050",
        "stopped marketing",
        "The person stopped marketing messages from this business.",
        "Do not send marketing again.",
        "permanent",
        "recipient",
    ),
    (
        "131052",
        "media download error",
        "WhatsApp could not download the media.",
        "Check the media link or id; mirror it again, then retry.",
        "human",
        "template",
    ),
    (
        "131053",
        "media upload error",
        "WhatsApp could not upload the media.",
        "Mirror the image again, then retry once.",
        "human",
        "template",
    ),
    (
        "131056",
        "too fast to one person",
        "Too many messages to the same person too quickly.",
        "Retry later; space messages to the same number.",
        "transient",
        "recipient",
    ),
    (
        "131009",
        "invalid parameter",
        "A parameter value is not valid.",
        "Check the recipient's params and the template.",
        "human",
        "recipient",
    ),
    (
        "132001",
        "template not in this language",
        "The template does not exist in this language.",
        "Sync templates and pick an approved one.",
        "human",
        "template",
    ),
    (
        "132015",
        "template paused",
        "The template is paused for low quality.",
        "Use another template until it is unpaused.",
        "human",
        "template",
    ),
    (
        "130472",
        "in a Meta experiment",
        "The person is in a Meta experiment that holds back marketing messages.",
        "Do not send again for this campaign; Meta decides who is held back.",
        "permanent",
        "recipient",
    ),
    (
        "132016",
        "template disabled",
        "The template was disabled by WhatsApp after repeated pauses.",
        "Use another approved template.",
        "human",
        "template",
    ),
    (
        "470",
        "outside the 24 h window",
        "More than 24 hours since the person last wrote (v2 code).",
        "Send a template message instead.",
        "permanent",
        "recipient",
    ),
    # HTTP answers to the send call
    (
        "400",
        "invalid request",
        "Gupshup refused the request as invalid.",
        "Read the message; fix the template, params or app, then retry.",
        "human",
        "recipient",
    ),
    (
        "401",
        "token refused",
        "The app token was refused.",
        "Fetch or paste a new token, run 'Check health', then retry.",
        "human",
        "app",
    ),
    (
        "403",
        "not allowed",
        "The app may not do this.",
        "Check the app's status in the Partner Portal.",
        "human",
        "app",
    ),
    (
        "413",
        "request too large",
        "The request was too large.",
        "Use a smaller image.",
        "human",
        "template",
    ),
    (
        "429",
        "rate-limited",
        "Gupshup rate-limited the app.",
        "Sending slowed down by itself; retry later.",
        "transient",
        "app",
    ),
    (
        "500",
        "Gupshup internal error",
        "Gupshup had an internal error (retried automatically).",
        "Retry later.",
        "transient",
        "provider",
    ),
    (
        "502",
        "Gupshup gateway error",
        "Gupshup's gateway failed (retried automatically).",
        "Retry later.",
        "transient",
        "provider",
    ),
    (
        "503",
        "Gupshup unavailable",
        "Gupshup was unavailable (retried automatically).",
        "Retry later.",
        "transient",
        "provider",
    ),
    # Gupshup's answers about the app (errors.py gives them these codes)
    (
        APP_BILLING_OFF,
        "Callback Billing off",
        "Gupshup refuses messages of this app: Callback Billing is not enabled for it.",
        "Enable Callback Billing for the app in the Gupshup Partner Portal (or ask "
        "Gupshup support to), run 'Check health' on the app, then resume.",
        "human",
        "app",
    ),
    (
        APP_UNKNOWN,
        "app unknown to Gupshup",
        "Gupshup does not know the app: the app id is wrong, or the app is not "
        "under this partner account.",
        "Compare the app id on the app's page with the Partner Portal, fix it, "
        "run 'Check health', then resume.",
        "human",
        "app",
    ),
    (
        APP_NOT_LIVE,
        "app not live",
        "Gupshup says the app is not live.",
        "Finish the app's set-up in the Partner Portal until it is live, run "
        "'Check health', then resume.",
        "human",
        "app",
    ),
    # This project's own
    (
        "ConnectionFailedError",
        "Gupshup unreachable",
        "Gupshup could not be reached (retried automatically).",
        "Check the network and GUPSHUP_API_BASE; retry later.",
        "transient",
        "provider",
    ),
    (
        "operator",
        "marked failed by an operator",
        "Marked failed by an operator.",
        "See the note on the recipient.",
        "permanent",
        "recipient",
    ),
)

UNKNOWN = FailureCode(
    "",
    "other",
    "A failure without a known code.",
    "Read the provider's message and the exchange.",
    "human",
)


def failure_explained(code: str) -> FailureCode:
    """The table's row for a code, or a generic one that says to read the message."""
    found = FAILURE_CODES.get(code.strip())
    if found is not None:
        return found
    return FailureCode(
        code, f"code {code}", UNKNOWN.meaning, UNKNOWN.action, UNKNOWN.kind
    )
