"""Who the member is, in the H5 pages: a WeChat identity kept in the session.

Members are not Django users; staff are. The session holds only the identity's id, set after
a verified OAuth round trip, never an openid taken from the request.
"""

from functools import wraps
from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from members.models import Member, WechatIdentity

SESSION_KEY = "wechat_identity_id"
H5_PREFIX = "/m/"


def safe_next(request, candidate: str | None) -> str:
    """`candidate` if it is a member page on this site, else the member home."""
    if (
        candidate
        and candidate.startswith(H5_PREFIX)
        and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()})
    ):
        return candidate
    return reverse("h5:member_home")


def member_session_login(request, identity: WechatIdentity) -> None:
    request.session.cycle_key()  # a new session id on every sign-in
    request.session[SESSION_KEY] = identity.pk


def member_session_logout(request) -> None:
    """End the member's session: its data is gone and a new session id is issued."""
    request.session.flush()
    request._wechat_identity = None


def current_identity(request) -> WechatIdentity | None:
    if not hasattr(request, "_wechat_identity"):
        identity_id = request.session.get(SESSION_KEY)
        request._wechat_identity = (
            WechatIdentity.objects.select_related("member").filter(pk=identity_id).first()
            if identity_id
            else None
        )
    return request._wechat_identity


def current_member(request) -> Member | None:
    identity = current_identity(request)
    if identity is None or identity.member is None:
        return None
    return identity.member if identity.member.status == Member.Status.ACTIVE else None


def member_required(view):
    """Sign in through WeChat first, then bind a phone; then the view runs with request.member."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        identity = current_identity(request)
        here = request.get_full_path()
        if identity is None:
            return redirect(f"{reverse('h5:wechat_login')}?{urlencode({'next': here})}")
        member = current_member(request)
        if member is None:
            return redirect(f"{reverse('h5:register')}?{urlencode({'next': here})}")
        request.member = member
        return view(request, *args, **kwargs)

    return wrapper
