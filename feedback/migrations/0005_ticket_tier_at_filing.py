import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0004_feedbacksettings_tickets_per_day"),
        ("loyalty", "0012_pos_terminal_to_pos"),
    ]

    operations = [
        migrations.AddField(
            model_name="ticket",
            name="tier",
            field=models.ForeignKey(
                blank=True,
                help_text="The member's tier when the ticket was filed: its SLA target's tier.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="loyalty.tier",
                verbose_name="tier at filing",
            ),
        ),
    ]
