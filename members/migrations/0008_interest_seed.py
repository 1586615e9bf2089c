from django.db import migrations

# The list members tick on their profile; staff edit it in the admin afterwards.
INTERESTS = ["美食", "服饰", "美妆护肤", "亲子", "运动健身", "数码家电", "家居生活", "电影", "旅行", "宠物"]


def seed(apps, schema_editor):
    Interest = apps.get_model("members", "Interest")
    for order, name in enumerate(INTERESTS):
        Interest.objects.get_or_create(name=name, defaults={"order": order * 10})


class Migration(migrations.Migration):
    dependencies = [("members", "0007_profile_pii_addresses")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
