"""Malformed callbacks, generated in bulk, in a flood with valid ones.

Each example posts a flood to the webhook endpoint: the valid status events of
fresh sends (shuffled) and bad callbacks of one kind; then the drain task runs
once. A bad callback is answered 200 and stored with a parse error (403 and
counted under its source for a wrong secret, 413 when too large), never 500;
the drain never fails and leaves nothing unprocessed; the valid events are
applied, each status once however often it came.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns import tasks
from campaigns.models import (
    Campaign,
    Recipient,
    RecipientStatus,
    RefusedCallback,
    StatusEvent,
    WebhookEvent,
    WebhookState,
)
from gupshup_admin.simulator import DEMO
from gupshup_admin.simulator.payloads import SentMessage, v2_body, v3_body
from tests.factories import attempt_sent, sim_campaign
from tests.faults.profile import BAD_INPUT
from tests.faults.table import FaultTable

EXAMPLES = 6  # floods of each kind
STATUSES = ["enqueued", "sent", "delivered", "read"]
VOCABULARY = [
    *("app", "timestamp", "version", "type", "payload", "id", "gsId", "destination"),
    *("object", "entry", "changes", "value", "statuses", "status", "gs_id", "errors"),
    *("recipient_id", "code", "reason", "ts", "message-event", "template-event"),
]
KINDS = (
    "random JSON shapes",
    "wrong types",
    "not JSON",
    "huge",
    "wrong secret",
    "duplicates",
)
FAULTS = {
    "random JSON shapes": "Random JSON shapes (objects, lists, scalars, callback "
    "keys with random values)",
    "wrong types": "A real v2/v3 callback with one field of the wrong type",
    "not JSON": "Bodies that are not JSON (random bytes, text, invalid UTF-8)",
    "huge": "Huge bodies (over WEBHOOK_MAX_BYTES) and deeply nested JSON under it",
    "wrong secret": "A real callback with a wrong, missing or other app's secret",
    "duplicates": "The same real callbacks posted 2–4 times, in v2 and v3",
}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(VOCABULARY) | st.text(max_size=6), inner)
    ),
    max_leaves=15,
)


@dataclass(frozen=True)
class Post:
    body: bytes
    secret: str | None = None  # None: the app's own
    app_pk: int | None = None  # None: the app's own

    def __repr__(self) -> str:
        body = self.body if len(self.body) < 200 else self.body[:200] + b"..."
        return f"Post({body!r}, secret={self.secret!r}, app_pk={self.app_pk})"


def message() -> SentMessage:
    """A fresh accepted send, as the simulator would have made it."""
    digits = f"9199{uuid.uuid4().int % 10**8:08d}"
    return SentMessage(
        app=DEMO.capi_app,
        gs_id=str(uuid.uuid4()),
        wamid=f"wamid.HBgM{uuid.uuid4().hex.upper()}",
        destination=digits,
        wa_id=digits,
    )


def bodies(sent: SentMessage, fmt: str) -> list[dict[str, Any]]:
    ts = 1_760_000_000.0
    if fmt == "v3":
        return [v3_body(sent, event, ts + i) for i, event in enumerate(STATUSES)]
    return [
        v2_body(sent, event, ts + i, drop_gsid=False)
        for i, event in enumerate(STATUSES)
    ]


def _encoded(value: Any) -> bytes:
    return json.dumps(value).encode()


@st.composite
def wrong_types(draw: st.DrawFn) -> Post:
    """A real callback (of a send nobody made) with one value's type changed."""
    body = draw(st.sampled_from(bodies(message(), draw(st.sampled_from(["v2", "v3"])))))
    paths = list(_leaves(body))
    path = draw(st.sampled_from(paths))
    holder = body
    for key in path[:-1]:
        holder = holder[key]
    old = holder[path[-1]]
    holder[path[-1]] = draw(json_values.filter(lambda v: type(v) is not type(old)))
    return Post(_encoded(body))


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Any:
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in items:
        if isinstance(child, dict | list) and child:
            yield from _leaves(child, (*path, key))
        yield (*path, key)


