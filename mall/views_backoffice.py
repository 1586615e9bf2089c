"""Staff pages of the points mall under /backoffice/mall/: goods (积分商城商品) with their
pictures and stock, the category tabs, the redemption list and a redemption with the actions
its status allows, and the service desk (兑换核销): verify a pickup code, record a redemption
on a member's behalf. Every change goes through a service; a refusal is shown on the page."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.audit import audit_log
from core.auth import backoffice_required
from core.csv_export import csv_download
from core.dates import local_day_start
from core.exceptions import ServiceError
from core.masking import mask_name, mask_phone
from core.once import once_key, submit_once
from loyalty.ledger import points_balance
from mall import forms_backoffice as forms
from mall.desk import desk_lookup
from mall.goods_admin import (
    LOW_STOCK,
    category_create,
    category_update,
    goods_create,
    goods_for_staff,
    goods_is_on_shelf,
    goods_update,
)
from mall.lottery import draw_pickup_verify
from mall.models import Goods, GoodsCategory, Redemption
from mall.redeeming import (
    goods_stock_adjust,
    pickup_code_normalise,
    redemption_at_desk,
    redemption_cancel,
    redemption_deliver,
    redemption_ship,
    redemption_verify,
)
from mall.selectors import staff_redemptions
from members.cards import card_no_masked
from members.models import Member
from members.selectors import members_search

PAGE_SIZE = 30
Status = Redemption.Status


# --- Goods ---------------------------------------------------------------------------------


@require_GET
@backoffice_required(perm="mall.view_goods")
def goods_list(request):
    """积分商城商品: every good with its stock and how many were redeemed; filters."""
    form = forms.GoodsFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    goods = goods_for_staff(
        category_id=data["category"].pk if data.get("category") else None,
        kind=data.get("kind", ""),
        shelf=data.get("shelf", ""),
        low_stock=bool(data.get("low_stock")),
        query=data.get("q", ""),
    )
    page = Paginator(goods, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    for item in page:
        item.on_shelf = goods_is_on_shelf(item, now)
        item.low = item.stock <= LOW_STOCK
        item.cover = next(iter(item.images.all()), None)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "backoffice/mall/goods_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "low_stock": LOW_STOCK,
            "can_add": request.user.has_perm("mall.add_goods"),
            "can_change": request.user.has_perm("mall.change_goods"),
            "can_categories": request.user.has_perm("mall.change_goodscategory"),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


GRID_FIELDS = (
    "name",
    "category",
    "kind",
    "coupon_template",
    "market_price",
    "points_price",
    "stock",
    "per_member_limit",
    "shelf_from",
    "shelf_until",
    "position",
)


def _goods_page(request, form, goods=None, *, stock_form=None, status=200):
    return render(
        request,
        "backoffice/mall/goods_form.html",
        {
            "form": form,
            "goods": goods,
            "stock_form": stock_form,
            "low_stock": LOW_STOCK,
            "grid_fields": GRID_FIELDS,
            "wide_fields": (
                "pickup_stores",
                "pickup_note",
                "redemption_notes",
                "interest_categories",
            ),
        },
        status=status,
    )


@backoffice_required(perm="mall.add_goods")
def goods_create_view(request):
    """新增商品: the form; the good, its opening stock and pictures in one transaction."""
    if request.method != "POST":
        return _goods_page(request, forms.GoodsForm())
    form = forms.GoodsForm(request.POST, request.FILES)
    if not form.is_valid():
        return _goods_page(request, form, status=400)
    try:
        goods = goods_create(
            actor=request.user,
            fields=form.service_fields(),
            pickup_stores=form.cleaned_data.get("pickup_stores") or [],
            interest_categories=form.cleaned_data.get("interest_categories") or [],
            stock=form.cleaned_data["stock"],
            images=form.image_files,
        )
    except ServiceError as exc:
        form.add_error(None, exc.message)
        return _goods_page(request, form, status=409)
    messages.success(request, _("Goods %(name)s added.") % {"name": goods.name})
    return redirect("backoffice:mall_goods_edit", pk=goods.pk)


@backoffice_required(perm="mall.change_goods")
def goods_edit(request, pk: int):
    """编辑商品: details, pictures (add, reorder, remove) and, beside it, the stock."""
    goods = get_object_or_404(Goods, pk=pk)
    if request.method != "POST":
        return _goods_page(
            request, forms.GoodsForm(instance=goods), goods, stock_form=forms.StockAdjustForm()
        )
    form = forms.GoodsForm(request.POST, request.FILES, instance=goods)
    if not form.is_valid():
        goods.refresh_from_db()
        return _goods_page(request, form, goods, stock_form=forms.StockAdjustForm(), status=400)
    try:
        goods_update(
            goods=goods,
            actor=request.user,
            fields=form.service_fields(),
            pickup_stores=form.cleaned_data.get("pickup_stores") or [],
            interest_categories=form.cleaned_data.get("interest_categories") or [],
            images_add=form.image_files,
            images_remove=form.images_remove(),
            image_order=form.image_order(),
        )
    except ServiceError as exc:
        form.add_error(None, exc.message)
        goods.refresh_from_db()
        return _goods_page(request, form, goods, stock_form=forms.StockAdjustForm(), status=409)
    messages.success(request, _("Goods %(name)s saved.") % {"name": goods.name})
    return redirect("backoffice:mall_goods_edit", pk=goods.pk)


@require_POST
@backoffice_required(perm="mall.change_goods")
@submit_once
def goods_stock(request, pk: int):
    """库存调整: restock or take off by a number of items, with a reason."""
    goods = get_object_or_404(Goods, pk=pk)
    form = forms.StockAdjustForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            goods = goods_stock_adjust(
                goods=goods,
                delta=form.cleaned_data["delta"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ServiceError as exc:
            form.add_error("delta", exc.message)
            status = 409
        else:
            messages.success(
                request, _("Stock changed; %(stock)s in stock now.") % {"stock": goods.stock}
            )
            return redirect("backoffice:mall_goods_edit", pk=goods.pk)
    return _goods_page(
        request,
        forms.GoodsForm(instance=goods),
        goods,
        stock_form=form,
        status=status,
    )


@backoffice_required(perm="mall.change_goodscategory")
def category_list(request):
    """商品分类: the tabs in their order; add one, rename, move or deactivate."""
    categories = list(GoodsCategory.objects.order_by("position", "pk"))
    add_form = forms.CategoryForm(prefix="new")
    edit_forms = {c.pk: forms.CategoryForm(instance=c, prefix=f"c{c.pk}") for c in categories}
    status = 200
    if request.method == "POST":
        target = request.POST.get("category", "")
        try:
            if target == "new":
                if not request.user.has_perm("mall.add_goodscategory"):
                    raise PermissionDenied
                add_form = forms.CategoryForm(request.POST, prefix="new")
                if add_form.is_valid():
                    category_create(
                        actor=request.user,
                        name=add_form.cleaned_data["name"],
                        position=add_form.cleaned_data["position"] or 0,
                    )
                    messages.success(request, _("Category added."))
                    return redirect("backoffice:mall_category_list")
            else:
                category = get_object_or_404(GoodsCategory, pk=int(target or 0))
                form = forms.CategoryForm(request.POST, instance=category, prefix=f"c{category.pk}")
                edit_forms[category.pk] = form
                if form.is_valid():
                    category_update(
                        category=GoodsCategory.objects.get(pk=category.pk),
                        actor=request.user,
                        name=form.cleaned_data["name"],
                        position=form.cleaned_data["position"] or 0,
                        active=form.cleaned_data["active"],
                    )
                    messages.success(request, _("Category saved."))
                    return redirect("backoffice:mall_category_list")
        except ValueError:
            raise Http404 from None
        except ServiceError as exc:
            bound = add_form if target == "new" else edit_forms[int(target)]
            bound.add_error("name", exc.message)
        status = 400
        categories = list(GoodsCategory.objects.order_by("position", "pk"))
    return render(
        request,
        "backoffice/mall/goods_categories.html",
        {"rows": [(c, edit_forms[c.pk]) for c in categories], "add_form": add_form},
        status=status,
    )


# --- Redemptions ---------------------------------------------------------------------------


def _redemptions_filtered(request, form):
    rows = staff_redemptions(user=request.user)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    if data.get("status"):
        rows = rows.filter(status=data["status"])
    if data.get("delivery"):
        rows = rows.filter(delivery=data["delivery"])
    if data.get("store"):
        rows = rows.filter(pickup_store=data["store"])
    if data.get("start"):
        rows = rows.filter(created_at__gte=local_day_start(data["start"]))
    if data.get("end"):
        rows = rows.filter(created_at__lt=local_day_start(data["end"] + timedelta(days=1)))
    query = (data.get("q") or "").strip()
    if query:
        members = members_search(Member.objects.all(), query).values("pk")
        rows = rows.filter(Q(code=pickup_code_normalise(query)) | Q(member__in=members))
    return rows


def _csv_rows(rows):
    for r in rows.iterator(chunk_size=500):
        yield [
            r.code,
            timezone.localtime(r.created_at).strftime("%Y-%m-%d %H:%M"),
            r.goods.name,
            r.qty,
            r.points,
            r.get_delivery_display(),
            r.get_status_display(),
            r.pickup_store.name if r.pickup_store else "",
            card_no_masked(r.member.card_no),
            mask_phone(r.member.phone),
            timezone.localtime(r.verified_at).strftime("%Y-%m-%d %H:%M") if r.verified_at else "",
            r.carrier,
            r.tracking_no,
        ]


@require_GET
@backoffice_required(perm="mall.view_redemption")
def redemption_list(request):
    """兑换记录: the redemptions of the user's stores, filtered; a CSV of the same rows."""
    form = forms.RedemptionFilterForm(request.GET or None, user=request.user)
    invalid = form.is_bound and not form.is_valid()
    rows = _redemptions_filtered(request, form)
    if request.GET.get("export") == "csv" and not invalid:
        header = [
            _("Pickup code"),
            _("Redeemed at"),
            _("Goods"),
            _("Quantity"),
            _("Points"),
            _("Delivery"),
            _("Status"),
            _("Pickup store"),
            _("Card number"),
            _("Phone"),
            _("Picked up at"),
            _("Carrier"),
            _("Tracking number"),
        ]
        stamp = timezone.localtime().strftime("%Y%m%d")
        return csv_download(f"redemptions-{stamp}.csv", [("", header, _csv_rows(rows))])
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("export", None)
    return render(
        request,
        "backoffice/mall/redemption_list.html",
        {"form": form, "page": page, "query": query.urlencode(), "invalid": invalid},
        status=400 if invalid else 200,
    )


