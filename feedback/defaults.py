"""What a fresh service desk starts with (staff edit it in the back office): the ticket types,
rating tags, SLA targets per type and tier, opening hours, the policy and compensation caps.
Installed by a migration; tests reinstall it after a flush."""

from datetime import time

DEFAULT_TYPES = [
    # code, name, is complaint
    ("opinion", "服务意见", False),
    ("goods", "商品投诉", True),
    ("staff", "人员投诉", True),
]

DEFAULT_TAGS = [
    # name, positive
    ("态度热情", True),
    ("回复及时", True),
    ("解决彻底", True),
    ("专业耐心", True),
    ("态度冷淡", False),
    ("回复太慢", False),
    ("问题未解决", False),
]

# Business minutes (first response, resolution) and queue priority per tier code; a tier the
# table does not name (a tier staff add later) falls back to the every-tier target.
DEFAULT_SLAS = {
    "diamond": (30, 8 * 60, 40),
    "gold": (60, 12 * 60, 30),
    "silver": (90, 18 * 60, 20),
    "regular": (120, 24 * 60, 10),
    None: (120, 24 * 60, 10),
}
# Complaints are answered sooner than opinions: their targets are scaled by these percents.
TYPE_SCALE = {"opinion": 100, "goods": 75, "staff": 75}
COMPLAINT_PRIORITY_BONUS = 5

OPENS, CLOSES = time(9), time(21)

DEFAULT_CAPS = [
    # role, points per ticket, coupon value (fen) per ticket
    ("customer_service", 200, 2000),
    ("store_manager", 1000, 10000),
]


def feedback_defaults_install(apps) -> None:
    """Create the defaults that are missing (`apps`: a migration's or django.apps.apps)."""
    TicketType = apps.get_model("feedback", "TicketType")
    RatingTag = apps.get_model("feedback", "RatingTag")
    SlaTarget = apps.get_model("feedback", "SlaTarget")
    ServiceHours = apps.get_model("feedback", "ServiceHours")
    FeedbackSettings = apps.get_model("feedback", "FeedbackSettings")
    CompensationCap = apps.get_model("feedback", "CompensationCap")
    Tier = apps.get_model("loyalty", "Tier")

    tiers = {tier.code: tier for tier in Tier.objects.all()}
    for position, (code, name, complaint) in enumerate(DEFAULT_TYPES):
        ticket_type, _created = TicketType.objects.get_or_create(
            code=code, defaults={"name": name, "is_complaint": complaint, "position": position}
        )
        scale = TYPE_SCALE[code]
        bonus = COMPLAINT_PRIORITY_BONUS if complaint else 0
        for tier_code, (first, resolution, priority) in DEFAULT_SLAS.items():
            if tier_code is not None and tier_code not in tiers:
                continue
            SlaTarget.objects.get_or_create(
                ticket_type=ticket_type,
                tier=tiers.get(tier_code) if tier_code else None,
                defaults={
                    "first_response_minutes": first * scale // 100,
                    "resolution_minutes": resolution * scale // 100,
                    "priority": priority + bonus,
                },
            )
    for position, (name, positive) in enumerate(DEFAULT_TAGS):
        RatingTag.objects.get_or_create(
            name=name, defaults={"is_positive": positive, "position": position}
        )
    for weekday in range(7):
        ServiceHours.objects.get_or_create(
            weekday=weekday, defaults={"opens": OPENS, "closes": CLOSES}
        )
    FeedbackSettings.objects.get_or_create(pk=1)
    for role, points, coupon_fen in DEFAULT_CAPS:
        CompensationCap.objects.get_or_create(
            role=role,
            defaults={
                "max_points_per_ticket": points,
                "max_coupon_value_fen_per_ticket": coupon_fen,
            },
        )