def bad_posts(kind: str, app_pk: int) -> st.SearchStrategy[list[Post]]:
    limit = django_settings.WEBHOOK_MAX_BYTES
    single: st.SearchStrategy[Post]
    if kind == "random JSON shapes":
        single = json_values.map(lambda v: Post(_encoded(v)))
    elif kind == "wrong types":
        single = wrong_types()
    elif kind == "not JSON":
        single = st.one_of(
            st.binary(max_size=300), st.text(max_size=100).map(str.encode)
        ).map(Post)
    elif kind == "huge":
        single = st.one_of(
            st.integers(limit + 1, limit + 50_000).map(lambda n: Post(b"x" * n)),
            st.integers(1_000, 100_000).map(lambda d: Post(b"[" * d + b"]" * d)),
            st.integers(1_000, 50_000).map(
                lambda d: Post(b'{"a":' * d + b"1" + b"}" * d)
            ),
        )
    elif kind == "wrong secret":
        body = st.builds(lambda: _encoded(bodies(message(), "v2")[0]))
        secret = st.sampled_from(["", "wrong-secret", "x" * 200])
        other_app = st.sampled_from([None, app_pk + 1000])
        single = st.builds(Post, body, secret, other_app)
    else:
        raise AssertionError(kind)
    return st.lists(single, min_size=1, max_size=4)


@dataclass
class Tally:
    bad: int = 0
    valid: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    applied: int = 0  # valid recipients that ended read, each status once
    lost: int = 0


@pytest.fixture
def campaign(db: None) -> Campaign:
    return sim_campaign(phones=[])


def post(client: Client, campaign: Campaign, item: Post) -> int:
    app = campaign.partner_app
    secret = app.callback_secret if item.secret is None else item.secret
    pk = item.app_pk or app.pk
    url = reverse("webhooks:gupshup", args=[pk])
    headers = {django_settings.WEBHOOK_SECRET_HEADER: secret} if secret else {}
    response = client.post(
        url, item.body, content_type="application/json", headers=headers
    )
    return response.status_code


def expected_answer(kind: str, item: Post) -> int:
    if kind == "wrong secret":
        return 403
    if len(item.body) > django_settings.WEBHOOK_MAX_BYTES:
        return 413
    return 200


@pytest.mark.parametrize("kind", KINDS)
def test_a_flood_of_malformed_callbacks_is_answered_stored_and_never_breaks_the_drain(
    kind: str, client: Client, campaign: Campaign, fault_table: FaultTable
) -> None:
    tally = Tally()

    @settings(BAD_INPUT, max_examples=EXAMPLES)
    @given(data=st.data())
    def flood(data: st.DataObject) -> None:
        sends = [message() for _ in range(data.draw(st.integers(1, 2)))]
        rows = [_submitted(campaign, sent) for sent in sends]
        fmt = data.draw(st.sampled_from(["v2", "v3"]))
        valid = [Post(_encoded(b)) for sent in sends for b in bodies(sent, fmt)]
        if kind == "duplicates":
            other = "v3" if fmt == "v2" else "v2"
            bad = [Post(_encoded(b)) for sent in sends for b in bodies(sent, other)]
            bad += [p for p in valid for _ in range(data.draw(st.integers(1, 2)))]
        else:
            bad = data.draw(bad_posts(kind, campaign.partner_app_id))
        posts = data.draw(st.permutations([*valid, *bad]))
        stored = _post_all(client, campaign, kind, posts, set(map(id, bad)), tally)
        tasks.drain_webhooks.call()  # once, for the whole flood: it must not fail
        _check_stored(stored, tally)
        _check_applied(rows, tally)
        tally.valid += len(valid)

    flood()
    assert tally.lost == 0
    fault_table.record(
        area="Callbacks",
        fault=FAULTS[kind],
        tried=f"{tally.bad} bad callbacks in floods with {tally.valid} valid ones",
        outcome=_words(tally),
        lost=tally.lost,
    )


