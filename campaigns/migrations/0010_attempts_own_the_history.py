"""Send attempts, step 3 of 3: the recipient's own copies of what is now its
attempts' (message id, WhatsApp ids, exchange, submission time) go, and the
timeline belongs to attempts: one row per attempt and status. Dropping the
timeline's recipient column drops 0004's `campaigns_statusevent_series` index
with it: the report's chart counts the attempts' milestone times now."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("campaigns", "0009_history_to_attempts"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='statusevent',
            name='status_event_once_per_recipient',
        ),
        migrations.RemoveIndex(
            model_name='recipient',
            name='campaigns_r_campaig_ac6668_idx',
        ),
        migrations.RemoveIndex(
            model_name='statusevent',
            name='status_event_parked_gs_id',
        ),
        migrations.RemoveIndex(
            model_name='statusevent',
            name='status_event_parked_wamid',
        ),
        migrations.RemoveField(
            model_name='recipient',
            name='exchange',
        ),
        migrations.RemoveField(
            model_name='recipient',
            name='message_id',
        ),
        migrations.RemoveField(
            model_name='recipient',
            name='submitted_at',
        ),
        migrations.RemoveField(
            model_name='recipient',
            name='wa_id',
        ),
        migrations.RemoveField(
            model_name='recipient',
            name='wamid',
        ),
        migrations.RemoveField(
            model_name='statusevent',
            name='recipient',
        ),
        migrations.AlterField(
            model_name='recipient',
            name='attempts',
            field=models.PositiveSmallIntegerField(default=0, help_text='Requests sent to this number so far.'),
        ),
        migrations.AddIndex(
            model_name='statusevent',
            index=models.Index(condition=models.Q(('attempt__isnull', True)), fields=['gs_id'], name='status_event_parked_gs_id'),
        ),
        migrations.AddIndex(
            model_name='statusevent',
            index=models.Index(condition=models.Q(('attempt__isnull', True)), fields=['wamid'], name='status_event_parked_wamid'),
        ),
        migrations.AddConstraint(
            model_name='statusevent',
            constraint=models.UniqueConstraint(fields=('attempt', 'status'), name='status_event_once_per_attempt'),
        ),
        migrations.AddIndex(
            model_name='sendattempt',
            index=models.Index(fields=['campaign', 'submitted_at'], name='send_attempt_submitted'),
        ),
        migrations.AddIndex(
            model_name='sendattempt',
            index=models.Index(fields=['campaign', 'status'], name='send_attempt_status'),
        ),
        migrations.AddIndex(
            model_name='sendattempt',
            index=models.Index(condition=models.Q(('message_id', ''), ('status', 'unknown')), fields=['recipient'], name='send_attempt_unknown_unnamed'),
        ),
        migrations.AddConstraint(
            model_name='sendattempt',
            constraint=models.UniqueConstraint(fields=('recipient', 'number'), name='send_attempt_unique_number'),
        ),
    ]
