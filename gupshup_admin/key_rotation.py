"""Re-encrypt every stored secret under the first key of SECRETS_ENCRYPTION_KEYS.

All or nothing: every ciphertext is decrypted first, and only when all of them
could be are the new ones written, in the same transaction. A row that no key
can decrypt is named (model, pk, field), never shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.views.decorators.debug import sensitive_variables

from gupshup_admin import crypto


@dataclass(frozen=True)
class SecretRef:
    """Where a secret is stored: enough to find the row, nothing of its value."""

    model: str
    pk: Any
    field: str

    def __str__(self) -> str:
        return f"{self.model} pk={self.pk} field {self.field}"


class UndecryptableSecretsError(crypto.SecretDecryptionError):
    """Some stored secrets cannot be decrypted with the configured keys."""

    def __init__(self, rows: list[SecretRef]) -> None:
        self.rows = rows
        shown = "; ".join(str(row) for row in rows[:20])
        more = f" and {len(rows) - 20} more" if len(rows) > 20 else ""
        super().__init__(
            f"{crypto.SETTING} cannot decrypt {len(rows)} stored secret(s): "
            f"{shown}{more}. Nothing was changed. Put the key that encrypted them "
            f"back into {crypto.SETTING} (after the new one) and run "
            "`manage.py rotate_keys` again."
        )


@dataclass
class RotationReport:
    """How many secrets each `model.field` held (and were re-encrypted)."""

    dry_run: bool
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class _Pending:
    model: type[models.Model]
    pk: Any
    values: dict[str, str]


@sensitive_variables("value", "rotated")
def _rotate_model(
    model: type[models.Model],
    names: list[str],
    report: RotationReport,
    failures: list[SecretRef],
) -> list[_Pending]:
    label = model._meta.label
    pending = []
    rows = model._default_manager.select_for_update().only("pk", *names)
    for row in rows.order_by("pk").iterator():
        values = {}
        for name in names:
            value = getattr(row, name)
            if not value:
                continue
            try:
                rotated = crypto.rotate(value)
            except crypto.SecretDecryptionError:
                failures.append(SecretRef(label, row.pk, name))
                continue
            values[name] = rotated
            key = f"{label}.{name}"
            report.counts[key] = report.counts.get(key, 0) + 1
        if values:
            pending.append(_Pending(model, row.pk, values))
    return pending


def secrets_rotate(*, dry_run: bool = False) -> RotationReport:
    """Re-encrypt every `…_encrypted` field of every row under the first key.

    With `dry_run` everything is decrypted and counted, nothing written.

    Raises ImproperlyConfigured when the keys are missing or malformed, and
    UndecryptableSecretsError (naming each row, nothing written) when a stored
    secret fits none of them.
    """
    crypto.load_keys(settings.SECRETS_ENCRYPTION_KEYS)
    report = RotationReport(dry_run=dry_run)
    failures: list[SecretRef] = []
    with transaction.atomic():
        pending = []
        for model, names in crypto.encrypted_fields():
            report.counts.update({f"{model._meta.label}.{n}": 0 for n in names})
            pending += _rotate_model(model, names, report, failures)
        if failures:
            raise UndecryptableSecretsError(failures)
        if not dry_run:
            for item in pending:
                # update(), not save(): no auto_now bump, no save() side effects.
                item.model._default_manager.filter(pk=item.pk).update(**item.values)
    return report
