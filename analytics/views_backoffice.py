from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone

from analytics.forms import ClvFilterForm, StatisticsFilterForm
from analytics.predicted_value import clv_run_current
from analytics.selectors import clv_scores, daily_sales, dashboard_figures, rfm_overview
from analytics.statistics import grain_auto, statistics_filter
from analytics.statistics_page import SECTIONS, chart_builders, statistics_charts
from core.auth import backoffice_required
from core.csv_export import csv_download


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
        request, "backoffice/analytics/rfm.html", {"overview": rfm_overview(user=request.user)}
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
        {"form": form, "run": run, "page": page, "query": query.urlencode()},
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
