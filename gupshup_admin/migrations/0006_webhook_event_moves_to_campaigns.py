"""WebhookEvent and WebhookDrain now belong to campaigns (its 0006): removed from
this app's state only; the tables are campaigns' now."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("gupshup_admin", "0005_webhook_drain"),
        ("campaigns", "0006_webhook_event_moves_here"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="WebhookEvent"),
                migrations.DeleteModel(name="WebhookDrain"),
            ],
            database_operations=[],
        ),
    ]
