"""Staff pages of the floor guide (楼层导视) under /backoffice/stores/: the floors of a store,
and a floor's editor (its fields, plan image, markers placed by clicking on the plan, shop
rectangles). Every write goes through stores/floor_plans.py; a refusal there is a form error
on the page (400), never a 500. Floors outside the user's stores are 404."""

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.auth import backoffice_required
from core.exceptions import ServiceError
from stores import floor_plans
from stores.forms import FloorForm, MarkerForm, PlanUploadForm, ShopPlaceForm
from stores.models import Floor, FloorMarker, Shop, Store
from stores.scoping import scoped

PERM = "stores.change_floor"


def _floor_in_scope(request, pk: int) -> Floor:
    floors = scoped(Floor.objects.select_related("store"), user=request.user, store_field="store")
    return get_object_or_404(floors, pk=pk)


@require_GET
@backoffice_required(perm=PERM)
def floor_list(request):
    """The floors of one store of the user's scope (?store=CODE), bottom to top."""
    stores = list(scoped(Store.objects.order_by("code"), user=request.user, store_field=""))
    wanted = request.GET.get("store", "")
    store = next((s for s in stores if s.code == wanted), None) if wanted else None
    if wanted and store is None:
        raise Http404
    store = store or (stores[0] if stores else None)
    floors = []
    if store is not None:
        floors = (
            Floor.objects.filter(store=store)
            .annotate(
                shop_count=Count("shops", filter=Q(shops__is_active=True), distinct=True),
                placed_count=Count(
                    "shops",
                    filter=Q(shops__is_active=True, shops__x__isnull=False),
                    distinct=True,
                ),
                marker_count=Count("markers", distinct=True),
            )
            .prefetch_related("categories")
            .order_by("order")
        )
    return render(
        request,
        "backoffice/stores/floor_list.html",
        {"stores": stores, "store": store, "floors": floors},
    )


def _edit_page(request, floor: Floor, *, bound: dict | None = None, status: int = 200):
    """The floor editor; `bound` holds the forms of a failed POST by their key, shown with
    their errors instead of fresh ones."""
    bound = bound or {}
    shops = list(floor.shops.select_related("brand").order_by("unit_no"))
    markers = list(floor.markers.select_related("shop"))
    for marker in markers:
        marker.form = bound.get(f"m{marker.pk}") or MarkerForm(
            floor=floor,
            shops=shops,
            prefix=f"m{marker.pk}",
            initial={
                "kind": marker.kind,
                "label": marker.label,
                "shop": marker.shop_id,
                "x": marker.x,
                "y": marker.y,
            },
        )
    for shop in shops:
        shop.form = bound.get(f"s{shop.pk}") or ShopPlaceForm(
            floor=floor,
            prefix=f"s{shop.pk}",
            initial={"x": shop.x, "y": shop.y, "w": shop.w, "h": shop.h},
        )
    svg = floor_plans.floor_plan_svg(floor, overlay=bool(floor.plan))
    return render(
        request,
        "backoffice/stores/floor_edit.html",
        {
            "floor": floor,
            "floor_form": bound.get("floor") or FloorForm(instance=floor, prefix="floor"),
            "upload_form": bound.get("upload") or PlanUploadForm(prefix="upload"),
            "marker_form": bound.get("add") or MarkerForm(floor=floor, shops=shops, prefix="add"),
            "markers": markers,
            "shops": shops,
            "plan_svg": mark_safe(svg),  # noqa: S308 - floor_plan_svg escapes what it writes
            "legend": floor_plans.marker_legend(floor),
            "failed": next(iter(bound), ""),
        },
        status=status,
    )


def _refused(form, error: ServiceError, field: str | None = None) -> None:
    form.add_error(field, str(error.message))


@require_http_methods(["GET", "POST"])
@backoffice_required(perm=PERM)
def floor_edit(request, pk: int):
    """A floor's editor; a POST here saves the floor's own fields."""
    floor = _floor_in_scope(request, pk)
    if request.method != "POST":
        return _edit_page(request, floor)
    # A copy for the form: a refused POST must not show half-changed values elsewhere.
    form = FloorForm(request.POST, instance=Floor.objects.get(pk=floor.pk), prefix="floor")
    if form.is_valid():
        data = dict(form.cleaned_data)
        categories = list(data.pop("categories"))
        try:
            floor_plans.floor_update(floor=floor, actor=request.user, categories=categories, **data)
        except ServiceError as error:
            aspect = error.code.startswith("aspect")
            _refused(
                form, error, "code" if error.code == "code" else "plan_aspect" if aspect else None
            )
        else:
            messages.success(request, _("Floor saved."))
            return redirect("backoffice:floor_edit", pk=floor.pk)
    return _edit_page(request, floor, bound={"floor": form}, status=400)


