"""Every member who bought something gets a home store: the store of their first sale.

Members who joined through WeChat had none, so their store's service desk could not find
them. From now on loyalty.receipts.members_home_store_fill sets it when the first receipt
is recorded; this fills it in for the members already on file. Members with a home store
keep it; those who never bought keep none.
"""

from django.db import migrations
from django.db.models import Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce


def backfill(apps, schema_editor):
    Member = apps.get_model("members", "Member")
    Receipt = apps.get_model("loyalty", "Receipt")
    first_sale = Receipt.objects.filter(member=OuterRef("pk"), kind="sale").order_by(
        "occurred_at", "pk"
    )
    Member.objects.filter(home_store__isnull=True).filter(Exists(first_sale)).update(
        home_store_id=Subquery(first_sale.values("store_id")[:1]),
        region_id=Coalesce("region_id", Subquery(first_sale.values("store__region_id")[:1])),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("loyalty", "0007_claims_name_the_pos_and_match_receipts_in_any_case"),
        ("members", "0011_registration_channel_store"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
