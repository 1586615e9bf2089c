"""Every member has a home store (the registration channel's, else the first store they buy
in), and a store's staff find the members who bought in their store."""

import importlib
import io
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone

from core.roles import Role
from loyalty.models import Receipt
from loyalty.services import claim_approve
from members import models as member_models
from members import scoping
from members.models import Member, StaffProfile
from tests.conftest import authorize, sale, send_and_bind, start
from tests.loyalty.test_claims import _claim
from tests.members.factories import MemberFactory, StaffFactory
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def s02(db):
    return StoreFactory(code="S02", name="城西店", region__code="RW")


@pytest.fixture
def wechat_member(db):
    """A member who joined through the WeChat menu: no home store yet."""
    return MemberFactory(home_store=None, region=None, channel="wechat_menu")


def join(client, fake_wechat, sms_outbox, channel, phone):
    client.get(f"/m/register/?channel={channel}")
    client.get("/m/wechat/callback/", authorize(fake_wechat, start(client, "/m/card/")))
    send_and_bind(client, sms_outbox, phone)
    return Member.objects.get(phone=phone)


def test_joining_through_a_stores_channel_makes_it_the_home_store(
    client, fake_wechat, sms_outbox, store
):
    member_models.RegistrationChannel.objects.create(
        code="s01_desk", name="武林店服务台", store=store
    )
    member_models.RegistrationChannel.objects.create(code="wechat_menu", name="公众号菜单")

    member = join(client, fake_wechat, sms_outbox, "s01_desk", "13800001234")

    assert (member.home_store, member.region, member.channel) == (store, store.region, "s01_desk")


def test_a_mall_wide_channel_leaves_the_home_store_to_the_first_purchase(
    client, fake_wechat, sms_outbox, store, s02, pos
):
    member_models.RegistrationChannel.objects.create(code="wechat_menu", name="公众号菜单")
    member = join(client, fake_wechat, sms_outbox, "wechat_menu", "13800001234")
    assert member.home_store is None

    assert pos.receipt(sale(member)).status_code == 201

    member.refresh_from_db()
    assert (member.home_store, member.region) == (store, store.region)


def test_the_first_receipt_sets_the_home_store_and_later_ones_leave_it(
    wechat_member, store, s02, pos
):
    assert pos.receipt(sale(wechat_member, receipt_no="R-1")).status_code == 201
    wechat_member.refresh_from_db()
    assert wechat_member.home_store == store

    pos_s02 = _till(s02, pos.client)
    body = sale(wechat_member, receipt_no="R-2") | {"store": "S02"}
    assert pos_s02.receipt(body).status_code == 201
    wechat_member.refresh_from_db()
    assert wechat_member.home_store == store


def _till(store, client):
    from pos.services import pos_terminal_create
    from tests.conftest import PosClient

    return PosClient(client, pos_terminal_create(store=store, name=f"{store.code} 收银"))


