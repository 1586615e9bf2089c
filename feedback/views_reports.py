"""The service desk's reports and settings in the back office: the statistics pages (反馈统计,
投诉统计, 标签统计, 处理人) for whoever sees tickets, within their store scope, and the settings
(系统设置) for HQ. Thin: forms validate, feedback/statistics.py counts, desk_settings writes."""

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import ProtectedError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.auth import backoffice_required
from core.csv_export import csv_download
from feedback import forms_settings as forms
from feedback.desk_settings import setting_deactivate, setting_delete, setting_save
from feedback.models import (
    CompensationCap,
    Department,
    FeedbackSettings,
    Handler,
    RatingTag,
    ServiceDay,
    ServiceHours,
    SlaTarget,
    TicketType,
)
from feedback.statistics import grain_auto, stats_filter
from feedback.statistics_page import PAGES, chart_builders, page_charts

STATS_PERM = "feedback.view_ticket"

# --- Statistics -------------------------------------------------------------------------------


@backoffice_required(perm=STATS_PERM)
def statistics(request, page: str = "tickets"):
    """One statistics page: its charts with their numbers for the chosen store and dates, or a
    chart's numbers (or the page's, `export=all`) as CSV."""
    keys = list(chart_builders(page, "month"))
    form = forms.StatsFilterForm(
        request.GET, user=request.user, export_keys=keys, today=timezone.localdate()
    )
    context = {"form": form, "pages": _tabs(page), "page": page, "title": dict(PAGES)[page]}
    if not form.is_valid():
        return render(request, "backoffice/feedback/stats/page.html", context, status=400)
    data = form.cleaned_data
    f = stats_filter(user=request.user, start=data["start"], end=data["end"], store=data["store"])
    grain = data["grain"] or grain_auto(f.start, f.end)
    if data["export"]:
        chosen = None if data["export"] == "all" else [data["export"]]
        return csv_download(
            f"feedback-{page}-{data['export']}-{f.start:%Y%m%d}-{f.end:%Y%m%d}.csv",
            [
                table
                for chart in page_charts(page, f, grain, chosen)
                for table in chart.csv_tables()
            ],
        )
    charts = page_charts(page, f, grain)
    query = request.GET.copy()
    query.pop("export", None)
    for name in ("start", "end"):
        query[name] = data[name].isoformat()
    context.update(
        charts=charts,
        figures=[figure for chart in charts for figure in chart.figures],
        any_data=any(chart.option for chart in charts),
        query=query.urlencode(),
    )
    return render(request, "backoffice/feedback/stats/page.html", context)


def _tabs(current: str) -> list[dict]:
    return [
        {
            "code": code,
            "label": label,
            "url_name": f"backoffice:feedback_stats_{code}",
            "on": code == current,
        }
        for code, label in PAGES
    ]


# --- Settings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One kind of thing HQ edits: its model, form, the list's columns and what may be done."""

    kind: str
    model: type
    form: type
    label: str
    columns: tuple  # (heading, attribute or callable)
    deactivate: bool = False
    delete: bool = False
    help: str = ""
    title: object = str  # how one entry is named in headings and messages

    def name(self, obj) -> str:
        return self.title(obj)

    @property
    def perm(self) -> str:
        return f"feedback.change_{self.model._meta.model_name}"


def _yes(value: bool) -> str:
    return _("Yes") if value else _("No")


def _staff_name(handler) -> str:
    profile = getattr(handler.user, "staff_profile", None)
    return (profile.name if profile else "") or handler.user.get_username()


def _active(obj) -> str:
    return _("Active") if obj.is_active else _("Inactive")


