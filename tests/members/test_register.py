"""验证手机 → 注册成功: binding a phone to the signed-in WeChat identity."""

import re

import pytest

from members.card_codes import card_code_resolve
from members.models import Consent, Member, SmsCode, WechatIdentity
from members.profile import PRIVACY_POLICY_VERSION
from tests.conftest import authorize, send_and_bind, start
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db

AGREED = {"privacy_consent": "on"}


@pytest.fixture
def signed_in(client, fake_wechat):
    client.get("/m/register/?channel=poster_2f")
    client.get("/m/wechat/callback/", authorize(fake_wechat, start(client, "/m/card/")))
    return client


def test_unsigned_visitors_are_sent_through_wechat_first(client):
    response = client.get("/m/register/")
    assert response.status_code == 302 and response["Location"].startswith("/m/wechat/login/")


def test_a_new_phone_registers_a_member_with_the_channel(signed_in, sms_outbox):
    response = send_and_bind(signed_in, sms_outbox, "138 0000 1234")
    assert response.status_code == 302 and response["Location"] == "/m/card/"
    member = Member.objects.get(phone="13800001234")
    assert member.channel == "poster_2f"
    assert WechatIdentity.objects.get(openid="o_fake_li_na").member == member
    code = signed_in.get("/m/card/code/").json()["code"]
    assert card_code_resolve(code=code) == member


def test_an_offline_member_is_linked_not_duplicated(signed_in, sms_outbox):
    offline = MemberFactory(phone="13800005678", name="王芳")
    send_and_bind(signed_in, sms_outbox, "+8613800005678")
    assert Member.objects.filter(phone="13800005678").count() == 1
    assert WechatIdentity.objects.get(openid="o_fake_li_na").member == offline


def test_a_wrong_code_is_a_form_error_and_binds_nothing(signed_in, sms_outbox):
    response = send_and_bind(signed_in, sms_outbox, "13800001234", code="000000")
    if re.search(r"\d{6}", sms_outbox[-1]["text"]).group() == "000000":
        pytest.skip("the random code happened to be 000000")
    assert response.status_code == 400 and "验证码错误" in response.content.decode()
    assert not Member.objects.filter(phone="13800001234").exists()


@pytest.mark.parametrize("phone", ["1380000123", "23800001234", "abc", ""])
def test_malformed_phones_are_refused_without_sending(signed_in, sms_outbox, phone):
    response = signed_in.post("/m/register/", {"phone": phone, "action": "send", **AGREED})
    assert response.status_code == 400 and sms_outbox == []


def test_a_phone_bound_to_another_wechat_account_is_refused(signed_in, sms_outbox, settings):
    other = MemberFactory(phone="13800007777")
    WechatIdentity.objects.create(app_id=settings.WECHAT_APP_ID, openid="o_someone", member=other)
    response = send_and_bind(signed_in, sms_outbox, "13800007777")
    assert response.status_code == 400 and "已绑定其他微信账号" in response.content.decode()
    assert WechatIdentity.objects.get(openid="o_fake_li_na").member is None


def test_a_refused_binding_leaves_the_code_usable(signed_in, sms_outbox, settings):
    other = MemberFactory(phone="13800007777")
    theirs = WechatIdentity.objects.create(
        app_id=settings.WECHAT_APP_ID, openid="o_someone", member=other
    )
    refused = send_and_bind(signed_in, sms_outbox, "13800007777")
    assert refused.status_code == 400 and "已绑定其他微信账号" in refused.content.decode()

    theirs.delete()  # the service desk unbinds the old WeChat account
    code = re.search(r"\d{6}", sms_outbox[-1]["text"]).group()
    response = signed_in.post(
        "/m/register/", {"phone": "13800007777", "code": code, "action": "bind", **AGREED}
    )
    assert response.status_code == 302
    assert WechatIdentity.objects.get(openid="o_fake_li_na").member == other


