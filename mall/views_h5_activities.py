"""Brand activities for members (楼层活动展示): the list, filtered by store, floor and category,
and an activity's page. Only current activities are shown; any other is not found."""

from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from mall.activities import (
    activities_current,
    activities_with_places,
    activity_categories,
    activity_floors,
    url_or_none,
)
from members.session import current_member
from stores.models import Category
from stores.selectors import stores_open


def _filter_value(raw: str, choices) -> object:
    """The choice whose pk is `raw` ("": None); a value that is not a choice: LookupError."""
    if not raw:
        return None
    for choice in choices:
        if str(choice.pk) == raw:
            return choice
    raise LookupError(raw)


@require_GET
def activity_list(request):
    """活动列表: the current activities of a store (the member's home store first), by floor
    and category; a filter value that is not one of the choices is answered with 400."""
    stores = list(stores_open())
    code = request.GET.get("store", "")
    store = next((s for s in stores if s.code == code), None)
    if code and store is None:
        return _bad_filter(request, _("This store is not open."))
    if store is None and stores:
        member = current_member(request)
        home = member.home_store_id if member else None
        store = next((s for s in stores if s.pk == home), stores[0])
    floors = list(activity_floors(store)) if store else []
    categories = list(activity_categories(store=store)) if store else []
    raw_category = request.GET.get("category", "")
    try:
        floor = _filter_value(request.GET.get("floor", ""), floors)
        # a category whose activities have ended since the link was made shows an empty list
        category = _filter_value(
            raw_category,
            Category.objects.filter(pk=int(raw_category)) if raw_category.isdigit() else [],
        )
    except LookupError:
        return _bad_filter(request, _("There is no such floor or category in this store."))
    activities = []
    if store is not None:
        activities = activities_with_places(
            activities_current(store=store, floor=floor, category=category)
        )
    return render(
        request,
        "h5/mall/activity_list.html",
        {
            "stores": stores,
            "store": store,
            "floors": floors,
            "floor": floor,
            "categories": categories,
            "category": category,
            "activities": activities,
            "tab": "home",
        },
    )


def _bad_filter(request, reason: str):
    context = {"status": 400, "title": _("Bad request"), "text": reason, "hide_tabbar": True}
    return render(request, "h5/error.html", context, status=400)


@require_GET
def activity_detail(request, pk: int):
    """活动说明: an activity while it is current; expired, future or unpublished: 404."""
    activity = activities_current().filter(pk=pk).first()
    if activity is None:
        raise Http404
    (activity,) = activities_with_places([activity])
    return render(
        request,
        "h5/mall/activity_detail.html",
        {
            "activity": activity,
            "brand_url": url_or_none("h5:brand_detail", activity.store.code, activity.brand_id),
            "tab": "home",
        },
    )
