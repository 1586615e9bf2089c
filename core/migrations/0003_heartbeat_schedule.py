from django.db import migrations

TASK = "core.tasks.worker_heartbeat"


def schedule_heartbeat(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    PeriodicTask.objects.update_or_create(
        name="worker heartbeat",
        defaults={"task": TASK, "interval": every_minute, "enabled": True,
                  "description": "Lets /healthz report which workers are alive."},
    )


def unschedule_heartbeat(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=TASK).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_staff_roles"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule_heartbeat, unschedule_heartbeat)]
