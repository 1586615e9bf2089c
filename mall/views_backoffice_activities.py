"""品牌活动 in the back office: the list of the user's stores' activities by status, the form
to add or change one (brand of the chosen store, short text with a counter, a picture) and
taking one off the member pages. Writes go through mall/activities.py."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.auth import backoffice_required
from mall import activities as services
from mall.forms_activities import ActivityFilterForm, ActivityForm, status_label
from mall.models import BrandActivity
from stores.scoping import scoped

PAGE_SIZE = 30


def _in_scope(request, pk: int) -> BrandActivity:
    activity = (
        scoped(BrandActivity.objects.all(), user=request.user, store_field="store")
        .select_related("store", "brand")
        .filter(pk=pk)
        .first()
    )
    if activity is None:
        raise Http404
    return activity


@backoffice_required(perm="mall.view_brandactivity")
def activity_list_bo(request):
    form = ActivityFilterForm(request.GET or None, user=request.user)
    rows = scoped(BrandActivity.objects.all(), user=request.user, store_field="store")
    page = None
    if not form.is_bound or form.is_valid():
        data = form.cleaned_data if form.is_bound else {}
        if data.get("store"):
            rows = rows.filter(store=data["store"])
        rows = services.activities_by_status(rows, data.get("status") or "")
        if data.get("q"):
            q = data["q"].strip()
            rows = rows.filter(Q(title__icontains=q) | Q(brand__name__icontains=q))
        rows = rows.select_related("store", "brand", "brand__category").order_by(
            "-starts_on", "-id"
        )
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
        page.object_list = services.activities_with_places(page.object_list)
        for activity in page.object_list:
            activity.status = services.activity_status(activity)
            activity.status_label = status_label(activity)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "backoffice/mall/activity_list.html",
        {"form": form, "page": page, "query": query.urlencode()},
        status=400 if form.is_bound and form.errors else 200,
    )


def _save(request, form, *, activity=None):
    """The form's data through the service; a refusal becomes an error on its field."""
    data = form.cleaned_data
    fields = {name: data[name] for name in services.FIELDS}
    try:
        if activity is None:
            return services.activity_create(actor=request.user, image=data["image"], **fields)
        return services.activity_update(
            activity=activity, actor=request.user, image=data["image"], **fields
        )
    except services.ActivityError as error:
        field = error.field if error.field in form.fields else None
        form.add_error(field, error.message)
        return None


@require_http_methods(["GET", "POST"])
@backoffice_required(perm="mall.add_brandactivity")
def activity_create(request):
    form = ActivityForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        activity = _save(request, form)
        if activity is not None:
            messages.success(request, _("Activity saved."))
            return redirect("backoffice:activity_edit", activity.pk)
    return render(
        request,
        "backoffice/mall/activity_form.html",
        {"form": form, "activity": None},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
@backoffice_required(perm="mall.change_brandactivity")
def activity_edit(request, pk: int):
    activity = _in_scope(request, pk)
    initial = {name: getattr(activity, name) for name in services.FIELDS}
    form = ActivityForm(
        request.POST or None, request.FILES or None, user=request.user, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        saved = _save(request, form, activity=activity)
        if saved is not None:
            messages.success(request, _("Activity saved."))
            return redirect("backoffice:activity_edit", saved.pk)
    activity.status = services.activity_status(activity)
    activity.status_label = status_label(activity)
    return render(
        request,
        "backoffice/mall/activity_form.html",
        {"form": form, "activity": activity},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@backoffice_required(perm="mall.change_brandactivity")
def activity_unpublish(request, pk: int):
    activity = services.activity_unpublish(activity=_in_scope(request, pk), actor=request.user)
    messages.success(request, _("The activity is no longer shown to members."))
    return redirect("backoffice:activity_edit", activity.pk)