def _redemption_in_scope(request, pk: int) -> Redemption:
    redemption = (
        staff_redemptions(user=request.user)
        .select_related(
            "at_desk_by__staff_profile", "cancelled_by__staff_profile", "goods__category"
        )
        .filter(pk=pk)
        .first()
    )
    if redemption is None:
        raise Http404
    return redemption


def _staff_name(user) -> str:
    if user is None:
        return ""
    profile = getattr(user, "staff_profile", None)
    return (profile.name if profile else "") or user.get_username()


ACTIONS = {
    # action: (form, permission, statuses it applies to)
    "verify": (forms.EmptyForm, "mall.verify_redemption", {Status.PENDING_PICKUP}),
    "ship": (forms.ShipForm, "mall.change_redemption", {Status.PENDING_SHIPMENT}),
    "deliver": (forms.EmptyForm, "mall.change_redemption", {Status.SHIPPED}),
    "cancel": (
        forms.CancelForm,
        "mall.change_redemption",
        {Status.PENDING_PICKUP, Status.PENDING_SHIPMENT, Status.ISSUED},
    ),
}


def _address_view(redemption, user) -> dict | None:
    """The delivery address: in full (and the read audited) for staff who ship it while it
    awaits shipment; otherwise the recipient and phone masked, the region only."""
    address = redemption.address
    if not address:
        return None
    if redemption.status == Status.PENDING_SHIPMENT and user.has_perm("mall.change_redemption"):
        audit_log(actor=user, action="mall.redemption.address_read", target=redemption)
        return address | {"full": True}
    return {
        "recipient": mask_name(address.get("recipient", "")),
        "phone": mask_phone(address.get("phone", "")),
        "region": address.get("region", ""),
        "detail": "",
        "full": False,
    }


