"""Signing up: WeChat sign-in (web authorization and its callback), 验证手机 (binding a
phone by SMS code, which registers the member) and the privacy notice (隐私政策)."""

import hmac
import secrets
from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from core.client_ip import client_ip
from core.exceptions import ServiceError
from members import wechat
from members.forms import PhoneBindForm
from members.models import SmsCode
from members.otp import SmsCodeError, sms_code_send
from members.profile import PRIVACY_POLICY_VERSION
from members.services import member_bind_phone_by_code, wechat_identity_login
from members.session import current_identity, member_session_login, safe_next

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
