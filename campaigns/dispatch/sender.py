"""The sender: one of `CAMPAIGN_SENDERS` slots, each serving every running
campaign, with many requests in flight and every app held to its own rate.

Each pass over the apps this slot serves (`app_slots`): reserve the app's
sends due within the next half second, claim that many recipients from its
campaigns in turn (two campaigns on one app share its rate), write their
attempts, and keep the requests until each is about to fall due: then its
exchange row is written and it goes to a thread (`inflight.py`), which sends it
on its moment. Answers are settled in bulk as they come back. The rules that
make double sends impossible:

- A recipient is claimed (pending → sending, under a claim id, only while its
  campaign runs) before its request, and only its claimant sends it.
- Each request is a `SendAttempt`, and its `ApiExchange` row (ref
  `attempt:<pk>`) is written before the request leaves. A row left "sending" by
  a dead worker is settled by those rows: no exchange means nothing left
  (pending again); an exchange means Gupshup may have it (unknown). See
  `recovery.py`.
- An answer that may have been lost (read timeout, dropped connection) makes the
  recipient unknown; it is never re-sent blindly.
- A request is handed to a thread only when one is free and it falls due
  within HAND_OVER_AHEAD, so a logged request always leaves. One still kept
  here is called off when its campaign stops, its app is throttled or the
  slice ends (its attempt goes, its row is pending again); what is in flight
  settles by its answer.
"""

from __future__ import annotations

import math
import random
import secrets
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db.models import Min, QuerySet
from django.utils import timezone

from campaigns.dispatch import batch, outcomes
from campaigns.dispatch.batch import Accepted
from campaigns.dispatch.inflight import (
    InFlight,
    Job,
    Pacer,
    app_answered,
    app_warm,
)
from campaigns.dispatch.pauses import campaign_pause_for
from campaigns.models import (
    Campaign,
    CampaignKind,
    CampaignState,
    Recipient,
    RecipientStatus,
    SendAttempt,
    SenderSlot,
)
from campaigns.statuses.machine import parked_events_exist, status_events_match_parked
from gupshup_admin import services as app_services
from gupshup_admin.exceptions import ApplicationError
from gupshup_admin.exchanges import PreparedRecorder, exchanges_begin, exchanges_finish
from gupshup_admin.models import PartnerApp
from gupshup_admin.providers.errors import (
    AppNotUsableError,
    AuthenticationError,
    ProviderError,
)
from gupshup_admin.providers.gupshup import Send
from gupshup_admin.providers.http import Credential
from gupshup_admin.ratelimit import (
    rate_hold,
    rate_refund,
    rate_reserve,
    send_spacing,
)
from media_library import selectors as media_selectors

HEARTBEAT_SECONDS = 1.0
# Running campaigns (and their apps, templates and images) are read again this often.
REFRESH_SECONDS = 0.5
# While requests wait to leave, their campaigns' states are read this often: a
# pause or cancel calls off what has not left within this time.
STATES_SECONDS = 0.1


def drain_seconds() -> float:
    """How long a stopping sender waits for its requests in flight: one
    request's timeouts, and a second."""
    return float(settings.PROVIDER_CONNECT_TIMEOUT + settings.PROVIDER_READ_TIMEOUT + 1)


# A request's exchange row is written, and it goes to a thread, this long
# before it falls due (the thread waits the rest, then paces it).
HAND_OVER_AHEAD = 0.02
# Answers that come back within this many seconds of each other are settled
# together.
SETTLE_GATHER_SECONDS = 0.005
# Callbacks that beat their send's write are looked for at most this often
# (one query; the tick looks too).
PARKED_SECONDS = 0.5
# A running campaign's image (media id or link) is checked again this often;
# pre-flight made sure its media id outlives the campaign.
IMAGE_SECONDS = 5.0
# A sender takes the app's sends that fall due within this many seconds at
# once: their bookkeeping is one batch, and each request leaves on time.
SCHEDULE_SECONDS = 0.5
# Senders take about this many seconds of the app's rate at once (one send below
# 10/s): waking for every single send cost a core at 50/s (bench/dispatch_rate.py).
GATHER_SECONDS = 0.1
# An app is served by one slot per this many sends a second (at least one):
# one taker per bucket wakes exactly when its tokens are due, where four would
# race for each token; a fast app is spread over more slots (more cores).
APP_SENDS_PER_SLOT = 25.0
# The latency assumed for an app before its first answer.
FIRST_LATENCY_SECONDS = 0.5