def _redemption_page(request, redemption, *, bound=None, status=200):
    user = request.user
    action_forms = {
        name: form_class(prefix=name)
        for name, (form_class, perm, statuses) in ACTIONS.items()
        if redemption.status in statuses and user.has_perm(perm)
    }
    if bound is not None:
        action_forms[bound[0]] = bound[1]
    events = list(redemption.events.select_related("actor__staff_profile"))
    for event in events:
        event.actor_name = _staff_name(event.actor)
    member = redemption.member
    address = _address_view(redemption, user)
    return render(
        request,
        "backoffice/mall/redemption_detail.html",
        {
            "redemption": redemption,
            "events": events,
            "forms": action_forms,
            "member_view": {
                "name": mask_name(member.name),
                "phone": mask_phone(member.phone),
                "card": card_no_masked(member.card_no),
                "balance": points_balance(member_id=member.pk),
                "can_open": user.has_perm("members.view_member"),
            },
            "address": address,
            "at_desk_by": _staff_name(redemption.at_desk_by),
            "verified_by": _staff_name(redemption.verified_by),
            "cancelled_by": _staff_name(redemption.cancelled_by),
        },
        status=status,
    )


@require_GET
@backoffice_required(perm="mall.view_redemption")
def redemption_detail(request, pk: int):
    """One redemption of the user's stores (another store's is a 404): member, goods, its
    history and the actions its status allows."""
    return _redemption_page(request, _redemption_in_scope(request, pk))


