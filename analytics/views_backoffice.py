from decimal import Decimal

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from analytics.forms import BulkTagForm, ClvFilterForm, GroupForm, StatisticsFilterForm, TagForm
from analytics.groups import (
    group_archive,
    group_count,
    group_count_refresh,
    group_members,
)
from analytics.groups import group_create as group_create_service
from analytics.member_list import (
    EXACT_COUNT_BELOW,
    QUICK_COUNT_MS,
    SORT_DEFAULT,
    SORTS,
    XLSX_MAX_ROWS,
    cursor_decode,
    export_csv_chunks,
    export_xlsx_file,
    keyset_page,
    members_counted,
    members_searched,
    members_sorted,
    page_decorate,
    rows_count,
    rows_estimate,
    sort_choices,
)
from analytics.models import MemberGroup, Tag
from analytics.predicted_value import clv_run_current
from analytics.segments import (
    FilterInvalid,
    MemberFilterForm,
    members_filtered,
    params_as_data,
    params_describe,
    params_querystring,
)
from analytics.selectors import clv_scores, daily_sales, dashboard_figures, rfm_overview
from analytics.statistics import grain_auto, statistics_filter
from analytics.statistics_page import SECTIONS, chart_builders, statistics_charts
from analytics.tags import (
    member_tag_add,
    member_tag_remove,
    rule_tag_recompute,
    tag_members_bulk,
    tag_save,
)
from core.audit import audit_log
from core.auth import backoffice_required
from core.csv_export import csv_download
from core.exceptions import ServiceError
from core.once import submit_once
from members.models import Member
from members.scoping import scoped_members


@backoffice_required
def home(request):
    return render(
        request,
        "backoffice/analytics/home.html",
        {
            "figures": dashboard_figures(user=request.user),
            "daily_sales": daily_sales(user=request.user),
        },
    )


@backoffice_required(perm="analytics.view_rfmsnapshot")
def rfm(request):
    return render(
        request,
        "backoffice/analytics/rfm.html",
        {
            "overview": rfm_overview(user=request.user),
            "can_group": request.user.has_perm("analytics.add_membergroup"),
        },
    )


@backoffice_required(perm="analytics.view_clvscore")
def clv_list(request):
    """Members by predicted value in the current run, filtered (e.g. likely to lapse)."""
    form = ClvFilterForm(request.GET or None)
    run = clv_run_current()
    page = None
    if run is not None and (not form.is_bound or form.is_valid()):
        cuts = form.cleaned_data if form.is_bound else {}
        value_above = cuts.get("value_above")
        scores = clv_scores(
            user=request.user,
            run=run,
            p_alive_below=cuts.get("p_alive_below"),
            value_above_fen=None if value_above is None else int(value_above * 100),
        )
        page = Paginator(scores, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "backoffice/analytics/clv_list.html",
        {
            "form": form,
            "run": run,
            "page": page,
            "query": query.urlencode(),
            "band": _clv_band(form) if page is not None else None,
            "can_group": request.user.has_perm("analytics.add_membergroup"),
        },
    )


@backoffice_required(perm="analytics.view_rfmsnapshot")
def statistics(request):
    """会员统计: every chart with its numbers for the chosen store and dates, or one chart's
    numbers (or all of them, `export=all`) as CSV."""
    keys = list(chart_builders("month"))
    form = StatisticsFilterForm(
        request.GET, user=request.user, export_keys=keys, today=timezone.localdate()
    )
    if not form.is_valid():
        return render(request, "backoffice/analytics/statistics.html", {"form": form}, status=400)
    data = form.cleaned_data
    f = statistics_filter(
        user=request.user, start=data["start"], end=data["end"], store=data["store"]
    )
    grain = data["grain"] or grain_auto(f.start, f.end)
    if data["export"]:
        keys = None if data["export"] == "all" else [data["export"]]
        return csv_download(
            f"member-statistics-{data['export']}-{f.start:%Y%m%d}-{f.end:%Y%m%d}.csv",
            [table for chart in statistics_charts(f, grain, keys) for table in chart.csv_tables()],
        )
    charts = statistics_charts(f, grain)
    sections = [
        {"code": code, "label": label, "charts": [c for c in charts if c.section == code]}
        for code, label in SECTIONS
    ]
    query = request.GET.copy()
    query.pop("export", None)
    for name in ("start", "end"):
        query[name] = data[name].isoformat()
    return render(
        request,
        "backoffice/analytics/statistics.html",
        {
            "form": form,
            "sections": [s for s in sections if s["charts"]],
            "figures": [figure for chart in charts for figure in chart.figures],
            "query": query.urlencode(),
        },
    )