@dataclass(frozen=True)
class SliceResult:
    sent: int
    again_in: float | None  # seconds until this sender should run again; None: stop
    handed_over: bool = False  # the next slice was enqueued already


@dataclass(frozen=True)
class ImageToSend:
    media_id: str = ""
    link: str = ""


def app_slots(app: PartnerApp, slots: int) -> set[int]:
    """The sender slots that serve `app`."""
    width = math.ceil(app.send_rate_per_minute / 60.0 / APP_SENDS_PER_SLOT)
    width = min(max(width, 1), slots)
    return {(app.pk + k) % slots for k in range(width)}


@dataclass(eq=False)
class Work:
    """A running campaign as this sender knows it."""

    campaign: Campaign
    image: ImageToSend
    look_at: float = 0.0  # monotonic: nothing to claim before then
    image_until: float = 0.0  # monotonic: when to check the image again


@dataclass(eq=False)
class Lane:
    """One app this sender serves: its campaigns, its requests in flight, and
    when its bucket has tokens again."""

    app: PartnerApp
    works: list[Work] = field(default_factory=list)
    ready_at: float = 0.0  # monotonic
    in_flight: int = 0
    latency: float = FIRST_LATENCY_SECONDS  # moving average of its answers
    credential: Credential | None = None
    turn: int = 0  # round robin over its campaigns
    pacer: Pacer = field(default_factory=lambda: Pacer(0.0))
    answered: bool = False  # an answer came back a moment ago, in this process

    def room(self) -> int:
        """Requests it may have in flight or waiting to leave from this sender:
        its setting, else enough to keep its rate through its latency (twice,
        for the tail) plus one batch taken ahead."""
        if not self.answered:
            # Slow start: one request until the first answer is back. The first
            # request of a sender opens a connection and arrives late; sent
            # alone, it cannot land in one of Gupshup's seconds with ten more.
            return 1 - self.in_flight
        limit: int = settings.CAMPAIGN_APP_IN_FLIGHT
        if not limit:
            per_second = self.app.send_rate_per_minute / 60.0
            window = self.latency * 2 + SCHEDULE_SECONDS + GATHER_SECONDS
            limit = max(2, math.ceil(per_second * window))
        return limit - self.in_flight

    def observe(self, seconds: float) -> None:
        self.latency += (seconds - self.latency) * 0.2

    def in_turn(self, now: float) -> list[Work]:
        due = [work for work in self.works if work.look_at <= now]
        if not due:
            return []
        self.turn = (self.turn + 1) % len(due)
        return due[self.turn :] + due[: self.turn]


