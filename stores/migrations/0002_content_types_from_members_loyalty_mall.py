from django.db import migrations

from core.content_types import content_types_move

MOVED = {
    "members": ["region", "store"],
    "loyalty": ["category", "sku"],
    "mall": ["floor", "brand", "shop"],
}


def forwards(apps, schema_editor):
    for from_label, models in MOVED.items():
        content_types_move(apps, models=models, from_label=from_label, to_label="stores")


def backwards(apps, schema_editor):
    for to_label, models in MOVED.items():
        content_types_move(apps, models=models, from_label="stores", to_label=to_label)


class Migration(migrations.Migration):
    """The moved models' content types (and so their permissions, e.g. members.view_store,
    now stores.view_store, and every group holding them) follow them to stores."""

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("stores", "0001_initial"),
        ("members", "0013_master_data_to_stores"),
        ("loyalty", "0011_master_data_to_stores_done"),
        ("mall", "0002_master_data_to_stores"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
