from django.db import migrations

from core.beat import crontab_task_schedule, task_unschedule

NIGHTLY = "analytics.tasks.rule_tags_recompute_nightly"


def schedule(apps, schema_editor):
    # after the RFM snapshot (04:00) and the predicted value (04:30) the rules read
    crontab_task_schedule(
        apps,
        name="rule tags",
        task=NIGHTLY,
        minute="50",
        hour="4",
        description="Recomputes every rule-based member tag (高复购, 母婴, …) from its filter.",
    )


def unschedule(apps, schema_editor):
    task_unschedule(apps, NIGHTLY)


def seed(apps, schema_editor):
    # 高复购: purchase frequency above the current RFM snapshot's cut. The demo adds 母婴
    # (bought children's wear or toys), whose rule names its categories (config/demo).
    Tag = apps.get_model("analytics", "Tag")
    Tag.objects.get_or_create(
        name="高复购",
        defaults={
            "kind": "rule",
            "rule": {"rfm_f_high": True},
            "description": "RFM 购买频次高于均值（每晚重算）",
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0008_member_list_indexes"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(schedule, unschedule),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
