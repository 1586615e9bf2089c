"""The member 360 (个人资料): the back office's member page with every app's panel, in order,
within a query budget, each panel with the member's figures and only for staff whose
permissions allow it; out of scope is a 404."""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from analytics.models import ClvRun, ClvScore, LifecycleChange, RfmRow
from analytics.services import rfm_snapshot_build
from core.roles import Role
from coupons.issuing import coupon_issue
from coupons.models import Campaign, Coupon, CouponTemplate
from loyalty.ledger import earn_key, points_post
from loyalty.models import PointsAccount, Receipt, ReceiptLine, Tier
from loyalty.tiers import tier_upgrade
from members import panels
from members.models import Interest, MemberProfile, Message
from tests.members.factories import MemberFactory, StaffFactory
from tests.stores.factories import StoreFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
PAGE_BUDGET = 28  # 25 + the feedback tickets panel (slot 900): its scope and its one list;
# + the points-mall redemptions panel (slot 800): its scope and its one list


def _at(day, hour=11):
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI)


@pytest.fixture
def member_360(db, loyalty_defaults):
    """A member with a year of receipts (weekly until two months ago, two lines each, two
    refunds), their points, ten coupons in every state, eight messages (three unread), three
    RFM snapshots (active, then lost) and a predicted value; and two other members so the
    snapshots have a distribution."""
    today = timezone.localdate()
    store = StoreFactory(code="S01", name="武林旗舰店")
    member = MemberFactory(home_store=store, name="王小明", phone="13912345678")
    profile = MemberProfile.objects.create(member=member, education="bachelor")
    profile.interests.set([Interest.objects.get_or_create(name=n)[0] for n in ("美食", "亲子")])
    others = [MemberFactory(home_store=store) for _ in range(2)]
    numbers = iter(range(1, 10_000))

    def receipt(who, day, fen, *, refund_of=None, lines=("连衣裙", "遮阳帽")):
        made = Receipt.objects.create(
            store=store,
            pos_no="P01",
            receipt_no=f"R{next(numbers):05d}",
            occurred_at=_at(day),
            member=who,
            kind=Receipt.Kind.REFUND if refund_of else Receipt.Kind.SALE,
            refund_of=refund_of,
            division="department",
            total_fen=fen,
        )
        for n, name in enumerate(lines, 1):
            ReceiptLine.objects.create(
                receipt=made, line_no=n, name=name, qty=1, amount_fen=fen // len(lines)
            )
        return made

    sales = []
    for week in range(52, 8, -1):  # weekly from a year ago to about two months ago
        day = today - timedelta(days=7 * week)
        sale = receipt(member, day, 20_000 + 100 * week)
        points_post(
            member_id=member.pk,
            kind="earn",
            points=sale.total_fen // 100,
            key=earn_key(receipt_id=sale.pk),
            receipt_id=sale.pk,
        )
        sales.append(sale)
    receipt(member, sales[-1].occurred_at.date() + timedelta(days=2), 5_000, refund_of=sales[-1])
    receipt(member, sales[-3].occurred_at.date() + timedelta(days=1), 3_000, refund_of=sales[-3])
    for n, other in enumerate(others):
        for week in range(20, 0, -(3 + n)):
            receipt(other, today - timedelta(days=7 * week + n), 8_000)
    tier_upgrade(member_id=member.pk)

    template = CouponTemplate.objects.create(
        code="cash10",
        name="十元现金券",
        kind="cash",
        face_value_fen=1000,
        valid_days=30,
        per_member_limit=0,
    )
    campaign = Campaign.objects.create(name="会员日", channel=Campaign.Channel.MANUAL)
    coupons = [coupon_issue(template=template, member=member, campaign=campaign) for _ in range(10)]
    now = timezone.now()
    Coupon.objects.filter(pk__in=[c.pk for c in coupons[:3]]).update(
        status=Coupon.Status.USED, used_at=now
    )
    Coupon.objects.filter(pk__in=[c.pk for c in coupons[3:5]]).update(
        valid_from=now - timedelta(days=31), valid_until=now - timedelta(days=1)
    )
    Coupon.objects.filter(pk=coupons[5].pk).update(status=Coupon.Status.VOIDED, voided_at=now)
    for n in range(8):
        Message.objects.create(
            member=member,
            kind=Message.Kind.SYSTEM,
            title=f"消息{n}",
            body="正文",
            created_at=now - timedelta(days=8 - n),
            read_at=now if n < 5 else None,
        )

    for days_ago in (90, 30, 1):
        rfm_snapshot_build(as_of=today - timedelta(days=days_ago), window_days=365)
    run = ClvRun.objects.create(as_of=today - timedelta(days=1), status="done", is_current=True)
    ClvScore.objects.create(
        run=run,
        member=member,
        frequency=43,
        recency_days=300,
        t_days=365,
        monetary_fen=21_000,
        p_alive=0.42,
        expected_purchases_90d=1.25,
        expected_value_fen=123_456,
    )
    return member