def _submitted(campaign: Campaign, sent: SentMessage) -> Recipient:
    row = Recipient.objects.create(
        campaign=campaign, phone=f"+{sent.destination}", params=["Asha", "20%"]
    )
    attempt_sent(row, message_id=sent.gs_id)
    return row


def _post_all(
    client: Client,
    campaign: Campaign,
    kind: str,
    posts: list[Post],
    bad: set[int],
    tally: Tally,
) -> list[tuple[int, int | None]]:
    """Post each; returns (answer, stored event id) of the bad ones."""
    stored: list[tuple[int, int | None]] = []
    for item in posts:
        before = WebhookEvent.objects.order_by("-pk").values_list("pk", flat=True)
        last = before.first() or 0
        refused = _refused()
        status = post(client, campaign, item)
        newest = before.first()
        event = newest if newest and newest > last else None
        if id(item) not in bad:
            assert status == 200, status
            continue
        tally.bad += 1
        assert status == expected_answer(kind, item), (status, item)
        if status == 403:
            # Counted under its source, not stored: a flood cannot fill a table.
            assert event is None and _refused() == refused + 1
        else:
            assert (event is None) == (status == 413), "stored unless too large"
        stored.append((status, event))
    return stored


def _refused() -> int:
    return sum(RefusedCallback.objects.values_list("count", flat=True))


def _check_stored(stored: list[tuple[int, int | None]], tally: Tally) -> None:
    assert not WebhookEvent.objects.filter(state=WebhookState.RECEIVED).exists()
    states = dict(
        WebhookEvent.objects.filter(pk__in=[pk for _, pk in stored]).values_list(
            "pk", "state"
        )
    )
    errors = dict(WebhookEvent.objects.filter(pk__in=states).values_list("pk", "error"))
    for status, pk in stored:
        if pk is None:
            what = "counted as refused" if status == 403 else "not stored"
            tally.answers[f"{status}, {what}"] += 1
            continue
        said = f"{status}, stored {states[pk]}"
        if states[pk] == WebhookState.INVALID:
            assert errors[pk].strip(), "a parse error says what was wrong"
            # Not a crash caught by the drain's safety net.
            assert not errors[pk].startswith("Processing failed"), errors[pk]
            said += " (parse error)"
        tally.answers[said] += 1


def _check_applied(rows: list[Recipient], tally: Tally) -> None:
    """Each valid send read, with each status on its timeline exactly once."""
    for row in rows:
        row.refresh_from_db()
        timeline = Counter(
            StatusEvent.objects.filter(attempt__recipient=row).values_list(
                "status", flat=True
            )
        )
        done = row.status == RecipientStatus.READ and timeline == Counter(STATUSES)
        tally.applied += done
        tally.lost += not done
        assert done, (row.status, timeline)


def _words(tally: Tally) -> str:
    answers = ", ".join(f"{n}× {said}" for said, n in sorted(tally.answers.items()))
    return (
        f"answers: {answers}; never a 500; the drain never failed; "
        f"{tally.applied} valid sends in the floods all read, each status once"
    )


@pytest.mark.parametrize("secret", ["own", "wrong"])
def test_a_callback_with_a_nul_byte_is_stored_not_answered_500(
    secret: str, client: Client, campaign: Campaign
) -> None:
    # PostgreSQL refuses NUL in text: this was a 500, retried by Gupshup forever.
    item = Post(b'{"type": "message-event"}\x00', None if secret == "own" else "x")
    assert post(client, campaign, item) == (200 if secret == "own" else 403)
    kept = WebhookEvent if secret == "own" else RefusedCallback
    assert kept.objects.count() == 1