class Sender:
    def __init__(self, slot: int, token: str) -> None:
        self.slot, self.token = slot, token
        self.lanes: dict[int, Lane] = {}
        self.works: dict[int, Work] = {}
        self.pool = InFlight(settings.CAMPAIGN_SENDS_IN_FLIGHT)
        self.sent = 0
        self.serving = True  # until the first refresh says otherwise
        # Message ids accepted since callbacks parked before their send were
        # last looked for, and when to look again.
        self.accepted_ids: list[str] = []
        self.parked_at = 0.0
        # Claimed, attempts written, not yet due: no exchange row yet (it is
        # written right before the request leaves), no thread yet.
        self.scheduled: list[Job] = []

    # --- the loop ---------------------------------------------------------

    def run(
        self, seconds: float, hand_over: Callable[[], None] | None = None
    ) -> SliceResult:
        """Send for `seconds`; then call `hand_over` (the next slice starts
        while this one waits for its last answers) or ask to run again."""
        deadline = time.monotonic() + seconds
        beat_at = refresh_at = states_at = 0.0
        try:
            while True:
                self._settle(self.pool.done())
                now = time.monotonic()
                if now >= beat_at:
                    if not self._beat():
                        return SliceResult(self.sent, None)
                    beat_at = now + HEARTBEAT_SECONDS
                if now >= deadline:
                    self._hold_for_next_slice()
                    if hand_over is None:
                        return SliceResult(self.sent, 0.0)
                    hand_over()
                    return SliceResult(self.sent, None, handed_over=True)
                if now >= refresh_at:
                    self._refresh()
                    refresh_at = now + REFRESH_SECONDS
                    if not self.serving and not len(self.pool) and not self.scheduled:
                        return SliceResult(self.sent, None)  # retire
                if now >= states_at:
                    self._check_states()
                    states_at = now + STATES_SECONDS
                for lane in self._lanes_in_turn():
                    if lane.ready_at <= now:
                        self._launch(lane, now)
                self._hand_over_due()
                wake = min(
                    [beat_at, refresh_at, deadline]
                    + [lane.ready_at for lane in self.lanes.values() if lane.works]
                    + ([states_at] if self._waiting() else [])
                    # (with no thread free, an answer coming back wakes it)
                    + [
                        job.not_before - HAND_OVER_AHEAD
                        for job in self.scheduled[:1]
                        if self.pool.room > 0
                    ]
                )
                finished = self.pool.done(max(0.0, min(wake - now, 0.25)))
                if finished and len(self.pool):
                    # Answers come back one by one: those of the next few ms
                    # are settled with these, a few statements for all.
                    finished += self.pool.done_within(SETTLE_GATHER_SECONDS)
                self._settle(finished)
        finally:
            # Whatever ends the slice (its time, a replaced token, nothing left
            # to serve), what has not left goes back, and what is in flight is
            # waited for, within its timeouts.
            self._give_back_waiting()
            self._settle(self.pool.drain(drain_seconds()))
            self.pool.close()
            _attach_early_callbacks(self.accepted_ids)

    def _give_back_waiting(self) -> None:
        """The slice ends: what has not left is called off and its tokens go
        back to the bucket, so the next slice (another worker, perhaps) sends
        from there on; this one would go on sending while that one starts."""
        waiting: dict[int, int] = defaultdict(int)
        for job in self._call_off(lambda job: True):
            waiting[job.campaign.partner_app_id] += 1
        for lane in self.lanes.values():
            if waiting.get(lane.app.pk):
                rate_refund(app=lane.app, count=waiting[lane.app.pk])

    def _hold_for_next_slice(self) -> None:
        """The slice ends: call off what has not left, wait until what was
        handed over has left (due within HAND_OVER_AHEAD), and tell each app's
        bucket when this sender's last request really left, plus a spacing:
        the next slice, in another process perhaps, sends its first no
        sooner. Its pacer is new, and this one's may run behind the bucket's
        schedule (a late wake delays the later sends): pacing from the bucket
        alone, the next slice sent its first 57 ms after this one's last
        (eleven in a second, a 429)."""
        self._give_back_waiting()
        self.pool.wait_departed(HAND_OVER_AHEAD + 0.2)
        for lane in self.lanes.values():
            if lane.pacer.left_at is not None:
                until = lane.pacer.left_at + lane.pacer.spacing
                rate_hold(app=lane.app, until=datetime.fromtimestamp(until, tz=UTC))

    def _lanes_in_turn(self) -> list[Lane]:
        lanes = [lane for lane in self.lanes.values() if lane.works]
        if len(lanes) > 1:  # who goes first changes, so nobody is always last
            shift = int(time.monotonic() * 1000) % len(lanes)
            lanes = lanes[shift:] + lanes[:shift]
        return lanes

    def _beat(self) -> bool:
        """Beat the slot's heart; False when this sender was replaced."""
        return bool(
            SenderSlot.objects.filter(slot=self.slot, token=self.token).update(
                heartbeat_at=timezone.now()
            )
        )

    def _refresh(self) -> None:
        """Read the running campaigns again; keep what is known of their apps."""
        now = time.monotonic()
        running = list(
            Campaign.objects.filter(state=CampaignState.RUNNING).select_related(
                "partner_app", "template", "media_file", "created_by"
            )
        )
        slots = settings.CAMPAIGN_SENDERS
        works: dict[int, Work] = {}
        for known_lane in self.lanes.values():
            known_lane.works = []
        for campaign in running:
            app = campaign.partner_app
            if self.slot not in app_slots(app, slots):
                continue
            known = self.works.get(campaign.pk)
            if known is not None and known.image_until > now:
                image: ImageToSend | None = known.image
            else:
                image = _image(campaign)
            if image is None:
                continue
            work = Work(campaign, image, known.look_at if known else 0.0)
            work.image_until = (
                known.image_until
                if known and known.image is image
                else now + IMAGE_SECONDS
            )
            works[campaign.pk] = work
            serving = self.lanes.get(app.pk) or _new_lane(app, now)
            serving.app = app  # its rate or health may have changed
            serving.pacer.spacing = send_spacing(app.send_rate_per_minute)
            serving.works.append(work)
            self.lanes[app.pk] = serving
        self.works = works
        self.serving = bool(works)
        # Requests not yet left of campaigns that stopped (paused, cancelled).
        self._call_off(lambda job: job.campaign.pk not in works)

    def _check_states(self) -> None:
        """Call off the requests not yet left of campaigns that stopped."""
        waiting = self._waiting()
        if not waiting:
            return
        running = set(
            Campaign.objects.filter(
                pk__in=waiting, state=CampaignState.RUNNING
            ).values_list("pk", flat=True)
        )
        if running != waiting:
            self._call_off(lambda job: job.campaign.pk not in running)

    # --- sending ----------------------------------------------------------

    def _launch(self, lane: Lane, now: float) -> None:
        """Take the app's tokens for a batch, claim it across the app's
        campaigns in turn, and send it."""
        room = min(
            self.pool.room - len(self.scheduled),
            lane.room(),
            settings.CAMPAIGN_SEND_BATCH,
        )
        if room <= 0:
            lane.ready_at = now + 0.02  # an answer coming back wakes the loop too
            return
        order = lane.in_turn(now)
        if not order:  # its campaigns wait (retries' backoff, rows elsewhere)
            lane.ready_at = min(work.look_at for work in lane.works)
            return
        reserved = rate_reserve(
            app=lane.app,
            want=room,
            ahead_seconds=SCHEDULE_SECONDS,
            gather_seconds=GATHER_SECONDS,
        )
        taken_at = time.monotonic()  # after the bucket's clock: never early
        if not reserved.due:
            lane.ready_at = now + reserved.wait
            return
        due = [taken_at + offset for offset in reserved.due]
        used = 0
        for work in order:
            if used == len(due):
                break
            claim = f"{self.token[:16]}-{secrets.token_hex(6)}"
            rows = batch.recipients_claim(work.campaign.pk, len(due) - used, claim)
            if not rows:
                self._idle(work, now)
                continue
            used += self._send(lane, work, rows, claim, due[used : used + len(rows)])
        if used < len(due):  # the latest ones: the bucket takes them back
            rate_refund(app=lane.app, count=len(due) - used)
        # Back for more when the last of these falls due.
        lane.ready_at = max(lane.ready_at, due[used - 1] if used else now)

    def _idle(self, work: Work, now: float) -> None:
        """Nothing to claim now: when to look again (done when never)."""
        delay = _idle_delay(work.campaign)
        # Completed: the next refresh drops it (unless it was resumed meanwhile).
        work.look_at = now + (REFRESH_SECONDS * 2 if delay is None else delay)

    def _send(
        self,
        lane: Lane,
        work: Work,
        rows: list[Recipient],
        claim: str,
        due: list[float],
    ) -> int:
        """Write the attempts of claimed rows and keep their requests, each to
        leave when its token falls due (`due`, monotonic). Returns how many."""
        campaign = work.campaign
        attempts = batch.attempts_begin(rows, app_id=lane.app.pk, claim=claim)
        pairs = list(zip(rows, attempts, strict=True))
        try:
            credential = self._credential(lane, campaign)
        except (ProviderError, ApplicationError) as exc:
            recipient, attempt = pairs[0]
            claimed = _claimed(recipient)
            outcomes.not_sent(campaign, recipient, attempt, claimed, exc)
            batch.attempts_release(pairs[1:], campaign_id=campaign.pk)
            lane.ready_at = time.monotonic() + 1.0
            return 0
        jobs = [
            Job(campaign, recipient, attempt, _send_for(lane, work, recipient,
                attempt, credential), PreparedRecorder(0), not_before=at,
                pacer=lane.pacer)
            for (recipient, attempt), at in zip(pairs, due, strict=True)
        ]  # fmt: skip
        lane.in_flight += len(jobs)
        self.scheduled = sorted(
            [*self.scheduled, *jobs], key=lambda job: job.not_before
        )
        self._hand_over_due()
        return len(jobs)

    def _hand_over_due(self) -> None:
        """Write the exchange rows of the requests about to fall due, in one
        statement, then hand them to the threads (each leaves on its moment)."""
        horizon = time.monotonic() + HAND_OVER_AHEAD
        count = 0
        while (
            count < len(self.scheduled) and self.scheduled[count].not_before <= horizon
        ):
            count += 1
        count = min(count, self.pool.room)
        if not count:
            return
        due, self.scheduled = self.scheduled[:count], self.scheduled[count:]
        self._hand_over(due)

    def _hand_over(self, jobs: list[Job]) -> None:
        ids = exchanges_begin([job.send.request for job in jobs])
        for job, exchange_id in zip(jobs, ids, strict=True):
            job.recorder = PreparedRecorder(exchange_id)
            self.pool.submit(job)

    def _waiting(self) -> set[int]:
        """The campaigns with requests that have not left yet."""
        return {job.campaign.pk for job in self.scheduled}

    def _call_off(self, unwanted: Callable[[Job], bool]) -> list[Job]:
        """Stop the scheduled requests `unwanted` picks (no exchange row was
        written for them; those handed to a thread, due within
        HAND_OVER_AHEAD, leave). Returns them."""
        stopped: list[Job] = []
        kept: list[Job] = []
        for job in self.scheduled:
            (stopped if unwanted(job) else kept).append(job)
        self.scheduled = kept
        for job in stopped:
            lane = self.lanes.get(job.campaign.partner_app_id)
            if lane is not None:
                lane.in_flight -= 1
        if stopped:
            _release_attempts(stopped)
        return stopped

    def _credential(self, lane: Lane, campaign: Campaign) -> Credential:
        if lane.credential is None:
            lane.credential = _credential(lane.app, campaign.started_by_id)
        return lane.credential

    # --- answers ----------------------------------------------------------

    def _settle(self, jobs: list[Job]) -> None:
        """Record the answers, then settle the accepted sends in bulk and the
        others one by one, by what went wrong."""
        if not jobs:
            return
        exchanges_finish(
            [
                (job.recorder.exchange_id, job.recorder.result)
                for job in jobs
                if job.recorder.result is not None
            ]
        )
        accepted: list[Accepted] = []
        for job in jobs:
            lane = self.lanes.get(job.campaign.partner_app_id)
            if lane is not None:
                lane.in_flight -= 1
            if lane is not None and job.recorder.result is not None:
                lane.observe(job.recorder.result.duration_ms / 1000)
                lane.answered = True
                app_answered(lane.app.pk)
            if job.answer is not None:
                reply = job.send.reply(job.answer)
                accepted.append(
                    Accepted(
                        job.recipient,
                        job.attempt,
                        reply.message_id,
                        getattr(reply, "wa_id", ""),
                        reply.exchange_id,
                    )
                )
            elif job.error is not None:
                self._not_accepted(job, job.error, lane)
        batch.attempts_submitted(accepted)
        self.sent += len(accepted)
        reset = {a.recipient.campaign_id for a in accepted}
        for pk in reset:
            work = self.works.get(pk)
            if work is not None and work.campaign.auth_failures:
                Campaign.objects.filter(pk=pk).update(auth_failures=0)
                work.campaign.auth_failures = 0
        self.accepted_ids += [a.message_id for a in accepted]
        if self.accepted_ids and time.monotonic() >= self.parked_at:
            _attach_early_callbacks(self.accepted_ids)
            self.accepted_ids = []
            self.parked_at = time.monotonic() + PARKED_SECONDS

    def _not_accepted(self, job: Job, exc: ProviderError, lane: Lane | None) -> None:
        app = job.campaign.partner_app
        if isinstance(exc, AuthenticationError):
            if lane is not None and self._again_with_new_token(job, lane):
                return
            app_services.partner_app_mark_unhealthy(app, exc)
        elif isinstance(exc, AppNotUsableError):
            app_services.partner_app_mark_unhealthy(app, exc)
        claimed = _claimed(job.recipient)
        outcome = outcomes.not_sent(job.campaign, job.recipient, job.attempt, claimed,
                                    exc)  # fmt: skip
        if outcome is outcomes.NotSent.STOP_BATCH:
            # Throttled, refused or stopped: what of the app has not left stays.
            self._call_off(lambda other: other.campaign.partner_app_id == app.pk)
            if lane is not None:
                lane.ready_at = time.monotonic() + 0.05  # the bucket says more
                lane.credential = None

    def _again_with_new_token(self, job: Job, lane: Lane) -> bool:
        """A 401: once per send, the app's token is replaced (when its
        credentials allow) and the same attempt sent again, as `with_app_client`
        does. False when that is not possible (the error stands)."""
        app = lane.app
        if job.refreshed or not app.can_refresh_token:
            return False
        stale = lane.credential
        try:
            if stale is None or stale.token == _token_of(job.send):
                lane.credential = app_services.partner_app_credential(
                    app=app, user_id=job.campaign.started_by_id, refresh=True
                )
        except (ProviderError, ApplicationError):
            lane.credential = None
            return False
        if self.pool.room <= 0:
            return False
        assert lane.credential is not None
        work = self.works.get(job.campaign.pk)
        if work is None:
            return False
        again = Job(
            job.campaign,
            job.recipient,
            job.attempt,
            _send_for(lane, work, job.recipient, job.attempt, lane.credential),
            PreparedRecorder(0),
            pacer=lane.pacer,
            refreshed=True,
        )
        lane.in_flight += 1
        self._hand_over([again])
        return True


