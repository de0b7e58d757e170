"""What an approver sees (a selector): recipients spread over the audience, each
with its message rendered as it will arrive, the values put into the template's
`{{n}}` slots marked."""

from __future__ import annotations

import re
from dataclasses import dataclass

from campaigns.models import Campaign, CampaignKind, Recipient

SAMPLES = 5
_SLOT = re.compile(r"\{\{\s*(\d+)\s*\}\}")


@dataclass(frozen=True)
class Piece:
    text: str
    is_value: bool = False  # a recipient's value put into a `{{n}}` slot


@dataclass(frozen=True)
class Sample:
    position: int  # 1-based, in the order the recipients were loaded
    phone: str
    params: list[str]
    pieces: list[Piece]


def message_pieces(body: str, params: list[str]) -> list[Piece]:
    """The body with each `{{n}}` replaced by the n-th value (marked), as sent.
    A slot without a value stays as written, so the gap shows."""
    pieces: list[Piece] = []
    at = 0
    for match in _SLOT.finditer(body):
        if match.start() > at:
            pieces.append(Piece(body[at : match.start()]))
        n = int(match.group(1))
        if 1 <= n <= len(params):
            pieces.append(Piece(params[n - 1], is_value=True))
        else:
            pieces.append(Piece(match.group(0)))
        at = match.end()
    if at < len(body):
        pieces.append(Piece(body[at:]))
    return pieces


def campaign_approval_samples(
    *, campaign: Campaign, count: int = SAMPLES
) -> list[Sample]:
    """Up to `count` recipients spread over the audience (the first, the last and
    evenly between: a bad block at the end of a file shows), each with its message
    rendered from the template body (or the caption) and its own values."""
    rows = Recipient.objects.filter(campaign=campaign).order_by("pk")
    total = rows.count()
    if not total:
        return []
    n = min(count, total)
    positions = sorted({round(i * (total - 1) / max(n - 1, 1)) for i in range(n)})
    if campaign.kind == CampaignKind.TEMPLATE and campaign.template is not None:
        body = campaign.template.body
    else:
        body = campaign.caption
    samples = []
    for position in positions:
        row = rows[position]
        params = [str(p) for p in row.params]
        samples.append(
            Sample(position + 1, row.phone, params, message_pieces(body, params))
        )
    return samples
