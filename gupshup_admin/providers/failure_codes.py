"""Why a message failed, in plain words, and what to do: one table.

Gupshup's own codes, Meta's (which Gupshup passes through, in v3 callbacks and
sometimes in v2), HTTP statuses from the send call, and this project's own
codes. Each is classified: `transient` (sending again later can work),
`permanent` (the same message to the same number will fail again) or `human`
(someone must fix something first: the wallet, the template, the token).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["transient", "permanent", "human"]


@dataclass(frozen=True)
class FailureCode:
    code: str
    label: str  # a few words, for lists ("opted out: 3")
    meaning: str
    action: str
    kind: Kind

    @property
    def retry_helps(self) -> bool:
        """Whether "retry failed" is worth offering for this code as it stands."""
        return self.kind == "transient"


def _table(*rows: tuple[str, str, str, str, Kind]) -> dict[str, FailureCode]:
    return {
        code: FailureCode(code, label, meaning, action, kind)
        for code, label, meaning, action, kind in rows
    }


FAILURE_CODES = _table(
    # Gupshup
    (
        "1002",
        "not on WhatsApp",
        "The number is not on WhatsApp.",
        "Remove it from your list.",
        "permanent",
    ),
    (
        "1003",
        "wallet balance low",
        "The Gupshup wallet balance is too low.",
        "Recharge the wallet, then retry these.",
        "human",
    ),
    (
        "1010",
        "media URL unreachable",
        "Gupshup could not fetch the media URL.",
        "Check the image's public link or mirror it again, then retry.",
        "human",
    ),
    (
        "1011",
        "media too large",
        "The media is larger than WhatsApp allows.",
        "Use a smaller image (JPEG/PNG up to 5 MB).",
        "human",
    ),
    (
        "1012",
        "opted out",
        "The person opted out of messages from this business.",
        "Do not send again; remove them from marketing lists.",
        "permanent",
    ),
    (
        "4001",
        "rate-limited by Gupshup",
        "Gupshup rate-limited the app.",
        "Lower the app's send rate; retry later.",
        "transient",
    ),
    (
        "4003",
        "no template match",
        "No template matched the message.",
        "Sync templates and check the params; fix, then retry.",
        "human",
    ),
    (
        "4004",
        "needs a CAPI app",
        "The feature needs a Cloud API (CAPI) app.",
        "Migrate the app to CAPI or use another app.",
        "human",
    ),
    (
        "4005",
        "template paused",
        "The template is paused by WhatsApp (low quality).",
        "Wait for it to be unpaused or use another template.",
        "human",
    ),
    # Meta (passed through by Gupshup)
    (
        "130429",
        "throughput exceeded",
        "WhatsApp's throughput limit for the number was exceeded.",
        "Lower the send rate; retry later.",
        "transient",
    ),
    (
        "131026",
        "undeliverable",
        "WhatsApp could not deliver (not on WhatsApp, old app, or blocked).",
        "Check the number; do not retry at once.",
        "permanent",
    ),
    (
        "131042",
        "billing problem",
        "A billing problem on the WhatsApp Business Account.",
        "Fix the payment method in Meta Business, then retry.",
        "human",
    ),
    (
        "131047",
        "outside the 24 h window",
        "More than 24 hours since the person last wrote; only templates may be sent.",
        "Send a template message instead.",
        "permanent",
    ),
    (
        "131049",
        "held back by WhatsApp",
        "WhatsApp held back this marketing message to protect engagement.",
        "Retry hours or days later, never at once.",
        "transient",
    ),
    (
        "131050",
        "stopped marketing",
        "The person stopped marketing messages from this business.",
        "Do not send marketing again.",
        "permanent",
    ),
    (
        "131052",
        "media download error",
        "WhatsApp could not download the media.",
        "Check the media link or id; mirror it again, then retry.",
        "human",
    ),
    (
        "131053",
        "media upload error",
        "WhatsApp could not upload the media.",
        "Mirror the image again, then retry once.",
        "human",
    ),
    (
        "131056",
        "too fast to one person",
        "Too many messages to the same person too quickly.",
        "Retry later; space messages to the same number.",
        "transient",
    ),
    (
        "131009",
        "invalid parameter",
        "A parameter value is not valid.",
        "Check the recipient's params and the template.",
        "human",
    ),
    (
        "132001",
        "template not in this language",
        "The template does not exist in this language.",
        "Sync templates and pick an approved one.",
        "human",
    ),
    (
        "132015",
        "template paused",
        "The template is paused for low quality.",
        "Use another template until it is unpaused.",
        "human",
    ),
    (
        "130472",
        "in a Meta experiment",
        "The person is in a Meta experiment that holds back marketing messages.",
        "Do not send again for this campaign; Meta decides who is held back.",
        "permanent",
    ),
    (
        "132016",
        "template disabled",
        "The template was disabled by WhatsApp after repeated pauses.",
        "Use another approved template.",
        "human",
    ),
    (
        "470",
        "outside the 24 h window",
        "More than 24 hours since the person last wrote (v2 code).",
        "Send a template message instead.",
        "permanent",
    ),
    # HTTP answers to the send call
    (
        "400",
        "invalid request",
        "Gupshup refused the request as invalid.",
        "Read the message; fix the template, params or app, then retry.",
        "human",
    ),
    (
        "401",
        "token refused",
        "The app token was refused.",
        "Fetch or paste a new token, run 'Check health', then retry.",
        "human",
    ),
    (
        "403",
        "not allowed",
        "The app may not do this.",
        "Check the app's status in the Partner Portal.",
        "human",
    ),
    (
        "413",
        "request too large",
        "The request was too large.",
        "Use a smaller image.",
        "human",
    ),
    (
        "429",
        "rate-limited",
        "Gupshup rate-limited the app.",
        "Sending slowed down by itself; retry later.",
        "transient",
    ),
    (
        "500",
        "Gupshup internal error",
        "Gupshup had an internal error (retried automatically).",
        "Retry later.",
        "transient",
    ),
    (
        "502",
        "Gupshup gateway error",
        "Gupshup's gateway failed (retried automatically).",
        "Retry later.",
        "transient",
    ),
    (
        "503",
        "Gupshup unavailable",
        "Gupshup was unavailable (retried automatically).",
        "Retry later.",
        "transient",
    ),
    # This project's own
    (
        "ConnectionFailedError",
        "Gupshup unreachable",
        "Gupshup could not be reached (retried automatically).",
        "Check the network and GUPSHUP_API_BASE; retry later.",
        "transient",
    ),
    (
        "operator",
        "marked failed by an operator",
        "Marked failed by an operator.",
        "See the note on the recipient.",
        "permanent",
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
