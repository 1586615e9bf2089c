"""Its own migration: the column's foreign key and index are made when 0005 commits, and an
UPDATE in the same transaction would leave trigger events pending under that CREATE INDEX."""

from django.db import migrations, models


def tickets_tier_backfill(apps, schema_editor):
    """Tickets filed before the tier was kept get the member's tier now (the best left to
    know), else the entry tier, as the SLA target was chosen."""
    Ticket = apps.get_model("feedback", "Ticket")
    PointsAccount = apps.get_model("loyalty", "PointsAccount")
    Tier = apps.get_model("loyalty", "Tier")
    tier_now = PointsAccount.objects.filter(member_id=models.OuterRef("member_id")).values(
        "tier_id"
    )[:1]
    Ticket.objects.filter(tier__isnull=True).update(tier_id=models.Subquery(tier_now))
    entry = Tier.objects.order_by("threshold", "pk").first()
    if entry is not None:
        Ticket.objects.filter(tier__isnull=True).update(tier=entry)


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0005_ticket_tier_at_filing"),
        ("loyalty", "0012_pos_terminal_to_pos"),
    ]

    operations = [migrations.RunPython(tickets_tier_backfill, migrations.RunPython.noop)]
