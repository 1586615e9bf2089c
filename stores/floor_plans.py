"""Floor plans (楼层导视): the plan of a floor drawn as SVG from its shops' rectangles and its
markers, and the services staff edit them with (markers, shop rectangles, the plan image).

Coordinates follow the models: x in per-mille of the plan's width, y in plan units, the plan
being 1000 × `plan_aspect` units. The same SVG is the whole plan when no image was uploaded,
and the overlay over the image when one was (`overlay=True`: no floor, no shop fills), so
markers sit at the same place either way.
"""

import io
from dataclasses import dataclass
from html import escape

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from PIL import Image

from core.audit import audit_log
from core.exceptions import ServiceError
from core.photos import photo_clean
from stores.models import Floor, FloorMarker, Shop

PLAN_MAX_BYTES = 8 * 1024 * 1024
PLAN_MAX_SIDE = 3000
ASPECT_MIN, ASPECT_MAX = 100, 3000


class FloorPlanError(ServiceError):
    code = "floor_plan_invalid"
    default_message = _("This does not fit on the floor plan.")


@dataclass(frozen=True)
class MarkerStyle:
    symbol: str
    colour: str


# One symbol and colour per kind, as on the mall's own signs: green exits, red fire gear.
MARKER_STYLES = {
    FloorMarker.Kind.SHOP: MarkerStyle(pgettext_lazy("plan symbol of a shop", "S"), "#576b95"),
    FloorMarker.Kind.EXIT: MarkerStyle(pgettext_lazy("plan symbol of an exit", "E"), "#07a35a"),
    FloorMarker.Kind.CASHIER: MarkerStyle(
        pgettext_lazy("plan symbol of a cashier", "C"), "#1677ff"
    ),
    FloorMarker.Kind.TOILET: MarkerStyle(pgettext_lazy("plan symbol of toilets", "WC"), "#0e9aa7"),
    FloorMarker.Kind.LIFT: MarkerStyle(pgettext_lazy("plan symbol of a lift", "L"), "#7a52c7"),
    FloorMarker.Kind.ESCALATOR: MarkerStyle(
        pgettext_lazy("plan symbol of an escalator", "ES"), "#9254de"
    ),
    FloorMarker.Kind.SERVICE_DESK: MarkerStyle(
        pgettext_lazy("plan symbol of a service desk", "i"), "#fa8c16"
    ),
    FloorMarker.Kind.SAFETY: MarkerStyle(
        pgettext_lazy("plan symbol of a safety sign", "!"), "#d4a106"
    ),
    FloorMarker.Kind.FIRE_EXIT: MarkerStyle(
        pgettext_lazy("plan symbol of an emergency exit", "FE"), "#138a36"
    ),
    FloorMarker.Kind.EXTINGUISHER: MarkerStyle(
        pgettext_lazy("plan symbol of a fire extinguisher", "F"), "#e02020"
    ),
}

# The kinds' names on plans and in the editor ("Lift" alone is association rules' 提升度).
KIND_LABELS = {
    FloorMarker.Kind.SHOP: pgettext_lazy("floor marker", "Shop"),
    FloorMarker.Kind.EXIT: pgettext_lazy("floor marker", "Exit"),
    FloorMarker.Kind.CASHIER: pgettext_lazy("floor marker", "Cashier"),
    FloorMarker.Kind.TOILET: pgettext_lazy("floor marker", "Toilets"),
    FloorMarker.Kind.LIFT: pgettext_lazy("floor marker", "Lift"),
    FloorMarker.Kind.ESCALATOR: pgettext_lazy("floor marker", "Escalator"),
    FloorMarker.Kind.SERVICE_DESK: pgettext_lazy("floor marker", "Service desk"),
    FloorMarker.Kind.SAFETY: pgettext_lazy("floor marker", "Safety sign"),
    FloorMarker.Kind.FIRE_EXIT: pgettext_lazy("floor marker", "Emergency exit"),
    FloorMarker.Kind.EXTINGUISHER: pgettext_lazy("floor marker", "Fire extinguisher"),
}

