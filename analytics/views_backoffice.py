from django.core.paginator import Paginator
from django.shortcuts import render

from analytics.forms import ClvFilterForm
from analytics.predicted_value import clv_run_current
from analytics.selectors import clv_scores, daily_sales, dashboard_figures, rfm_overview
from core.auth import backoffice_required


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