def test_a_wrong_code_counts_a_try_and_binds_nothing_in_the_service(signed_in, sms_outbox):
    from members.otp import SmsCodeError, sms_code_send
    from members.services import member_bind_phone_by_code

    sms_code_send(phone="13800001234", purpose="bind", ip=None)
    code = re.search(r"\d{6}", sms_outbox[-1]["text"]).group()
    identity = WechatIdentity.objects.get(openid="o_fake_li_na")
    bind = {"identity": identity, "phone": "13800001234", "privacy_consent": True}
    with pytest.raises(SmsCodeError):
        member_bind_phone_by_code(code=f"{(int(code) + 1) % 10**6:06d}", **bind)
    assert not Member.objects.exists()
    assert SmsCode.objects.get(phone="13800001234").attempts == 1

    member = member_bind_phone_by_code(code=code, **bind)
    assert member.phone == "13800001234"
    assert SmsCode.objects.get(phone="13800001234").used_at is not None


def test_the_send_answer_is_the_same_for_members_and_strangers(signed_in, sms_outbox):
    MemberFactory(phone="13800003333")
    known = signed_in.post("/m/register/", {"phone": "13800003333", "action": "send", **AGREED})
    unknown = signed_in.post("/m/register/", {"phone": "13800004444", "action": "send", **AGREED})
    assert known.status_code == unknown.status_code == 200

    def strip(response):
        return re.sub(
            r"1380000\d{4}|csrfmiddlewaretoken\" value=\"\w+", "", response.content.decode()
        )

    assert strip(known) == strip(unknown)


def test_the_phone_page_shows_the_privacy_notice_before_asking_for_the_number(signed_in):
    html = signed_in.get("/m/register/").content.decode()

    notice = html.index('id="privacy-notice"')
    assert notice < html.index('name="phone"')  # read before the number is typed
    assert "手机号码" in html[notice : html.index('name="phone"')]
    assert 'href="/m/privacy/"' in html and PRIVACY_POLICY_VERSION in html
    assert 'type="checkbox"' in html and 'name="privacy_consent"' in html
    assert "我已阅读并同意" in html


def test_the_privacy_policy_is_a_page_anyone_can_read(client):
    response = client.get("/m/privacy/")

    html = response.content.decode()
    assert response.status_code == 200
    for heading in ["隐私政策", "收集哪些信息", "保存期限", "谁能看到", "您的权利"]:
        assert heading in html
    assert PRIVACY_POLICY_VERSION in html


@pytest.mark.parametrize("action", ["send", "bind"])
def test_without_the_tick_no_code_is_sent_and_nothing_is_bound(signed_in, sms_outbox, action):
    response = signed_in.post(
        "/m/register/", {"phone": "13800001234", "code": "123456", "action": action}
    )

    assert response.status_code == 400
    assert "请先阅读并同意《隐私政策》" in response.content.decode()
    assert 'value="13800001234"' in response.content.decode()  # nothing typed is lost
    assert sms_outbox == []
    assert not Member.objects.exists() and not Consent.objects.exists()


def test_registering_records_the_privacy_consent_with_version_and_time(signed_in, sms_outbox):
    from django.utils import timezone

    before = timezone.now()
    send_and_bind(signed_in, sms_outbox, "13800001234")

    consent = Consent.objects.get(member__phone="13800001234")
    assert consent.purpose == Consent.Purpose.PRIVACY_POLICY
    assert consent.policy_version == PRIVACY_POLICY_VERSION
    assert before <= consent.granted_at <= timezone.now() and consent.withdrawn_at is None


def test_linking_an_offline_member_records_the_consent_too(signed_in, sms_outbox):
    offline = MemberFactory(phone="13800005678")
    send_and_bind(signed_in, sms_outbox, "13800005678")
    assert offline.consents.get().purpose == Consent.Purpose.PRIVACY_POLICY


def test_the_service_refuses_a_binding_without_consent(signed_in):
    from core.exceptions import ServiceError
    from members.services import member_bind_phone

    identity = WechatIdentity.objects.get(openid="o_fake_li_na")
    with pytest.raises(ServiceError):
        member_bind_phone(identity=identity, phone="13800001234", privacy_consent=False)
    assert not Member.objects.exists()