SHOP_FILL, SHOP_STROKE, HIGHLIGHT = "#ffffff", "#b8c2d6", "#fa5151"


# --- Drawing --------------------------------------------------------------------------------


def _em(ch: str) -> float:
    """A character's width in em: CJK 1, capitals 0.7, the rest about 0.6."""
    return 1.0 if ord(ch) > 0x2E80 else 0.7 if ch.isupper() else 0.6


def _text_size(text: str, *, width: float, largest: float, smallest: float) -> float | None:
    """The font size at which `text` fits in `width` (CJK characters are 1 em wide, others
    about 0.6 em), at most `largest`; None when even `smallest` does not fit."""
    ems = sum(_em(ch) for ch in text) or 1.0
    size = min(largest, width * 0.86 / ems)
    return size if size >= smallest else None


def _shortened(text: str, *, width: float, size: float) -> str:
    """`text` cut (with an ellipsis) to what fits in `width` at `size`."""
    out, used = "", 0.0
    for ch in text:
        used += _em(ch) * size
        if used > width * 0.86 - size:
            return out + "…"
        out += ch
    return out


def _shop_svg(shop: Shop, *, overlay: bool, on: bool) -> str:
    x, y, w, h = shop.x, shop.y, shop.w, shop.h
    cx, cy = x + w / 2, y + h / 2
    fill = "none" if overlay else SHOP_FILL
    parts = [
        f'<g class="fp-shop{" fp-shop_on" if on else ""}" id="fp-shop-{shop.pk}" '
        f'data-shop="{shop.pk}" data-unit="{escape(shop.unit_no)}">',
        f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="4" fill="{fill}" '
        f'stroke="{HIGHLIGHT if on else SHOP_STROKE}" stroke-width="{6 if on else 2}"/>',
    ]
    if on:
        # A pulsing outline (SMIL runs inline and in an <img> alike, without script).
        parts.append(
            f'<rect x="{x - 4}" y="{y - 4}" width="{w + 8}" height="{h + 8}" rx="8" '
            f'fill="{HIGHLIGHT}" fill-opacity="0.18" stroke="{HIGHLIGHT}" stroke-width="4">'
            '<animate attributeName="stroke-opacity" values="1;0.2;1" dur="1.4s" '
            'repeatCount="indefinite"/></rect>'
        )
    if not overlay or on:
        unit_size = _text_size(shop.unit_no, width=w, largest=18, smallest=9) or 9
        name_size = _text_size(shop.brand.name, width=w, largest=24, smallest=12)
        name = shop.brand.name
        if name_size is None:
            name_size = 12.0
            name = _shortened(name, width=w, size=name_size)
        ink = HIGHLIGHT if on else "#1f2329"
        parts.append(
            f'<text x="{cx:.0f}" y="{cy - name_size * 0.3:.0f}" text-anchor="middle" '
            f'font-size="{name_size:.1f}" font-weight="600" fill="{ink}">{escape(name)}</text>'
        )
        parts.append(
            f'<text x="{cx:.0f}" y="{cy + unit_size * 1.3:.0f}" text-anchor="middle" '
            f'font-size="{unit_size:.1f}" fill="#6b7280">{escape(shop.unit_no)}</text>'
        )
    parts.append("</g>")
    return "".join(parts)


