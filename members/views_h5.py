import hmac
import secrets
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.client_ip import client_ip
from core.exceptions import ServiceError
from core.masking import mask_phone
from members import wechat
from members.card_codes import REFRESH_SECONDS, barcode_svg, card_code_issue, qr_svg
from members.data_rights import member_data_export, member_delete_by_code
from members.forms import AccountDeleteForm, AddressForm, IdentityForm, PhoneBindForm, ProfileForm
from members.messaging import message_read, unread_count
from members.models import (
    CardPageSettings,
    DeliveryAddress,
    Member,
    MemberProfile,
    MenuButton,
    Message,
    SmsCode,
)
from members.otp import SmsCodeError, sms_code_send
from members.profile import (
    FIELD_LABELS,
    ID_CONSENT_POLICY_VERSION,
    PRIVACY_POLICY_VERSION,
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
from members.services import member_bind_phone_by_code, wechat_identity_login
from members.session import (
    current_identity,
    member_required,
    member_session_login,
    member_session_logout,
    safe_next,
)

OAUTH_SESSION_KEY = "wechat_oauth"


def _sign_in_problem(request, message, status=400):
    return render(
        request,
        "h5/members/sign_in_problem.html",
        {"message": message, "hide_tabbar": True},
        status=status,
    )


@require_GET
def wechat_login(request):
    """Start WeChat web authorization: silent (snsapi_base) unless a profile is needed."""
    scope = wechat.SCOPE_USERINFO if request.GET.get("scope") == "userinfo" else wechat.SCOPE_BASE
    state = secrets.token_urlsafe(16)
    request.session[OAUTH_SESSION_KEY] = {
        "state": state,
        "scope": scope,
        "next": safe_next(request, request.GET.get("next")),
    }
    callback = request.build_absolute_uri(reverse("h5:wechat_callback"))
    return redirect(wechat.authorize_url(redirect_uri=callback, scope=scope, state=state))


@require_GET
def wechat_callback(request):
    pending = request.session.pop(OAUTH_SESSION_KEY, None)
    state, code = request.GET.get("state", ""), request.GET.get("code", "")
    if not pending or not hmac.compare_digest(pending["state"], state[:64]):
        return _sign_in_problem(
            request,
            _("This sign-in link does not belong to this visit. Please open the page again."),
        )
    if not code:
        return _sign_in_problem(request, _("WeChat sign-in was cancelled."))
    try:
        user = wechat.oauth_exchange(code=code, scope=pending["scope"])
        identity = wechat_identity_login(user=user)
    except wechat.WeChatError as exc:
        status = 502 if exc.errcode is None else 400
        return _sign_in_problem(request, exc.message, status=status)
    except ServiceError as exc:
        return _sign_in_problem(request, exc.message, status=403)
    member_session_login(request, identity)
    return redirect(pending["next"])


CHANNEL_SESSION_KEY = "registration_channel"


@require_http_methods(["GET", "POST"])
def register(request):
    """验证手机: send a code, then bind the phone to the WeChat identity (注册成功)."""
    if request.GET.get("channel"):  # 渠道码 on the entry link, kept through the sign-in
        request.session[CHANNEL_SESSION_KEY] = request.GET["channel"][:32]
    identity = current_identity(request)
    next_url = safe_next(request, request.GET.get("next") or request.POST.get("next"))
    if identity is None:
        return redirect(
            f"{reverse('h5:wechat_login')}?{urlencode({'next': request.get_full_path()})}"
        )
    if identity.member_id:
        return redirect(next_url)
    form = PhoneBindForm(request.POST or None)
    code_sent = False
    if request.method == "POST" and form.is_valid():
        phone = form.cleaned_data["phone"]
        try:
            if request.POST.get("action") == "send":
                sms_code_send(phone=phone, purpose=SmsCode.Purpose.BIND, ip=client_ip(request))
                code_sent = True
                messages.success(request, _("A code was sent to %(phone)s.") % {"phone": phone})
            elif not form.cleaned_data["code"]:
                form.add_error("code", _("Enter the 6-digit code from the text message."))
            else:
                member_bind_phone_by_code(
                    identity=identity,
                    phone=phone,
                    code=form.cleaned_data["code"],
                    privacy_consent=form.cleaned_data["privacy_consent"],
                    channel=request.session.get(CHANNEL_SESSION_KEY, ""),
                )
                messages.success(request, _("Welcome! Your membership card is ready."))
                return redirect(next_url)
        except ServiceError as exc:
            form.add_error("code" if isinstance(exc, SmsCodeError) else None, exc.message)
    return render(
        request,
        "h5/members/register.html",
        {
            "form": form,
            "next": next_url,
            "code_sent": code_sent,
            "identity": identity,
            "privacy_version": PRIVACY_POLICY_VERSION,
            "hide_tabbar": True,
        },
        status=400 if form.errors else 200,
    )


@require_GET
def privacy_policy(request):
    """隐私政策: the full notice, readable before signing in or registering."""
    return render(
        request,
        "h5/members/privacy.html",
        {
            "privacy_version": PRIVACY_POLICY_VERSION,
            "hide_tabbar": current_identity(request) is None,
        },
    )


def _card_code_payload(member) -> dict:
    card_code = card_code_issue(member=member)
    return {
        "code": card_code.code,
        "qr_svg": qr_svg(card_code.code),
        "barcode_svg": barcode_svg(card_code.code),
        "refresh_seconds": REFRESH_SECONDS,
    }


USERINFO_TRIED_KEY = "wechat_userinfo_tried"
SIMPLE_MENU_BUTTONS = 4  # 简化版: one row of the function menu


@member_required
def member_home(request):
    identity = current_identity(request)
    if identity.profile_fetched_at is None and not request.session.get(USERINFO_TRIED_KEY):
        # Avatar and nickname need the snsapi_userinfo round trip; asked once per session.
        request.session[USERINFO_TRIED_KEY] = True
        query = urlencode({"scope": "userinfo", "next": request.get_full_path()})
        return redirect(f"{reverse('h5:wechat_login')}?{query}")
    layout = CardPageSettings.current().layout
    menu = MenuButton.objects.filter(visible=True)
    if layout == CardPageSettings.Layout.SIMPLE:
        menu = menu[:SIMPLE_MENU_BUTTONS]
    return render(
        request,
        "h5/members/home.html",
        {
            "member": request.member,
            "identity": identity,
            "layout": layout,
            "menu": menu,
            "unread": unread_count(member=request.member),
            "card_code": _card_code_payload(request.member),
            "tab": "card",
        },
    )


@never_cache
@require_GET
@member_required
def member_card_code(request):
    """A fresh till code for the signed-in member; the card page calls it every minute."""
    return JsonResponse(_card_code_payload(request.member))


@member_required
def message_list(request):
    kind = request.GET.get("kind", "")
    messages_qs = Message.objects.filter(member=request.member)
    if kind in Message.Kind.values:
        messages_qs = messages_qs.filter(kind=kind)
    page = Paginator(messages_qs, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "h5/members/message_list.html",
        {"page": page, "kind": kind, "kinds": Message.Kind.choices, "tab": "card"},
    )


@member_required
def message_detail(request, message_id: int):
    try:
        message = message_read(member=request.member, message_id=message_id)
    except Message.DoesNotExist:
        raise Http404 from None
    return render(request, "h5/members/message_detail.html", {"message": message, "tab": "card"})


@never_cache
@member_required
def member_data_download(request):
    """个人数据: the member's own data as a JSON download."""
    response = JsonResponse(
        member_data_export(member=request.member), json_dumps_params={"ensure_ascii": False}
    )
    filename = f"member-{request.member.card_no}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Profile (个人资料) -------------------------------------------------------------------


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


# --- Account deletion (注销账号) ---------------------------------------------------------


@require_http_methods(["GET", "POST"])
@member_required
def member_delete_confirm(request):
    """注销账号: explain what is lost, then confirm with a code sent to the bound phone."""
    member = request.member
    form = AccountDeleteForm(request.POST or None)
    code_sent = False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if request.POST.get("action") == "send":
                sms_code_send(
                    phone=member.phone,
                    purpose=SmsCode.Purpose.DELETE_ACCOUNT,
                    ip=client_ip(request),
                )
                code_sent = True
                messages.success(
                    request,
                    _("A code was sent to %(phone)s.") % {"phone": mask_phone(member.phone)},
                )
            elif not data["understood"]:
                form.add_error("understood", _("Please confirm that you understand."))
            elif not data["code"]:
                form.add_error("code", _("Enter the 6-digit code from the text message."))
            else:
                member_delete_by_code(member_id=member.pk, code=data["code"])
                member_session_logout(request)
                return redirect("h5:member_deleted")
        except ServiceError as exc:
            form.add_error("code" if isinstance(exc, SmsCodeError) else None, exc.message)
    return render(
        request,
        "h5/members/account_delete.html",
        {
            "form": form,
            "code_sent": code_sent,
            "phone_masked": mask_phone(member.phone),
            "tab": "card",
        },
        status=400 if form.errors else 200,
    )


@require_GET
def member_deleted(request):
    return render(request, "h5/members/account_deleted.html", {"hide_tabbar": True})
