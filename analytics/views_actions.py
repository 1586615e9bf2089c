"""Staff pages of actions on a group: the form (reached from a group or an RFM class), the
list, the results with both arms and the recipient log, its CSV, and the rerun button."""

import csv

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from analytics.actions import (
    KIND_TITLES,
    ActionError,
    actions_visible,
    group_action_create,
    group_action_rerun,
    group_action_results,
    rfm_action_kind,
    rfm_class_group,
)
from analytics.forms import GroupActionForm
from analytics.models import GroupAction, GroupActionRecipient, MemberGroup, RfmClass
from analytics.tasks import group_action_run_task
from core.audit import audit_log
from core.auth import backoffice_required
from core.export_formats import formula_escape
from core.masking import mask_phone
from core.once import submit_once
from members.cards import card_no_masked
from members.models import Member
from members.scoping import scoped_members

LOG_PAGE = 50


@backoffice_required(perm="analytics.view_groupaction")
def action_list(request):
    actions = (
        actions_visible(user=request.user)
        .select_related("group", "created_by__staff_profile")
        .order_by("-created_at", "-id")
    )
    page = Paginator(actions, 30).get_page(request.GET.get("page"))
    return render(request, "backoffice/analytics/action_list.html", {"page": page})


@backoffice_required(perm="analytics.add_groupaction")
@submit_once
def action_new(request, group_id: int):
    """The form for one kind of action (?kind=coupon|sms|message|tag) on a group."""
    group = get_object_or_404(MemberGroup, pk=group_id, archived=False)
    kind = request.GET.get("kind", GroupAction.Kind.COUPON)
    if kind not in GroupAction.Kind.values:
        kind = GroupAction.Kind.COUPON
    rfm_class = None
    if request.GET.get("rfm_class", "").isdigit():
        rfm_class = RfmClass.objects.filter(pk=request.GET["rfm_class"]).first()
    initial = {"name": f"{group.name} · {GroupAction.Kind(kind).label}"}
    if rfm_class is not None and rfm_class.action:
        initial["name"] = f"{rfm_class.label}：{rfm_class.action}"[:100]
    form = GroupActionForm(request.POST or None, kind=kind, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            action = group_action_create(
                group=group,
                kind=kind,
                name=form.cleaned_data["name"],
                actor=request.user,
                enqueue=group_action_run_task.delay,
                **form.action_fields(),
            )
        except ActionError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Saved %(members)s members (%(control)s held back as the control group).")
                % {"members": action.audience, "control": action.control},
            )
            return redirect("backoffice:group_action", action_id=action.pk)
    return render(
        request,
        "backoffice/analytics/action_form.html",
        {
            "group": group,
            "kind": kind,
            "kind_label": KIND_TITLES[kind],
            "form": form,
            "rfm_class": rfm_class,
        },
        status=400 if form.errors else 200,
    )