def _clv_band(form) -> dict:
    """The list's cuts as the member filter's fields, for a one-click group: "value above
    ¥500" is from ¥500.01 (fen are whole)."""
    cuts = form.cleaned_data if form.is_bound else {}
    above, below = cuts.get("value_above"), cuts.get("p_alive_below")
    band = {"field": "clv_value_min", "value": str(above + Decimal("0.01") if above else 0)}
    name = _("Predicted value")
    if above is not None:
        name += f" > ¥{above}"
    if below is not None:
        band |= {"field2": "clv_p_alive_below", "value2": str(below)}
        name += f" · p < {below}"
    return band | {"name": name}


# --- The member list (会员列表 / 筛选会员) ----------------------------------------------------


def _list_context(request) -> dict:
    """The list's filter, search and sort from the query string, checked."""
    form = MemberFilterForm(request.GET)
    sort = request.GET.get("sort", SORT_DEFAULT)
    if sort.lstrip("-") not in SORTS:
        sort = SORT_DEFAULT
    return {"form": form, "q": request.GET.get("q", "").strip()[:64], "sort": sort}


def _list_members(request, form, q):
    members = members_filtered(form.params(), user=request.user)
    return members_searched(members, q)


def _hidden_fields(params: dict, q: str = "") -> list[tuple[str, str]]:
    """The filter as hidden inputs of a POST form (bulk tagging the filtered list)."""
    pairs = [("q", q)] if q else []
    for key, value in params_as_data(params).items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, str(item)))
    return pairs


@backoffice_required(perm="members.view_member")
def member_list(request):
    """Members in the staff member's scope: filtered, searched, sorted, a keyset page at a
    time, personal data masked; counts estimated unless asked for or small."""
    context = _list_context(request)
    form, q, sort = context["form"], context["q"], context["sort"]
    query = request.GET.copy()
    for key in ("after", "before", "count"):
        query.pop(key, None)
    context |= {
        "query": query.urlencode(),
        "sort_choices": sort_choices(),
        "page": None,
        "can_export": request.user.has_perm("analytics.export_members"),
        "can_group": request.user.has_perm("analytics.add_membergroup"),
        "can_tag": request.user.has_perm("analytics.add_membertag"),
    }
    try:
        members = _list_members(request, form, q) if form.is_valid() else None
    except FilterInvalid as exc:  # a `group` whose own filter no longer holds
        form.add_error(None, exc.message)
        members = None
    if members is None:
        return render(request, "backoffice/analytics/member_list.html", context, status=400)
    sorted_members, descending = members_sorted(members, sort)
    sorted_members = sorted_members.select_related("home_store", "points_account__tier")
    after = cursor_decode(request.GET.get("after", ""), sort)
    before = cursor_decode(request.GET.get("before", ""), sort)
    page = keyset_page(sorted_members, descending=descending, after=after, before=before)
    page_decorate(page.rows)
    estimate, exact = rows_estimate(sorted_members), None
    first_and_last = after is None and before is None and page.next_cursor is None
    if first_and_last:
        exact = len(page.rows)
    elif request.GET.get("count"):
        exact = rows_count(sorted_members)
    elif estimate < EXACT_COUNT_BELOW:
        exact = rows_count(sorted_members, timeout_ms=QUICK_COUNT_MS)
    context |= {
        "page": page,
        "estimate": estimate,
        "exact": exact,
        "count_timed_out": bool(request.GET.get("count")) and exact is None,
        "sort_order": SORTS[sort.lstrip("-")],
        "filters": params_describe(form.params()) if form.params() else [],
        "hidden": _hidden_fields(form.params(), q),
        "manual_tags": Tag.objects.filter(kind=Tag.Kind.MANUAL) if context["can_tag"] else [],
    }
    return render(request, "backoffice/analytics/member_list.html", context)


