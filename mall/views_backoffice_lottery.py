"""抽奖活动 in the back office: the campaigns, a campaign with its prizes (editable only
before its start: then every field is read-only and an edit is refused by mall/lottery.py),
publishing, and a campaign's figures, audited draws, on-site winners and the desk's hand-over
of physical prizes. Every write goes through mall/lottery.py."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.auth import backoffice_required
from core.exceptions import ServiceError
from core.masking import mask_name
from core.once import submit_once
from mall import lottery
from mall.forms_lottery import (
    CampaignForm,
    FrozenPrizeFormSet,
    OnSiteWinnerForm,
    PickupForm,
    PrizeFormSet,
)
from mall.lottery_selectors import campaign_draws, campaign_odds, campaign_totals, campaigns_scoped
from mall.models import LotteryCampaign, LotteryDraw
from members.cards import card_no_masked
from stores.models import Store
from stores.scoping import scoped, store_lookups

DRAWS_PAGE = 50


def _campaigns(user):
    return campaigns_scoped(
        LotteryCampaign.objects.select_related("store", "created_by"), user=user
    )


def _campaign(request, pk: int) -> LotteryCampaign:
    """A campaign within the user's scope, else 404."""
    return get_object_or_404(_campaigns(request.user), pk=pk)


def _state(campaign: LotteryCampaign, now) -> tuple[str, str]:
    if campaign.published_at is None:
        return "draft", pgettext("lottery", "Draft")
    if now < campaign.starts_at:
        return "published", _("Published, not started")
    if now < campaign.ends_at:
        return "running", _("Running")
    return "ended", pgettext("lottery", "Ended")


@require_GET
@backoffice_required(perm="mall.view_lotterycampaign")
def lottery_list(request):
    """抽奖活动: every campaign of the user's stores with its state and draws so far."""
    now = timezone.now()
    campaigns = (
        _campaigns(request.user)
        .annotate(
            draw_count=Count("draws", distinct=True),
            prize_count=Count("prizes", distinct=True),
        )
        .order_by("-starts_at", "-id")
    )
    page = Paginator(campaigns, 30).get_page(request.GET.get("page"))
    for campaign in page:
        campaign.state, campaign.state_label = _state(campaign, now)
    return render(
        request,
        "backoffice/mall/lottery_list.html",
        {"page": page, "pickup_form": PickupForm()},
    )


def _form_kwargs(request, campaign: LotteryCampaign | None) -> dict:
    lookups = store_lookups(request.user)
    stores = scoped(Store.objects.order_by("code"), user=request.user, store_field="")
    return {"stores": stores, "all_stores": lookups == {} or bool(campaign and not campaign.store)}


def _save_prizes(formset, campaign: LotteryCampaign, actor) -> None:
    """Create, change and remove the prizes as the formset says, in its order."""
    position = 0
    for form in formset.forms:
        if not form.has_changed() and not form.instance.pk:
            continue
        if formset.can_delete and formset._should_delete_form(form):
            if form.instance.pk:
                lottery.prize_delete(prize=form.instance, actor=actor)
            continue
        position += 1
        fields = form.service_fields() | {"position": position}
        if form.instance.pk:
            lottery.prize_update(prize=form.instance, actor=actor, **fields)
        else:
            lottery.prize_create(campaign=campaign, actor=actor, **fields)


def _campaign_fields(form: CampaignForm) -> dict:
    return {name: form.cleaned_data[name] for name in CampaignForm.Meta.fields}


