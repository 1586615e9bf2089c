import pytest
import requests
from django.core.exceptions import ValidationError

from members.messaging import messages_send
from members.models import Member, Message, WechatIdentity
from tests.members.factories import MemberFactory, signed_in_as

pytestmark = pytest.mark.django_db


def bind(member, openid, settings):
    WechatIdentity.objects.create(app_id=settings.WECHAT_APP_ID, openid=openid, member=member)


def test_send_writes_one_row_per_active_member_and_pushes_to_wechat(
    fake_wechat, settings, django_capture_on_commit_callbacks
):
    follower, not_following, offline = MemberFactory(), MemberFactory(), MemberFactory()
    closed = MemberFactory(status=Member.Status.CLOSED)
    bind(follower, "o_fake_li_na", settings)
    bind(not_following, "o_fake_guest", settings)
    with django_capture_on_commit_callbacks(execute=True):
        count = messages_send(
            members=Member.objects.all(),
            kind=Message.Kind.CAMPAIGN,
            title="周年庆",
            body="全场满 300 减 50",
            link="/m/",
        )
    assert count == 3 and not Message.objects.filter(member=closed).exists()
    status = {m.member_id: m.push_status for m in Message.objects.all()}
    assert status == {follower.pk: "sent", not_following.pk: "not_following", offline.pk: "none"}
    pushed = requests.get(fake_wechat.base_url + "fake/messages", timeout=5).json()["messages"]
    assert [(m["touser"], m["data"]["first"]["value"]) for m in pushed] == [
        ("o_fake_li_na", "周年庆")
    ]


def test_a_redelivered_push_sends_nothing_twice(
    fake_wechat, settings, django_capture_on_commit_callbacks
):
    from members.tasks import messages_push

    member = MemberFactory()
    bind(member, "o_fake_li_na", settings)
    with django_capture_on_commit_callbacks(execute=True):
        messages_send(members=Member.objects.all(), kind="system", title="t", body="b")
    messages_push([Message.objects.get().pk])
    assert (
        len(requests.get(fake_wechat.base_url + "fake/messages", timeout=5).json()["messages"]) == 1
    )


def test_unsafe_links_are_refused():
    MemberFactory()
    with pytest.raises(ValidationError):
        messages_send(
            members=Member.objects.all(),
            kind="system",
            title="t",
            body="b",
            link="javascript:alert(1)",
        )
    assert not Message.objects.exists()


def test_inbox_badge_filter_and_reading(client):
    member = MemberFactory()
    signed_in_as(client, member)
    messages_send(
        members=Member.objects.filter(pk=member.pk), kind="tier", title="升级啦", body="金卡"
    )
    messages_send(
        members=Member.objects.filter(pk=member.pk), kind="campaign", title="活动", body="x"
    )
    assert "data-unread>2<" in client.get("/m/card/").content.decode()
    listing = client.get("/m/messages/?kind=tier").content.decode()
    assert "升级啦" in listing and "店庆通知" not in listing
    message = Message.objects.get(title="升级啦")
    assert "金卡" in client.get(f"/m/messages/{message.pk}/").content.decode()
    assert "data-unread>1<" in client.get("/m/card/").content.decode()


def test_another_members_message_is_404_and_stays_unread(client):
    me, other = MemberFactory(), MemberFactory()
    messages_send(members=Member.objects.filter(pk=other.pk), kind="system", title="私信", body="x")
    signed_in_as(client, me)
    theirs = Message.objects.get(member=other)
    assert client.get(f"/m/messages/{theirs.pk}/").status_code == 404
    assert "私信" not in client.get("/m/messages/").content.decode()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_messages_are_written_in_the_members_language_whatever_the_senders():
    from django.utils import translation
    from django.utils.translation import gettext_lazy

    member = MemberFactory()
    with translation.override("en"):  # a staff member whose browser asks for English
        messages_send(
            members=Member.objects.filter(pk=member.pk),
            kind=Message.Kind.TIER,
            title=gettext_lazy("Your tier is now %(tier)s"),
            body=gettext_lazy("Points about to expire"),
            params={"tier": "金卡"},
        )
        messages_send(  # staff's own words are kept as typed, "%" and all
            members=Member.objects.filter(pk=member.pk),
            kind=Message.Kind.CAMPAIGN,
            title="全场 8 折",
            body="满 300 减 50，折上 100%",
        )
    assert list(Message.objects.order_by("pk").values_list("title", "body")) == [
        ("您的会员等级调整为金卡", "积分即将过期"),
        ("全场 8 折", "满 300 减 50，折上 100%"),
    ]