@backoffice_required(perm="analytics.export_members")
def member_export(request):
    """The filtered list (all pages) as CSV or XLSX: masked, formula-safe, audited with the
    filter and the row count, streamed."""
    context = _list_context(request)
    form, q = context["form"], context["q"]
    fmt = request.GET.get("format", "csv")
    try:
        members = _list_members(request, form, q) if form.is_valid() else None
    except FilterInvalid as exc:
        form.add_error(None, exc.message)
        members = None
    if fmt not in ("csv", "xlsx") or members is None:
        return render(
            request, "backoffice/analytics/member_list.html", context | {"page": None}, status=400
        )
    count = members.order_by().count()
    if fmt == "xlsx" and count > XLSX_MAX_ROWS:
        messages.error(request, _("Too many rows for a spreadsheet: export CSV instead."))
        return redirect(reverse("backoffice:member_list") + "?" + request.GET.urlencode())
    audit_log(
        actor=request.user,
        action="analytics.members.exported",
        data={"params": form.params(), "search": q, "format": fmt, "rows": count},
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if fmt == "csv":
        response = StreamingHttpResponse(
            export_csv_chunks(members), content_type="text/csv; charset=utf-8"
        )
    else:
        response = FileResponse(
            export_xlsx_file(members),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="members-{stamp}.{fmt}"'
    return response


# --- Groups (建立分组) ------------------------------------------------------------------------


@backoffice_required(perm="analytics.view_membergroup")
def group_list(request):
    archived = request.GET.get("archived") == "1"
    groups = list(
        MemberGroup.objects.filter(archived=archived).select_related("created_by__staff_profile")
    )
    for group in groups:
        try:
            group.count_now = group_count(group, user=request.user)
        except FilterInvalid:
            group.count_now = None
    return render(
        request,
        "backoffice/analytics/group_list.html",
        {"groups": groups, "archived": archived},
    )


@backoffice_required(perm="analytics.add_membergroup")
@submit_once
def group_create(request):
    """Save the list's filter (GET: shown with the form; POST: saved) as a group."""
    data = request.POST if request.method == "POST" else request.GET
    filter_form = MemberFilterForm(data)
    form = GroupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid() and filter_form.is_valid():
        try:
            group = group_create_service(
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                description=form.cleaned_data["description"],
                params=filter_form.params(),
                actor=request.user,
            )
        except FilterInvalid as exc:
            filter_form.add_error(None, exc.message)
        else:
            messages.success(request, _("Group saved."))
            return redirect("backoffice:group_detail", group_id=group.pk)
    counted = None
    if filter_form.is_valid():
        try:
            counted = members_counted(members_filtered(filter_form.params(), user=request.user))
        except FilterInvalid as exc:
            filter_form.add_error(None, exc.message)
    valid = filter_form.is_valid()
    return render(
        request,
        "backoffice/analytics/group_create.html",
        {
            "form": form,
            "filter_form": filter_form,
            "filters": params_describe(filter_form.params()) if valid else [],
            "hidden": _hidden_fields(filter_form.params()) if valid else [],
            "counted": counted,
        },
        status=200 if request.method == "GET" and valid else 400,
    )


def _group_or_404(group_id: int) -> MemberGroup:
    return get_object_or_404(MemberGroup.objects.select_related("created_by"), pk=group_id)


@backoffice_required(perm="analytics.view_membergroup")
def group_detail(request, group_id: int):
    group = _group_or_404(group_id)
    error, count = None, None
    try:
        count = group_count(group, user=request.user)
    except FilterInvalid as exc:
        error = exc.message
    return render(
        request,
        "backoffice/analytics/group_detail.html",
        {
            "group": group,
            "count": count,
            "error": error,
            "filters": params_describe(group.params),
            "list_query": params_querystring({"group": group.pk}),
            "filter_query": params_querystring(group.params),
            "can_change": request.user.has_perm("analytics.change_membergroup"),
            "can_tag": request.user.has_perm("analytics.add_membertag"),
            "manual_tags": Tag.objects.filter(kind=Tag.Kind.MANUAL),
        },
    )


@require_POST
@backoffice_required(perm="analytics.view_membergroup")
def group_refresh(request, group_id: int):
    group = _group_or_404(group_id)
    try:
        group_count_refresh(group, user=request.user)
    except FilterInvalid as exc:
        messages.error(request, exc.message)
    return redirect("backoffice:group_detail", group_id=group.pk)


@require_POST
@backoffice_required(perm="analytics.change_membergroup")
def group_archive_view(request, group_id: int):
    group = _group_or_404(group_id)
    try:
        group_archive(group=group, actor=request.user, archived=request.POST.get("archived") != "0")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("backoffice:group_detail", group_id=group.pk)


# --- Tags ------------------------------------------------------------------------------------


@backoffice_required(perm="analytics.view_tag")
def tag_list(request):
    tags = Tag.objects.annotate(members=Count("member_tags")).order_by("kind", "name")
    for tag in tags:
        tag.rule_lines = params_describe(tag.rule) if tag.kind == Tag.Kind.RULE else []
    return render(
        request,
        "backoffice/analytics/tag_list.html",
        {"tags": tags, "can_change": request.user.has_perm("analytics.change_tag")},
    )


@backoffice_required(perm="analytics.change_tag")
@submit_once
def tag_edit(request, tag_id: int | None = None):
    """Create or change a tag; a rule tag's rule is the member filter's form."""
    tag = get_object_or_404(Tag, pk=tag_id) if tag_id else None
    if request.method == "POST":
        form = TagForm(request.POST)
        filter_form = MemberFilterForm(request.POST)
    else:
        initial = (
            {"name": tag.name, "kind": tag.kind, "description": tag.description} if tag else None
        )
        form = TagForm(initial=initial)
        filter_form = MemberFilterForm.from_params(tag.rule) if tag else MemberFilterForm()
    if request.method == "POST" and form.is_valid() and filter_form.is_valid():
        try:
            tag = tag_save(
                tag=tag,
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                description=form.cleaned_data["description"],
                rule=filter_form.params(),
                actor=request.user,
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            if tag.kind == Tag.Kind.RULE:
                result = rule_tag_recompute(tag=tag)
                messages.success(
                    request,
                    _("Tag saved: %(added)s members tagged, %(removed)s untagged.") % result,
                )
            else:
                messages.success(request, _("Tag saved."))
            return redirect("backoffice:tag_list")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "backoffice/analytics/tag_edit.html",
        {"tag": tag, "form": form, "filter_form": filter_form},
        status=status,
    )


@require_POST
@backoffice_required(perm="analytics.change_tag")
def tag_recompute(request, tag_id: int):
    tag = get_object_or_404(Tag, pk=tag_id)
    try:
        result = rule_tag_recompute(tag=tag)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Tag recomputed: %(added)s members tagged, %(removed)s untagged.") % result
        )
    return redirect("backoffice:tag_list")


def _member_in_scope(request, member_id: int):
    return get_object_or_404(scoped_members(Member.objects.all(), user=request.user), pk=member_id)


@require_POST
@backoffice_required(perm="analytics.add_membertag")
def member_tag_add_view(request, member_id: int):
    member = _member_in_scope(request, member_id)
    form = BulkTagForm(request.POST)
    if form.is_valid():
        try:
            member_tag_add(tag=form.cleaned_data["tag"], member=member, actor=request.user)
        except ServiceError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, _("Choose a manual tag."))
    return redirect("backoffice:member_detail", member_id=member.pk)


