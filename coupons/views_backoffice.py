"""Staff pages of coupons: 发送优惠券 (to cards at once, to a group as a job), the job's
progress, the service desk's scan page (核销), and campaign results with a CSV export."""

import csv

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.auth import backoffice_required
from core.exceptions import ServiceError
from core.masking import mask_name, mask_phone
from core.money import fen_to_yuan, fen_to_yuan_short
from core.once import once_key, submit_once
from coupons import rules, selectors
from coupons.forms import CouponSendForm, DeskLookupForm, DeskRedeemForm
from coupons.issuing import (
    CouponsAlreadySent,
    campaign_get_or_create,
    coupons_send,
    issue_job_create,
)
from coupons.models import Campaign, Coupon, CouponTemplate, IssueJob
from coupons.redeeming import coupon_refusal, coupon_use
from coupons.tasks import issue_job_run_task
from members.cards import card_no_masked

DESK_POS = "DESK"


# --- 发送优惠券 ----------------------------------------------------------------------------


@backoffice_required(perm="coupons.add_coupon")
@submit_once
def coupon_send(request):
    """Choose a coupon and a campaign, then listed cards (issued now) or a group (a job)."""
    form = CouponSendForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["audience"] == CouponSendForm.AUDIENCE_CARDS:
            response = _send_to_cards(request, form, data)
        else:
            response = _send_to_group(request, form, data)
        if response is not None:
            return response
    return render(
        request,
        "backoffice/coupons/coupon_send.html",
        {
            "form": form,
            "jobs": selectors.issue_jobs_visible(user=request.user)
            .select_related("template", "campaign")
            .order_by("-created_at", "-id")[:10],
        },
        status=400 if form.errors else 200,
    )


def _campaign(request, data, channel) -> Campaign:
    return data["campaign"] or campaign_get_or_create(
        channel=channel, name=data["campaign_name"].strip(), actor=request.user
    )


def _send_to_cards(request, form, data):
    try:
        issued = coupons_send(
            template=data["template"],
            campaign=_campaign(request, data, Campaign.Channel.MANUAL),
            member_ids=data["member_ids"],
            actor=request.user,
            key_prefix=f"send:{once_key(request)}",
        )
    except CouponsAlreadySent as exc:
        messages.info(request, exc.message)
        return redirect("backoffice:coupon_send")
    except ServiceError as exc:
        form.add_error(None, exc.message)
        return None
    skipped = len(data["member_ids"]) - len(issued)
    if skipped:
        messages.warning(
            request,
            _(
                "Sent to %(issued)s members. %(skipped)s got none: they hold the most this "
                "coupon allows, or the coupons ran out."
            )
            % {"issued": len(issued), "skipped": skipped},
        )
    else:
        messages.success(request, _("Sent to %(issued)s members.") % {"issued": len(issued)})
    return redirect("backoffice:coupon_send")


def _send_to_group(request, form, data):
    filtered = data["audience"] == CouponSendForm.AUDIENCE_FILTER
    member_ids = selectors.members_for_group(
        user=request.user,
        tier=data["tier"] if filtered else None,
        home_store=data["home_store"] if filtered else None,
    )
    if not member_ids:
        form.add_error("audience", _("No active member matches."))
        return None
    job = issue_job_create(
        template=data["template"],
        campaign=_campaign(request, data, Campaign.Channel.GROUP),
        member_ids=member_ids,
        actor=request.user,
        enqueue=issue_job_run_task.delay,
    )
    return redirect("backoffice:coupon_job", job_id=job.pk)


@backoffice_required(perm="coupons.view_issuejob")
def coupon_job(request, job_id: int):
    """A bulk issue's progress; the page reloads itself until the job ends."""
    job = get_object_or_404(
        selectors.issue_jobs_visible(user=request.user)
        .select_related("template", "campaign", "created_by")
        .defer("member_ids"),
        pk=job_id,
    )
    percent = 100 * job.processed // job.total if job.total else 100
    return render(
        request,
        "backoffice/coupons/coupon_job.html",
        {
            "job": job,
            "percent": percent,
            "running": job.status in (IssueJob.Status.QUEUED, IssueJob.Status.RUNNING),
        },
    )


# --- 核销 at the service desk ---------------------------------------------------------------


def _desk_view(coupon: Coupon) -> dict:
    """What the desk sees of a coupon: the member masked, its state and why it is blocked."""
    now = timezone.now()
    refused = coupon_refusal(coupon=coupon, now=now)
    member = coupon.member
    return {
        "status": coupon.display_status(now),
        "blocked": refused.message if refused else "",
        "needs_amount": coupon.template.kind != CouponTemplate.Kind.GIFT,
        "member_name": mask_name(member.name),
        "member_phone": mask_phone(member.phone),
        "member_card": card_no_masked(member.card_no),
    }


