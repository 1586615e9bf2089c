"""Schedules of the periodic tasks, written by data migrations into django-celery-beat's
tables (where staff can then change them in the admin). Called with a migration's `apps`."""


def crontab_task_schedule(
    apps, *, name: str, task: str, description: str, minute: str, hour: str, day_of_month: str = "*"
) -> None:
    """Run `task` at the Shanghai time given, under `name` (created, or updated in place)."""
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _created = CrontabSchedule.objects.get_or_create(
        minute=minute,
        hour=hour,
        day_of_month=day_of_month,
        month_of_year="*",
        day_of_week="*",
        timezone="Asia/Shanghai",
    )
    PeriodicTask.objects.update_or_create(
        name=name,
        defaults={"task": task, "crontab": crontab, "enabled": True, "description": description},
    )


def task_unschedule(apps, *tasks: str) -> None:
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task__in=tasks).delete()
