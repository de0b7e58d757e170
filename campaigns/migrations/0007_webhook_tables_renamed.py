"""The callback tables take campaigns' names, and their index a readable one."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0006_webhook_event_moves_here"),
        ("gupshup_admin", "0006_webhook_event_moves_to_campaigns"),
    ]

    operations = [
        migrations.AlterModelTable(name="webhookevent", table=None),
        migrations.AlterModelTable(name="webhookdrain", table=None),
        migrations.RenameIndex(
            model_name="webhookevent",
            new_name="webhook_event_app_received",
            old_name="gupshup_adm_partner_a418fc_idx",
        ),
    ]
