"""Writing the audit trail. Call inside the transaction of the change described,
so that a change is never made without its line, nor a line kept for a change
that was rolled back."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import models

from audit.models import AuditAction, AuditEvent


def audit_target(obj: models.Model) -> tuple[str, str]:
    """The (type, id) under which `obj`'s events are stored."""
    return obj._meta.label_lower, str(obj.pk)


def audit_record(
    *,
    actor_id: int | None,
    action: AuditAction,
    target: models.Model,
    summary: str,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one line. `details` must hold no secret: hints only, never values."""
    user = None
    if actor_id is not None:
        user = get_user_model().objects.filter(pk=actor_id).first()
    # A user deleted meanwhile still leaves their id in the name.
    label = user.get_username() if user else f"user #{actor_id}" if actor_id else ""
    target_type, target_id = audit_target(target)
    return AuditEvent.objects.create(
        actor=user,
        actor_label=label,
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_label=str(target)[:200],
        summary=summary[:500],
        details=details or {},
    )


def audit_secrets_changed(
    *,
    actor_id: int | None,
    target: models.Model,
    changed: dict[str, str],
    action: AuditAction = AuditAction.APP_SECRETS_CHANGED,
) -> AuditEvent:
    """One line for secrets that changed: `changed` maps each secret's name to
    its new masked hint ("" when it was cleared). Never pass a secret's value."""
    parts = [f"{name} {hint or 'cleared'}" for name, hint in changed.items()]
    text = "; ".join(parts)
    return audit_record(
        actor_id=actor_id,
        action=action,
        target=target,
        summary=f"{text[:1].upper()}{text[1:]}.",
        details={"secrets": changed},
    )
