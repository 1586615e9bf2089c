"""Member pages of coupons: 我的优惠券 (tabs with counts) and 优惠券详情 with the till code."""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from coupons import selectors
from coupons.issuing import coupon_code_normalise
from coupons.models import Coupon
from coupons.redeeming import coupon_refusal
from members.card_codes import barcode_svg, qr_svg
from members.session import member_required

PAGE_SIZE = 10
TAB_LABELS = {
    "unused": gettext_lazy("Not used"),
    "used": gettext_lazy("Used"),
    "expired": gettext_lazy("Expired"),
}


@member_required
def coupon_list(request):
    """我的优惠券: unused, used and expired coupons, newest first, with each tab's count."""
    now = timezone.now()
    tab = request.GET.get("tab")
    if tab not in selectors.TABS:
        tab = "unused"
    counts = selectors.member_coupon_counts(member=request.member, now=now)
    page = Paginator(
        selectors.member_coupons(member=request.member, tab=tab, now=now), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "h5/coupons/coupon_list.html",
        {
            "coupons_tab": tab,
            "tabs": [(value, TAB_LABELS[value], counts[value]) for value in selectors.TABS],
            "page": page,
            "tab": "card",
        },
    )


@never_cache
@member_required
def coupon_detail(request, code: str):
    """优惠券详情: rules, scope, usable floors, validity, and for a coupon usable now the
    code as QR and barcode for the till. Only the member's own coupons: any other is 404."""
    try:
        coupon = selectors.member_coupon(member=request.member, code=coupon_code_normalise(code))
    except Coupon.DoesNotExist:
        raise Http404 from None
    now = timezone.now()
    usable = coupon_refusal(coupon=coupon, now=now) is None
    template = coupon.template
    return render(
        request,
        "h5/coupons/coupon_detail.html",
        {
            "coupon": coupon,
            "template": template,
            "stores": list(template.stores.all()),
            "floors": list(template.floors.all()),
            "brands": list(template.brands.all()),
            "categories": list(template.categories.all()),
            "qr_svg": qr_svg(coupon.code) if usable else "",
            "barcode_svg": barcode_svg(coupon.code) if usable else "",
            "code_groups": [coupon.code[i : i + 4] for i in range(0, len(coupon.code), 4)],
            "tab": "card",
        },
    )