@require_POST
@backoffice_required(perm=PERM)
def floor_plan_upload(request, pk: int):
    """Upload (or with `remove`, take away) the floor's plan image."""
    floor = _floor_in_scope(request, pk)
    if "remove" in request.POST:
        floor_plans.floor_plan_remove(floor=floor, actor=request.user)
        messages.success(request, _("Plan image removed: the plan is drawn from the shops."))
        return redirect("backoffice:floor_edit", pk=floor.pk)
    form = PlanUploadForm(request.POST, request.FILES, prefix="upload")
    if form.is_valid():
        try:
            floor_plans.floor_plan_upload(
                floor=floor, actor=request.user, upload=form.cleaned_data["plan"]
            )
        except ServiceError as error:
            _refused(form, error, "plan")
        else:
            messages.success(request, _("Plan image uploaded."))
            return redirect("backoffice:floor_edit", pk=floor.pk)
    return _edit_page(request, floor, bound={"upload": form}, status=400)


@require_POST
@backoffice_required(perm=PERM)
def floor_marker_add(request, pk: int):
    """Put a marker on the plan (x, y typed, or filled in by a click on the plan)."""
    floor = _floor_in_scope(request, pk)
    form = MarkerForm(request.POST, floor=floor, prefix="add")
    if form.is_valid():
        try:
            floor_plans.marker_create(floor=floor, actor=request.user, **form.cleaned_data)
        except ServiceError as error:
            _refused(form, error)
        else:
            messages.success(request, _("Marker added."))
            return redirect("backoffice:floor_edit", pk=floor.pk)
    return _edit_page(request, floor, bound={"add": form}, status=400)


def _marker_in_scope(request, pk: int) -> FloorMarker:
    markers = scoped(
        FloorMarker.objects.select_related("floor__store"),
        user=request.user,
        store_field="floor__store",
    )
    return get_object_or_404(markers, pk=pk)


@require_POST
@backoffice_required(perm=PERM)
def floor_marker_edit(request, pk: int):
    """Change a marker's kind, label or position (move it)."""
    marker = _marker_in_scope(request, pk)
    floor = marker.floor
    form = MarkerForm(request.POST, floor=floor, prefix=f"m{marker.pk}")
    if form.is_valid():
        try:
            floor_plans.marker_update(marker=marker, actor=request.user, **form.cleaned_data)
        except ServiceError as error:
            _refused(form, error)
        else:
            messages.success(request, _("Marker saved."))
            return redirect("backoffice:floor_edit", pk=floor.pk)
    return _edit_page(request, floor, bound={f"m{marker.pk}": form}, status=400)


@require_POST
@backoffice_required(perm=PERM)
def floor_marker_delete(request, pk: int):
    marker = _marker_in_scope(request, pk)
    floor = marker.floor
    floor_plans.marker_delete(marker=marker, actor=request.user)
    messages.success(request, _("Marker removed."))
    return redirect("backoffice:floor_edit", pk=floor.pk)


@require_POST
@backoffice_required(perm=PERM)
def floor_shop_place(request, pk: int):
    """Set a shop's rectangle on its floor's plan."""
    shops = scoped(
        Shop.objects.select_related("floor__store"), user=request.user, store_field="floor__store"
    )
    shop = get_object_or_404(shops, pk=pk)
    floor = shop.floor
    form = ShopPlaceForm(request.POST, floor=floor, prefix=f"s{shop.pk}")
    if form.is_valid():
        try:
            floor_plans.shop_place(shop=shop, actor=request.user, **form.cleaned_data)
        except ServiceError as error:
            _refused(form, error)
        else:
            messages.success(
                request, _("Shop %(unit)s placed on the plan.") % {"unit": shop.unit_no}
            )
            return redirect("backoffice:floor_edit", pk=floor.pk)
    return _edit_page(request, floor, bound={f"s{shop.pk}": form}, status=400)


@require_GET
@backoffice_required(perm=PERM)
def floor_plan_svg(request, pk: int):
    """The floor's plan as an SVG file (?highlight=<shop id> outlines that shop)."""
    floor = _floor_in_scope(request, pk)
    highlight = None
    raw = request.GET.get("highlight", "")
    if raw:
        if not raw.isdigit():
            raise Http404
        highlight = get_object_or_404(floor.shops, pk=int(raw))
    svg = floor_plans.floor_plan_svg(floor, highlight=highlight)
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    # Our own drawing, but served from our origin: no script may run in it even if opened alone.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response
