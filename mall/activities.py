"""Brand activities (楼层活动展示): what members see and what staff write.

Members see an activity while it is current: published and starts_on ≤ today ≤ ends_on, by the
Shanghai calendar. Its floor is the floor of the brand's shop in the activity's store, its
category the brand's (a parent category covers its children). Staff write through the
services below; each change is audited.
"""

from datetime import date

from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import audit_log
from core.exceptions import ServiceError
from core.photos import PhotoRejected, photo_clean
from mall.models import ACTIVITY_BODY_MAX, BrandActivity
from stores.models import Brand, Category, Floor, Shop, Store

TITLE_MAX = BrandActivity._meta.get_field("title").max_length
IMAGE_MAX_SIDE = 1600
IMAGE_MAX_BYTES = 8 * 1024 * 1024
FIELDS = ("store", "brand", "title", "body", "starts_on", "ends_on", "is_published")


class ActivityError(ServiceError):
    code = "activity_invalid"
    default_message = _("The activity could not be saved.")

    def __init__(self, message=None, *, code=None, params=None, field: str | None = None):
        super().__init__(message, code=code, params=params)
        self.field = field


def shanghai_today() -> date:
    """Today in the mall's time zone (settings.TIME_ZONE, Asia/Shanghai)."""
    return timezone.localdate()


def activities_current(
    *,
    store: Store | None = None,
    floor: Floor | None = None,
    category: Category | None = None,
    brand: Brand | None = None,
    today: date | None = None,
) -> QuerySet[BrandActivity]:
    """Published activities running today (Shanghai), newest first, with store and brand."""
    today = today or shanghai_today()
    activities = BrandActivity.objects.filter(
        is_published=True, starts_on__lte=today, ends_on__gte=today
    )
    if store is not None:
        activities = activities.filter(store=store)
    if brand is not None:
        activities = activities.filter(brand=brand)
    if floor is not None:
        # the brand's shop on that floor; the floor is of one store, so is the activity
        activities = activities.filter(
            store_id=floor.store_id,
            pk__in=BrandActivity.objects.filter(
                brand__shops__floor=floor, brand__shops__is_active=True
            ).values("pk"),
        )
    if category is not None:
        activities = activities.filter(
            Q(brand__category=category) | Q(brand__category__parent=category)
        )
    return activities.select_related("store", "brand", "brand__category").order_by(
        "-starts_on", "-id"
    )


def activities_with_places(activities) -> list[BrandActivity]:
    """`activities` as a list, each with `.shops`: its brand's open shops in its store (floor
    loaded), in two queries however many there are."""
    activities = list(activities)
    brand_ids = {activity.brand_id for activity in activities}
    shops = (
        Shop.objects.filter(brand_id__in=brand_ids, is_active=True)
        .select_related("floor")
        .order_by("floor__order", "unit_no")
    )
    by_key: dict[tuple[int, int], list[Shop]] = {}
    for shop in shops:
        by_key.setdefault((shop.brand_id, shop.floor.store_id), []).append(shop)
    for activity in activities:
        activity.shops = by_key.get((activity.brand_id, activity.store_id), [])
    return activities


def activity_status(activity: BrandActivity, *, today: date | None = None) -> str:
    """unpublished, upcoming, current or ended."""
    today = today or shanghai_today()
    if not activity.is_published:
        return "unpublished"
    if activity.starts_on > today:
        return "upcoming"
    if activity.ends_on < today:
        return "ended"
    return "current"


def activities_by_status(queryset: QuerySet, status: str, *, today: date | None = None):
    today = today or shanghai_today()
    if status == "unpublished":
        return queryset.filter(is_published=False)
    if status == "upcoming":
        return queryset.filter(is_published=True, starts_on__gt=today)
    if status == "ended":
        return queryset.filter(is_published=True, ends_on__lt=today)
    if status == "current":
        return queryset.filter(is_published=True, starts_on__lte=today, ends_on__gte=today)
    return queryset


def brands_in_store(store: Store) -> QuerySet[Brand]:
    """Brands with an open shop in `store`."""
    return Brand.objects.filter(
        pk__in=Shop.objects.filter(floor__store=store, is_active=True).values("brand_id")
    )


