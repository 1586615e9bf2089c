"""发送优惠券: to listed cards at once (all or nothing on bad numbers), to a group through a
job with progress; who may send."""

import re

import pytest

from core.models import AuditLog
from core.roles import Role
from coupons.models import Campaign, Coupon, IssueJob
from loyalty.models import PointsAccount, Tier
from tests.conftest import once
from tests.stores.factories import StoreFactory

SEND = "/backoffice/coupons/send/"


@pytest.fixture
def marketing(client, staff_user):
    client.force_login(staff_user(Role.MARKETING))
    return client


def form(template, token=None, **fields):
    data = {
        "template": template.pk,
        "campaign": "",
        "campaign_name": "双十一预热",
        "audience": "cards",
        "cards": "",
        "tier": "",
        "home_store": "",
        "once_token": token or once()["once_token"],
    }
    data.update(fields)
    return data


def test_the_page_offers_active_templates_and_a_fresh_token(marketing, make_template):
    make_template("LIVE", name="满减活动券")
    make_template("OFF", name="停用的券", is_active=False)

    html = marketing.get(SEND).content.decode()
    tokens = re.findall(r'name="once_token" value="([\w-]{43})"', html)

    assert "满减活动券" in html and "停用的券" not in html
    assert (
        len(tokens) == 1
        and tokens[0]
        != re.findall(
            r'name="once_token" value="([\w-]{43})"', marketing.get(SEND).content.decode()
        )[0]
    )


def test_cards_get_their_coupons_at_once_in_a_new_campaign(
    marketing, make_template, member_factory
):
    template = make_template()
    first, second = member_factory(), member_factory()

    response = marketing.post(
        SEND, form(template, cards=f"{first.card_no}\n {second.card_no} ,{first.card_no}")
    )

    assert response.status_code == 302
    campaign = Campaign.objects.get(name="双十一预热")
    assert campaign.channel == "manual"
    assert sorted(Coupon.objects.filter(campaign=campaign).values_list("member_id", flat=True)) == (
        sorted([first.pk, second.pk])
    )
    log = AuditLog.objects.get(action="coupons.coupons.sent")
    assert log.data == {"template": template.code, "members": 2, "issued": 2}
    assert "已向 2 位会员发放" in marketing.get(SEND).content.decode()


def test_a_bad_card_number_is_a_form_error_and_nothing_is_issued(
    marketing, make_template, member_factory
):
    template = make_template()
    good = member_factory()

    response = marketing.post(SEND, form(template, cards=f"{good.card_no}\n880000000000"))

    assert response.status_code == 400
    assert "880000000000" in response.content.decode()
    assert "没有这些卡号的有效会员" in response.content.decode()
    assert not Coupon.objects.exists()
    assert not Campaign.objects.filter(name="双十一预热").exists()


def test_cards_outside_my_stores_are_bad_cards(client, staff_user, make_template, member_factory):
    mine, theirs = StoreFactory(code="S01"), StoreFactory(code="S02")
    client.force_login(staff_user(Role.MARKETING, scope="store", store=mine))
    other = member_factory(home_store=theirs)

    response = client.post(SEND, form(make_template(), cards=other.card_no))

    assert response.status_code == 400 and other.card_no in response.content.decode()
    assert not Coupon.objects.exists()


def test_sending_the_same_form_twice_issues_once(marketing, make_template, member_factory):
    template = make_template(per_member_limit=0)
    member = member_factory()
    data = form(template, token="a" * 32, cards=member.card_no)

    first = marketing.post(SEND, data)
    again = marketing.post(SEND, data)

    assert Coupon.objects.filter(member=member).count() == 1
    assert again["Location"] == first["Location"]
    assert "已向 1 位会员发放" in marketing.get(again["Location"]).content.decode()


def test_the_service_refuses_a_form_sent_again_and_audits_once(
    make_template, campaign, member_factory, staff_user
):
    from coupons.issuing import CouponsAlreadySent, coupons_send

    template, member, actor = (
        make_template(per_member_limit=0),
        member_factory(),
        staff_user(Role.MARKETING),
    )
    send = {"template": template, "campaign": campaign, "member_ids": [member.pk], "actor": actor}
    assert len(coupons_send(key_prefix="send:form-1", **send)) == 1

    with pytest.raises(CouponsAlreadySent) as again:
        coupons_send(key_prefix="send:form-1", **send)

    assert again.value.message == "这批优惠券已经发送过了。"
    assert Coupon.objects.filter(member=member).count() == 1
    assert AuditLog.objects.filter(action="coupons.coupons.sent").count() == 1
    assert len(coupons_send(key_prefix="send:form-2", **send)) == 1  # another form sends again


def test_members_at_their_limit_are_counted_not_issued(
    marketing, make_template, member_factory, campaign
):
    template = make_template(per_member_limit=1)
    holder, fresh = member_factory(), member_factory()
    Coupon.objects.create(
        code="HELD000000000001",
        template=template,
        campaign=campaign,
        member=holder,
        valid_from="2026-01-01T00:00+08:00",
        valid_until="2099-01-01T00:00+08:00",
    )

    response = marketing.post(SEND, form(template, cards=f"{holder.card_no}\n{fresh.card_no}"))

    assert Coupon.objects.filter(member=holder).count() == 1
    assert Coupon.objects.filter(member=fresh).count() == 1
    assert "已向 1 位会员发放。1 位未发放" in marketing.get(response["Location"]).content.decode()


