"""Reading the audit trail."""

from __future__ import annotations

from django.db import models
from django.db.models import QuerySet

from audit.models import AuditEvent
from audit.services import audit_target


def audit_events_for(*, target: models.Model) -> QuerySet[AuditEvent]:
    """The events of one object, newest first."""
    target_type, target_id = audit_target(target)
    return AuditEvent.objects.filter(
        target_type=target_type, target_id=target_id
    ).select_related("actor")
