from django.db import migrations

from core.beat import crontab_task_schedule, task_unschedule

TASK = "feedback.tasks.tickets_sla_watch_task"


def schedule(apps, schema_editor):
    crontab_task_schedule(
        apps,
        name="feedback SLA watch",
        task=TASK,
        minute="*/5",
        hour="*",
        description="Reminds handlers before a ticket's deadline, escalates overdue tickets to "
        "supervisors and closes resolved tickets nobody reopened.",
    )


def unschedule(apps, schema_editor):
    task_unschedule(apps, TASK)


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0002_service_desk_defaults"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
