"""Staff pages of mining (消费信息挖掘): runs and starting one, a run's progress and its rule
browser (graph, bundles, CSV), comparing two runs, the nightly settings, and consumer
behaviour (消费行为分析)."""

import csv

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from analytics.actions import ActionError
from analytics.tasks import group_action_run_task
from core.auth import backoffice_required
from core.exceptions import ServiceError
from core.export_formats import formula_escape
from core.once import submit_once
from mining import selectors
from mining.campaigns import RuleCampaignError, rule_audience, rule_campaign_create
from mining.forms import (
    BehaviourForm,
    BundleForm,
    CompareForm,
    MiningSettingsForm,
    RuleCampaignForm,
    RuleFilterForm,
    RunStartForm,
)
from mining.models import MiningRun, MiningSettings, Rule
from mining.segments import age_band_of_params
from mining.services import mining_run_request, mining_settings_update
from mining.tasks import mining_run

RULES_PER_PAGE = 50


@backoffice_required(perm="mining.view_miningrun")
@submit_once
def runs(request):
    """The runs, newest first, and the form that starts one (add permission)."""
    can_start = request.user.has_perm("mining.add_miningrun")
    if request.method == "POST":
        if not can_start:
            raise PermissionDenied
        form = RunStartForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                run = mining_run_request(
                    user=request.user, enqueue=mining_run.delay, **form.run_parameters()
                )
            except ServiceError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("The run has started."))
                return redirect("backoffice:mining_run", run_id=run.pk)
    else:
        form = RunStartForm(user=request.user, initial=_segment_initial(request.GET))
    page = Paginator(selectors.runs_visible(user=request.user), 30).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "backoffice/mining/runs.html",
        {"form": form, "page": page, "can_start": can_start},
        status=400 if form.is_bound and form.errors and request.method == "POST" else 200,
    )


def _segment_initial(query) -> dict:
    """The start form's segment from a link (the behaviour page's "mine this segment":
    the member filter's parameters)."""
    initial = {k: query[k] for k in RunStartForm.SEGMENT_FIELDS if query.get(k)}
    ages = {}
    for key in ("age_min", "age_max"):
        if query.get(key, "").isdigit():
            ages[key] = int(query[key])
    if ages and age_band_of_params(ages):
        initial["age_band"] = age_band_of_params(ages)
    return initial


def _visible_run(request, run_id: int) -> MiningRun:
    return get_object_or_404(selectors.runs_visible(user=request.user), pk=run_id)


@backoffice_required(perm="mining.view_miningrun")
def run_detail(request, run_id: int):
    """A run: its progress while queued or running; when done, its rules (filter, sort,
    pages) and the graph of the strongest ones."""
    run = _visible_run(request, run_id)
    context = {"run": run, "tab": "rules"}
    if run.status == MiningRun.Status.DONE:
        form = RuleFilterForm(request.GET or None)
        filters = form.filters() if form.is_bound and form.is_valid() else {}
        rules = selectors.rules_browse(run, **filters)
        page = Paginator(rules, RULES_PER_PAGE).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        context |= {
            "form": form,
            "page": page,
            "rows": selectors.rules_named(run, page.object_list),
            "graph": selectors.rules_graph(run, rules=rules),
            "query": query.urlencode(),
            "sort_links": _sort_links(query, filters),
        }
        status = 400 if form.is_bound and form.errors else 200
    else:
        status = 200
    return render(request, "backoffice/mining/run_detail.html", context, status=status)


def _sort_links(query, filters) -> dict:
    """Per sortable column the query string that sorts by it (again: the other way)."""
    current, descending = filters.get("sort", "lift"), filters.get("descending", True)
    links = {}
    for field in selectors.SORT_FIELDS:
        q = query.copy()
        q["sort"] = field
        q["order"] = "asc" if field == current and descending else "desc"
        links[field] = {"query": q.urlencode(), "on": field == current, "desc": descending}
    return links


@backoffice_required(perm="mining.view_miningrun")
def run_status(request, run_id: int):
    """The JSON the run page polls for its progress."""
    return JsonResponse(selectors.run_status(_visible_run(request, run_id)))


@backoffice_required(perm="mining.view_rule")
def rules_csv(request, run_id: int):
    """The run's rules (as filtered on the page) with item names, for Excel: UTF-8 with a
    BOM, no text cell that starts a formula."""
    run = _visible_run(request, run_id)
    if run.status != MiningRun.Status.DONE:
        return HttpResponse(_("The run has no rules yet."), status=409, content_type="text/plain")
    form = RuleFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound and form.is_valid() else {}
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rules-{run.pk}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(
        [
            _("If bought"),
            _("Then also"),
            _("Support"),
            _("Confidence"),
            _("Lift"),
            _("Leverage"),
            _("Conviction"),
            _("Baskets with both"),
            _("Baskets with A"),
            _("Baskets with B"),
        ]
    )
    for row in selectors.rules_csv_rows(run, selectors.rules_browse(run, **filters)):
        writer.writerow(formula_escape(cell) for cell in row)
    return response


@backoffice_required(perm="mining.view_rule")
def run_bundles(request, run_id: int):
    """组合推荐 for merchandising: item pairs by lift with enough support and confidence."""
    run = _visible_run(request, run_id)
    form = BundleForm(request.GET or None)
    rows = []
    if run.status == MiningRun.Status.DONE and (not form.is_bound or form.is_valid()):
        rows = selectors.bundles(run, **form.thresholds())
    return render(
        request,
        "backoffice/mining/bundles.html",
        {"run": run, "form": form, "rows": rows, "tab": "bundles"},
        status=400 if form.is_bound and form.errors else 200,
    )