DONE = {
    "verify": _("Handed over: the redemption is picked up."),
    "ship": _("Shipped; the member was told the tracking number."),
    "deliver": _("Marked as delivered."),
    "cancel": _("Cancelled; the points and the stock are back."),
}


@require_POST
@backoffice_required(perm="mall.view_redemption")
@submit_once
def redemption_act(request, pk: int, action: str):
    """One action on a redemption through its service; a refusal re-shows the page with the
    service's reason."""
    if action not in ACTIONS:
        raise Http404
    redemption = _redemption_in_scope(request, pk)
    form_class, perm, _statuses = ACTIONS[action]
    if not request.user.has_perm(perm):
        raise PermissionDenied
    form = form_class(request.POST, prefix=action)
    if not form.is_valid():
        return _redemption_page(request, redemption, bound=(action, form), status=400)
    data, actor = form.cleaned_data, request.user
    try:
        if action == "verify":
            redemption_verify(code=redemption.code, actor=actor)
        elif action == "ship":
            redemption_ship(
                redemption=redemption,
                actor=actor,
                carrier=data["carrier"],
                tracking_no=data["tracking_no"],
            )
        elif action == "deliver":
            redemption_deliver(redemption=redemption, actor=actor)
        else:
            redemption_cancel(redemption=redemption, actor=actor, reason=data["reason"])
    except ServiceError as exc:
        form.add_error(None, exc.message)
        redemption = _redemption_in_scope(request, pk)
        return _redemption_page(request, redemption, bound=(action, form), status=409)
    messages.success(request, DONE[action])
    return redirect("backoffice:mall_redemption_detail", pk=redemption.pk)


# --- 兑换核销: the service desk ------------------------------------------------------------


