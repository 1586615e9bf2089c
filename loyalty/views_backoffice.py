"""Staff pages of loyalty: a member's points and receipts with manual adjustment, and the
review queue of receipt-photo claims."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.auth import backoffice_required
from core.exceptions import ServiceError
from core.once import once_key, submit_once
from core.storage import private_file_response
from loyalty import claim_photos, selectors
from loyalty.forms import ClaimApproveForm, ClaimRejectForm, PointsAdjustForm
from loyalty.models import ReceiptClaim
from loyalty.services import claim_approve, claim_reject, points_adjust
from loyalty.tiers import tier_progress
from members.models import Member
from members.scoping import scoped, scoped_members
from members.selectors import members_search


def _member_in_scope(request, member_id: int) -> Member:
    members = scoped_members(Member.objects.all(), user=request.user)
    return get_object_or_404(members.select_related("home_store"), pk=member_id)


@backoffice_required(perm="loyalty.view_pointsentry")
def points_lookup(request):
    """Find a member by card number or phone, then show their points."""
    query = request.GET.get("q", "").strip()
    if query:
        members = scoped_members(Member.objects.all(), user=request.user)
        member = members_search(members, query).first()
        if member is not None:
            return redirect("backoffice:member_points", member_id=member.pk)
        messages.error(request, _("No member with this card number or phone in your stores."))
    return render(request, "backoffice/loyalty/points_lookup.html", {"query": query})


@backoffice_required(perm="loyalty.view_pointsentry")
@submit_once
def member_points(request, member_id: int):
    member = _member_in_scope(request, member_id)
    can_adjust = request.user.has_perm("loyalty.adjust_points")
    form = PointsAdjustForm(request.POST or None) if can_adjust else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                points_adjust(
                    member=member,
                    points=form.cleaned_data["points"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                    key=once_key(request),
                )
            except ServiceError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Points adjusted."))
                return redirect("backoffice:member_points", member_id=member.pk)
    entries = Paginator(selectors.member_entries(member=member), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "backoffice/loyalty/member_points.html",
        {
            "member": member,
            "account": selectors.account_of(member),
            "progress": tier_progress(member=member),
            "entries": entries,
            "receipts": selectors.member_receipts(member=member)[:20],
            "form": form,
        },
        status=400 if form is not None and form.errors else 200,
    )


def _claims_in_scope(request):
    return scoped(ReceiptClaim.objects.all(), user=request.user, store_field="store")


@backoffice_required(perm="loyalty.change_receiptclaim")
def claim_queue(request):
    status = request.GET.get("status", ReceiptClaim.Status.PENDING)
    claims = _claims_in_scope(request).select_related("member", "store")
    if status in ReceiptClaim.Status.values:
        claims = claims.filter(status=status)
    claims = claims.order_by(
        "created_at" if status == ReceiptClaim.Status.PENDING else "-created_at"
    )
    page = Paginator(claims, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "backoffice/loyalty/claim_queue.html",
        {"page": page, "status": status, "statuses": ReceiptClaim.Status.choices},
    )


@backoffice_required(perm="loyalty.change_receiptclaim")
def claim_detail(request, claim_id: int):
    claim = get_object_or_404(
        _claims_in_scope(request).select_related("member", "store", "receipt"), pk=claim_id
    )
    return render(
        request,
        "backoffice/loyalty/claim_detail.html",
        {
            "claim": claim,
            "approve_form": ClaimApproveForm(initial={"pos_no": claim.pos_no}),
            "reject_form": ClaimRejectForm(),
        },
    )


@require_GET
@backoffice_required(perm="loyalty.change_receiptclaim")
def claim_photo(request, claim_id: int):
    """The photo of a claim in the staff member's stores; a claim elsewhere is a 404."""
    claim = get_object_or_404(_claims_in_scope(request), pk=claim_id)
    return private_file_response(claim.photo, content_type=claim_photos.CONTENT_TYPE)


@require_POST
@backoffice_required(perm="loyalty.change_receiptclaim")
@submit_once
def claim_decide(request, claim_id: int):
    claim = get_object_or_404(_claims_in_scope(request), pk=claim_id)
    try:
        if request.POST.get("decision") == "approve":
            approve_form = ClaimApproveForm(request.POST)
            if not approve_form.is_valid():
                return render(
                    request,
                    "backoffice/loyalty/claim_detail.html",
                    {
                        "claim": claim,
                        "approve_form": approve_form,
                        "reject_form": ClaimRejectForm(),
                    },
                    status=400,
                )
            claim = claim_approve(
                claim=claim, actor=request.user, pos_no=approve_form.cleaned_data["pos_no"]
            )
            messages.success(
                request,
                _("Claim approved: %(points)s points.") % {"points": claim.points},
            )
        else:
            form = ClaimRejectForm(request.POST)
            if not form.is_valid():
                return render(
                    request,
                    "backoffice/loyalty/claim_detail.html",
                    {
                        "claim": claim,
                        "approve_form": ClaimApproveForm(initial={"pos_no": claim.pos_no}),
                        "reject_form": form,
                    },
                    status=400,
                )
            claim_reject(claim=claim, reason=form.cleaned_data["reason"], actor=request.user)
            messages.success(request, _("Claim rejected; the member was told why."))
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("backoffice:claim_queue")