def staff(role, **profile):
    return StaffFactory(user__role=role, **profile).user


def get_page(client, member, user):
    client.force_login(user)
    with translation.override("zh-hans"):
        return client.get(
            reverse("backoffice:member_detail", args=[member.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans"
        )


def shown(html: str) -> list[str]:
    return re.findall(r'data-panel="([a-z-]+)"', html)


def cell(html: str, attribute: str, name: str) -> str:
    match = re.search(rf'{attribute}="{name}"[^>]*>(.*?)</', html, re.S)
    assert match, f"{attribute}={name} not on the page"
    return match.group(1).strip()


def test_the_whole_page_within_the_query_budget(client, member_360, django_assert_max_num_queries):
    user = staff(Role.HQ_ADMIN)
    client.force_login(user)
    with django_assert_max_num_queries(PAGE_BUDGET):
        page = client.get(reverse("backoffice:member_detail", args=[member_360.pk]))
    assert page.status_code == 200
    assert shown(page.content.decode()) == [
        "profile",
        "points",
        "tags",
        "rfm",
        "lifecycle",
        "predicted-value",
        "receipts",
        "coupons",
        "messages",
    ]


def test_each_panel_shows_the_members_figures(client, member_360):
    member = member_360
    page = get_page(client, member, staff(Role.HQ_ADMIN))
    html = page.content.decode()

    # profile: masked, in Chinese
    assert "王**" in html or "王*" in html
    assert "13912345678" not in html and "139****5678" in html
    assert "个人资料" in html and "美食、亲子" in html

    # tier, gap and points
    account = PointsAccount.objects.select_related("tier").get(member=member)
    assert account.balance > 0
    assert cell(html, "data-points", "balance") == str(account.balance)
    assert cell(html, "data-points", "tier") == account.tier.name
    higher = Tier.objects.filter(threshold__gt=account.tier.threshold).order_by("threshold")
    if higher:
        assert higher[0].name in cell(html, "data-points", "gap")
    assert html.count("data-entry") == 5
    assert reverse("backoffice:member_points", args=[member.pk]) in html

    # receipts: totals and the newest five
    sales = Receipt.objects.filter(member=member, kind="sale")
    refunds = Receipt.objects.filter(member=member, kind="refund")
    net = sum(r.total_fen for r in sales) - sum(r.total_fen for r in refunds)
    totals = cell(html, "data-receipts", "totals")
    assert f"{sales.count()} 次消费" in totals and f"{refunds.count()} 次退货" in totals
    assert f"¥{net / 100:,.2f}" in totals
    newest = list(Receipt.objects.filter(member=member).order_by("-occurred_at", "-id")[:5])
    assert re.findall(r'data-receipt="([^"]+)"', html) == [r.receipt_no for r in newest]
    assert "连衣裙 " not in html and "连衣裙、遮阳帽" in html

    # coupons by state, the newest five, codes cut to their last four characters
    counts = {s: cell(html, "data-coupons", s) for s in ("unused", "used", "expired", "voided")}
    assert counts == {"unused": "4", "used": "3", "expired": "2", "voided": "1"}
    assert len(re.findall(r'data-coupon="', html)) == 5
    assert not any(c.code in html for c in Coupon.objects.filter(member=member))

    # messages: counts and the newest five, read or not (the tier upgrade sent one more)
    assert Message.objects.filter(member=member, kind=Message.Kind.TIER).count() == 1
    assert cell(html, "data-messages", "counts") == "共 9 条消息，4 条未读。"
    assert re.findall(r'data-message="(\w+)"', html) == ["unread"] * 4 + ["read"]

    # RFM history: one row per snapshot, newest first, as stored
    rows = list(RfmRow.objects.filter(member=member).order_by("-snapshot__as_of"))
    assert len(rows) == 3
    assert re.findall(r'data-rfm-row="([\d-]+)"', html) == [
        r.snapshot.as_of.isoformat() for r in rows
    ]
    scores = re.findall(r'data-rfm="scores">([\d/]+)<', html)
    assert scores == [f"{r.r_score}/{r.f_score}/{r.m_score}" for r in rows]
    assert re.findall(r'data-rfm="class">([^<]+)<', html) == [r.rfm_class for r in rows]
    assert 'id="rfm-member-data"' in html and "echarts.init" in html

    # lifecycle: the current stage and the change from active to lost
    assert rows[0].lifecycle_stage == "lost" and rows[2].lifecycle_stage == "active"
    assert cell(html, "data-lifecycle", "stage") == "流失"
    change = LifecycleChange.objects.get(member=member)
    assert (change.from_stage, change.to_stage) == ("active", "lost")
    assert html.count("data-change") == 1 and "活跃" in html

    # predicted value
    assert 'data-clv="p_alive">42%' in html
    assert 'data-clv="expected_value">1,234.56' in html


def test_customer_service_sees_points_and_coupons_only(client, member_360):
    html = get_page(client, member_360, staff(Role.CUSTOMER_SERVICE)).content.decode()

    assert shown(html) == ["profile", "points", "coupons"]
    assert 'data-link="ledger"' in html


def test_an_analyst_sees_the_analysis_and_the_receipts(client, member_360):
    html = get_page(client, member_360, staff(Role.ANALYST)).content.decode()

    assert shown(html) == ["profile", "tags", "rfm", "lifecycle", "predicted-value", "receipts"]
    # the full ledger needs loyalty's permission: no link the analyst could not follow
    assert 'data-link="receipts"' not in html


def test_a_member_out_of_the_staff_scope_is_not_found(client, member_360):
    elsewhere = StoreFactory(code="S09")
    user = staff(Role.STORE_MANAGER, scope="store", store=elsewhere)

    assert get_page(client, member_360, user).status_code == 404
    home = staff(Role.STORE_MANAGER, scope="store", store=member_360.home_store)
    assert get_page(client, member_360, home).status_code == 200


def test_staff_without_the_members_permission_are_refused(client, member_360):
    user = StaffFactory().user  # no role: no permission

    assert get_page(client, member_360, user).status_code == 403


def test_an_unknown_member_is_not_found(client, db):
    client.force_login(staff(Role.HQ_ADMIN))

    assert client.get(reverse("backoffice:member_detail", args=[987654])).status_code == 404


def test_a_member_without_history_shows_empty_panels(client, db, loyalty_defaults):
    member = MemberFactory()
    html = get_page(client, member, staff(Role.HQ_ADMIN)).content.decode()

    assert shown(html) == ["profile", "points", "tags", "rfm", "lifecycle", "receipts"] + [
        "coupons",
        "messages",
    ]
    assert cell(html, "data-points", "balance") == "0"
    assert cell(html, "data-coupons", "unused") == "0"
    assert "暂无" in html or "尚未" in html


def test_the_registration_channel_is_named(client, db, loyalty_defaults):
    from members.models import RegistrationChannel

    RegistrationChannel.objects.create(code="pos_qr", name="收银台二维码")
    named, unknown = MemberFactory(channel="pos_qr"), MemberFactory(channel="flyer_2019")
    hq = staff(Role.HQ_ADMIN)

    assert "<td>收银台二维码</td>" in get_page(client, named, hq).content.decode()
    assert "<td>flyer_2019</td>" in get_page(client, unknown, hq).content.decode()


def test_panels_are_ordered_by_their_slot_then_by_registration(monkeypatch):
    monkeypatch.setattr(panels, "_panels", [])

    def panel(name):
        def make(*, member, user):
            return panels.MemberPanel(name)

        return make

    late, first, tickets, same_slot = (panel(n) for n in ("late", "a", "t", "b"))
    panels.member_panel_register(late)  # no slot: after every numbered one
    panels.member_panel_register(tickets, order=900)
    panels.member_panel_register(first, order=100)
    panels.member_panel_register(first, order=5)  # the same function again: unchanged
    panels.member_panel_register(same_slot, order=100)
    panels.member_panel_register(lambda *, member, user: None, order=50)

    assert [p.template for p in panels.member_panels(member=None, user=None)] == [
        "a",
        "b",
        "t",
        "late",
    ]
