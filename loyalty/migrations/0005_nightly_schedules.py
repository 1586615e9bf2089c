from django.db import migrations

SCHEDULES = [
    # name, task, crontab (minute, hour, day of month), description
    (
        "points expiry",
        "loyalty.tasks.points_expire_nightly",
        ("30", "1", "*"),
        "Expires unspent points past their date; reminds members 30 days before.",
    ),
    (
        "tier review",
        "loyalty.tasks.tiers_review_periodic",
        ("0", "3", "1"),
        "Monthly: every member gets the tier their 12-month value reaches (downgrades too).",
    ),
]


def schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, (minute, hour, day), description in SCHEDULES:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute,
            hour=hour,
            day_of_month=day,
            month_of_year="*",
            day_of_week="*",
            timezone="Asia/Shanghai",
        )
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={"task": task, "crontab": crontab, "enabled": True, "description": description},
        )


def unschedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(task__in=[task for _n, task, _c, _d in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("loyalty", "0004_defaults_and_append_only"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
