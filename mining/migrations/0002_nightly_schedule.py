from django.db import migrations

from core.beat import crontab_task_schedule, task_unschedule

TASK = "mining.tasks.mining_run_nightly"


def schedule(apps, schema_editor):
    crontab_task_schedule(
        apps,
        name="basket mining",
        task=TASK,
        minute="0",
        hour="5",
        description="Mines association rules from the last window's receipts with the mining "
        "settings' parameters; the new run becomes current when it succeeds.",
    )
    apps.get_model("mining", "MiningSettings").objects.get_or_create(pk=1)


def unschedule(apps, schema_editor):
    task_unschedule(apps, TASK)


class Migration(migrations.Migration):
    dependencies = [
        ("mining", "0001_mining_runs"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