SETTINGS = [
    Setting(
        "types",
        TicketType,
        forms.TicketTypeForm,
        gettext_lazy("Ticket types"),
        (
            (gettext_lazy("Name"), "name"),
            (gettext_lazy("Code"), "code"),
            (gettext_lazy("Complaint"), lambda o: _yes(o.is_complaint)),
            (gettext_lazy("Position"), "position"),
            (gettext_lazy("Status"), _active),
        ),
        deactivate=True,
        help=gettext_lazy("Complaint types count in the complaint statistics."),
    ),
    Setting(
        "tags",
        RatingTag,
        forms.RatingTagForm,
        gettext_lazy("Rating tags"),
        (
            (gettext_lazy("Name"), "name"),
            (gettext_lazy("Kind"), lambda o: _("Positive") if o.is_positive else _("Negative")),
            (gettext_lazy("Position"), "position"),
            (gettext_lazy("Status"), _active),
        ),
        deactivate=True,
    ),
    Setting(
        "slas",
        SlaTarget,
        forms.SlaTargetForm,
        gettext_lazy("SLA targets"),
        (
            (gettext_lazy("Type"), "ticket_type"),
            (gettext_lazy("Tier"), lambda o: o.tier.name if o.tier else _("Every tier")),
            (gettext_lazy("First response (business minutes)"), "first_response_minutes"),
            (gettext_lazy("Resolution (business minutes)"), "resolution_minutes"),
            (gettext_lazy("Priority"), "priority"),
        ),
        delete=True,
        help=gettext_lazy(
            "Minutes count only while the service desk is open. A tier's own target wins over"
            " the every-tier one; higher priority comes first in the queue."
        ),
    ),
    Setting(
        "hours",
        ServiceHours,
        forms.ServiceHoursForm,
        gettext_lazy("Service hours"),
        (
            (gettext_lazy("Weekday"), lambda o: dict(forms.WEEKDAY_CHOICES)[o.weekday]),
            (gettext_lazy("Opens"), lambda o: f"{o.opens:%H:%M}"),
            (gettext_lazy("Closes"), lambda o: f"{o.closes:%H:%M}"),
        ),
        delete=True,
        help=gettext_lazy("A weekday without hours is closed. Deadlines count in these hours."),
        title=lambda o: str(dict(forms.WEEKDAY_CHOICES)[o.weekday]),
    ),
    Setting(
        "days",
        ServiceDay,
        forms.ServiceDayForm,
        gettext_lazy("Holidays and special days"),
        (
            (gettext_lazy("Date"), lambda o: o.date.isoformat()),
            (
                gettext_lazy("Hours"),
                lambda o: f"{o.opens:%H:%M}–{o.closes:%H:%M}" if o.opens else _("Closed"),
            ),
            (gettext_lazy("Note"), "note"),
        ),
        delete=True,
        help=gettext_lazy("A dated day replaces its weekday's hours: closed, or its own hours."),
    ),
    Setting(
        "departments",
        Department,
        forms.DepartmentForm,
        gettext_lazy("Departments"),
        (
            (gettext_lazy("Name"), "name"),
            (gettext_lazy("Store"), lambda o: o.store.name if o.store else _("Headquarters")),
            (gettext_lazy("Position"), "position"),
            (gettext_lazy("Status"), _active),
        ),
        deactivate=True,
    ),
    Setting(
        "handlers",
        Handler,
        forms.HandlerForm,
        gettext_lazy("Handlers"),
        (
            (gettext_lazy("Name"), _staff_name),
            (gettext_lazy("Department"), "department"),
            (gettext_lazy("Employee number"), "employee_no"),
            (gettext_lazy("Contact phone"), "contact_phone"),
            (gettext_lazy("Supervisor"), lambda o: _yes(o.is_supervisor)),
            (gettext_lazy("Status"), _active),
        ),
        deactivate=True,
        help=gettext_lazy(
            "What members see of who handles their ticket; supervisors receive escalations."
        ),
    ),
    Setting(
        "caps",
        CompensationCap,
        forms.CompensationCapForm,
        gettext_lazy("Compensation caps"),
        (
            (gettext_lazy("Role"), lambda o: o.get_role_display()),
            (gettext_lazy("Points per ticket"), "max_points_per_ticket"),
            (
                gettext_lazy("Coupon value per ticket (yuan)"),
                lambda o: f"{o.max_coupon_value_fen_per_ticket / 100:.2f}",
            ),
        ),
        delete=True,
        help=gettext_lazy(
            "HQ administrators grant without a cap; roles without a cap grant nothing."
        ),
    ),
]
SETTINGS_BY_KIND = {s.kind: s for s in SETTINGS}
SETTINGS_PERMS = [s.perm for s in SETTINGS] + ["feedback.change_feedbacksettings"]