def test_an_approved_claim_sets_the_home_store(wechat_member, store, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    reviewer = StaffFactory(user__role=Role.CUSTOMER_SERVICE, scope="store", store=store).user

    claim_approve(claim=_claim(wechat_member, store), actor=reviewer)

    wechat_member.refresh_from_db()
    assert wechat_member.home_store == store


def test_import_receipts_sets_the_home_store_from_the_first_sale(
    tmp_path, wechat_member, store, s02
):
    early = (timezone.localtime() - timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S")
    late = (timezone.localtime() - timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S")
    header = (
        "store,pos_no,receipt_no,occurred_at,card_no,sku,name,spec,brand,category,qty,"
        "amount_fen,non_merchandise,refund_of"
    )
    rows = [
        f"S01,P03,I-1,{late},{wechat_member.card_no},,连衣裙,,,女装,1,10000,0,",
        f"S02,P01,I-2,{early},{wechat_member.card_no},,衬衫,,,女装,1,10000,0,",
        f"S01,P03,I-3,{early},NEW-0001,,连衣裙,,,女装,1,10000,0,",
        f"S02,P01,I-4,{late},NEW-0001,,衬衫,,,女装,1,10000,0,",
    ]
    path = tmp_path / "receipts.csv"
    path.write_text("\n".join([header, *rows, ""]), encoding="utf-8")
    err = io.StringIO()

    call_command("import_receipts", str(path), "--create-members", stdout=io.StringIO(), stderr=err)

    assert err.getvalue() == ""
    wechat_member.refresh_from_db()
    assert (wechat_member.home_store, wechat_member.region) == (s02, s02.region)
    created = Member.objects.get(card_no="NEW-0001")
    assert (created.home_store, created.region) == (store, store.region)


def test_the_backfill_gives_members_on_file_their_first_sales_store(store, s02):
    bought = MemberFactory(home_store=None, region=None)
    never = MemberFactory(home_store=None, region=None)
    settled = MemberFactory(home_store=store)
    for number, (where, minutes, member) in enumerate(
        [(s02, 30, bought), (store, 60, bought), (s02, 10, settled)]
    ):
        Receipt.objects.create(
            store=where,
            pos_no="P01",
            receipt_no=f"B-{number}",
            occurred_at=timezone.now() - timedelta(days=minutes),
            member=member,
            kind=Receipt.Kind.SALE,
            division="department",
            total_fen=100,
        )
    migration = importlib.import_module("loyalty.migrations.0008_member_home_store_backfill")

    migration.backfill(apps, None)

    for member in (bought, never, settled):
        member.refresh_from_db()
    assert (bought.home_store, bought.region) == (store, store.region)  # 60 days ago
    assert never.home_store is None
    assert settled.home_store == store


# --- Store-scoped staff -----------------------------------------------------------------


@pytest.fixture
def desk_s02(client, s02):
    staff = StaffFactory(user__role=Role.STORE_MANAGER, scope=StaffProfile.Scope.STORE, store=s02)
    client.force_login(staff.user)
    return staff.user


def test_a_stores_staff_find_members_who_bought_there(client, desk_s02, store, s02, pos):
    shopper = MemberFactory(home_store=store, phone="13900001111")
    stranger = MemberFactory(home_store=store, phone="13900002222")
    _till(s02, client).receipt(sale(shopper, receipt_no="S02-1") | {"store": "S02"})
    pos.receipt(sale(stranger, receipt_no="S01-1"))

    found = client.get("/backoffice/members/", {"q": "139 0000 1111"})
    assert list(found.context["page"].object_list) == [shopper]
    assert client.get(f"/backoffice/members/{shopper.pk}/").status_code == 200
    points = client.get("/backoffice/loyalty/points/", {"q": shopper.card_no})
    assert points["Location"] == f"/backoffice/loyalty/members/{shopper.pk}/points/"

    assert not client.get("/backoffice/members/", {"q": "13900002222"}).context["page"].object_list
    assert client.get(f"/backoffice/members/{stranger.pk}/").status_code == 404


def test_the_member_scope_is_home_store_or_a_receipt_in_scope(store, s02, desk_s02):
    home = MemberFactory(home_store=s02)
    bought = MemberFactory(home_store=store)
    elsewhere = MemberFactory(home_store=store)
    Receipt.objects.create(
        store=s02,
        pos_no="P01",
        receipt_no="X-1",
        occurred_at=timezone.now(),
        member=bought,
        kind=Receipt.Kind.SALE,
        division="department",
        total_fen=100,
    )
    Receipt.objects.create(
        store=store,
        pos_no="P01",
        receipt_no="X-2",
        occurred_at=timezone.now(),
        member=elsewhere,
        kind=Receipt.Kind.SALE,
        division="department",
        total_fen=100,
    )

    visible = scoping.scoped_members(Member.objects.all(), user=desk_s02)

    assert set(visible) == {home, bought}
    region = StaffFactory(scope=StaffProfile.Scope.REGION, region=s02.region).user
    assert set(scoping.scoped_members(Member.objects.all(), user=region)) == {home, bought}
    hq = StaffFactory(scope=StaffProfile.Scope.ALL).user
    assert set(scoping.scoped_members(Member.objects.all(), user=hq)) == {home, bought, elsewhere}


def test_the_admin_member_list_uses_the_same_scope(rf, store, s02, desk_s02):
    from django.contrib.admin.sites import site

    from members.admin import MemberAdmin

    bought = MemberFactory(home_store=store)
    MemberFactory(home_store=store)
    Receipt.objects.create(
        store=s02,
        pos_no="P01",
        receipt_no="A-1",
        occurred_at=timezone.now(),
        member=bought,
        division="department",
        total_fen=100,
    )
    request = rf.get("/admin/members/member/")
    request.user = desk_s02

    assert list(MemberAdmin(Member, site).get_queryset(request)) == [bought]
