"""How a coupon reads on a page: its face (¥50, 8折, the gift), its rule line (满300减50,
无门槛, 8折 最高减100, 兑换礼品), its state, and the member card's count of usable coupons."""

from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from core.money import fen_to_yuan_short
from coupons import selectors
from coupons.models import Coupon, CouponTemplate

register = template.Library()


def _zhe(percent_off: int) -> str:
    """20 % off is 8折, 15 % off is 8.5折 (tenths of the price paid)."""
    paid = 100 - percent_off
    return str(paid // 10) if paid % 10 == 0 else f"{paid / 10:.1f}"


@register.filter
def coupon_face(tmpl: CouponTemplate) -> dict:
    """The big figure of a coupon card: {"unit": "¥", "value": "50"} or {"value": "8折"}."""
    if tmpl.kind in (CouponTemplate.Kind.CASH, CouponTemplate.Kind.THRESHOLD):
        return {"unit": "¥", "value": fen_to_yuan_short(tmpl.face_value_fen), "kind": tmpl.kind}
    if tmpl.kind == CouponTemplate.Kind.PERCENT:
        return {
            "unit": "",
            "value": _("%(zhe)s/10") % {"zhe": _zhe(tmpl.percent_off)},
            "kind": tmpl.kind,
        }
    return {"unit": "", "value": tmpl.gift_name or _("Gift"), "kind": tmpl.kind}


@register.filter
def coupon_kind(tmpl: CouponTemplate) -> str:
    """The short name of the kind printed on the card: 现金券, 满减券, 折扣券, 礼品券."""
    return {
        CouponTemplate.Kind.CASH: pgettext("coupon kind", "Cash voucher"),
        CouponTemplate.Kind.THRESHOLD: pgettext("coupon kind", "Spend and save"),
        CouponTemplate.Kind.PERCENT: pgettext("coupon kind", "Discount"),
        CouponTemplate.Kind.GIFT: pgettext("coupon kind", "Gift"),
    }.get(tmpl.kind, "")


@register.filter
def coupon_rule(tmpl: CouponTemplate) -> str:
    """The one-line rule: 满300减50, 无门槛, 8折 最高减100, 兑换礼品."""
    min_spend = {"min": fen_to_yuan_short(tmpl.min_spend_fen)}
    if tmpl.kind == CouponTemplate.Kind.GIFT:
        return _("Exchange for a gift")
    if tmpl.kind == CouponTemplate.Kind.PERCENT:
        parts = [_("%(zhe)s/10 of the price") % {"zhe": _zhe(tmpl.percent_off)}]
        if tmpl.max_discount_fen:
            parts.append(
                _("up to ¥%(cap)s off") % {"cap": fen_to_yuan_short(tmpl.max_discount_fen)}
            )
        if tmpl.min_spend_fen:
            parts.append(_("on ¥%(min)s or more") % min_spend)
        return " ".join(parts)
    if tmpl.min_spend_fen:
        return _("Spend ¥%(min)s, save ¥%(off)s") % {
            **min_spend,
            "off": fen_to_yuan_short(tmpl.face_value_fen),
        }
    return _("No minimum spend")


@register.filter
def coupon_last_moment(coupon: Coupon):
    """The last minute a coupon can be used (its validity ends before `valid_until`)."""
    return coupon.valid_until - timedelta(minutes=1)


@register.simple_tag
def coupon_state(coupon: Coupon) -> dict:
    """{"status": unused|used|expired|voided, "usable": bool, "soon": bool, "pending": bool}."""
    now = timezone.now()
    status = coupon.display_status(now)
    pending = status == Coupon.Status.UNUSED and now < coupon.valid_from
    return {
        "status": status,
        "usable": status == Coupon.Status.UNUSED and not pending,
        "pending": pending,
        "soon": selectors.is_expiring_soon(coupon, now),
    }


@register.simple_tag
def coupon_unused_count(member) -> int:
    """Coupons the member can still use, for the member card."""
    return selectors.member_unused_count(member=member)