def _marker_svg(marker: FloorMarker) -> str:
    style = MARKER_STYLES.get(marker.kind, MARKER_STYLES[FloorMarker.Kind.SAFETY])
    label = marker.label or (
        marker.shop.unit_no if marker.shop_id else KIND_LABELS.get(marker.kind, marker.kind)
    )
    symbol = str(style.symbol)
    symbol_size = 17 if len(symbol) == 1 else 13
    return (
        f'<g class="fp-marker fp-marker_{escape(marker.kind)}" data-marker="{marker.pk}" '
        f'data-kind="{escape(marker.kind)}" transform="translate({marker.x} {marker.y})">'
        f"<title>{escape(str(label))}</title>"
        f'<circle r="15" fill="{style.colour}" stroke="#ffffff" stroke-width="3"/>'
        f'<text y="{symbol_size * 0.36:.1f}" text-anchor="middle" font-size="{symbol_size}" '
        f'font-weight="700" fill="#ffffff">{escape(symbol)}</text>'
        f'<text y="32" text-anchor="middle" font-size="14" fill="{style.colour}" '
        f'stroke="#ffffff" stroke-width="3" paint-order="stroke">{escape(str(label))}</text>'
        "</g>"
    )


def floor_plan_svg(floor: Floor, *, highlight: Shop | None = None, overlay: bool = False) -> str:
    """The floor's plan as an SVG document (viewBox 0 0 1000 plan_aspect): its placed open
    shops with brand and unit number, its markers with their labels, and `highlight` (a shop
    of this floor) outlined and pulsing. `overlay`: only what goes over an uploaded image."""
    height = floor.plan_aspect
    shops = [
        s for s in floor.shops.filter(is_active=True).select_related("brand") if s.x is not None
    ]
    markers = floor.markers.select_related("shop")
    highlight_id = highlight.pk if highlight is not None else None
    title = f"{floor.code} {floor.name}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1000 {height}" '
        f'class="fp-svg" role="img" aria-label="{escape(title)}" '
        f"font-family=\"-apple-system, 'PingFang SC', 'Noto Sans CJK SC', sans-serif\">",
        f"<title>{escape(title)}</title>",
    ]
    if not overlay:
        parts.append(
            f'<rect class="fp-floor" x="2" y="2" width="996" height="{height - 4}" rx="12" '
            'fill="#eef1f6" stroke="#8a94a6" stroke-width="4"/>'
        )
    parts.append('<g class="fp-shops">')
    # The highlighted shop last, so its outline is drawn over its neighbours'.
    for shop in sorted(shops, key=lambda s: s.pk == highlight_id):
        parts.append(_shop_svg(shop, overlay=overlay, on=shop.pk == highlight_id))
    parts.append('</g><g class="fp-markers">')
    parts.extend(_marker_svg(marker) for marker in markers)
    parts.append("</g></svg>")
    return "".join(parts)


def marker_legend(floor: Floor) -> list[dict]:
    """The kinds of marker on `floor`, in the order of the kinds, with symbol and colour."""
    present = set(floor.markers.values_list("kind", flat=True))
    return [
        {
            "kind": kind,
            "label": KIND_LABELS[kind],
            "symbol": MARKER_STYLES[kind].symbol,
            "colour": MARKER_STYLES[kind].colour,
        }
        for kind in FloorMarker.Kind.values
        if kind in present
    ]


# --- Services -------------------------------------------------------------------------------


def _point_check(floor: Floor, x, y) -> None:
    if x is None or y is None or not (0 <= x <= 1000 and 0 <= y <= floor.plan_aspect):
        raise FloorPlanError(
            _("The point must lie on the plan: x from 0 to 1000, y from 0 to %(height)s."),
            code="outside_plan",
            params={"height": floor.plan_aspect},
        )


def _marker_fields_check(floor: Floor, *, kind, x, y, shop) -> None:
    if kind not in FloorMarker.Kind.values:
        raise FloorPlanError(_("Choose a kind of marker."), code="marker_kind")
    _point_check(floor, x, y)
    if kind == FloorMarker.Kind.SHOP and shop is None:
        raise FloorPlanError(_("A shop marker needs its shop."), code="marker_shop")
    if shop is not None and shop.floor_id != floor.pk:
        raise FloorPlanError(_("The shop is on another floor."), code="marker_shop")


