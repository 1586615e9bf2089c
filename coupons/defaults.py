"""The demo mall's coupon templates (seed_demo); WELCOME10 is fixed by DESIGN.md. The demo
loader scopes DRESS300-50 to its women's wear and names the floor, from its floor guide."""

from coupons.models import CouponTemplate, IssueRule


def demo_coupon_templates() -> list[CouponTemplate]:
    welcome, _created = CouponTemplate.objects.update_or_create(
        code="WELCOME10",
        defaults={
            "name": "新会员 10 元现金券",
            "kind": CouponTemplate.Kind.CASH,
            "face_value_fen": 1000,
            "valid_days": 30,
            "per_member_limit": 1,
            "usage_notes": "全场通用，不设门槛；每张小票限用一张，不找零、不兑现。",
            "floors_remark": "全楼层可用",
            "color": "#e64340",
        },
    )
    spend, _created = CouponTemplate.objects.update_or_create(
        code="DRESS300-50",
        defaults={
            "name": "女装满 300 减 50",
            "kind": CouponTemplate.Kind.THRESHOLD,
            "face_value_fen": 5000,
            "min_spend_fen": 30000,
            "valid_days": 14,
            "usage_notes": "女装商品实付满 300 元可用，门槛只算女装；每张小票限用一张。",
            "color": "#c9a45c",
        },
    )
    IssueRule.objects.get_or_create(
        trigger=IssueRule.Trigger.REGISTRATION, template=welcome, channel=""
    )
    return [welcome, spend]
