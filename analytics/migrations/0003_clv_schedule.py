from django.db import migrations

from core.beat import crontab_task_schedule, task_unschedule

TASK = "analytics.tasks.clv_run_nightly"


def schedule(apps, schema_editor):
    crontab_task_schedule(
        apps,
        name="predicted value",
        task=TASK,
        minute="30",
        hour="4",
        description="Fits BG/NBD and Gamma-Gamma on purchase days up to yesterday and stores "
        "every member's predicted value (clv_run).",
    )


def unschedule(apps, schema_editor):
    task_unschedule(apps, TASK)


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0002_clv"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
