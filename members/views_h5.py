import hmac
import secrets
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from core.exceptions import ServiceError
from members import wechat
from members.card_codes import REFRESH_SECONDS, barcode_svg, card_code_issue, qr_svg
from members.data_rights import member_data_export
from members.forms import PhoneBindForm
from members.messaging import message_read, unread_count
from members.models import CardPageSettings, MenuButton, Message, SmsCode
from members.otp import SmsCodeError, sms_code_send, sms_code_verify
from members.services import member_bind_phone, wechat_identity_login
from members.session import current_identity, member_required, member_session_login, safe_next

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
                sms_code_send(phone=phone, purpose=SmsCode.Purpose.BIND, ip=_client_ip(request))
                code_sent = True
                messages.success(request, _("A code was sent to %(phone)s.") % {"phone": phone})
            elif not form.cleaned_data["code"]:
                form.add_error("code", _("Enter the 6-digit code from the text message."))
            else:
                sms_code_verify(
                    phone=phone, purpose=SmsCode.Purpose.BIND, code=form.cleaned_data["code"]
                )
                member_bind_phone(
                    identity=identity,
                    phone=phone,
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
            "hide_tabbar": True,
        },
        status=400 if form.errors else 200,
    )


def _client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR")


def _card_code_payload(member) -> dict:
    card_code = card_code_issue(member=member)
    return {
        "code": card_code.code,
        "qr_svg": qr_svg(card_code.code),
        "barcode_svg": barcode_svg(card_code.code),
        "refresh_seconds": REFRESH_SECONDS,
    }


USERINFO_TRIED_KEY = "wechat_userinfo_tried"


@member_required
def member_home(request):
    identity = current_identity(request)
    if identity.profile_fetched_at is None and not request.session.get(USERINFO_TRIED_KEY):
        # Avatar and nickname need the snsapi_userinfo round trip; asked once per session.
        request.session[USERINFO_TRIED_KEY] = True
        query = urlencode({"scope": "userinfo", "next": request.get_full_path()})
        return redirect(f"{reverse('h5:wechat_login')}?{query}")
    return render(
        request,
        "h5/members/home.html",
        {
            "member": request.member,
            "identity": identity,
            "layout": CardPageSettings.current().layout,
            "menu": MenuButton.objects.filter(visible=True),
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
