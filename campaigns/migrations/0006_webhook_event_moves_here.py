"""WebhookEvent and WebhookDrain move from gupshup_admin to campaigns, which
receives, processes and shows callbacks. State only: the tables stay as they
are here (0007 renames them), and the content types follow the models, so the
permissions people hold on them are kept."""

from __future__ import annotations

from typing import Any

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

MODELS = ("webhookevent", "webhookdrain")


def content_types_follow(apps: Any, schema_editor: Any) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MODELS:
        if not ContentType.objects.using(db).filter(
            app_label="campaigns", model=model
        ).exists():
            ContentType.objects.using(db).filter(
                app_label="gupshup_admin", model=model
            ).update(app_label="campaigns")


def content_types_back(apps: Any, schema_editor: Any) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    ContentType.objects.using(db).filter(
        app_label="campaigns", model__in=MODELS
    ).update(app_label="gupshup_admin")


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0005_approval"),
        ("gupshup_admin", "0005_webhook_drain"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="WebhookEvent",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("received_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        ("state", models.CharField(choices=[("received", "Received"), ("processed", "Processed"), ("parked", "Waiting for its send"), ("invalid", "Not understood"), ("rejected", "Rejected (bad secret)")], db_index=True, default="received", max_length=10)),
                        ("event_type", models.CharField(blank=True, db_index=True, max_length=40)),
                        ("body", models.TextField(help_text="The raw request body, as received.")),
                        ("headers", models.JSONField(blank=True, default=dict)),
                        ("remote_addr", models.GenericIPAddressField(blank=True, null=True)),
                        ("error", models.TextField(blank=True, help_text="Why it was not understood.")),
                        ("processed_at", models.DateTimeField(blank=True, null=True)),
                        ("partner_app", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="webhook_events", to="gupshup_admin.partnerapp")),
                    ],
                    options={
                        "db_table": "gupshup_admin_webhookevent",
                        "ordering": ["-received_at", "-id"],
                        "indexes": [models.Index(fields=["partner_app", "-received_at"], name="gupshup_adm_partner_a418fc_idx")],
                    },
                ),
                migrations.CreateModel(
                    name="WebhookDrain",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("requested", models.BooleanField(default=False)),
                        ("requested_at", models.DateTimeField(blank=True, null=True)),
                    ],
                    options={"db_table": "gupshup_admin_webhookdrain"},
                ),
                migrations.AlterField(
                    model_name="statusevent",
                    name="webhook_event",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="campaigns.webhookevent"),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_follow, content_types_back),
    ]
