"""The coupon desk and the bulk issue jobs stay within the staff member's data scope: a desk
sees the coupons of its members and those usable at its stores, and redeems only at its own
store; a job is seen by its creator, by staff whose scope covers the creator's store, by HQ."""

import pytest

from core.roles import Role
from coupons.models import Coupon, IssueJob
from tests.conftest import once
from tests.members.factories import MemberFactory
from tests.stores.factories import StoreFactory

DESK = "/backoffice/coupons/desk/"
REDEEM = "/backoffice/coupons/desk/redeem/"


@pytest.fixture
def other_store(db):
    return StoreFactory(code="S02", name="天一店")


@pytest.fixture
def desk(client, staff_user, store):
    client.force_login(staff_user(Role.CUSTOMER_SERVICE, scope="store", store=store))
    return client


def test_a_coupon_only_for_another_store_of_another_stores_member_is_unknown_here(
    desk, make_coupon, other_store
):
    theirs = MemberFactory(home_store=other_store)
    coupon = make_coupon(theirs, kind="gift", gift_name="雨伞")
    coupon.template.stores.add(other_store)

    assert desk.get(DESK, {"code": coupon.code}).status_code == 404
    redeemed = desk.post(REDEEM, {**once(), "code": coupon.code}, follow=True)
    assert "查无此券" in redeemed.content.decode()
    assert Coupon.objects.get(pk=coupon.pk).status == "unused"


def test_a_coupon_usable_everywhere_is_redeemed_at_my_store_for_any_member(
    desk, make_coupon, store, other_store
):
    visitor = MemberFactory(home_store=other_store)
    coupon = make_coupon(visitor, kind="gift", gift_name="雨伞")

    assert desk.get(DESK, {"code": coupon.code}).status_code == 200
    desk.post(REDEEM, {**once(), "code": coupon.code, "store": other_store.pk})
    coupon.refresh_from_db()
    assert (coupon.status, coupon.used_store) == ("used", store)  # always at my own desk


def test_a_coupon_usable_at_my_store_is_found_for_a_member_of_another_store(
    desk, make_coupon, store, other_store
):
    visitor = MemberFactory(home_store=other_store)
    coupon = make_coupon(visitor, kind="gift", gift_name="雨伞")
    coupon.template.stores.add(store)
    assert desk.get(DESK, {"code": coupon.code}).status_code == 200


def test_hq_looks_up_any_coupon(client, staff_user, make_coupon, other_store):
    client.force_login(staff_user(Role.HQ_ADMIN))
    coupon = make_coupon(MemberFactory(home_store=other_store), kind="gift", gift_name="伞")
    coupon.template.stores.add(other_store)
    assert client.get(DESK, {"code": coupon.code}).status_code == 200


def _job(make_template, campaign, creator):
    return IssueJob.objects.create(
        template=make_template(f"J{IssueJob.objects.count()}"),
        campaign=campaign,
        member_ids=[1],
        total=1,
        created_by=creator,
    )


def test_jobs_are_seen_by_their_creator_staff_covering_them_and_hq(
    client, staff_user, make_template, campaign, store, other_store
):
    mine_creator = staff_user(Role.MARKETING, scope="store", store=store)
    theirs_creator = staff_user(Role.MARKETING, scope="store", store=other_store)
    hq_creator = staff_user(Role.HQ_ADMIN)
    mine = _job(make_template, campaign, mine_creator)
    theirs = _job(make_template, campaign, theirs_creator)
    from_hq = _job(make_template, campaign, hq_creator)

    colleague = staff_user(Role.MARKETING, scope="store", store=store)
    client.force_login(colleague)
    assert client.get(f"/backoffice/coupons/send/jobs/{mine.pk}/").status_code == 200
    assert client.get(f"/backoffice/coupons/send/jobs/{theirs.pk}/").status_code == 404
    assert client.get(f"/backoffice/coupons/send/jobs/{from_hq.pk}/").status_code == 404
    listed = client.get("/backoffice/coupons/send/").context["jobs"]
    assert {job.pk for job in listed} == {mine.pk}

    client.force_login(theirs_creator)
    assert client.get(f"/backoffice/coupons/send/jobs/{theirs.pk}/").status_code == 200
    assert client.get(f"/backoffice/coupons/send/jobs/{mine.pk}/").status_code == 404

    client.force_login(staff_user(Role.MARKETING, scope="region", region=store.region))
    listed = client.get("/backoffice/coupons/send/").context["jobs"]
    assert mine.pk in {job.pk for job in listed} and from_hq.pk not in {job.pk for job in listed}

    client.force_login(staff_user(Role.HQ_ADMIN))
    listed = client.get("/backoffice/coupons/send/").context["jobs"]
    assert {job.pk for job in listed} == {mine.pk, theirs.pk, from_hq.pk}
    assert client.get(f"/backoffice/coupons/send/jobs/{theirs.pk}/").status_code == 200
