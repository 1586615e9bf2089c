"""The SMS gateway pushes members' replies: "R" / "TD" / 退订 opt the phone out of marketing SMS;
only a caller with the gateway's key is heard."""

import pytest

from members.models import MarketingOptOut

URL = "/api/sms/replies"


@pytest.fixture
def gateway_key(settings):
    settings.SMS_GATEWAY_KEY = "k" * 32
    return settings.SMS_GATEWAY_KEY


def post(client, body, key):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.post(URL, data=body, content_type="application/json", headers=headers)


@pytest.mark.parametrize("reply", ["R", " td ", "退订", "Ｔ"])
def test_an_opt_out_reply_stops_marketing_sms(client, member, gateway_key, reply):
    response = post(client, {"phone": member.phone, "text": reply}, gateway_key)
    assert response.status_code == 200 and response.json() == {"ok": True, "opted_out": True}
    opt_out = MarketingOptOut.objects.get(member=member)
    assert (opt_out.channel, opt_out.source) == ("sms", "sms_reply")


def test_any_other_reply_changes_nothing(client, member, gateway_key):
    response = post(client, {"phone": member.phone, "text": "谢谢，已收到"}, gateway_key)
    assert response.json() == {"ok": True, "opted_out": False}
    assert not MarketingOptOut.objects.exists()


@pytest.mark.parametrize("key", ["", "wrong"])
def test_without_the_gateway_key_nothing_is_heard(client, member, gateway_key, key):
    response = post(client, {"phone": member.phone, "text": "R"}, key)
    assert response.status_code == 403
    assert not MarketingOptOut.objects.exists()


def test_no_key_configured_refuses_everyone(client, member, settings):
    settings.SMS_GATEWAY_KEY = ""
    assert post(client, {"phone": member.phone, "text": "R"}, "").status_code == 403


@pytest.mark.parametrize("body", ['{"phone": "13800000000"}', "not json", "[]"])
def test_a_bad_body_is_a_400(client, db, gateway_key, body):
    response = client.post(
        URL,
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {gateway_key}"},
    )
    assert response.status_code == 400


def test_get_is_refused(client, db):
    assert client.get(URL).status_code == 405
