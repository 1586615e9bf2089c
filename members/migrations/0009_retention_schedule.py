from django.db import migrations

from core.beat import crontab_task_schedule, task_unschedule

TASK = "members.tasks.personal_data_prune_nightly"


def schedule(apps, schema_editor):
    crontab_task_schedule(
        apps,
        name="personal data retention",
        task=TASK,
        minute="15",
        hour="3",
        description="Deletes SMS codes and expired till codes past their purpose.",
    )


def unschedule(apps, schema_editor):
    task_unschedule(apps, TASK)


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0008_interest_seed"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
