"""The WeChat web-authorization round trip against the fake server, through our views."""

from urllib.parse import parse_qs, urlsplit

import pytest

from members.models import WechatIdentity
from members.session import SESSION_KEY
from tests.conftest import authorize, start
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def test_a_good_code_signs_in_and_returns_to_next(client, fake_wechat):
    url = start(client)
    assert url.startswith(fake_wechat.base_url + "connect/oauth2/authorize?")
    assert "scope=snsapi_base" in url and url.endswith("#wechat_redirect")
    response = client.get("/m/wechat/callback/", authorize(fake_wechat, url))
    assert response.status_code == 302 and response["Location"] == "/m/card/"
    identity = WechatIdentity.objects.get(openid="o_fake_li_na")
    assert identity.unionid == "u_fake_li_na" and identity.member is None
    assert client.session[SESSION_KEY] == identity.pk


def test_the_session_id_changes_at_sign_in(client, fake_wechat):
    url = start(client)
    before = client.session.session_key
    client.get("/m/wechat/callback/", authorize(fake_wechat, url))
    assert client.session.session_key != before


def test_a_wrong_or_missing_state_is_refused(client, fake_wechat):
    url = start(client)
    params = authorize(fake_wechat, url)
    response = client.get("/m/wechat/callback/", {**params, "state": "forged"})
    assert response.status_code == 400 and SESSION_KEY not in client.session
    assert "不属于本次访问" in response.content.decode()
    assert client.get("/m/wechat/callback/", {"code": params["code"]}).status_code == 400


def test_a_code_used_twice_is_refused_with_a_clear_page(client, fake_wechat):
    url = start(client)
    params = authorize(fake_wechat, url)
    client.get("/m/wechat/callback/", params)
    other = type(client)()
    url2 = start(other)
    state2 = parse_qs(urlsplit(url2.replace("#wechat_redirect", "")).query)["state"][0]
    response = other.get("/m/wechat/callback/", {"code": params["code"], "state": state2})
    assert response.status_code == 400
    assert "已被使用" in response.content.decode()
    assert SESSION_KEY not in other.session


def test_an_unknown_code_gets_a_friendly_message(client, fake_wechat):
    url = start(client)
    state = parse_qs(urlsplit(url.replace("#wechat_redirect", "")).query)["state"][0]
    response = client.get("/m/wechat/callback/", {"code": "bogus", "state": state})
    assert response.status_code == 400 and "链接无效" in response.content.decode()


def test_userinfo_scope_stores_nickname_and_avatar(client, fake_wechat):
    url = start(client, scope="userinfo")
    assert "scope=snsapi_userinfo" in url
    client.get("/m/wechat/callback/", authorize(fake_wechat, url, openid="o_fake_zhang_san"))
    identity = WechatIdentity.objects.get(openid="o_fake_zhang_san")
    assert identity.nickname == "张三" and identity.profile_fetched_at is not None


@pytest.mark.parametrize(
    "evil", ["https://evil.com", "//evil.com", "/\\evil.com", "javascript:alert(1)", "/admin/"]
)
def test_next_only_leads_to_member_pages(client, fake_wechat, evil):
    url = start(client, next_url=evil)
    response = client.get("/m/wechat/callback/", authorize(fake_wechat, url))
    assert response["Location"] == "/m/card/"


def test_an_openid_in_the_request_is_ignored(client, fake_wechat):
    MemberFactory()
    response = client.get("/m/card/?openid=o_fake_li_na", HTTP_X_OPENID="o_fake_li_na")
    assert response.status_code == 302 and response["Location"].startswith("/m/wechat/login/")


def test_wechat_being_down_is_a_502_with_a_message(client, settings, fake_wechat):
    url = start(client)
    params = authorize(fake_wechat, url)
    settings.WECHAT_API_BASE_URL = "http://127.0.0.1:9/"
    response = client.get("/m/wechat/callback/", params)
    assert response.status_code == 502 and "稍后" in response.content.decode()


def test_a_unionid_known_from_another_app_binds_the_same_member(client, fake_wechat):
    member = MemberFactory()
    WechatIdentity.objects.create(
        app_id="wx_other_app", openid="o_x", unionid="u_fake_li_na", member=member
    )
    client.get("/m/wechat/callback/", authorize(fake_wechat, start(client)))
    assert WechatIdentity.objects.get(openid="o_fake_li_na").member == member
    assert client.get("/m/card/code/").status_code == 200
