from django.db import migrations

from core.content_types import content_types_move


def forwards(apps, schema_editor):
    content_types_move(apps, models=["posterminal"], from_label="loyalty", to_label="pos")


def backwards(apps, schema_editor):
    content_types_move(apps, models=["posterminal"], from_label="pos", to_label="loyalty")


class Migration(migrations.Migration):
    """PosTerminal's content type, and so its permissions (loyalty.change_posterminal, now
    pos.change_posterminal) and the groups holding them, follow it to pos."""

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("pos", "0001_initial"),
        ("loyalty", "0012_pos_terminal_to_pos"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
