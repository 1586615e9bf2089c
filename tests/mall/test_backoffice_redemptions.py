"""Redemptions in the back office: the list (filters, scope, CSV), a redemption and its
actions (verify, ship, deliver, cancel), the desk (兑换核销: verify by code, record on a
member's behalf), the member 360 panel and the statistics section."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.statistics import StatisticsFilter, statistics_sections
from core.models import AuditLog
from core.roles import Role
from loyalty.ledger import points_balance
from mall.models import Redemption
from mall.panels import redemptions_member_panel
from mall.redeeming import goods_redeem
from mall.statistics import top_redeemed_goods
from members.models import Member
from members.panels import member_panels
from tests.conftest import once
from tests.mall.conftest import give_points
from tests.members.factories import MemberFactory
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db

LIST = "/backoffice/mall/redemptions/"
DESK = "/backoffice/mall/desk/"


def pickup(member, goods, key="k1", **kwargs):
    return goods_redeem(
        member=member, goods=goods, delivery="pickup", idempotency_key=key, **kwargs
    )


@pytest.fixture
def other_store(db):
    return StoreFactory(code="S02", name="西湖店")


@pytest.fixture
def desk_user(staff_user, store):
    return staff_user(Role.CUSTOMER_SERVICE, scope="store", store=store)


@pytest.fixture
def marketing(staff_user):
    return staff_user(Role.MARKETING)


@pytest.fixture
def as_desk(client, desk_user):
    client.force_login(desk_user)
    return client


@pytest.fixture
def as_marketing(client, marketing):
    client.force_login(marketing)
    return client


def test_the_urls():
    assert reverse("backoffice:mall_redemption_list") == LIST
    assert reverse("backoffice:mall_redemption_detail", args=[4]) == f"{LIST}4/"
    assert reverse("backoffice:mall_desk") == DESK


# --- The list --------------------------------------------------------------------------------


def test_the_list_keeps_to_the_users_stores(as_desk, rich, make_goods, other_store):
    here = pickup(rich, make_goods(name="保温杯"))
    elsewhere_member = MemberFactory(home_store=other_store)
    give_points(elsewhere_member, 500)
    there = pickup(elsewhere_member, make_goods(name="帆布袋", stores=[other_store]), key="k2")

    codes = [r.code for r in as_desk.get(LIST).context["page"]]

    assert codes == [here.code]
    assert as_desk.get(f"{LIST}{there.pk}/").status_code == 404
    assert as_desk.get(f"{LIST}{here.pk}/").status_code == 200


def test_the_list_filters(as_marketing, rich, make_goods, other_store):
    cup = make_goods(name="保温杯", offers_express=True, stores=[other_store])
    first = pickup(rich, cup, pickup_store=other_store)
    sent = goods_redeem(member=rich, goods=cup, delivery="express", idempotency_key="e")
    Redemption.objects.filter(pk=sent.pk).update(created_at=timezone.now() - timedelta(days=10))
    someone = MemberFactory(phone="13700001234", card_no="VIP-0001")
    give_points(someone, 300)
    theirs = pickup(someone, cup, key="s", pickup_store=other_store)

    def codes(**params):
        response = as_marketing.get(LIST, params)
        assert response.status_code == 200
        return {r.code for r in response.context["page"]}

    assert codes() == {first.code, sent.code, theirs.code}
    assert codes(status="pending_shipment") == {sent.code}
    assert codes(delivery="pickup") == {first.code, theirs.code}
    assert codes(store=other_store.pk) == {first.code, theirs.code}
    today = timezone.localdate()
    assert codes(start=(today - timedelta(days=1)).isoformat()) == {first.code, theirs.code}
    assert codes(end=(today - timedelta(days=5)).isoformat()) == {sent.code}
    assert codes(q=f" {first.code.lower()[:4]} {first.code[4:]}") == {first.code}
    assert codes(q="VIP-0001") == {theirs.code}
    assert codes(q="13700001234") == {theirs.code}
    assert codes(q="1370000") == set()  # no partial phone search
    bad = as_marketing.get(LIST, {"start": "2026-12-10", "end": "2026-12-01"})
    assert bad.status_code == 400
    assert as_marketing.get(LIST, {"status": "nonsense"}).status_code == 400


def test_the_csv_is_for_excel_and_defuses_formulas(as_marketing, make_goods, store):
    member = MemberFactory(home_store=store, name="李娜", phone="13900001111")
    give_points(member, 1000)
    pickup(member, make_goods(name="=HYPERLINK(1)"))

    response = as_marketing.get(LIST, {"export": "csv", "status": "pending_pickup"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0][:3] == ["取货码", "兑换时间", "商品"]
    assert rows[1][2] == "'=HYPERLINK(1)"
    assert rows[1][9] == "139****1111" and "13900001111" not in body
    assert len(rows) == 2
    assert as_marketing.get(LIST, {"export": "csv", "store": "999999"}).status_code == 400


def test_staff_without_the_permission_see_no_redemptions(client, staff_user):
    client.force_login(staff_user(Role.ANALYST))
    assert client.get(LIST).status_code == 403
    assert client.get(DESK).status_code == 403


# --- A redemption and its actions ------------------------------------------------------------


def test_the_detail_shows_member_masked_goods_and_history(as_marketing, store, make_goods):
    member = MemberFactory(home_store=store, name="李娜", phone="13900001111")
    give_points(member, 1000)
    redemption = pickup(member, make_goods())

    page = as_marketing.get(f"{LIST}{redemption.pk}/")

    html = page.content.decode()
    assert "李*" in html and "139****1111" in html and "13900001111" not in html
    assert "待领取" in html and redemption.code in html
    assert set(page.context["forms"]) == {"verify", "cancel"}


def test_the_desk_role_may_verify_but_not_cancel(as_desk, rich, goods):
    redemption = pickup(rich, goods)
    page = as_desk.get(f"{LIST}{redemption.pk}/")
    assert set(page.context["forms"]) == {"verify"}

    refused = as_desk.post(f"{LIST}{redemption.pk}/cancel/", {"cancel-reason": "x"} | once())
    assert refused.status_code == 403
    done = as_desk.post(f"{LIST}{redemption.pk}/verify/", once())
    assert done.status_code == 302
    redemption.refresh_from_db()
    assert redemption.status == "picked_up"


def test_cancel_gives_the_points_and_the_stock_back(as_marketing, rich, make_goods, marketing):
    goods = make_goods(stock=5)
    redemption = pickup(rich, goods, qty=2)
    assert points_balance(member_id=rich.pk) == 800
    url = f"{LIST}{redemption.pk}/cancel/"

    empty = as_marketing.post(url, {"cancel-reason": ""} | once())
    assert empty.status_code == 400 and "cancel" in empty.context["forms"]

    response = as_marketing.post(url, {"cancel-reason": "会员不要了"} | once())

    assert response.status_code == 302
    redemption.refresh_from_db()
    goods.refresh_from_db()
    assert (redemption.status, redemption.cancel_reason) == ("cancelled", "会员不要了")
    assert redemption.cancelled_by == marketing
    assert points_balance(member_id=rich.pk) == 1000 and goods.stock == 5
    again = as_marketing.post(url, {"cancel-reason": "再来一次"} | once())
    assert again.status_code == 409 and "已不能取消" in again.content.decode()
    assert points_balance(member_id=rich.pk) == 1000


def test_an_action_the_status_no_longer_allows_is_refused_with_the_reason(
    as_marketing, rich, goods, desk_user
):
    redemption = pickup(rich, goods)
    page = as_marketing.get(f"{LIST}{redemption.pk}/")  # the form is on the page
    assert "cancel" in page.context["forms"]
    from mall.redeeming import redemption_verify

    redemption_verify(code=redemption.code, actor=desk_user)  # meanwhile, at the desk

    response = as_marketing.post(f"{LIST}{redemption.pk}/verify/", once())

    assert response.status_code == 409
    assert "不是待领取" in response.content.decode()


def test_shipping_and_delivery_of_an_express_redemption(as_marketing, rich, make_goods):
    goods = make_goods(offers_pickup=False, offers_express=True, stores=[])
    redemption = goods_redeem(member=rich, goods=goods, delivery="express", idempotency_key="x")
    url = f"{LIST}{redemption.pk}/"
    assert set(as_marketing.get(url).context["forms"]) == {"ship", "cancel"}

    missing = as_marketing.post(f"{url}ship/", {"ship-carrier": "顺丰"} | once())
    assert missing.status_code == 400
    too_long = as_marketing.post(
        f"{url}ship/", {"ship-carrier": "顺丰", "ship-tracking_no": "9" * 65} | once()
    )
    assert too_long.status_code == 400
    early = as_marketing.post(f"{url}deliver/", once())
    assert early.status_code == 409 and "deliver" in early.context["forms"]

    shipped = as_marketing.post(
        f"{url}ship/", {"ship-carrier": "顺丰", "ship-tracking_no": "SF1234567890"} | once()
    )
    assert shipped.status_code == 302
    redemption.refresh_from_db()
    assert (redemption.status, redemption.tracking_no) == ("shipped", "SF1234567890")
    assert set(as_marketing.get(url).context["forms"]) == {"deliver"}

    assert as_marketing.post(f"{url}deliver/", once()).status_code == 302
    redemption.refresh_from_db()
    assert redemption.status == "delivered"
    events = as_marketing.get(url).context["events"]
    assert [e.status for e in events] == ["pending_shipment", "shipped", "delivered"]


def test_unknown_actions_and_redemptions_are_404(as_marketing, rich, goods):
    redemption = pickup(rich, goods)
    assert as_marketing.post(f"{LIST}{redemption.pk}/explode/", once()).status_code == 404
    assert as_marketing.get(f"{LIST}999999/").status_code == 404
    assert as_marketing.get(f"{LIST}{redemption.pk}/verify/").status_code == 405


# --- The desk (兑换核销) ----------------------------------------------------------------------


def test_the_desk_looks_a_code_up_and_hands_it_over(as_desk, store, make_goods):
    member = MemberFactory(home_store=store, name="李娜", phone="13900001111")
    give_points(member, 1000)
    redemption = pickup(member, make_goods(name="保温杯"))
    typed = f" {redemption.code[:5].lower()} {redemption.code[5:]} "

    page = as_desk.get(DESK, {"code": typed})

    html = page.content.decode()
    assert page.status_code == 200
    assert "保温杯" in html and "139****1111" in html and "13900001111" not in html
    assert "确认核销并交付" in html

    done = as_desk.post("/backoffice/mall/desk/verify/", {"code": typed} | once())

    assert done.status_code == 302
    assert done["Location"] == f"{DESK}?code={redemption.code}&done=1"
    redemption.refresh_from_db()
    assert redemption.status == "picked_up"
    after = as_desk.get(done["Location"]).content.decode()
    assert "已领取" in after and "核销成功" in after and "确认核销并交付" not in after


def test_the_desk_says_why_a_code_cannot_be_handed_over(
    as_desk, rich, make_goods, other_store, marketing
):
    goods = make_goods(stores=[])
    elsewhere = pickup(rich, goods, key="a", pickup_store=other_store)
    picked = pickup(rich, goods, key="b")
    cancelled = pickup(rich, goods, key="c")
    from mall.redeeming import redemption_cancel, redemption_verify

    redemption_cancel(redemption=cancelled, actor=marketing, reason="缺货")
    redemption_verify(code=picked.code, actor=marketing)

    def refusal(code):
        response = as_desk.get(DESK, {"code": code})
        return response.status_code, " ".join(str(x) for x in [response.context["lookup"].refusal])

    assert refusal(elsewhere.code) == (404, "在您的门店未找到该取货码的兑换或奖品。")
    assert refusal("ZZZZZZZZZZ") == (404, "在您的门店未找到该取货码的兑换或奖品。")
    status, text = refusal(picked.code)
    assert status == 200 and "已于" in text and "领取" in text
    status, text = refusal(cancelled.code.lower())
    assert status == 200 and "已取消" in text and "缺货" in text
    assert refusal("AB")[1] == "请输入 10 位取货码。"

    response = as_desk.post("/backoffice/mall/desk/verify/", {"code": picked.code} | once())
    assert response.status_code == 302
    assert "未能核销" in as_desk.get(response["Location"]).content.decode()
    response = as_desk.post("/backoffice/mall/desk/verify/", {"code": elsewhere.code} | once())
    elsewhere.refresh_from_db()
    assert elsewhere.status == "pending_pickup"
    assert as_desk.post("/backoffice/mall/desk/verify/", {"code": ""} | once()).status_code == 400


def test_the_desk_records_a_redemption_for_a_member(as_desk, store, make_goods, desk_user):
    member = MemberFactory(home_store=store, phone="13600002222", card_no="C-778")
    give_points(member, 600)
    goods = make_goods(name="帆布袋", points_price=200, stock=4)
    token = once()
    data = {"member": "13600002222", "goods": goods.pk, "qty": "2", "store": store.pk}

    response = as_desk.post("/backoffice/mall/desk/record/", data | token)

    assert response.status_code == 302
    redemption = Redemption.objects.get(member=member)
    assert (redemption.status, redemption.qty, redemption.at_desk_by) == ("picked_up", 2, desk_user)
    assert points_balance(member_id=member.pk) == 200
    assert AuditLog.objects.filter(action="mall.redemption.at_desk", actor=desk_user).exists()
    # the same form sent twice (a double click) redeems once
    assert as_desk.post("/backoffice/mall/desk/record/", data | token).status_code == 302
    assert Redemption.objects.filter(member=member).count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"member": "13600009999"}, "member"),
        ({"member": ""}, "member"),
        ({"qty": "0"}, "qty"),
        ({"qty": "abc"}, "qty"),
        ({"goods": "999999"}, "goods"),
        ({"store": "other"}, "store"),
    ],
)
def test_the_desk_record_form_refuses_bad_input(
    as_desk, store, make_goods, other_store, change, field
):
    member = MemberFactory(home_store=store, phone="13600002222")
    give_points(member, 600)
    goods = make_goods(points_price=200)
    data = {"member": "13600002222", "goods": goods.pk, "qty": "1", "store": store.pk} | change
    if data["store"] == "other":
        data["store"] = other_store.pk

    response = as_desk.post("/backoffice/mall/desk/record/", data | once())

    assert response.status_code == 400
    assert field in response.context["record_form"].errors
    assert not Redemption.objects.exists()


def test_the_desk_record_shows_the_services_refusal(as_desk, store, make_goods):
    member = MemberFactory(home_store=store, phone="13600002222")
    give_points(member, 100)
    goods = make_goods(points_price=200)
    closed = MemberFactory(home_store=store, phone="13600003333", status=Member.Status.CLOSED)
    give_points(closed, 1000)

    poor = as_desk.post(
        "/backoffice/mall/desk/record/",
        {"member": "13600002222", "goods": goods.pk, "qty": "1", "store": store.pk} | once(),
    )
    assert poor.status_code == 409
    assert poor.context["record_form"].non_field_errors()
    gone = as_desk.post(
        "/backoffice/mall/desk/record/",
        {"member": "13600003333", "goods": goods.pk, "qty": "1", "store": store.pk} | once(),
    )
    assert gone.status_code == 400
    assert not Redemption.objects.exists()
    goods.refresh_from_db()
    assert goods.stock == 10


def test_a_store_manager_of_another_store_cannot_hand_it_over(
    client, staff_user, rich, goods, other_store
):
    redemption = pickup(rich, goods)
    client.force_login(staff_user(Role.STORE_MANAGER, scope="store", store=other_store))

    assert client.get(DESK, {"code": redemption.code}).status_code == 404
    client.post("/backoffice/mall/desk/verify/", {"code": redemption.code} | once())
    redemption.refresh_from_db()
    assert redemption.status == "pending_pickup"


# --- Member 360 and statistics ---------------------------------------------------------------


def test_the_member_360_panel_lists_redemptions_in_scope(
    rich, goods, desk_user, marketing, staff_user, other_store
):
    redemption = pickup(rich, goods)

    panel = redemptions_member_panel(member=rich, user=desk_user)

    assert panel.context["total"] == 1 and panel.context["redemptions"][0] == redemption
    assert any(
        p.template.endswith("_redemptions_member.html")
        for p in member_panels(member=rich, user=marketing)
    )
    elsewhere = staff_user(Role.STORE_MANAGER, scope="store", store=other_store)
    assert redemptions_member_panel(member=rich, user=elsewhere) is None
    assert redemptions_member_panel(member=rich, user=staff_user(Role.ANALYST)) is None


def test_the_member_page_shows_the_panel(client, rich, goods, marketing, staff_user):
    redemption = pickup(rich, goods)
    client.force_login(staff_user(Role.HQ_ADMIN))
    html = client.get(f"/backoffice/members/{rich.pk}/").content.decode()
    assert 'data-panel="redemptions"' in html and redemption.code in html


def test_top_redeemed_goods_counts_in_the_dates_and_stores(rich, make_goods, other_store, store):
    cup, bag = make_goods(name="保温杯"), make_goods(name="帆布袋", stores=[store, other_store])
    pickup(rich, cup, key="1")
    pickup(rich, bag, key="2", qty=2)
    pickup(rich, bag, key="3")
    pickup(rich, bag, key="4", pickup_store=other_store)
    old = pickup(rich, cup, key="5")
    Redemption.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    today = timezone.localdate()

    section = top_redeemed_goods(StatisticsFilter(today - timedelta(days=7), today, (store.pk,)))

    assert section["title"] == "热门兑换商品"
    assert section["rows"] == [["帆布袋", 2, 3, 300], ["保温杯", 1, 1, 100]]
    everywhere = top_redeemed_goods(StatisticsFilter(today - timedelta(days=7), today, None))
    assert everywhere["rows"][0] == ["帆布袋", 3, 4, 400]
    assert top_redeemed_goods(StatisticsFilter(date(2020, 1, 1), date(2020, 1, 2), None)) is None
    assert top_redeemed_goods in statistics_sections()


def test_the_address_is_shown_in_full_only_to_ship_it_and_the_read_is_audited(
    as_marketing, rich, make_goods, marketing, desk_user, client
):
    goods = make_goods(offers_pickup=False, offers_express=True, stores=[])
    redemption = goods_redeem(member=rich, goods=goods, delivery="express", idempotency_key="x")
    address = redemption.address
    url = f"{LIST}{redemption.pk}/"

    html = as_marketing.get(url).content.decode()
    assert address["phone"] in html and address["detail"] in html
    assert (
        AuditLog.objects.filter(action="mall.redemption.address_read", actor=marketing).count() == 1
    )

    as_marketing.post(f"{url}ship/", {"ship-carrier": "顺丰", "ship-tracking_no": "SF1"} | once())
    html = as_marketing.get(url).content.decode()
    assert address["phone"] not in html and address["detail"] not in html
    assert address["phone"][-4:] in html
    assert AuditLog.objects.filter(action="mall.redemption.address_read").count() == 1


def test_the_statistics_page_shows_the_top_redeemed_goods(client, staff_user, rich, make_goods):
    pickup(rich, make_goods(name="保温杯"))
    client.force_login(staff_user(Role.ANALYST))
    today = timezone.localdate()
    page = client.get(
        "/backoffice/analytics/statistics/",
        {"start": (today - timedelta(days=3)).isoformat(), "end": today.isoformat()},
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "热门兑换商品" in html and "保温杯" in html