def _setting(request, kind: str) -> Setting:
    setting = SETTINGS_BY_KIND.get(kind)
    if setting is None:
        raise Http404
    if not request.user.has_perm(setting.perm):
        raise PermissionDenied
    return setting


def _cells(setting: Setting, obj) -> list:
    return [
        column(obj) if callable(column) else getattr(obj, column)
        for _heading, column in setting.columns
    ]


@backoffice_required
def settings_index(request):
    """系统设置: what the user may edit, with the desk's policy."""
    allowed = [s for s in SETTINGS if request.user.has_perm(s.perm)]
    policy = request.user.has_perm("feedback.change_feedbacksettings")
    if not allowed and not policy:
        raise PermissionDenied
    sections = [{"setting": s, "count": s.model.objects.count()} for s in allowed]
    return render(
        request,
        "backoffice/feedback/settings/index.html",
        {"sections": sections, "policy": FeedbackSettings.current() if policy else None},
    )


@backoffice_required
def settings_list(request, kind: str):
    setting = _setting(request, kind)
    objects = setting.model.objects.all()
    if setting.model is Handler:
        objects = objects.select_related("user__staff_profile", "department")
    elif setting.model is SlaTarget:
        objects = objects.select_related("ticket_type", "tier").order_by(
            "ticket_type__position", "-priority"
        )
    elif setting.model is Department:
        objects = objects.select_related("store")
    rows = [{"obj": obj, "cells": _cells(setting, obj)} for obj in objects]
    return render(
        request,
        "backoffice/feedback/settings/list.html",
        {"setting": setting, "rows": rows, "headings": [h for h, _c in setting.columns]},
    )


@backoffice_required
def settings_edit(request, kind: str, pk: int | None = None):
    setting = _setting(request, kind)
    obj = get_object_or_404(setting.model, pk=pk) if pk is not None else None
    form = setting.form(request.POST or None, instance=obj)
    if request.method == "POST" and form.is_valid():
        saved = setting_save(form=form, actor=request.user)
        messages.success(request, _("Saved: %(name)s") % {"name": setting.name(saved)})
        return redirect("backoffice:feedback_settings_list", kind=kind)
    return render(
        request,
        "backoffice/feedback/settings/form.html",
        {"setting": setting, "form": form, "obj": obj, "name": setting.name(obj) if obj else ""},
        status=400 if form.is_bound else 200,
    )


@require_POST
@backoffice_required
def settings_deactivate(request, kind: str, pk: int):
    setting = _setting(request, kind)
    if not setting.deactivate:
        raise Http404
    obj = get_object_or_404(setting.model, pk=pk)
    setting_deactivate(obj=obj, actor=request.user)
    messages.success(request, _("Deactivated: %(name)s") % {"name": setting.name(obj)})
    return redirect("backoffice:feedback_settings_list", kind=kind)


@require_POST
@backoffice_required
def settings_delete(request, kind: str, pk: int):
    setting = _setting(request, kind)
    if not setting.delete:
        raise Http404
    obj = get_object_or_404(setting.model, pk=pk)
    try:
        setting_delete(obj=obj, actor=request.user)
    except ProtectedError:
        messages.error(
            request, _("%(name)s is in use and cannot be removed.") % {"name": setting.name(obj)}
        )
    else:
        messages.success(request, _("Removed: %(name)s") % {"name": setting.name(obj)})
    return redirect("backoffice:feedback_settings_list", kind=kind)


@backoffice_required(perm="feedback.change_feedbacksettings")
def settings_policy(request):
    """The desk's policy: reminders, escalation, photos, reopening and auto-closing."""
    form = forms.FeedbackSettingsForm(request.POST or None, instance=FeedbackSettings.current())
    if request.method == "POST" and form.is_valid():
        setting_save(form=form, actor=request.user)
        messages.success(request, _("The customer service settings are saved."))
        return redirect("backoffice:feedback_settings_index")
    return render(
        request,
        "backoffice/feedback/settings/form.html",
        {"form": form, "policy": True},
        status=400 if form.is_bound else 200,
    )
