"""The only module that talks to WeChat's servers (through wechatpy); base URLs come from
settings, so tests and `make run` point it at the fake server (members/wechat_fake.py)."""

from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException, WeChatOAuthException
from wechatpy.oauth import WeChatOAuth

from core.exceptions import ServiceError

SCOPE_BASE = "snsapi_base"
SCOPE_USERINFO = "snsapi_userinfo"

# WeChat error codes a member can meet during sign-in, as something they can act on.
OAUTH_ERRORS = {
    40029: _("This sign-in link is not valid. Please open the member page again."),
    40163: _("This sign-in link has already been used. Please open the member page again."),
    42003: _("This sign-in link has expired. Please open the member page again."),
    48001: _("WeChat did not allow us to read your profile. Please try again."),
    40013: _("The mall's WeChat account is misconfigured. Please tell the service desk."),
    40125: _("The mall's WeChat account is misconfigured. Please tell the service desk."),
}


class WeChatError(ServiceError):
    code = "wechat_error"
    default_message = _("WeChat is not answering right now. Please try again in a moment.")

    def __init__(self, message=None, *, errcode: int | None = None):
        self.errcode = errcode
        super().__init__(message)


@dataclass(frozen=True)
class WeChatUser:
    openid: str
    unionid: str
    scope: str
    nickname: str = ""
    avatar_url: str = ""
    is_snapshot: bool = False


def oauth_client(*, redirect_uri: str, scope: str, state: str = "") -> WeChatOAuth:
    client = WeChatOAuth(
        settings.WECHAT_APP_ID, settings.WECHAT_SECRET, redirect_uri, scope=scope, state=state
    )
    client.API_BASE_URL = settings.WECHAT_API_BASE_URL
    client.OAUTH_BASE_URL = settings.WECHAT_OAUTH_BASE_URL
    # wechatpy's OAuth client sets no timeout; never let a slow WeChat hang a worker.
    client._http.request = partial(client._http.request, timeout=settings.WECHAT_TIMEOUT)
    return client


def authorize_url(*, redirect_uri: str, scope: str, state: str) -> str:
    return oauth_client(redirect_uri=redirect_uri, scope=scope, state=state).authorize_url


def oauth_exchange(*, code: str, scope: str) -> WeChatUser:
    """Trade a web-authorization code for the user's openid (and profile for userinfo scope)."""
    client = oauth_client(redirect_uri="", scope=scope)
    try:
        token = client.fetch_access_token(code)
        profile = client.get_user_info() if token.get("scope") == SCOPE_USERINFO else {}
    except WeChatOAuthException as exc:
        raise WeChatError(OAUTH_ERRORS.get(exc.errcode), errcode=exc.errcode) from exc
    except OSError as exc:  # requests' connection errors and timeouts
        raise WeChatError() from exc
    return WeChatUser(
        openid=token["openid"],
        unionid=token.get("unionid") or profile.get("unionid") or "",
        scope=token.get("scope", scope),
        nickname=profile.get("nickname", ""),
        avatar_url=profile.get("headimgurl", ""),
        is_snapshot=bool(token.get("is_snapshotuser")),
    )


class _OfficialAccountClient(WeChatClient):
    """wechatpy's client with its token URL (hard-coded upstream) taken from settings."""

    def fetch_access_token(self):
        return self._fetch_access_token(
            url=settings.WECHAT_API_BASE_URL + "cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )


def official_account_client() -> WeChatClient:
    client = _OfficialAccountClient(
        settings.WECHAT_APP_ID, settings.WECHAT_SECRET, timeout=settings.WECHAT_TIMEOUT
    )
    client.API_BASE_URL = settings.WECHAT_API_BASE_URL + "cgi-bin/"
    return client


NOT_FOLLOWING = 43004


def template_message_send(*, openid: str, title: str, body: str, url: str = "") -> None:
    """Push a notice through the official account's template message; WeChatError on failure
    (errcode 43004: the user does not follow the account)."""
    data = {"first": {"value": title}, "keyword1": {"value": body[:200]}}
    try:
        official_account_client().message.send_template(
            openid, settings.WECHAT_NOTICE_TEMPLATE_ID, data, url=url or None
        )
    except WeChatClientException as exc:
        raise WeChatError(errcode=exc.errcode) from exc
    except OSError as exc:
        raise WeChatError() from exc