@backoffice_required(perm="mining.view_rule")
def compare(request):
    """Two runs (two segments, two periods) side by side: rules only in A, only in B, in
    both, matched by item keys."""
    done = selectors.runs_visible(user=request.user).filter(status=MiningRun.Status.DONE)
    form = CompareForm(request.GET or None, runs=done)
    result = None
    if form.is_bound and form.is_valid():
        result = selectors.runs_compare(form.cleaned_data["a"], form.cleaned_data["b"])
    return render(
        request,
        "backoffice/mining/compare.html",
        {"form": form, "result": result, "has_runs": done.exists()},
        status=400 if form.is_bound and form.errors else 200,
    )


@backoffice_required(perm="mining.change_miningsettings")
@submit_once
def settings_edit(request):
    """The nightly run: on or off, and its parameters."""
    current = MiningSettings.current()
    form = MiningSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        mining_settings_update(
            actor=request.user, **{name: form.cleaned_data[name] for name in form.fields}
        )
        messages.success(request, _("The mining settings are saved."))
        return redirect("backoffice:mining_settings")
    return render(
        request,
        "backoffice/mining/settings.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


@backoffice_required(perm="mining.view_miningrun")
def behaviour(request):
    """消费行为分析: spend and category preferences per segment of one dimension, each
    segment beside its latest mined rules or a link to mine it."""
    dimension = request.GET.get("by", "age_band")
    if dimension not in selectors.DIMENSIONS:
        dimension = "age_band"
    form = BehaviourForm(request.GET or None)
    since, until = form.period()
    data = selectors.consumer_behaviour(
        user=request.user, dimension=dimension, since=since, until=until
    )
    can_start = request.user.has_perm("mining.add_miningrun")
    runs = selectors.runs_for_segments(
        [s["params"] for s in data["segments"] if s["params"] is not None], user=request.user
    )
    for segment in data["segments"]:
        params = segment["params"]
        segment["run"] = runs.get(selectors.segment_key(params)) if params is not None else None
        segment["mine_url"] = (
            f"{reverse('backoffice:mining_runs')}?{urlencode(params)}#start"
            if params is not None and can_start
            else ""
        )
    query = {"since": since.isoformat(), "until": until.isoformat()}
    return render(
        request,
        "backoffice/mining/behaviour.html",
        {
            "form": form,
            "data": data,
            "dimension": dimension,
            "tabs": _behaviour_tabs(dimension, query),
            "since": since,
            "until": until,
            "chart": {
                "labels": [s["label"] for s in data["segments"]],
                "per_buyer": [s["per_buyer_fen"] / 100 for s in data["segments"]],
                "per_receipt": [s["per_receipt_fen"] / 100 for s in data["segments"]],
                "categories": data["categories"],
                "shares": [s["shares"] for s in data["segments"]],
                "other": [s["other_share"] for s in data["segments"]],
            },
        },
        status=400 if form.is_bound and form.errors else 200,
    )


def _behaviour_tabs(current: str, query: dict) -> list[dict]:
    labels = {
        "age_band": _("Age band"),
        "gender": _("Gender"),
        "education": _("Education"),
        "occupation": _("Occupation"),
        "income_band": _("Income band"),
        "region": _("Region"),
    }
    return [
        {"label": labels[d], "query": urlencode({**query, "by": d}), "on": d == current}
        for d in selectors.DIMENSIONS
    ]


@backoffice_required(perm="analytics.add_groupaction")
@submit_once
def rule_campaign(request, run_id: int, rule_id: int):
    """A → B as a campaign: B's coupon to members who bought A but not B lately, with a
    control group; then the action's results page (conversion: buying B)."""
    run = _visible_run(request, run_id)
    rule = get_object_or_404(Rule, pk=rule_id, run=run)
    named = selectors.rules_named(run, [rule])[0]
    title = _("%(a)s → %(b)s cross-sell") % {
        "a": "、".join(named["antecedents"]),
        "b": "、".join(named["consequents"]),
    }
    form = RuleCampaignForm(request.POST or None, initial={"name": title})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            campaign = rule_campaign_create(
                run=run,
                rule=rule,
                actor=request.user,
                enqueue=group_action_run_task.delay,
                coupon_template=data["coupon_template"],
                lookback_days=data["lookback_days"],
                window_days=data["window_days"],
                control_percent=data["control_percent"],
                name=data["name"],
                sms_text=data.get("sms_text", ""),
            )
        except (ActionError, RuleCampaignError) as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Campaign saved: the coupons are being sent."))
            return redirect("backoffice:group_action", campaign.action_id)
    lookback = form["lookback_days"].value() if form.is_bound else 30
    try:
        lookback = min(max(int(lookback), 1), 365)
    except (TypeError, ValueError):
        lookback = 30
    return render(
        request,
        "backoffice/mining/rule_campaign.html",
        {
            "run": run,
            "rule": named,
            "form": form,
            "lookback": lookback,
            "audience": rule_audience(run, rule, lookback_days=lookback).count(),
            "campaigns": rule.campaigns.select_related("action").order_by("-created_at"),
        },
        status=400 if form.is_bound and form.errors else 200,
    )
