"""注销账号: a deliberate, code-confirmed request that erases personal data for good, keeps the
anonymous member row under the receipts, and lets the same person join again later."""

import re
from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from core.models import AuditLog
from loyalty.models import Receipt
from members.card_codes import card_code_issue
from members.data_rights import member_delete
from members.messaging import messages_send
from members.models import (
    Consent,
    DeliveryAddress,
    Member,
    MemberProfile,
    Message,
    SmsCode,
    WechatIdentity,
)
from members.profile import member_identity_set, member_profile_update
from members.selectors import member_by_national_id
from members.session import SESSION_KEY
from tests.conftest import authorize, start
from tests.members.factories import AddressFactory, MemberFactory, national_id_make, signed_in_as

pytestmark = pytest.mark.django_db

PHONE = "13800001234"
ID_NUMBER = national_id_make(date(1988, 8, 8))
URL = "/m/me/delete/"


def member_with_everything(client=None):
    member = MemberFactory(phone=PHONE, name="", gender="U", birthday=None)
    if client is not None:
        signed_in_as(client, member, openid="o_fake_li_na")
    member_identity_set(
        member_id=member.pk, name="王芳", national_id=ID_NUMBER, national_id_consent=True
    )
    member_profile_update(member_id=member.pk, education="college", occupation="employee")
    AddressFactory(member=member, is_default=True)
    messages_send(
        members=Member.objects.filter(pk=member.pk), kind="system", title="欢迎", body="x"
    )
    card_code_issue(member=member)
    for n, total in enumerate([2590, 19900]):
        Receipt.objects.create(
            store=member.home_store,
            pos_no="P01",
            receipt_no=f"R{n}",
            member=member,
            occurred_at=timezone.now(),
            division="supermarket",
            total_fen=total,
        )
    member.refresh_from_db()
    return member


def send_code(client, outbox):
    response = client.post(URL, {"action": "send"})
    assert response.status_code == 200 and outbox[-1]["phone"] == PHONE
    return re.search(r"\d{6}", outbox[-1]["text"]).group()


def test_the_page_explains_what_is_lost(client):
    member_with_everything(client)
    page = client.get(URL).content.decode()
    assert "注销后无法恢复" in page and "积分" in page and "138****1234" in page


def test_deletion_anonymises_keeps_receipts_audits_and_signs_out(client, sms_outbox):
    member = member_with_everything(client)
    totals_before = sum(Receipt.objects.values_list("total_fen", flat=True))
    code = send_code(client, sms_outbox)
    response = client.post(URL, {"action": "delete", "code": code, "understood": "on"})
    assert response.status_code == 302 and response["Location"] == "/m/me/deleted/"

    member.refresh_from_db()
    assert member.status == Member.Status.CLOSED and member.closed_at is not None
    assert (member.name, member.phone, member.gender, member.birthday) == ("", None, "U", None)
    assert member.national_id_cipher is None and member.national_id_index is None
    assert member_by_national_id(ID_NUMBER) is None
    for model in (MemberProfile, DeliveryAddress, Consent, Message, WechatIdentity):
        assert not model.objects.filter(member_id=member.pk).exists(), model
    assert not member.card_codes.exists()
    assert not SmsCode.objects.filter(phone=PHONE).exists()
    # Receipts stay on the anonymous row, so the mall's totals still reconcile.
    assert set(Receipt.objects.values_list("member_id", flat=True)) == {member.pk}
    assert sum(Receipt.objects.values_list("total_fen", flat=True)) == totals_before
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT row_to_json(m)::text FROM members_member m WHERE id = %s", [member.pk]
        )
        raw = cursor.fetchone()[0]
    assert PHONE not in raw and "王芳" not in raw and "1988-08-08" not in raw

    log = AuditLog.objects.get(action="members.member.deleted")
    assert log.target_id == str(member.pk) and log.data["deleted"]["addresses"] == 1
    assert PHONE not in str(log.data) and "王芳" not in str(log.data)

    assert SESSION_KEY not in client.session
    assert client.get("/m/me/profile/")["Location"].startswith("/m/wechat/login/")
    assert "账号已注销" in client.get("/m/me/deleted/").content.decode()