def _new_lane(app: PartnerApp, now: float) -> Lane:
    """A lane starting at a random point of its app's first send interval:
    apps that start together then do not send in step, which would reach
    Gupshup as bursts of one request per app at once."""
    spacing = send_spacing(app.send_rate_per_minute)
    start = now + random.uniform(0.0, spacing)  # noqa: S311
    return Lane(app, ready_at=start, answered=app_warm(app.pk))


def sender_run(
    *, slot: int, token: str, hand_over: Callable[[], None] | None = None
) -> SliceResult:
    """Send for one slice of time as sender `slot` holding its slot's `token`."""
    return Sender(slot, token).run(settings.CAMPAIGN_SENDER_SLICE_SECONDS, hand_over)


def _credential(app: PartnerApp, user_id: int | None) -> Credential:
    try:
        return app_services.partner_app_credential(app=app, user_id=user_id)
    except AuthenticationError as exc:  # the partner login or a mint, first time
        app_services.partner_app_mark_unhealthy(app, exc)
        raise


def _token_of(send: Send[Any]) -> str:
    return send.request.credential.token if send.request.credential else ""


def _send_for(
    lane: Lane,
    work: Work,
    recipient: Recipient,
    attempt: SendAttempt,
    credential: Credential,
) -> Send[Any]:
    """The request of one recipient's attempt."""
    campaign, app, image = work.campaign, lane.app, work.image
    client = app_services.partner_app_client(
        app=app,
        user_id=campaign.started_by_id,
        credential=credential,
        ref=attempt.exchange_ref,
    )
    if campaign.kind == CampaignKind.TEMPLATE:
        assert campaign.template is not None
        return client.template_image(
            source=app.source_number,
            destination=recipient.phone,
            src_name=app.app_name,
            template_id=campaign.template.gupshup_id,
            params=[str(p) for p in recipient.params],
            image_id=image.media_id,
            image_link=image.link,
        )
    return client.v3_image(
        to=recipient.phone,
        image_id=image.media_id,
        image_link=image.link,
        caption=campaign.caption,
    )


