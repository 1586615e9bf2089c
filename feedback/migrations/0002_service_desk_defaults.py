"""A fresh service desk starts with working defaults (staff edit them in the back office):
types, rating tags, SLA targets per type and tier, opening hours, the policy and the caps."""

from django.db import migrations

from feedback.defaults import feedback_defaults_install


def defaults(apps, schema_editor):
    feedback_defaults_install(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0001_tickets_and_service_desk"),
        ("loyalty", "0004_defaults_and_append_only"),  # the tiers the SLA targets name
    ]

    operations = [migrations.RunPython(defaults, migrations.RunPython.noop)]