def test_an_existing_campaign_can_be_chosen(marketing, make_template, member_factory, campaign):
    member = member_factory()
    marketing.post(
        SEND, form(make_template(), campaign=campaign.pk, campaign_name="", cards=member.card_no)
    )
    assert Coupon.objects.get(member=member).campaign == campaign


def test_a_campaign_is_needed(marketing, make_template, member_factory):
    response = marketing.post(
        SEND, form(make_template(), campaign_name=" ", cards=member_factory().card_no)
    )
    assert response.status_code == 400 and not Coupon.objects.exists()


def test_a_group_of_all_my_members_goes_through_a_job_with_progress(
    client,
    staff_user,
    make_template,
    member_factory,
    django_capture_on_commit_callbacks,
):
    mine, theirs = StoreFactory(code="S01"), StoreFactory(code="S02")
    client.force_login(staff_user(Role.MARKETING, scope="store", store=mine))
    in_scope = [member_factory(home_store=mine) for _ in range(3)]
    member_factory(home_store=theirs)
    closed = member_factory(home_store=mine, status="closed")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(SEND, form(make_template(), audience="scope"))

    job = IssueJob.objects.get()
    assert len(callbacks) == 1  # the task is queued after commit, not before
    assert response["Location"] == f"/backoffice/coupons/send/jobs/{job.pk}/"
    assert job.member_ids == sorted(m.pk for m in in_scope) and closed.pk not in job.member_ids
    assert (job.status, job.total, job.processed, job.issued) == ("done", 3, 3, 3)
    assert job.campaign.channel == "group"
    assert set(Coupon.objects.values_list("member_id", flat=True)) == {m.pk for m in in_scope}
    page = client.get(response["Location"]).content.decode()
    assert 'data-percent="100"' in page and "已完成" in page
    assert 'http-equiv="refresh"' not in page


def test_a_running_job_page_refreshes_itself(client, staff_user, make_template, campaign):
    client.force_login(staff_user(Role.MARKETING))
    job = IssueJob.objects.create(
        template=make_template(),
        campaign=campaign,
        member_ids=list(range(1, 11)),
        total=10,
        processed=4,
        issued=3,
        skipped=1,
        status="running",
    )
    page = client.get(f"/backoffice/coupons/send/jobs/{job.pk}/").content.decode()
    assert 'http-equiv="refresh"' in page
    assert 'data-percent="40"' in page and "已处理 4 / 10 位会员" in page and "发放中" in page


def test_a_group_by_tier_and_home_store(
    marketing, make_template, member_factory, django_capture_on_commit_callbacks
):
    s01, s02 = StoreFactory(code="S01"), StoreFactory(code="S02")
    silver = Tier.objects.get(code="silver")
    wanted = member_factory(home_store=s01)
    PointsAccount.objects.create(member=wanted, tier=silver)
    other_tier = member_factory(home_store=s01)
    PointsAccount.objects.create(member=other_tier, tier=Tier.objects.get(code="regular"))
    other_store = member_factory(home_store=s02)
    PointsAccount.objects.create(member=other_store, tier=silver)

    with django_capture_on_commit_callbacks(execute=True):
        marketing.post(
            SEND,
            form(make_template(), audience="filter", tier=silver.pk, home_store=s01.pk),
        )

    assert IssueJob.objects.get().member_ids == [wanted.pk]
    assert list(Coupon.objects.values_list("member_id", flat=True)) == [wanted.pk]


def test_the_entry_tier_includes_members_without_an_account(
    marketing, make_template, member_factory, django_capture_on_commit_callbacks
):
    no_account = member_factory()
    regular = member_factory()
    PointsAccount.objects.create(member=regular, tier=Tier.objects.get(code="regular"))
    gold = member_factory()
    PointsAccount.objects.create(member=gold, tier=Tier.objects.get(code="gold"))

    with django_capture_on_commit_callbacks(execute=True):
        marketing.post(
            SEND,
            form(make_template(), audience="filter", tier=Tier.objects.get(code="regular").pk),
        )

    assert sorted(IssueJob.objects.get().member_ids) == sorted([no_account.pk, regular.pk])


def test_a_filter_needs_a_tier_or_a_store(marketing, make_template, member_factory):
    member_factory()
    response = marketing.post(SEND, form(make_template(), audience="filter"))
    assert response.status_code == 400 and not IssueJob.objects.exists()


@pytest.mark.parametrize("role", [Role.ANALYST, Role.CUSTOMER_SERVICE, Role.STORE_MANAGER])
def test_only_marketing_and_hq_send_coupons(
    client, staff_user, role, make_template, member_factory
):
    member = member_factory()
    client.force_login(staff_user(role))

    assert client.get(SEND).status_code == 403
    assert client.post(SEND, form(make_template(), cards=member.card_no)).status_code == 403
    assert not Coupon.objects.exists()
    assert "/backoffice/coupons/send/" not in client.get("/backoffice/").content.decode()


@pytest.mark.parametrize("role", [Role.MARKETING, Role.HQ_ADMIN])
def test_marketing_and_hq_find_the_page_in_the_menu(client, staff_user, role):
    client.force_login(staff_user(role))
    assert client.get(SEND).status_code == 200
    assert 'href="/backoffice/coupons/send/"' in client.get("/backoffice/").content.decode()
