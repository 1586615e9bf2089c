"""个人资料: the profile page, the identity fields that lock once filled (and the notice a
locked row shows), withdrawing the ID-number consent, the extended profile, addresses."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.exceptions import ServiceError
from core.masking import mask_phone
from members.forms import AddressForm, IdentityForm, ProfileForm
from members.marketing import marketing_opted_out, marketing_preferences_set
from members.models import DeliveryAddress, MarketingOptOut, Member, MemberProfile
from members.profile import (
    FIELD_LABELS,
    ID_CONSENT_POLICY_VERSION,
    address_create,
    address_delete,
    address_update,
    locked_fields,
    locked_notice,
    member_identity_set,
    member_profile_update,
    national_id_consent_withdraw,
)
from members.selectors import member_profile_completeness
from members.session import current_identity, member_required


@member_required
def member_profile(request):
    member = request.member
    locked = locked_fields(member)
    profile = MemberProfile.objects.filter(member=member).first()
    gender = member.get_gender_display() if member.gender != Member.Gender.UNKNOWN else ""
    values = {
        "name": member.name,
        "gender": gender,
        "phone": mask_phone(member.phone),
        "national_id": member.national_id_masked,
        "birthday": member.birthday.isoformat() if member.birthday else "",
    }
    rows = {
        field: {
            "field": field,
            "label": FIELD_LABELS[field],
            "value": value,
            "notice": locked_notice(field) if field in locked else "",
        }
        for field, value in values.items()
    }
    return render(
        request,
        "h5/members/profile.html",
        {
            "member": member,
            "identity": current_identity(request),
            "identity_rows": [rows[f] for f in ("name", "gender", "phone", "national_id")],
            "birthday_row": rows["birthday"],
            "profile": profile,
            "interests": list(profile.interests.all()) if profile else [],
            "addresses": list(member.addresses.all()[:1]),
            "address_count": member.addresses.count(),
            "completeness": member_profile_completeness(member=member),
            "tab": "card",
        },
    )


@member_required
def member_field_locked(request, field: str):
    """The notice a locked row shows in a dialog, as a page for browsers without JavaScript."""
    if field not in FIELD_LABELS:
        raise Http404
    return render(
        request,
        "h5/members/profile_locked.html",
        {"label": FIELD_LABELS[field], "notice": locked_notice(field), "tab": "card"},
    )


@require_http_methods(["GET", "POST"])
@member_required
def member_identity(request):
    """Fill in name, gender and ID number once; they lock when saved."""
    locked = locked_fields(request.member)
    if {"name", "gender", "national_id"} <= locked:
        return redirect("h5:member_profile")
    form = IdentityForm(request.POST or None, locked=locked)
    if request.method == "POST" and form.is_valid():
        try:
            member_identity_set(member_id=request.member.pk, **form.cleaned_data)
        except ServiceError as exc:
            field = "national_id" if "national_id" in form.fields else None
            form.add_error(field if exc.code.startswith("national_id") else None, exc.message)
        else:
            if form.cleaned_data.get("national_id"):
                messages.success(
                    request, _("Saved. Your birthday and gender were taken from your ID number.")
                )
            else:
                messages.success(request, _("Saved."))
            return redirect("h5:member_profile")
    return render(
        request,
        "h5/members/profile_identity.html",
        {"form": form, "policy_version": ID_CONSENT_POLICY_VERSION, "tab": "card"},
        status=400 if form.errors else 200,
    )


@require_POST
@member_required
def national_id_withdraw(request):
    """The member withdraws the ID-number consent: the stored number is erased."""
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick the box to confirm that the ID number will be erased."))
        return redirect("h5:member_profile")
    try:
        national_id_consent_withdraw(member_id=request.member.pk)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Consent withdrawn; your ID number was erased."))
    return redirect("h5:member_profile")


@require_http_methods(["GET", "POST"])
@member_required
def member_profile_edit(request):
    """The extended profile: birthday (once), education, occupation, income, interests."""
    member = request.member
    profile = MemberProfile.objects.filter(member=member).first()
    initial = {}
    if profile is not None:
        initial = {
            "education": profile.education,
            "occupation": profile.occupation,
            "income_band": profile.income_band,
            "interests": list(profile.interests.all()),
        }
    form = ProfileForm(
        request.POST or None, initial=initial, birthday_locked=member.birthday is not None
    )
    if request.method == "POST" and form.is_valid():
        try:
            member_profile_update(member_id=member.pk, **form.cleaned_data)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Saved."))
            return redirect("h5:member_profile")
    return render(
        request,
        "h5/members/profile_edit.html",
        {"form": form, "member": member, "tab": "card"},
        status=400 if form.errors else 200,
    )


@member_required
def address_list(request):
    return render(
        request,
        "h5/members/address_list.html",
        {"addresses": request.member.addresses.all(), "tab": "card"},
    )


@require_http_methods(["GET", "POST"])
@member_required
def address_edit(request, address_id: int | None = None):
    """Add an address, or change one of the member's own (anyone else's is a 404)."""
    address = None
    if address_id is not None:
        address = get_object_or_404(DeliveryAddress, pk=address_id, member=request.member)
    form = AddressForm(request.POST or None, instance=address)
    if request.method == "POST" and form.is_valid():
        try:
            if address is None:
                address_create(member_id=request.member.pk, **form.cleaned_data)
            else:
                address_update(
                    member_id=request.member.pk, address_id=address.pk, **form.cleaned_data
                )
        except DeliveryAddress.DoesNotExist:
            raise Http404 from None
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Address saved."))
            return redirect("h5:address_list")
    return render(
        request,
        "h5/members/address_form.html",
        {"form": form, "address": address, "tab": "card"},
        status=400 if form.errors else 200,
    )


@require_POST
@member_required
def address_remove(request, address_id: int):
    try:
        address_delete(member_id=request.member.pk, address_id=address_id)
    except DeliveryAddress.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("Address deleted."))
    return redirect("h5:address_list")


@require_http_methods(["GET", "POST"])
@member_required
def marketing_settings(request):
    """Marketing SMS and marketing messages on or off (退订); transactional texts stay on."""
    member = request.member
    if request.method == "POST":
        marketing_preferences_set(
            member=member,
            sms=request.POST.get("sms") == "on",
            wechat=request.POST.get("wechat") == "on",
            source=MarketingOptOut.Source.H5,
        )
        messages.success(request, _("Saved."))
        return redirect("h5:marketing_settings")
    off = marketing_opted_out(member=member)
    return render(
        request,
        "h5/members/marketing_settings.html",
        {
            "sms_on": MarketingOptOut.Channel.SMS not in off,
            "wechat_on": MarketingOptOut.Channel.WECHAT not in off,
            "tab": "card",
        },
    )