@require_POST
@backoffice_required(perm="analytics.delete_membertag")
def member_tag_remove_view(request, member_id: int, tag_id: int):
    member = _member_in_scope(request, member_id)
    tag = get_object_or_404(Tag, pk=tag_id)
    try:
        member_tag_remove(tag=tag, member=member, actor=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("backoffice:member_detail", member_id=member.pk)


@require_POST
@backoffice_required(perm="analytics.add_membertag")
@submit_once
def tag_bulk(request):
    """Tag every member of the filtered list (its filter and search in the POST) or of a
    group (`group`), in the staff member's scope."""
    form = BulkTagForm(request.POST)
    group_id = request.POST.get("group_id")
    if group_id:
        group = get_object_or_404(MemberGroup, pk=group_id)
        back = reverse("backoffice:group_detail", args=[group.pk])
        source = {"group": group.pk}
        members = None
        if form.is_valid():
            try:
                members = group_members(group, user=request.user)
            except FilterInvalid as exc:
                form.add_error(None, exc.message)
    else:
        filter_form = MemberFilterForm(request.POST)
        q = request.POST.get("q", "").strip()[:64]
        back = (
            reverse("backoffice:member_list")
            + "?"
            + params_querystring(filter_form.params() if filter_form.is_valid() else {})
        )
        members = None
        if filter_form.is_valid() and form.is_valid():
            try:
                members = _list_members(request, filter_form, q)
            except FilterInvalid as exc:
                form.add_error(None, exc.message)
            source = {"params": filter_form.params(), "search": q}
        elif not filter_form.is_valid():
            form.add_error(None, _("The member filter is not valid."))
    if members is None or not form.is_valid():
        for error in form.errors.values():
            messages.error(request, " ".join(error))
        return redirect(back)
    try:
        added = tag_members_bulk(
            tag=form.cleaned_data["tag"], members=members, actor=request.user, source=source
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(count)s members newly tagged %(tag)s.")
            % {"count": added, "tag": form.cleaned_data["tag"].name},
        )
    return redirect(back)
