"""The four roles, as Django groups: the one place that says who may do what.

`roles_setup()` makes each group hold exactly these permissions (creating the
groups, adding what is missing, removing what drifted in). It runs after every
`migrate` (permissions only exist then) and as `manage.py setup_roles`.

- Marketer: the media library, draft campaigns and their recipients; sees the
  templates and app names it picks from, never an app's or channel's page (so no
  token hints), no provider exchanges, no callbacks.
- Approver: watches campaigns, starts/schedules/pauses/resumes/cancels/retries
  them, settles unknown sends, approves campaigns above the threshold (never its
  own: see campaigns/lifecycle/approvals.py).
- Admin: everything, including apps, channels, tokens, users and groups.
- Reviewer: reads everything that happened (campaigns, reports, timelines,
  exchanges, callbacks, the audit trail) and exports recipients; changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser, Group, Permission, User
from django.db import transaction

SEND = "campaigns.send_campaign"
APPROVE = "campaigns.approve_campaign"
EXPORT = "campaigns.export_recipients"

# Whoever a request is from: signed in, or not (permissions say no to the latter).
Person = User | AnonymousUser


@dataclass(frozen=True)
class Role:
    name: str
    description: str
    permissions: tuple[str, ...] = ()
    # Every permission of these apps (the Admin's "everything").
    apps: tuple[str, ...] = ()

    def grants(self, perm: str) -> bool:
        return perm in self.permissions or perm.split(".", 1)[0] in self.apps


MARKETER = Role(
    "Marketer",
    "Uploads media and prepares draft campaigns.",
    (
        "media_library.view_mediafile",
        "media_library.add_mediafile",
        "media_library.change_mediafile",
        "media_library.view_providermedia",
        "campaigns.view_campaign",
        "campaigns.add_campaign",
        "campaigns.change_campaign",
        "campaigns.view_recipient",
        "campaigns.view_sendattempt",
        "campaigns.add_recipient",
        "campaigns.view_recipientimport",
        "gupshup_admin.view_template",
    ),
)
APPROVER = Role(
    "Approver",
    "Approves, starts, pauses and cancels sends.",
    (
        "campaigns.view_campaign",
        "campaigns.view_recipient",
        "campaigns.view_sendattempt",
        "campaigns.view_recipientimport",
        SEND,
        APPROVE,
        "media_library.view_mediafile",
        "gupshup_admin.view_template",
    ),
)
ADMIN = Role(
    "Admin",
    "Manages apps, channels, tokens, users and groups; may do everything.",
    apps=(
        "auth",
        "gupshup_admin",
        "media_library",
        "campaigns",
        "audit",
        "django_tasks_database",
        "axes",  # lockouts, when django-axes is installed
    ),
)
REVIEWER = Role(
    "Reviewer",
    "Reads the send history, exchanges, callbacks and the audit trail.",
    (
        "campaigns.view_campaign",
        "campaigns.view_recipient",
        "campaigns.view_recipientimport",
        "campaigns.view_sendattempt",
        "campaigns.view_statusevent",
        EXPORT,
        "media_library.view_mediafile",
        "media_library.view_providermedia",
        "gupshup_admin.view_template",
        "gupshup_admin.view_apiexchange",
        "campaigns.view_webhookevent",
        "campaigns.view_refusedcallback",
        "audit.view_auditevent",
    ),
)
ROLES: tuple[Role, ...] = (MARKETER, APPROVER, ADMIN, REVIEWER)


def roles_granting(perm: str) -> list[str]:
    """The names of the roles that hold `perm` ("app_label.codename")."""
    return [role.name for role in ROLES if role.grants(perm)]


@dataclass
class RoleResult:
    name: str
    created: bool = False
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def _key(permission: Permission) -> str:
    return f"{permission.content_type.app_label}.{permission.codename}"


def _wanted(role: Role) -> tuple[list[Permission], list[str]]:
    """The role's permissions that exist, and the names of those that do not."""
    everything = Permission.objects.select_related("content_type")
    by_key = {_key(p): p for p in everything}
    found = [p for key, p in by_key.items() if role.grants(key)]
    missing = [perm for perm in role.permissions if perm not in by_key]
    return found, missing


@transaction.atomic
def roles_setup() -> list[RoleResult]:
    """Make every role's group hold exactly its permissions. Idempotent.

    Permissions that do not exist yet (a half-migrated database) are reported in
    `missing` and skipped; the rest is still set.
    """
    results = []
    for role in ROLES:
        group, created = Group.objects.get_or_create(name=role.name)
        wanted, missing = _wanted(role)
        current = {_key(p): p for p in group.permissions.select_related("content_type")}
        keys = {_key(p) for p in wanted}
        group.permissions.set(wanted)
        results.append(
            RoleResult(
                name=role.name,
                created=created,
                added=sorted(keys - current.keys()),
                removed=sorted(current.keys() - keys),
                missing=missing,
            )
        )
    return results
