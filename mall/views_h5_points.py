"""积分商城 for members: goods under category tabs, a good's detail, the redeem confirm page,
my redemptions (status tabs) and one redemption with its pickup code and history.

The rules live in mall/redeeming.py: pages show redeem_refusal's reason before the member taps
and goods_redeem's refusal after; a good off the shelf is a 404, like anyone else's redemption."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from core.exceptions import ServiceError
from loyalty.ledger import points_balance
from loyalty.selectors import points_totals
from mall.forms_h5 import RedeemForm
from mall.models import Goods, GoodsCategory, Redemption
from mall.redeeming import express_missing, goods_redeem, redeem_refusal, redeemed_qty
from mall.selectors import goods_on_shelf, member_redemptions
from members.card_codes import barcode_svg, qr_svg
from members.session import member_required

Status = Redemption.Status
PAGE_SIZE = 10
# 我的兑换's tabs: what is still to come, what is done, what was cancelled.
STATUS_TABS = {
    "": (gettext_lazy("All"), None),
    "open": (
        gettext_lazy("In progress"),
        [Status.PENDING_PICKUP, Status.PENDING_SHIPMENT, Status.SHIPPED],
    ),
    "done": (gettext_lazy("Completed"), [Status.PICKED_UP, Status.DELIVERED, Status.ISSUED]),
    "cancelled": (gettext_lazy("Cancelled"), [Status.CANCELLED]),
}


def _goods_or_404(pk: int) -> Goods:
    goods = goods_on_shelf().filter(pk=pk).first()
    if goods is None:
        raise Http404
    return goods


def _points_head(member) -> dict:
    return {
        "balance": points_balance(member_id=member.pk),
        "spent": points_totals(member=member)["spent"],
    }


@require_GET
@member_required
def points_mall(request):
    """积分商城: the member's points, the category tabs and the goods on the shelf."""
    categories = list(GoodsCategory.objects.filter(active=True))
    chosen = request.GET.get("category", "")
    category = next((c for c in categories if str(c.pk) == chosen), None)
    goods = goods_on_shelf(category_id=category.pk if category else None)
    return render(
        request,
        "h5/mall/points_mall.html",
        {
            "categories": categories,
            "category": category,
            "goods_list": goods,
            "head": _points_head(request.member),
            "tab": "home",
        },
    )


@require_GET
@member_required
def points_goods(request, pk: int):
    """商品详情: pictures, notes, limits, shelf dates, delivery, and why the member cannot
    redeem it now (if they cannot) shown before they tap."""
    goods = _goods_or_404(pk)
    refusal = redeem_refusal(member=request.member, goods=goods)
    return render(
        request,
        "h5/mall/points_goods.html",
        {
            "goods": goods,
            "images": list(goods.images.all()),
            "pickup_stores": list(goods.pickup_stores.filter(is_active=True).order_by("code")),
            "refusal": refusal,
            "held": redeemed_qty(member_id=request.member.pk, goods_id=goods.pk)
            if goods.per_member_limit
            else 0,
            "balance": points_balance(member_id=request.member.pk),
            "tab": "home",
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
@member_required
def points_redeem(request, pk: int):
    """确认兑换: quantity and how to receive it; the POST redeems through goods_redeem (once per
    form: its hidden key), refusals come back as form errors with the choices kept."""
    goods = _goods_or_404(pk)
    member = request.member
    form = RedeemForm(request.POST or None, goods=goods, member=member)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            redemption = goods_redeem(
                member=member,
                goods=goods,
                qty=data["qty"],
                delivery=data["delivery"],
                address=data["address"],
                pickup_store=data["pickup_store"],
                idempotency_key=data["key"],
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Redeemed! Your points have been spent."))
            return redirect("h5:points_redemption", code=redemption.code)
    refusal = None if form.is_bound else redeem_refusal(member=member, goods=goods)
    address = member.addresses.first()  # the default one first
    return render(
        request,
        "h5/mall/points_redeem.html",
        {
            "goods": goods,
            "image": next(iter(goods.images.all()), None),
            "form": form,
            "refusal": refusal,
            "express_missing": express_missing(member=member, address=address)
            if goods.offers_express and goods.kind == Goods.Kind.THING
            else [],
            "has_address": address is not None,
            "balance": points_balance(member_id=member.pk),
            "hide_tabbar": True,
            "tab": "home",
        },
        status=400 if form.errors else 200,
    )


@require_GET
@member_required
def points_redemptions(request):
    """我的兑换: the member's redemptions, newest first, under status tabs with counts."""
    status_tab = request.GET.get("status", "")
    if status_tab not in STATUS_TABS:
        status_tab = ""
    rows = member_redemptions(member=request.member).prefetch_related("goods__images")
    counts = rows.aggregate(
        **{
            value or "all": Count("pk", filter=Q(status__in=statuses) if statuses else None)
            for value, (_label, statuses) in STATUS_TABS.items()
        }
    )
    statuses = STATUS_TABS[status_tab][1]
    if statuses:
        rows = rows.filter(status__in=statuses)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "h5/mall/points_redemptions.html",
        {
            "tabs": [
                (value, label, counts[value or "all"])
                for value, (label, _statuses) in STATUS_TABS.items()
            ],
            "status_tab": status_tab,
            "page": page,
            "tab": "card",
        },
    )


@never_cache
@require_GET
@member_required
def points_redemption(request, code: str):
    """兑换详情: the pickup code large (and as QR and barcode while it awaits pickup), where and
    when to pick it up, the status and its history. Only the member's own: others are 404."""
    redemption = (
        member_redemptions(member=request.member)
        .select_related("goods__coupon_template")
        .filter(code=code.strip().upper())
        .first()
    )
    if redemption is None:
        raise Http404
    awaiting = redemption.status == Status.PENDING_PICKUP
    return render(
        request,
        "h5/mall/points_redemption.html",
        {
            "redemption": redemption,
            "goods": redemption.goods,
            "image": next(iter(redemption.goods.images.all()), None),
            "events": list(redemption.events.all()),
            "coupons": list(redemption.coupons.all()),
            "qr_svg": qr_svg(redemption.code) if awaiting else "",
            "barcode_svg": barcode_svg(redemption.code) if awaiting else "",
            "code_groups": [redemption.code[i : i + 5] for i in range(0, len(redemption.code), 5)],
            "tab": "card",
        },
    )
