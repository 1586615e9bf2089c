from django.db import migrations

from core.beat import crontab_task_schedule, task_unschedule

SCHEDULES = [
    {
        "name": "points expiry",
        "task": "loyalty.tasks.points_expire_nightly",
        "minute": "30",
        "hour": "1",
        "description": "Expires unspent points past their date; reminds members 30 days before.",
    },
    {
        "name": "tier review",
        "task": "loyalty.tasks.tiers_review_periodic",
        "minute": "0",
        "hour": "3",
        "day_of_month": "1",
        "description": "Monthly: every member gets the tier their 12-month value reaches "
        "(downgrades too).",
    },
]


def schedule(apps, schema_editor):
    for entry in SCHEDULES:
        crontab_task_schedule(apps, **entry)


def unschedule(apps, schema_editor):
    task_unschedule(apps, *(entry["task"] for entry in SCHEDULES))


class Migration(migrations.Migration):
    dependencies = [
        ("loyalty", "0004_defaults_and_append_only"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
