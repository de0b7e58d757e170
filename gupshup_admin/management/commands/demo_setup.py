"""Create the demo admin, a login per role, partner apps and the CommBox channel
(on the simulator)."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand

from gupshup_admin import services
from gupshup_admin.models import CommBoxChannel, PartnerApp
from gupshup_admin.roles import ROLES, roles_setup
from gupshup_admin.simulator import DEMO

# One login per role, so a newcomer can see what each may do; the demo
# campaign is made by the marketer and approved by the approver.
ROLE_USERS = {role.name: f"demo-{role.name.lower()}" for role in ROLES}


class Command(BaseCommand):
    help = (
        "Create (or reset) the demo login, one login per role, the partner apps "
        "and the CommBox channel."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", default="demo")
        parser.add_argument("--password", default="", help="Default: a new random one.")

    def handle(self, *args: Any, **options: Any) -> None:
        password = options["password"] or secrets.token_urlsafe(9)
        user, _ = User.objects.get_or_create(username=options["username"])
        user.is_staff = user.is_superuser = True
        user.email = user.email or "demo@example.com"
        user.set_password(password)
        user.save()
        self._apps()
        self._channel()
        self.stdout.write(
            self.style.SUCCESS(f"Demo login: {user.username} / {password}")
        )
        self._role_users()

    def _role_users(self) -> None:
        roles_setup()
        for role in ROLES:
            password = secrets.token_urlsafe(9)
            user, _ = User.objects.get_or_create(username=ROLE_USERS[role.name])
            user.is_staff, user.is_superuser = True, False
            user.email = user.email or f"{user.username}@example.com"
            user.set_password(password)
            user.save()
            user.groups.set([Group.objects.get(name=role.name)])
            self.stdout.write(
                f"  {role.name} login: {user.username} / {password}"
                f"  ({role.description})"
            )

    def _apps(self) -> None:
        capi = DEMO.capi_app
        app, _ = PartnerApp.objects.get_or_create(
            app_id=capi.app_id,
            defaults={
                "name": "Demo shop (simulator)",
                "app_name": capi.app_name,
                "source_number": f"+{capi.source}",
                "send_rate_per_minute": 300,
            },
        )
        services.partner_app_update_secrets(app=app, app_token=capi.token)
        legacy = DEMO.non_capi_app
        app, _ = PartnerApp.objects.get_or_create(
            app_id=legacy.app_id,
            defaults={
                "name": "Legacy app, not CAPI (simulator)",
                "app_name": legacy.app_name,
                "source_number": f"+{legacy.source}",
                "is_capi": False,
                "partner_email": DEMO.partner_email,
            },
        )
        services.partner_app_update_secrets(app=app, partner_secret=DEMO.partner_secret)

    def _channel(self) -> None:
        channel, _ = CommBoxChannel.objects.get_or_create(
            stream_id=DEMO.channel.stream_id, defaults={"name": "Demo CommBox channel"}
        )
        services.commbox_channel_update_secrets(
            channel=channel, api_key=DEMO.channel.api_key
        )