def _desk_page(request, *, code_form=None, record_form=None, status=200):
    user = request.user
    code_form = code_form or forms.DeskCodeForm(request.GET or None)
    lookup = None
    if code_form.is_bound and code_form.is_valid():
        lookup = desk_lookup(raw_code=code_form.cleaned_data["code"], user=user)
        if status == 200 and lookup.redemption is None and lookup.draw is None:
            status = 404
    can_record = user.has_perm("mall.verify_redemption")
    if record_form is None and can_record:
        record_form = forms.DeskRecordForm(user=user)
    view = None
    if lookup is not None and lookup.redemption is not None:
        member = lookup.redemption.member
        view = {
            "name": mask_name(member.name),
            "phone": mask_phone(member.phone),
            "card": card_no_masked(member.card_no),
            "verified_by": _staff_name(lookup.redemption.verified_by),
        }
    elif lookup is not None and lookup.draw is not None:
        member = lookup.draw.member
        view = {
            "name": mask_name(member.name),
            "phone": mask_phone(member.phone),
            "card": card_no_masked(member.card_no),
            "verified_by": _staff_name(lookup.draw.picked_up_by),
        }
    return render(
        request,
        "backoffice/mall/desk.html",
        {
            "code_form": code_form,
            "lookup": lookup,
            "member_view": view,
            "record_form": record_form,
            # back from a handover: the success message says it; no warning about it
            "just_done": request.GET.get("done") == "1",
        },
        status=status,
    )


@require_GET
@backoffice_required(perm="mall.verify_redemption")
def desk(request):
    """兑换核销: type or scan a pickup code, see the redemption and hand it over; or record a
    redemption for a member at the desk."""
    return _desk_page(request)


@require_POST
@backoffice_required(perm="mall.verify_redemption")
@submit_once
def desk_verify(request):
    """Hand the good over: redemption_verify re-checks the code, the store and the status; a
    lottery prize's pickup code goes to draw_pickup_verify, which does the same for draws."""
    form = forms.DeskCodeForm(request.POST)
    if not form.is_valid():
        return _desk_page(request, code_form=form, status=400)
    found = desk_lookup(raw_code=form.cleaned_data["code"], user=request.user)
    if found.draw is not None:
        return _desk_hand_prize_over(request, found.code)
    try:
        done = redemption_verify(code=form.cleaned_data["code"], actor=request.user)
    except ServiceError as exc:
        messages.error(request, _("Not handed over: %(reason)s") % {"reason": exc.message})
        code = pickup_code_normalise(form.cleaned_data["code"])
        return redirect(f"{reverse('backoffice:mall_desk')}?code={code}")
    messages.success(
        request,
        _("Picked up: hand over %(goods)s ×%(qty)s.") % {"goods": done.goods.name, "qty": done.qty},
    )
    return redirect(f"{reverse('backoffice:mall_desk')}?code={done.code}&done=1")


def _desk_hand_prize_over(request, code: str):
    try:
        draw = draw_pickup_verify(code=code, actor=request.user)
    except ServiceError as exc:
        messages.error(request, _("Not handed over: %(reason)s") % {"reason": exc.message})
        return redirect(f"{reverse('backoffice:mall_desk')}?code={code}")
    messages.success(
        request,
        _("Picked up: hand over the lottery prize %(prize)s.") % {"prize": draw.prize.name},
    )
    return redirect(f"{reverse('backoffice:mall_desk')}?code={draw.pickup_code}&done=1")


@require_POST
@backoffice_required(perm="mall.verify_redemption")
@submit_once
def desk_record(request):
    """A redemption on the member's behalf at one of the user's stores, handed over at once;
    the points come off the member's account as if they had redeemed themselves."""
    form = forms.DeskRecordForm(request.POST, user=request.user)
    if not form.is_valid():
        return _desk_page(request, code_form=forms.DeskCodeForm(), record_form=form, status=400)
    data = form.cleaned_data
    try:
        done = redemption_at_desk(
            member=form.found_member,
            goods=data["goods"],
            actor=request.user,
            pickup_store=data["store"],
            qty=data["qty"],
            idempotency_key=once_key(request)[:50],
        )
    except ServiceError as exc:
        form.add_error(None, exc.message)
        return _desk_page(request, code_form=forms.DeskCodeForm(), record_form=form, status=409)
    messages.success(
        request,
        _("Recorded for %(member)s: %(goods)s ×%(qty)s, %(points)s points; hand it over.")
        % {
            "member": mask_name(done.member.name) or card_no_masked(done.member.card_no),
            "goods": done.goods.name,
            "qty": done.qty,
            "points": done.points,
        },
    )
    return redirect(f"{reverse('backoffice:mall_desk')}?code={done.code}&done=1")