def test_the_same_wechat_user_and_phone_can_join_again_afresh(
    client, sms_outbox, fake_wechat, settings
):
    old = member_with_everything()
    WechatIdentity.objects.create(app_id=settings.WECHAT_APP_ID, openid="o_fake_li_na", member=old)
    member_delete(member_id=old.pk)

    client.get("/m/wechat/callback/", authorize(fake_wechat, start(client, "/m/card/")))
    identity = WechatIdentity.objects.get(openid="o_fake_li_na")
    assert identity.member is None
    assert client.get("/m/card/")["Location"].startswith("/m/register/")
    client.post("/m/register/", {"phone": PHONE, "action": "send", "privacy_consent": "on"})
    code = re.search(r"\d{6}", sms_outbox[-1]["text"]).group()
    response = client.post(
        "/m/register/", {"phone": PHONE, "code": code, "action": "bind", "privacy_consent": "on"}
    )
    assert response.status_code == 302
    new = Member.objects.get(phone=PHONE)
    assert new.pk != old.pk and new.card_no != old.card_no and new.name == ""
    assert not new.receipts.exists()
    assert list(new.consents.values_list("purpose", flat=True)) == ["privacy_policy"]


@pytest.mark.parametrize(
    "data",
    [
        {"action": "delete", "code": "", "understood": "on"},
        {"action": "delete", "code": "CODE", "understood": ""},
        {"action": "delete", "code": "WRONG", "understood": "on"},
        {"action": "delete", "code": "12345", "understood": "on"},
    ],
)
def test_without_the_right_code_and_the_tick_nothing_is_deleted(client, sms_outbox, data):
    member = member_with_everything(client)
    code = send_code(client, sms_outbox)
    data = dict(data)
    if data["code"] == "CODE":
        data["code"] = code
    elif data["code"] == "WRONG":
        data["code"] = f"{(int(code) + 1) % 10**6:06d}"
    response = client.post(URL, data)
    assert response.status_code == 400
    member.refresh_from_db()
    assert member.status == Member.Status.ACTIVE and member.phone == PHONE
    assert member.name == "王芳" and member.national_id_cipher is not None


def test_a_deletion_that_fails_keeps_the_member_and_leaves_the_code_usable(
    client, sms_outbox, monkeypatch
):
    from core.exceptions import ServiceError
    from members import data_rights

    member = member_with_everything(client)
    code = send_code(client, sms_outbox)

    def refuse(**kwargs):
        raise ServiceError("the audit log is unavailable")

    monkeypatch.setattr(data_rights, "audit_log", refuse)  # the deletion's last step fails
    failed = client.post(URL, {"action": "delete", "code": code, "understood": "on"})
    assert failed.status_code == 400 and "the audit log is unavailable" in failed.content.decode()
    member.refresh_from_db()
    assert member.status == Member.Status.ACTIVE and member.name == "王芳"
    assert member.addresses.exists() and member.wechat_identities.exists()

    monkeypatch.undo()
    response = client.post(URL, {"action": "delete", "code": code, "understood": "on"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.status == Member.Status.CLOSED


def test_a_code_for_another_purpose_does_not_delete(client, sms_outbox):
    from members.otp import sms_code_send

    member = member_with_everything(client)
    sms_code_send(phone=PHONE, purpose=SmsCode.Purpose.BIND, ip=None)
    bind_code = re.search(r"\d{6}", sms_outbox[-1]["text"]).group()
    response = client.post(URL, {"action": "delete", "code": bind_code, "understood": "on"})
    assert response.status_code == 400
    member.refresh_from_db()
    assert member.status == Member.Status.ACTIVE


def test_deletion_needs_the_csrf_token():
    client = Client(enforce_csrf_checks=True)
    member = member_with_everything(client)
    response = client.post(URL, {"action": "delete", "code": "123456", "understood": "on"})
    assert response.status_code == 403
    member.refresh_from_db()
    assert member.status == Member.Status.ACTIVE


def test_deleting_twice_changes_nothing_more():
    member = member_with_everything()
    member_delete(member_id=member.pk)
    closed_at = Member.objects.get(pk=member.pk).closed_at
    member_delete(member_id=member.pk)
    assert Member.objects.get(pk=member.pk).closed_at == closed_at
    assert AuditLog.objects.filter(action="members.member.deleted").count() == 1