@transaction.atomic
def marker_create(
    *, floor: Floor, actor, kind: str, x: int, y: int, label: str = "", shop: Shop | None = None
) -> FloorMarker:
    """Put a marker on `floor`'s plan at (x, y)."""
    _marker_fields_check(floor, kind=kind, x=x, y=y, shop=shop)
    marker = FloorMarker.objects.create(
        floor=floor, kind=kind, x=x, y=y, label=label.strip(), shop=shop
    )
    audit_log(
        actor=actor,
        action="stores.floor_marker.created",
        target=marker,
        data={"floor": floor.pk, "kind": kind, "x": x, "y": y, "label": marker.label},
    )
    return marker


MARKER_FIELDS = {"kind", "label", "x", "y", "shop"}


@transaction.atomic
def marker_update(*, marker: FloorMarker, actor, **fields) -> FloorMarker:
    """Change a marker's kind, label, shop or position (moving it)."""
    unknown = set(fields) - MARKER_FIELDS
    if unknown:
        raise TypeError(f"marker_update: unknown fields {sorted(unknown)}")
    marker = FloorMarker.objects.select_for_update().select_related("floor").get(pk=marker.pk)
    before = {"kind": marker.kind, "label": marker.label, "x": marker.x, "y": marker.y}
    values = {
        "kind": marker.kind,
        "label": marker.label,
        "x": marker.x,
        "y": marker.y,
        "shop": marker.shop,
    } | fields
    _marker_fields_check(
        marker.floor, kind=values["kind"], x=values["x"], y=values["y"], shop=values["shop"]
    )
    values["label"] = (values["label"] or "").strip()
    for name, value in values.items():
        setattr(marker, name, value)
    marker.save(update_fields=["kind", "label", "x", "y", "shop"])
    audit_log(
        actor=actor,
        action="stores.floor_marker.updated",
        target=marker,
        data={
            "before": before,
            "after": {"kind": marker.kind, "label": marker.label, "x": marker.x, "y": marker.y},
        },
    )
    return marker


@transaction.atomic
def marker_delete(*, marker: FloorMarker, actor) -> None:
    """Take a marker off its plan."""
    audit_log(
        actor=actor,
        action="stores.floor_marker.deleted",
        target=marker,
        data={"floor": marker.floor_id, "kind": marker.kind, "label": marker.label},
    )
    marker.delete()


def _rect_check(floor: Floor, x, y, w, h) -> None:
    if None in (x, y, w, h):
        raise FloorPlanError(_("Enter all four of left, top, width and height."), code="rect")
    if w <= 0 or h <= 0:
        raise FloorPlanError(_("Width and height must be more than 0."), code="rect_size")
    if x < 0 or y < 0 or x + w > 1000 or y + h > floor.plan_aspect:
        raise FloorPlanError(
            _(
                "The shop must lie on the plan: from 0 to 1000 across and from 0 to"
                " %(height)s down."
            ),
            code="outside_plan",
            params={"height": floor.plan_aspect},
        )


@transaction.atomic
def shop_place(*, shop: Shop, actor, x, y, w, h) -> Shop:
    """Set the shop's rectangle on its floor's plan (all four None: take it off the plan)."""
    shop = Shop.objects.select_for_update().select_related("floor").get(pk=shop.pk)
    if not (x is None and y is None and w is None and h is None):
        _rect_check(shop.floor, x, y, w, h)
    before = [shop.x, shop.y, shop.w, shop.h]
    shop.x, shop.y, shop.w, shop.h = x, y, w, h
    shop.save(update_fields=["x", "y", "w", "h"])
    audit_log(
        actor=actor,
        action="stores.shop.placed",
        target=shop,
        data={"before": before, "after": [x, y, w, h]},
    )
    return shop


def _geometry_height(floor: Floor) -> int:
    """How far down the floor's shops and markers reach, in plan units."""
    bottoms = [s.y + s.h for s in floor.shops.exclude(y__isnull=True)]
    bottoms += list(floor.markers.values_list("y", flat=True))
    return max(bottoms, default=0)