def _release_attempts(jobs: list[Job]) -> None:
    """Jobs called off before an exchange row was written: their attempts go
    and their rows are pending again."""
    by_campaign: dict[int, list[Job]] = defaultdict(list)
    for job in jobs:
        by_campaign[job.campaign.pk].append(job)
    for campaign_id, stopped in by_campaign.items():
        pairs = [(job.recipient, job.attempt) for job in stopped]
        batch.attempts_release(pairs, campaign_id=campaign_id)


def _claimed(recipient: Recipient) -> QuerySet[Recipient]:
    return Recipient.objects.filter(
        pk=recipient.pk, status=RecipientStatus.SENDING, claimed_by=recipient.claimed_by
    )


def _attach_early_callbacks(message_ids: list[str]) -> None:
    """A callback can beat the write of its send's message id: it was parked.
    Attach such events now rather than at the next tick (one cheap query
    when, as usual, nothing is parked)."""
    if message_ids and parked_events_exist():
        status_events_match_parked(message_ids=message_ids)


def _image(campaign: Campaign) -> ImageToSend | None:
    """The image to send: the app's media id, else the file's public link
    (https only: what an approver approved, and what Gupshup fetches safely).

    Pauses the campaign (and returns None) when there is neither.
    """
    media_id = media_selectors.media_id_usable_until(
        media_file=campaign.media_file,
        partner_app=campaign.partner_app,
        until=timezone.now(),
    )
    if media_id:
        return ImageToSend(media_id=media_id)
    if campaign.media_file.public_url.startswith("https://"):
        return ImageToSend(link=campaign.media_file.public_url)
    campaign_pause_for(
        campaign,
        f"The image {campaign.media_file} has no valid media id for "
        f"{campaign.partner_app} (it expired or was never mirrored). Mirror it on "
        "the media page, then resume.",
    )
    return None


