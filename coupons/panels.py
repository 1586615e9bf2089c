"""Coupons' panel on the member 360 (members/panels.py; registered in coupons/apps.py)."""

from django.db.models import Count, Q, Window
from django.utils import timezone

from coupons.models import Coupon
from members.panels import MemberPanel

RECENT = 5


def coupons_member_panel(*, member, user) -> MemberPanel | None:
    """How many of the member's coupons are unused, used, expired and voided, and the latest
    issued; codes shown by their last four characters only (a code is as good as the coupon)."""
    if not user.has_perm("coupons.view_coupon"):
        return None
    now = timezone.now()
    unused = Q(status=Coupon.Status.UNUSED)
    # the counts as window aggregates over all the member's coupons: one query with the list
    filters = {
        "unused": unused & Q(valid_until__gt=now),
        "used": Q(status=Coupon.Status.USED),
        "expired": unused & Q(valid_until__lte=now),
        "voided": Q(status=Coupon.Status.VOIDED),
    }
    coupons = (
        Coupon.objects.filter(member=member)
        .select_related("template")
        .annotate(**{f"n_{s}": Window(Count("id", filter=f)) for s, f in filters.items()})
        .order_by("-issued_at", "-id")[:RECENT]
    )
    counts = dict.fromkeys(filters, 0)
    recent = []
    for coupon in coupons:
        counts = {state: getattr(coupon, f"n_{state}") for state in filters}
        state = coupon.status
        if state == Coupon.Status.UNUSED and coupon.valid_until <= now:
            state = "expired"
        recent.append({"coupon": coupon, "state": state, "code_tail": coupon.code[-4:]})
    return MemberPanel(
        "backoffice/coupons/includes/_coupons_member.html", {"counts": counts, "recent": recent}
    )