def _aspect_check(floor: Floor, aspect: int) -> None:
    if not ASPECT_MIN <= aspect <= ASPECT_MAX:
        raise FloorPlanError(
            _("The plan's height must be from %(low)s to %(high)s."),
            code="aspect",
            params={"low": ASPECT_MIN, "high": ASPECT_MAX},
        )
    reach = _geometry_height(floor)
    if reach > aspect:
        raise FloorPlanError(
            _(
                "Shops or markers reach down to %(reach)s: the plan cannot be shorter."
                " Move them first."
            ),
            code="aspect_too_short",
            params={"reach": reach},
        )


FLOOR_FIELDS = {"code", "name", "order", "description", "plan_aspect"}


@transaction.atomic
def floor_update(*, floor: Floor, actor, categories=None, **fields) -> Floor:
    """Change a floor's code, name, order, description, plan height and main categories."""
    unknown = set(fields) - FLOOR_FIELDS
    if unknown:
        raise TypeError(f"floor_update: unknown fields {sorted(unknown)}")
    floor = Floor.objects.select_for_update().get(pk=floor.pk)
    if "plan_aspect" in fields and fields["plan_aspect"] != floor.plan_aspect:
        if floor.plan:
            raise FloorPlanError(
                _("The plan's height follows its uploaded image; remove the image first."),
                code="aspect_from_image",
            )
        _aspect_check(floor, fields["plan_aspect"])
    if "code" in fields:
        clash = Floor.objects.filter(store=floor.store_id, code=fields["code"])
        if clash.exclude(pk=floor.pk).exists():
            raise FloorPlanError(_("The store has another floor with this code."), code="code")
    for name, value in fields.items():
        setattr(floor, name, value)
    floor.save(update_fields=sorted(fields) if fields else None)
    if categories is not None:
        floor.categories.set(categories)
    audit_log(
        actor=actor,
        action="stores.floor.updated",
        target=floor,
        data={
            **{k: v for k, v in fields.items() if k != "description"},
            **({"categories": sorted(c.pk for c in categories)} if categories is not None else {}),
        },
    )
    return floor


@transaction.atomic
def floor_plan_upload(*, floor: Floor, actor, upload) -> Floor:
    """Make `upload` the floor's plan image: a real picture only (core.photos' checks),
    re-encoded without metadata; the plan's height follows the image's proportions."""
    floor = Floor.objects.select_for_update().get(pk=floor.pk)
    clean = photo_clean(upload, max_side=PLAN_MAX_SIDE, max_bytes=PLAN_MAX_BYTES)
    with Image.open(io.BytesIO(clean.read())) as image:
        width, height = image.size
    clean.seek(0)
    aspect = max(ASPECT_MIN, min(ASPECT_MAX, round(1000 * height / width)))
    _aspect_check(floor, aspect)
    old = floor.plan.name if floor.plan else ""
    floor.plan.save(f"{floor.store.code}-{floor.code}.jpg", clean, save=False)
    floor.plan_aspect = aspect
    floor.save(update_fields=["plan", "plan_aspect"])
    if old:
        transaction.on_commit(lambda: floor.plan.storage.delete(old))
    audit_log(
        actor=actor,
        action="stores.floor.plan_uploaded",
        target=floor,
        data={"file": floor.plan.name, "width": width, "height": height, "aspect": aspect},
    )
    return floor


@transaction.atomic
def floor_plan_remove(*, floor: Floor, actor) -> Floor:
    """Remove the plan image: the plan is drawn from the shops again."""
    floor = Floor.objects.select_for_update().get(pk=floor.pk)
    old = floor.plan.name if floor.plan else ""
    if not old:
        return floor
    floor.plan = ""
    floor.save(update_fields=["plan"])
    storage = Floor._meta.get_field("plan").storage
    transaction.on_commit(lambda: storage.delete(old))
    audit_log(actor=actor, action="stores.floor.plan_removed", target=floor, data={"file": old})
    return floor
