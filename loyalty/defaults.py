"""What a fresh mall starts with (staff edit it in the admin): four tiers, an earning rule per
division and the points policy. Installed by a migration; tests reinstall it after a flush."""

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
        "<ul><li>积分 1.5 倍</li><li>生日礼券</li><li>免费停车 4 小时</li><li>专属客服</li></ul>",
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

# Department store: 1 point a yuan; supermarket: 1 point for 2 yuan.
DEFAULT_EARN_RULES = [("department", 1, 100), ("supermarket", 1, 200)]


def loyalty_defaults_install(apps) -> None:
    """Create the defaults that are missing (`apps`: a migration's or django.apps.apps)."""
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
    for division, points, per_fen in DEFAULT_EARN_RULES:
        EarnRule.objects.get_or_create(
            division=division,
            store=None,
            category=None,
            defaults={"points": points, "per_fen": per_fen},
        )
    LoyaltySettings.objects.get_or_create(pk=1)