def _idle_delay(campaign: Campaign) -> float | None:
    """Nothing to claim now: when to look again, or None when the campaign is done."""
    rows = Recipient.objects.filter(campaign=campaign)
    pending = rows.filter(status=RecipientStatus.PENDING)
    if pending.filter(next_attempt_at__isnull=True).exists():
        return 0.05  # locked by another sender's claim just now
    retry_at: datetime | None = pending.aggregate(at=Min("next_attempt_at"))["at"]
    if retry_at is not None:
        return max((retry_at - timezone.now()).total_seconds(), 0.0)
    if rows.filter(status=RecipientStatus.SENDING).exists():
        return HEARTBEAT_SECONDS  # in flight here or elsewhere, or a dead worker's
    campaign_complete(campaign)
    return None


def campaign_complete(campaign: Campaign) -> bool:
    """Running → completed once nothing is pending or sending."""
    open_rows = Recipient.objects.filter(
        campaign=campaign,
        status__in=[RecipientStatus.PENDING, RecipientStatus.SENDING],
    )
    if open_rows.exists():
        return False
    done = Campaign.objects.filter(pk=campaign.pk, state=CampaignState.RUNNING).update(
        state=CampaignState.COMPLETED, finished_at=timezone.now(), state_reason=""
    )
    return bool(done)