@backoffice_required(perm="coupons.change_coupon")
def coupon_desk(request):
    """Scan (camera or scanner) or type a coupon code; see the coupon and redeem it."""
    lookup = DeskLookupForm(request.GET or None)
    coupon = view = redeem = None
    not_found = False
    if lookup.is_valid():
        coupon = selectors.coupon_for_desk(code=lookup.cleaned_data["code"], user=request.user)
        if coupon is None:
            not_found = True
        else:
            view = _desk_view(coupon)
            if not view["blocked"]:
                redeem = DeskRedeemForm(
                    user=request.user,
                    needs_amount=view["needs_amount"],
                    initial={"code": coupon.code},
                )
    return _desk_page(request, lookup, coupon, view, redeem, not_found)


def _desk_page(request, lookup, coupon, view, redeem, not_found=False, status=200):
    return render(
        request,
        "backoffice/coupons/coupon_desk.html",
        {
            "lookup": lookup,
            "coupon": coupon,
            "view": view,
            "redeem": redeem,
            "not_found": rules.REFUSALS["unknown_code"] if not_found else "",
        },
        status=404 if not_found else status,
    )


@require_POST
@backoffice_required(perm="coupons.change_coupon")
@submit_once
def coupon_desk_redeem(request):
    """Redeem through coupon_use, as a till would: store, POS "DESK", the staff username."""
    code = DeskLookupForm({"code": request.POST.get("code", "")})
    coupon = (
        selectors.coupon_for_desk(code=code.cleaned_data["code"], user=request.user)
        if code.is_valid()
        else None
    )
    if coupon is None:
        messages.error(request, rules.REFUSALS["unknown_code"])
        return redirect("backoffice:coupon_desk")
    needs_amount = coupon.template.kind != CouponTemplate.Kind.GIFT
    form = DeskRedeemForm(request.POST, user=request.user, needs_amount=needs_amount)
    if not form.is_valid():
        return _desk_page(
            request,
            DeskLookupForm({"code": coupon.code}),
            coupon,
            _desk_view(coupon),
            form,
            status=400,
        )
    try:
        used = coupon_use(
            code=coupon.code,
            store=form.chosen_store,
            pos_no=DESK_POS,
            member=coupon.member,  # the member shows the coupon from their own member page
            basket_fen=form.basket_fen,
            lines=[],
            cashier=request.user.get_username(),
        )
    except ServiceError as exc:
        messages.error(request, _("Not redeemed: %(reason)s") % {"reason": exc.message})
    else:
        if used.template.kind == CouponTemplate.Kind.GIFT:
            messages.success(
                request,
                _("Redeemed: hand over the gift (%(gift)s).")
                % {"gift": used.template.gift_name or used.template.name},
            )
        else:
            messages.success(
                request,
                _("Redeemed: ¥%(amount)s off.") % {"amount": fen_to_yuan_short(used.discount_fen)},
            )
    return redirect(f"{reverse('backoffice:coupon_desk')}?code={coupon.code}")


# --- Campaign results -------------------------------------------------------------------------


@backoffice_required(perm="coupons.view_campaign")
def campaign_results(request):
    results = selectors.campaign_results(user=request.user)
    chart = [
        {"name": r.name, "issued": r.issued, "used": r.used, "rate": r.use_rate}
        for r in reversed(results[:20])
    ]
    return render(
        request,
        "backoffice/coupons/campaign_results.html",
        {"results": results, "totals": selectors.campaign_totals(results), "chart": chart},
    )


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A cell Excel will not run as a formula (OWASP's CSV injection advice)."""
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


@backoffice_required(perm="coupons.view_campaign")
def campaign_results_csv(request):
    """The results as CSV for Excel: UTF-8 with a BOM, no cell that starts a formula."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="campaign-results-{stamp}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(
        [
            _("Campaign"),
            _("Channel"),
            _("Created at"),
            _("Issued"),
            _("Used"),
            _("Use rate (%)"),
            _("Receipts"),
            _("Revenue (yuan)"),
            _("Cost (yuan)"),
        ]
    )
    for r in selectors.campaign_results(user=request.user):
        writer.writerow(
            csv_cell(cell)
            for cell in (
                r.name,
                r.channel_label,
                timezone.localtime(r.created_at).strftime("%Y-%m-%d %H:%M"),
                r.issued,
                r.used,
                f"{r.use_rate:.1f}",
                r.receipts,
                fen_to_yuan(r.revenue_fen, grouping=False),
                fen_to_yuan(r.cost_fen, grouping=False),
            )
        )
    return response
