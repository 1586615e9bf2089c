from django.db import migrations

from core.beat import crontab_task_schedule, task_unschedule

TASK = "coupons.tasks.birthday_coupons_nightly"


def schedule(apps, schema_editor):
    crontab_task_schedule(
        apps,
        name="birthday coupons",
        task=TASK,
        minute="0",
        hour="6",
        description="Issues the birthday rules' coupons N days before members' birthdays.",
    )


def unschedule(apps, schema_editor):
    task_unschedule(apps, TASK)


class Migration(migrations.Migration):
    dependencies = [
        ("coupons", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