def _editor(request, campaign: LotteryCampaign | None):
    """The campaign form and its prizes: create (campaign None) or edit before the start."""
    now = timezone.now()
    frozen = bool(campaign and campaign.is_frozen(now))
    instance = campaign or LotteryCampaign()
    form = CampaignForm(request.POST or None, instance=instance, **_form_kwargs(request, campaign))
    formset = (FrozenPrizeFormSet if frozen else PrizeFormSet)(
        request.POST or None,
        request.FILES or None,
        instance=instance,
        prefix="prizes",
    )
    refused = None
    if request.method == "POST":
        if not request.user.has_perm(
            "mall.change_lotterycampaign" if campaign else "mall.add_lotterycampaign"
        ):
            raise PermissionDenied
        if form.is_valid() and formset.is_valid():
            try:
                with transaction.atomic():
                    if campaign is None:
                        saved = lottery.campaign_create(
                            actor=request.user, **_campaign_fields(form)
                        )
                    else:
                        saved = lottery.campaign_update(
                            campaign=campaign, actor=request.user, **_campaign_fields(form)
                        )
                    _save_prizes(formset, saved, request.user)
            except ServiceError as exc:
                refused = exc.message
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Lottery campaign saved."))
                return redirect("backoffice:lottery_edit", pk=saved.pk)
        elif frozen:
            # An edit of a started campaign is refused whatever it holds: say why.
            try:
                lottery.campaign_update(campaign=campaign, actor=request.user)
            except ServiceError as exc:
                refused = exc.message
    if frozen or not request.user.has_perm(
        "mall.change_lotterycampaign" if campaign else "mall.add_lotterycampaign"
    ):
        for field in form.fields.values():
            field.disabled = True
        for prize_form in formset.forms:
            for field in prize_form.fields.values():
                field.disabled = True
    state = _state(campaign, now) if campaign else ("draft", pgettext("lottery", "Draft"))
    odds = {row["prize"].pk: row for row in campaign_odds(campaign)} if campaign else {}
    for prize_form in formset.forms:
        prize_form.odds = odds.get(prize_form.instance.pk)
    return render(
        request,
        "backoffice/mall/lottery_form.html",
        {
            "campaign": campaign,
            "form": form,
            "formset": formset,
            "frozen": frozen,
            "read_only": frozen
            or not request.user.has_perm(
                "mall.change_lotterycampaign" if campaign else "mall.add_lotterycampaign"
            ),
            "refused": refused,
            "state": state[0],
            "state_label": state[1],
        },
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
@backoffice_required(perm="mall.add_lotterycampaign")
@submit_once
def lottery_create(request):
    """A new campaign with its prizes (unpublished until the publish button)."""
    return _editor(request, None)


@require_http_methods(["GET", "POST"])
@backoffice_required(perm="mall.view_lotterycampaign")
def lottery_edit(request, pk: int):
    """The campaign and its prizes; read-only once started (活动已开始，规则已冻结)."""
    return _editor(request, _campaign(request, pk))


@require_POST
@backoffice_required(perm="mall.change_lotterycampaign")
def lottery_publish(request, pk: int):
    campaign = _campaign(request, pk)
    try:
        lottery.campaign_publish(campaign=campaign, actor=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Published: members can see the campaign and its odds."))
    return redirect("backoffice:lottery_edit", pk=campaign.pk)


def _draw_rows(page) -> None:
    for draw in page:
        draw.recomputed = lottery.draw_recompute(draw)
        draw.audit_ok = draw.recomputed == draw.prize_id
        # A roll on a "nothing" prize (or on one that ran out meanwhile) holds no prize.
        draw.audit_nothing = draw.prize_id is None and not draw.audit_ok
        draw.member_label = (
            f"{mask_name(draw.member.name)} {card_no_masked(draw.member.card_no)}"
            if draw.member.card_no
            else mask_name(draw.member.name)
        )


def _detail(request, campaign: LotteryCampaign, *, on_site_form=None, pickup_form=None, status=200):
    odds = campaign_odds(campaign)
    names = {row["prize"].pk: row["prize"].name for row in odds}
    figures = campaign_totals(campaign=campaign)
    figures["points"] = (
        LotteryDraw.objects.filter(campaign=campaign).aggregate(s=Sum("points_spent"))["s"] or 0
    )
    figures["awaiting_pickup"] = LotteryDraw.objects.filter(
        campaign=campaign, status=LotteryDraw.Status.PENDING_PICKUP
    ).count()
    status_filter = request.GET.get("status", "")
    if status_filter not in LotteryDraw.Status.values:
        status_filter = ""
    page = Paginator(
        campaign_draws(campaign=campaign, status=status_filter).order_by("-created_at", "-id"),
        DRAWS_PAGE,
    ).get_page(request.GET.get("page"))
    _draw_rows(page)
    for draw in page:
        draw.recomputed_name = names.get(draw.recomputed, "")
    now = timezone.now()
    return render(
        request,
        "backoffice/mall/lottery_detail.html",
        {
            "campaign": campaign,
            "state": _state(campaign, now)[0],
            "state_label": _state(campaign, now)[1],
            "odds": odds,
            "figures": figures,
            "page": page,
            "status_filter": status_filter,
            "statuses": LotteryDraw.Status.choices,
            "on_site": campaign.on_site_winners.select_related("recorded_by", "member"),
            "on_site_form": on_site_form
            or OnSiteWinnerForm(initial={"drawn_at": timezone.localtime(now)}),
            "pickup_form": pickup_form or PickupForm(),
            "can_record": request.user.has_perm("mall.add_lotteryonsitewinner"),
            "can_hand_over": request.user.has_perm("mall.verify_redemption"),
        },
        status=status,
    )


@require_GET
@backoffice_required(perm="mall.view_lotterycampaign")
def lottery_detail(request, pk: int):
    """Figures, stock left, the draws with their audit columns, on-site winners."""
    return _detail(request, _campaign(request, pk))


@require_POST
@backoffice_required(perm="mall.add_lotteryonsitewinner")
@submit_once
def lottery_on_site_winner(request, pk: int):
    """Record a winner of an on-site draw; members see it marked 现场抽奖."""
    campaign = _campaign(request, pk)
    form = OnSiteWinnerForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            lottery.on_site_winner_record(
                campaign=campaign,
                actor=request.user,
                prize_name=data["prize_name"],
                winner_name=data["winner_name"],
                drawn_at=data["drawn_at"],
                member=data["card_no"],
                note=data["note"],
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("On-site winner recorded."))
            return redirect("backoffice:lottery_detail", pk=campaign.pk)
    return _detail(request, campaign, on_site_form=form, status=400)


@require_POST
@backoffice_required(perm="mall.verify_redemption")
def lottery_pickup(request):
    """The desk hands a physical prize over: its pickup code marks the draw picked up."""
    form = PickupForm(request.POST)
    back = request.POST.get("back", "")
    target = (
        redirect("backoffice:lottery_detail", pk=int(back))
        if back.isdigit()
        else redirect("backoffice:lottery_list")
    )
    if not form.is_valid():
        messages.error(request, _("Enter the pickup code."))
        return target
    try:
        draw = lottery.draw_pickup_verify(code=form.cleaned_data["code"], actor=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Handed over: %(prize)s to %(member)s.")
            % {"prize": draw.prize.name, "member": mask_name(draw.member.name)},
        )
    return target
