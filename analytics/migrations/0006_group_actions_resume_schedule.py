from django.db import migrations

from core.beat import crontab_task_schedule, task_unschedule

TASK = "analytics.tasks.group_actions_resume"


def schedule(apps, schema_editor):
    crontab_task_schedule(
        apps,
        name="group actions resume",
        task=TASK,
        minute="*/10",
        hour="*",
        description="Starts again the group actions that quiet hours held, once they are over "
        "(a safety net for their own scheduled restart).",
    )


def unschedule(apps, schema_editor):
    task_unschedule(apps, TASK)


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0005_group_actions"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
