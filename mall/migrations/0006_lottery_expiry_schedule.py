from django.db import migrations

from core.beat import crontab_task_schedule, task_unschedule

TASK = "mall.tasks.lottery_draws_expire_nightly"


def schedule(apps, schema_editor):
    crontab_task_schedule(
        apps,
        name="lottery prizes expiry",
        task=TASK,
        minute="15",
        hour="0",
        description="Marks lottery prizes not picked up by their claim date as expired.",
    )


def unschedule(apps, schema_editor):
    task_unschedule(apps, TASK)


class Migration(migrations.Migration):
    dependencies = [
        ("mall", "0005_goods_interest_categories"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
