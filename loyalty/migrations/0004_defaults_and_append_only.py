"""A fresh mall starts with working defaults (staff edit them in the admin), and the points
ledger is append-only in the database itself: UPDATE and DELETE of an entry raise."""

from django.db import migrations

DEFAULT_TIERS = [
    # code, name, threshold (fen of 12-month spend), multiplier %, colour, benefits
    ("regular", "普卡", 0, 100, "#8a8f99", "<ul><li>消费积分</li><li>会员日双倍积分</li></ul>"),
    (
        "silver",
        "银卡",
        500_000,
        120,
        "#9aa7b8",
        "<ul><li>积分 1.2 倍</li><li>生日礼券</li><li>免费停车 2 小时</li></ul>",
    ),
    (
        "gold",
        "金卡",
        2_000_000,
        150,
        "#c9a45c",
        "<ul><li>积分 1.5 倍</li><li>生日礼券</li><li>免费停车 4 小时</li>"
        "<li>专属客服</li></ul>",
    ),
    (
        "diamond",
        "钻石卡",
        5_000_000,
        200,
        "#3b3f58",
        "<ul><li>积分 2 倍</li><li>生日礼券</li><li>全天免费停车</li>"
        "<li>贵宾室与专属导购</li></ul>",
    ),
]

TRIGGER = """
CREATE FUNCTION loyalty_pointsentry_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'points entries are append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER loyalty_pointsentry_append_only
    BEFORE UPDATE OR DELETE ON loyalty_pointsentry
    FOR EACH ROW EXECUTE FUNCTION loyalty_pointsentry_refuse_change();
"""

DROP_TRIGGER = """
DROP TRIGGER IF EXISTS loyalty_pointsentry_append_only ON loyalty_pointsentry;
DROP FUNCTION IF EXISTS loyalty_pointsentry_refuse_change();
"""


def defaults(apps, schema_editor):
    Tier = apps.get_model("loyalty", "Tier")
    EarnRule = apps.get_model("loyalty", "EarnRule")
    LoyaltySettings = apps.get_model("loyalty", "LoyaltySettings")
    for code, name, threshold, multiplier, colour, benefits in DEFAULT_TIERS:
        Tier.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "threshold": threshold,
                "multiplier_percent": multiplier,
                "card_color": colour,
                "benefits": benefits,
            },
        )
    # Department store: 1 point a yuan; supermarket: 1 point for 2 yuan.
    EarnRule.objects.get_or_create(division="department", store=None, category=None,
                                   defaults={"points": 1, "per_fen": 100})
    EarnRule.objects.get_or_create(division="supermarket", store=None, category=None,
                                   defaults={"points": 1, "per_fen": 200})
    LoyaltySettings.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0003_pos_ledger_tiers")]

    operations = [
        migrations.RunPython(defaults, migrations.RunPython.noop),
        migrations.RunSQL(TRIGGER, DROP_TRIGGER),
    ]