def url_or_none(name: str, *args) -> str | None:
    """The address of the URL `name`, or None while no page of that name exists (another
    part of the mall may add it later)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


# --- Writes -----------------------------------------------------------------------------------


def _check(fields: dict) -> None:
    title = (fields.get("title") or "").strip()
    if not title:
        raise ActivityError(_("Give the activity a title."), code="title_missing", field="title")
    if len(title) > TITLE_MAX:
        raise ActivityError(
            _("The title is too long: at most %(max)s characters."),
            code="title_too_long",
            params={"max": TITLE_MAX},
            field="title",
        )
    body = (fields.get("body") or "").strip()
    if not body:
        raise ActivityError(_("Describe the activity."), code="body_missing", field="body")
    if len(body) > ACTIVITY_BODY_MAX:
        raise ActivityError(
            _("The text is too long: at most %(max)s characters, keep it short and clear."),
            code="body_too_long",
            params={"max": ACTIVITY_BODY_MAX},
            field="body",
        )
    starts_on, ends_on = fields.get("starts_on"), fields.get("ends_on")
    if starts_on is None or ends_on is None:
        raise ActivityError(_("Give the first and the last day."), code="dates_missing")
    if ends_on < starts_on:
        raise ActivityError(
            _("The last day is before the first day."), code="dates_reversed", field="ends_on"
        )
    store, brand = fields.get("store"), fields.get("brand")
    if store is None or brand is None:
        raise ActivityError(_("Choose the store and the brand."), code="brand_missing")
    if not brands_in_store(store).filter(pk=brand.pk).exists():
        raise ActivityError(
            _("%(brand)s has no shop in %(store)s: choose a brand of that store."),
            code="brand_not_in_store",
            params={"brand": brand.name, "store": store.name},
            field="brand",
        )


def activity_image_clean(upload) -> object:
    """The upload re-encoded as a JPEG without metadata (core.photos), or ActivityError."""
    try:
        cleaned = photo_clean(upload, max_side=IMAGE_MAX_SIDE, max_bytes=IMAGE_MAX_BYTES)
    except PhotoRejected as error:
        raise ActivityError(error.message, code=error.code, field="image") from None
    cleaned.name = "activity.jpg"
    return cleaned


def _audit_data(activity: BrandActivity) -> dict:
    return {
        "store": activity.store.code,
        "brand": activity.brand.name,
        "title": activity.title,
        "starts_on": activity.starts_on.isoformat(),
        "ends_on": activity.ends_on.isoformat(),
        "is_published": activity.is_published,
    }


@transaction.atomic
def activity_create(
    *,
    actor,
    store: Store,
    brand: Brand,
    title: str,
    body: str,
    starts_on: date,
    ends_on: date,
    image=None,
    is_published: bool = True,
) -> BrandActivity:
    """A new activity of `brand` in `store`, checked (title, text length, dates, the brand's
    shop in the store) and audited; `image` is re-encoded without metadata."""
    fields = {
        "store": store,
        "brand": brand,
        "title": title,
        "body": body,
        "starts_on": starts_on,
        "ends_on": ends_on,
    }
    _check(fields)
    activity = BrandActivity(
        store=store,
        brand=brand,
        title=title.strip(),
        body=body.strip(),
        starts_on=starts_on,
        ends_on=ends_on,
        is_published=is_published,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    if image:
        activity.image.save("activity.jpg", activity_image_clean(image), save=False)
    activity.save()
    audit_log(
        actor=actor, action="mall.activity.created", target=activity, data=_audit_data(activity)
    )
    return activity


@transaction.atomic
def activity_update(*, activity: BrandActivity, actor, image=None, **changes) -> BrandActivity:
    """Change the fields named in `changes` (of FIELDS), checked as at creation, and a new
    `image` if given; audited with what changed. The row is locked while it changes."""
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise TypeError(f"activity_update got unknown fields: {sorted(unknown)}")
    activity = BrandActivity.objects.select_for_update().get(pk=activity.pk)
    before = _audit_data(activity)
    fields = {name: getattr(activity, name) for name in FIELDS} | changes
    _check(fields)
    for name, value in changes.items():
        setattr(activity, name, value.strip() if name in ("title", "body") else value)
    if image:
        activity.image.save("activity.jpg", activity_image_clean(image), save=False)
    activity.save()
    after = _audit_data(activity)
    changed = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    if image:
        changed["image"] = activity.image.name
    audit_log(actor=actor, action="mall.activity.updated", target=activity, data=changed)
    return activity


@transaction.atomic
def activity_unpublish(*, activity: BrandActivity, actor) -> BrandActivity:
    """Take the activity off the member pages at once (it stays in the back office)."""
    activity = BrandActivity.objects.select_for_update().get(pk=activity.pk)
    if activity.is_published:
        activity.is_published = False
        activity.save(update_fields=["is_published", "updated_at"])
        audit_log(actor=actor, action="mall.activity.unpublished", target=activity)
    return activity


def activity_floors(store: Store) -> QuerySet[Floor]:
    """The store's floors, bottom to top, for the filter."""
    return Floor.objects.filter(store=store).order_by("order")


def activity_categories(*, store: Store | None, today: date | None = None) -> QuerySet[Category]:
    """The categories of the brands with a current activity (in `store`, if given)."""
    current = activities_current(store=store, today=today)
    return Category.objects.filter(pk__in=current.values("brand__category")).order_by("code")