@backoffice_required(perm="analytics.view_groupaction")
def action_detail(request, action_id: int):
    """Progress while the job runs (the page reloads itself), then both arms' results and
    the recipient log (masked, the viewer's data scope)."""
    action = get_object_or_404(
        actions_visible(user=request.user).select_related(
            "group", "coupon_template", "tag", "created_by__staff_profile"
        ),
        pk=action_id,
    )
    running = action.status in (GroupAction.Status.QUEUED, GroupAction.Status.RUNNING)
    log = Paginator(_log(action, request.user), LOG_PAGE).get_page(request.GET.get("page"))
    treated = action.treatment or 1
    done = action.processed - action.control if action.processed >= action.control else 0
    return render(
        request,
        "backoffice/analytics/action_detail.html",
        {
            "action": action,
            "running": running,
            "waiting": running and action.deferred_until is not None,
            "percent": min(100, 100 * done // treated) if action.treatment else 100,
            # conversions are counted once the sending stops, not on every reload
            "results": None
            if running and action.deferred_until is None
            else _results_display(group_action_results(action)),
            "log": log,
            "rows": [_log_row(r) for r in log],
        },
    )


@backoffice_required(perm="analytics.add_groupaction")
@require_POST
def action_rerun(request, action_id: int):
    action = get_object_or_404(actions_visible(user=request.user), pk=action_id)
    try:
        group_action_rerun(action=action, actor=request.user, enqueue=group_action_run_task.delay)
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Started again: it continues with those not yet done."))
    return redirect("backoffice:group_action", action_id=action.pk)


def _results_display(results: dict) -> dict:
    """Rates as percentages with one decimal, the uplift in percentage points, revenue in
    whole fen for the |money filter."""
    for arm in results["arms"]:
        arm["rate"] = None if arm["rate"] is None else round(arm["rate"], 1)
    for key in ("uplift", "uplift_wald"):
        interval = results[key]
        results[key] = interval and {
            "estimate": round(100 * interval.estimate, 1),
            "low": round(100 * interval.low, 1),
            "high": round(100 * interval.high, 1),
            "significant": interval.excludes_zero,
        }
    interval = results["revenue_uplift"]
    results["revenue_uplift"] = interval and {
        "estimate": round(interval.estimate),
        "low": round(interval.low),
        "high": round(interval.high),
        "significant": interval.excludes_zero,
    }
    return results


class _Echo:
    def write(self, value):
        return value


@backoffice_required(perm="analytics.view_groupaction")
def action_log_csv(request, action_id: int):
    """The recipient log as CSV (UTF-8 with a BOM, masked, no cell that starts a formula)."""
    action = get_object_or_404(actions_visible(user=request.user), pk=action_id)
    audit_log(actor=request.user, action="analytics.action.log_exported", target=action)
    writer = csv.writer(_Echo())
    header = [
        _("Card number"),
        _("Phone"),
        _("Arm"),
        pgettext("action outcome", "Outcome"),
        pgettext("action outcome", "Reason"),
        _("Detail"),
        _("At"),
        _("SMS notice"),
    ]

    def rows():
        yield "\ufeff" + writer.writerow(header)
        for recipient in _log(action, request.user).iterator(chunk_size=2000):
            row = _log_row(recipient)
            yield writer.writerow(
                formula_escape(str(cell))
                for cell in (
                    row["card"],
                    row["phone"],
                    row["arm"],
                    row["outcome"],
                    row["reason"],
                    row["detail"],
                    row["at"],
                    row["notice"],
                )
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="action-{action.pk}-log.csv"'
    return response


def _log(action: GroupAction, user):
    in_scope = scoped_members(Member.objects.all(), user=user).values("pk")
    return (
        action.recipients.filter(member_id__in=in_scope)
        .select_related("member")
        .only(
            "action",  # the related manager sets each row's action: deferred, a query a row
            "arm",
            "outcome",
            "reason",
            "detail",
            "notice",
            "at",
            "member__card_no",
            "member__phone",
        )
        .order_by("member_id")
    )


def _log_row(recipient: GroupActionRecipient) -> dict:
    return {
        "card": card_no_masked(recipient.member.card_no),
        "phone": mask_phone(recipient.member.phone),
        "arm": recipient.get_arm_display(),
        "arm_code": recipient.arm,
        "outcome": recipient.get_outcome_display(),
        "outcome_code": recipient.outcome or "pending",
        "reason": recipient.get_reason_display() if recipient.reason else "",
        "detail": recipient.detail,
        "notice": recipient.get_notice_display() if recipient.notice else "",
        "at": timezone.localtime(recipient.at).strftime("%Y-%m-%d %H:%M:%S")
        if recipient.at
        else "",
    }


@backoffice_required(perm="analytics.add_groupaction")
@require_POST
def rfm_class_act(request, class_id: int):
    """An RFM class's recommended action: today's dynamic group of the class, then the
    matching action form, prefilled."""
    rfm_class = get_object_or_404(RfmClass, pk=class_id)
    group = rfm_class_group(label=rfm_class.label, actor=request.user)
    kind = rfm_action_kind(rfm_class.action)
    form_url = reverse("backoffice:group_action_new", args=[group.pk])
    return redirect(f"{form_url}?kind={kind}&rfm_class={rfm_class.pk}")
