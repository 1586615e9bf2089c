"""The fake WeChat server answers wechatpy, the real client, as WeChat does."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException, WeChatOAuthException
from wechatpy.oauth import WeChatOAuth

from members.wechat_fake import CODE_TTL, FakeWeChatServer

APP_ID, SECRET = "wx_fake_app", "fake-secret"


@pytest.fixture
def fake():
    server = FakeWeChatServer(app_id=APP_ID, secret=SECRET)
    server.start_in_thread()
    yield server
    server.shutdown()
    server.server_close()


def oauth(fake, *, secret=SECRET, scope="snsapi_base") -> WeChatOAuth:
    client = WeChatOAuth(
        APP_ID, secret, "http://mall.test/m/wechat/callback", scope=scope, state="st4te"
    )
    client.API_BASE_URL = fake.base_url
    client.OAUTH_BASE_URL = fake.base_url + "connect/"
    return client


def code_for(fake, openid="o_fake_li_na", scope="snsapi_base") -> str:
    response = requests.post(
        fake.base_url + "fake/codes", json={"openid": openid, "scope": scope}, timeout=5
    )
    return response.json()["code"]


def test_authorize_redirects_back_with_a_code_and_the_state(fake):
    url = oauth(fake).authorize_url.replace("#wechat_redirect", "") + "&openid=o_fake_zhang_san"
    response = requests.get(url, allow_redirects=False, timeout=5)
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    query = parse_qs(target.query)
    assert target.netloc == "mall.test" and query["state"] == ["st4te"] and query["code"][0]


def test_authorize_without_a_user_shows_the_picker_page(fake):
    page = requests.get(oauth(fake).authorize_url, timeout=5)
    assert (
        page.status_code == 200 and "张三" in page.text and "openid=o_fake_zhang_san" in page.text
    )


def test_a_code_gives_the_openid_and_unionid_and_a_made_up_one_is_40029(fake):
    token = oauth(fake).fetch_access_token(code_for(fake))
    assert token["openid"] == "o_fake_li_na" and token["unionid"] == "u_fake_li_na"
    assert token["scope"] == "snsapi_base"
    with pytest.raises(WeChatOAuthException) as used:
        oauth(fake).fetch_access_token("not-a-code")
    assert used.value.errcode == 40029


def test_a_code_used_twice_is_40163_and_an_old_one_42003(fake):
    code = code_for(fake)
    oauth(fake).fetch_access_token(code)
    with pytest.raises(WeChatOAuthException) as again:
        oauth(fake).fetch_access_token(code)
    assert again.value.errcode == 40163
    stale = code_for(fake)
    fake.state.codes[stale]["at"] -= CODE_TTL + 1
    with pytest.raises(WeChatOAuthException) as expired:
        oauth(fake).fetch_access_token(stale)
    assert expired.value.errcode == 42003


def test_a_wrong_secret_is_40125(fake):
    with pytest.raises(WeChatOAuthException) as wrong:
        oauth(fake, secret="nope").fetch_access_token(code_for(fake))
    assert wrong.value.errcode == 40125


def test_userinfo_needs_the_userinfo_scope_and_keeps_chinese_nicknames(fake):
    base = oauth(fake)
    base.fetch_access_token(code_for(fake))
    with pytest.raises(WeChatOAuthException) as unauthorized:
        base.get_user_info()
    assert unauthorized.value.errcode == 48001
    full = oauth(fake, scope="snsapi_userinfo")
    full.fetch_access_token(code_for(fake, scope="snsapi_userinfo"))
    info = full.get_user_info()
    assert info["nickname"] == "李娜" and info["sex"] == 2 and info["unionid"] == "u_fake_li_na"


def test_template_messages_reach_followers_only(fake):
    class Client(WeChatClient):
        API_BASE_URL = fake.base_url + "cgi-bin/"

        def fetch_access_token(self):
            return self._fetch_access_token(
                url=fake.base_url + "cgi-bin/token",
                params={
                    "grant_type": "client_credential",
                    "appid": self.appid,
                    "secret": self.secret,
                },
            )

    client = Client(APP_ID, SECRET)
    assert client.jsapi.get_jsapi_ticket()
    sent = client.message.send_template("o_fake_li_na", "TPL1", {"first": {"value": "积分到账"}})
    assert sent["errcode"] == 0
    with pytest.raises(WeChatClientException) as not_following:
        client.message.send_template("o_fake_guest", "TPL1", {})
    assert not_following.value.errcode == 43004
    messages = requests.get(fake.base_url + "fake/messages", timeout=5).json()["messages"]
    assert [(m["touser"], m["data"]["first"]["value"]) for m in messages] == [
        ("o_fake_li_na", "积分到账")
    ]


def test_the_fake_remembers_the_picked_user_like_wechat_knows_its_user(fake):
    session = requests.Session()
    url = oauth(fake).authorize_url.replace("#wechat_redirect", "")
    first = session.get(url + "&openid=o_fake_zhang_san", allow_redirects=False, timeout=5)
    assert first.status_code == 302
    again = session.get(url, allow_redirects=False, timeout=5)
    assert again.status_code == 302
    code = parse_qs(urlsplit(again.headers["Location"]).query)["code"][0]
    assert oauth(fake).fetch_access_token(code)["openid"] == "o_fake_zhang_san"
