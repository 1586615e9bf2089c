from django.shortcuts import render

from analytics.selectors import daily_sales, dashboard_figures, rfm_overview
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
