"""Member pages of loyalty: 我的会员, 交易记录, receipt detail, sign-in, receipt claims."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.exceptions import ServiceError
from core.storage import private_file_response
from loyalty import claim_photos, selectors
from loyalty.forms import ClaimForm
from loyalty.models import LoyaltySettings, Receipt, ReceiptClaim, SignIn
from loyalty.services import claim_submit, sign_in
from loyalty.tiers import tier_progress, tiers_ordered
from members.session import member_required
from stores.models import Division

PAGE_SIZE = 20
RECORD_TABS = [
    (Division.SUPERMARKET, gettext_lazy("Supermarket")),
    (Division.DEPARTMENT, gettext_lazy("Department store")),
    ("points", gettext_lazy("Points")),
]


@member_required
def tier(request):
    """我的会员: the member's tier, the exact gap to the next, and every tier's benefits."""
    return render(
        request,
        "h5/loyalty/tier.html",
        {
            "progress": tier_progress(member=request.member),
            "tiers": tiers_ordered(),
            "account": selectors.account_of(request.member),
            "tab": "card",
        },
    )


@member_required
def records(request):
    """交易记录: supermarket purchases, department-store purchases, the points ledger."""
    tab = request.GET.get("tab")
    if tab not in {value for value, _label in RECORD_TABS}:
        tab = Division.SUPERMARKET
    if tab == "points":
        rows = selectors.member_entries(member=request.member)
    else:
        rows = selectors.member_receipts(member=request.member, division=tab)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "h5/loyalty/records.html",
        {
            "tab": "card",
            "records_tab": tab,
            "tabs": [(value, str(label)) for value, label in RECORD_TABS],
            "page": page,
            "account": selectors.account_of(request.member),
            "totals": selectors.points_totals(member=request.member) if tab == "points" else None,
        },
    )


@member_required
def receipt_detail(request, receipt_id: int):
    try:
        receipt = selectors.member_receipt(member=request.member, receipt_id=receipt_id)
    except Receipt.DoesNotExist:
        raise Http404 from None
    return render(
        request,
        "h5/loyalty/receipt_detail.html",
        {"receipt": receipt, "points": selectors.receipt_points(receipt), "tab": "card"},
    )


@member_required
def sign_in_page(request):
    """签到: today's state, the streak and what tomorrow brings."""
    latest = SignIn.objects.filter(member=request.member).order_by("-day").first()
    return render(
        request,
        "h5/loyalty/sign_in.html",
        {
            "latest": latest,
            "recent": SignIn.objects.filter(member=request.member).order_by("-day")[:7],
            "policy": LoyaltySettings.current(),
            "account": selectors.account_of(request.member),
            "tab": "card",
        },
    )


@require_POST
@member_required
def sign_in_submit(request):
    try:
        record = sign_in(member=request.member)
    except ServiceError as exc:
        messages.info(request, exc.message)
    else:
        messages.success(
            request,
            _("Signed in: +%(points)s points, day %(streak)s in a row.")
            % {"points": record.points, "streak": record.streak},
        )
    return redirect("h5:sign_in")


@require_http_methods(["GET", "POST"])
@member_required
def claims(request):
    """拍小票: send a photo of a receipt from a till we do not receive; see earlier claims."""
    form = ClaimForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            claim_submit(
                member=request.member,
                store=data["store"],
                receipt_no=data["receipt_no"],
                pos_no=data["pos_no"],
                amount_fen=data["amount"],
                purchased_on=data["purchased_on"],
                shop_name=data["shop_name"],
                photo=data["photo"],
            )
        except ServiceError as exc:
            form.add_error("photo" if exc.code.startswith("claim_photo") else None, exc.message)
        else:
            messages.success(request, _("Thank you! We will review your receipt shortly."))
            return redirect("h5:claims")
    return render(
        request,
        "h5/loyalty/claims.html",
        {
            "form": form,
            "claims": ReceiptClaim.objects.filter(member=request.member).select_related("store")[
                :20
            ],
            "claims_per_day": LoyaltySettings.current().claims_per_day,
            "tab": "card",
        },
        status=400 if form.errors else 200,
    )


@require_GET
@member_required
def claim_photo(request, claim_id: int):
    """The photo of one of the member's own claims; anyone else's is a 404."""
    claim = get_object_or_404(ReceiptClaim, pk=claim_id, member=request.member)
    return private_file_response(claim.photo, content_type=claim_photos.CONTENT_TYPE)
