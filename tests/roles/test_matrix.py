"""Each persona sees and can do exactly what its role should: every custom page and
POST action, every admin changelist, change and add page, admin actions and the
app buttons, walked as Maya (marketer), Arjun (approver), Ada (admin) and Rita
(reviewer), and as a staff member without a role.

The expectations are written out here, not read from gupshup_admin/roles.py, so a
change of the role map that lets someone do more (or less) fails. A new page under
/campaigns/ or /media-library/ that is not in the table fails too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from django.contrib import admin
from django.contrib.auth.models import User
from django.test import Client
from django.urls import get_resolver, reverse

from campaigns.models import Campaign, CampaignState
from tests.personas import persona
from tests.roles.world import World, build_world

M, AP, AD, R = "maya", "arjun", "ada", "rita"
EVERYONE = {M, AP, AD, R}
MAKERS = {M, AD}
SENDERS = {AP, AD}
READERS = {R, AD}

# (url name, method, who may) — in an order where a POST that works (say a
# cancel) does not stop a later check from meaning anything.
PAGES: list[tuple[str, str, set[str]]] = [
    ("campaigns:list", "GET", EVERYONE),
    ("campaigns:create", "GET", MAKERS),
    ("campaigns:create", "POST", MAKERS),
    ("campaigns:detail", "GET", EVERYONE),
    ("campaigns:progress", "GET", EVERYONE),
    ("campaigns:rejected_csv", "GET", EVERYONE),
    ("campaigns:report", "GET", EVERYONE),
    ("campaigns:recipient", "GET", READERS),
    ("campaigns:recipients_csv", "GET", READERS),
    ("campaigns:upload", "POST", MAKERS),
    ("campaigns:paste", "POST", MAKERS),
    ("campaigns:retry_preview", "GET", SENDERS),
    ("campaigns:approve", "GET", SENDERS),
    ("campaigns:reject", "POST", SENDERS),
    ("campaigns:approve", "POST", SENDERS),
    ("campaigns:start", "POST", SENDERS),
    ("campaigns:pause", "POST", SENDERS),
    ("campaigns:resume", "POST", SENDERS),
    ("campaigns:retry", "POST", SENDERS),
    ("campaigns:cancel", "POST", SENDERS),
    ("media_library:library", "GET", EVERYONE),
    ("media_library:thumbnail", "GET", EVERYONE),
    ("media_library:upload", "POST", MAKERS),
    ("media_library:mirror", "POST", MAKERS),
    ("media_library:retry", "POST", MAKERS),
]

# Admin access other than the Admin's (who gets what a superuser gets): "view"
# (read-only pages), "change" (a Save button). Anything not listed is refused.
ADMIN_ACCESS: dict[str, dict[str, str]] = {
    "gupshup_admin.template": {M: "view", AP: "view", R: "view"},
    "gupshup_admin.apiexchange": {R: "view"},
    "campaigns.webhookevent": {R: "view"},
    "campaigns.refusedcallback": {R: "view"},
    "campaigns.campaign": {M: "change", AP: "view", R: "view"},
    "campaigns.recipient": {M: "view", AP: "view", R: "view"},
    "media_library.mediafile": {M: "change", AP: "view", R: "view"},
    "media_library.providermedia": {M: "view", R: "view"},
    "audit.auditevent": {R: "view"},
}
ADMIN_ACTIONS: dict[str, dict[str, set[str]]] = {
    "campaigns.recipient": {
        AP: {"resolve_arrived", "resolve_failed", "resolve_resend"}
    },
    "media_library.mediafile": {M: {"mirror_everywhere", "retry_failed"}},
}
APP_BUTTONS = ["check_health", "fetch_token", "sync_templates", "register_callback"]


@pytest.fixture
def world(settings: Any, tmp_path: Any, db: None) -> World:
    settings.MEDIA_ROOT = tmp_path
    return build_world(persona("maya"))


@pytest.fixture(autouse=True)
def no_network() -> Iterator[None]:
    """Buttons that do work call the provider: here any request fails at once."""
    with responses.RequestsMock(assert_all_requests_are_fired=False):
        yield


def login(client: Client, name: str) -> Client:
    user = User.objects.filter(username=name).first() or persona(name)
    client.force_login(user)
    return client


def page_url(name: str, world: World) -> str:
    media = name.startswith("media_library:")
    kwargs = {
        "pk": world.media.pk if media else world.campaign.pk,
        "import_pk": world.loaded.pk,
        "rid": world.recipient.pk,
    }
    pattern = next(p for p in _patterns() if f"{p[0]}:{p[1].name}" == name)[1]
    wanted = set(pattern.pattern.converters)
    return reverse(name, kwargs={k: v for k, v in kwargs.items() if k in wanted})


def _patterns() -> list[tuple[str, Any]]:
    resolver = get_resolver()
    found = []
    for namespace in ("campaigns", "media_library"):
        _, sub = resolver.namespace_dict[namespace]
        found += [(namespace, p) for p in sub.url_patterns]
    return found


def outcome(response: Any) -> str:
    if response.status_code == 403:
        return "refused"
    if response.status_code == 302 and "/login/" in response.get("Location", ""):
        return "sent to login"
    return "allowed"


def test_every_custom_page_is_in_the_table() -> None:
    named = {f"{ns}:{p.name}" for ns, p in _patterns()}
    assert named == {name for name, _, _ in PAGES}


@pytest.mark.parametrize("who", [M, AP, AD, R, "nobody"])
def test_each_persona_may_open_and_post_exactly_its_pages(
    client: Client, world: World, who: str
) -> None:
    login(client, who) if who != "nobody" else _nobody(client)
    wrong = []
    for name, method, allowed in PAGES:
        url = page_url(name, world)
        response = client.get(url) if method == "GET" else client.post(url)
        expected = "allowed" if who in allowed else "refused"
        if (got := outcome(response)) != expected:
            wrong.append(f"{method} {name}: {got}, expected {expected}")
        if expected == "refused" and got == "refused":
            assert "You may not" in response.content.decode(), name
    assert wrong == []


def _nobody(client: Client) -> None:
    user = User.objects.create_user("nobody", password="x-password-1", is_staff=True)
    client.force_login(user)


def test_visitors_without_a_staff_login_are_sent_to_the_login_page(
    client: Client, world: World
) -> None:
    outsider = User.objects.create_user("outsider", password="x-password-1")
    for who in (None, outsider):
        if who is not None:
            client.force_login(who)
        for name, method, _ in PAGES:
            url = page_url(name, world)
            response = client.get(url) if method == "GET" else client.post(url)
            assert outcome(response) == "sent to login", (who, name)


# --- the admin ---------------------------------------------------------------------


def admin_pages(world: World) -> Iterator[tuple[str, str, str]]:
    """(model label, page, url) for every registered model's changelist, add page
    and the change page of one object."""
    for model in admin.site._registry:
        label = model._meta.label_lower
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        yield label, "changelist", reverse(f"{prefix}_changelist")
        yield label, "add", reverse(f"{prefix}_add")
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            yield label, "change", reverse(f"{prefix}_change", args=[obj.pk])


def seen(response: Any) -> str:
    if response.status_code == 403:
        return "-"
    assert response.status_code == 200, response.status_code
    return "change" if 'name="_save"' in response.content.decode() else "view"


def actions(response: Any) -> set[str]:
    html = response.content.decode()
    select = re.search(r'<select name="action".*?</select>', html, re.S)
    values = re.findall(r'value="([^"]+)"', select.group(0)) if select else []
    return set(values)


@pytest.mark.parametrize("who", [M, AP, R])
def test_each_persona_sees_exactly_its_admin_pages_and_actions(
    client: Client, world: World, who: str
) -> None:
    login(client, who)
    wrong = []
    for label, page, url in admin_pages(world):
        access = ADMIN_ACCESS.get(label, {}).get(who, "-")
        expected = "-" if page == "add" else access
        response = client.get(url)
        got = seen(response)
        if page == "changelist":  # a list has no Save button either way
            got, expected = (x if x == "-" else "list" for x in (got, expected))
        if got != expected:
            wrong.append(f"{label} {page}: {got}, expected {expected}")
        if page == "changelist" and got != "-":
            want = ADMIN_ACTIONS.get(label, {}).get(who, set())
            if (shown := actions(response)) != want:
                wrong.append(
                    f"{label} actions: {sorted(shown)}, expected {sorted(want)}"
                )
    assert wrong == []


def test_the_admin_role_sees_every_admin_page_as_a_superuser_does(
    client: Client, world: World
) -> None:
    boss = User.objects.create_superuser("boss", "boss@example.com", "boss-password-1")
    pages = list(admin_pages(world))
    as_boss = {}
    client.force_login(boss)
    for label, page, url in pages:
        response = client.get(url)
        as_boss[label, page] = (seen(response), actions(response))
    login(client, AD)
    wrong = [
        f"{label} {page}"
        for label, page, url in pages
        if (lambda r: (seen(r), actions(r)))(client.get(url)) != as_boss[label, page]
    ]
    assert wrong == []
    assert as_boss["gupshup_admin.partnerapp", "change"][0] == "change"


@pytest.mark.parametrize("who", [M, AP, AD, R])
def test_only_the_admin_may_press_the_app_buttons(
    client: Client, world: World, who: str
) -> None:
    login(client, who)
    for button in APP_BUTTONS:
        url = reverse(f"admin:gupshup_admin_partnerapp_{button}", args=[world.app.pk])
        response = client.post(url)
        expected = 302 if who == AD else 403
        assert response.status_code == expected, button


def test_the_marketer_never_sees_an_app_token_or_a_channel_key(
    client: Client, world: World
) -> None:
    """Maya uploads images: no page she can open shows a secret, not even its hint
    (the hint of a token is half a step towards social-engineering it)."""
    login(client, M)
    secrets = [
        world.app.app_token,
        world.app.app_token_hint,
        world.channel.api_key,
        world.channel.api_key_hint,
    ]
    urls = [page_url(name, world) for name, method, allowed in PAGES
            if method == "GET" and M in allowed]  # fmt: skip
    urls += [url for label, page, url in admin_pages(world)
             if ADMIN_ACCESS.get(label, {}).get(M)]  # fmt: skip
    urls.append(reverse("admin:index"))
    for url in urls:
        response = client.get(url)
        body = b"".join(response) if response.streaming else response.content
        text = body.decode(errors="replace")
        leaked = [s for s in secrets if s and s in text]
        assert leaked == [], url


def test_a_campaign_that_left_the_draft_state_is_read_only_for_its_marketer(
    client: Client, world: World
) -> None:
    login(client, M)
    url = reverse("admin:campaigns_campaign_change", args=[world.campaign.pk])
    assert seen(client.get(url)) == "change"
    Campaign.objects.filter(pk=world.campaign.pk).update(state=CampaignState.RUNNING)
    assert seen(client.get(url)) == "view"
    assert client.post(url, {"name": "Renamed"}).status_code == 403
