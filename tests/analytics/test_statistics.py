"""会员统计: every selector of analytics/statistics.py against a hand-built mall, the page
(roles, filter errors, query budget) and its CSV exports."""

import csv
import io
import itertools
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from analytics import statistics as stats
from analytics.models import ClvRun, ClvScore, RfmRow, RfmSettings, RfmSnapshot
from core.roles import Role
from loyalty.models import PointsAccount, Receipt, ReceiptLine, Tier
from members.models import Member, RegistrationChannel, StaffProfile
from stores.models import Brand, Category, Floor, Shop
from tests.members.factories import MemberFactory, StaffFactory
from tests.stores.factories import StoreFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
START, END = date(2026, 3, 1), date(2026, 6, 30)
_numbers = itertools.count(1)


def at(day: str, clock: str = "12:00:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=SHANGHAI)


def receipt(store, member, when, lines, *, refund_of=None):
    """A receipt whose total is the sum of `lines`: (brand, category, fen[, non_merchandise])."""
    made = Receipt.objects.create(
        store=store,
        pos_no="P1",
        receipt_no=f"R{next(_numbers)}",
        occurred_at=when,
        member=member,
        kind=Receipt.Kind.REFUND if refund_of else Receipt.Kind.SALE,
        refund_of=refund_of,
        division="department",
        total_fen=sum(line[2] for line in lines),
    )
    for number, (brand, category, fen, *bag) in enumerate(lines, start=1):
        ReceiptLine.objects.create(
            receipt=made,
            line_no=number,
            name="货品",
            brand=brand,
            brand_name=brand.name if brand else "",
            category=category,
            category_name=category.name if category else "",
            qty=1,
            amount_fen=fen,
            non_merchandise=bool(bag),
        )
    return made


@pytest.fixture
def mall(db, loyalty_defaults):
    """Two stores in two regions; members joining in and before the range 2026-03-01 …
    2026-06-30; purchases on both sides of its Shanghai midnights, a refund, a bag."""
    a = StoreFactory(code="SA1", name="甲店", region__code="RA", region__name="华东")
    b = StoreFactory(code="SB1", name="乙店", region__code="RB", region__name="华南")
    women = Category.objects.create(code="C1", name="女装", division="department")
    food = Category.objects.create(code="C2", name="食品", division="supermarket")
    jia = Brand.objects.create(name="甲品牌", category=women)
    yi = Brand.objects.create(name="乙品牌", category=women)
    a1 = Floor.objects.create(store=a, code="1F", name="女装", order=1)
    a2 = Floor.objects.create(store=a, code="2F", name="男装", order=2)
    b1 = Floor.objects.create(store=b, code="B1", name="超市", order=-1)
    Shop.objects.create(floor=a1, brand=jia, unit_no="101")
    Shop.objects.create(floor=a2, brand=jia, unit_no="201")  # 甲 on two floors: the lower wins
    Shop.objects.create(floor=a2, brand=yi, unit_no="202")
    Shop.objects.create(floor=b1, brand=jia, unit_no="B01")
    RegistrationChannel.objects.create(code="poster", name="门店海报", store=a)
    m1 = MemberFactory(
        home_store=a,
        gender="F",
        birthday=date(1991, 5, 1),
        channel="poster",
        registered_at=at("2026-03-01", "00:00:00"),
    )
    m2 = MemberFactory(
        home_store=a, gender="M", birthday=date(2000, 1, 1), registered_at=at("2026-03-05")
    )
    m3 = MemberFactory(
        home_store=b, gender="F", birthday=None, channel="poster", registered_at=at("2026-04-10")
    )
    m4 = MemberFactory(
        home_store=a, gender="M", birthday=date(1960, 7, 1), registered_at=at("2025-12-01")
    )
    # joined the last second before the range; closed members count nowhere
    m5 = MemberFactory(home_store=a, registered_at=at("2026-02-28", "23:59:59"))
    MemberFactory(home_store=a, status=Member.Status.CLOSED, registered_at=at("2026-03-02"))
    m6 = MemberFactory(home_store=None, region=None, registered_at=at("2026-06-30", "23:59:59"))
    MemberFactory(home_store=a, registered_at=at("2026-07-01", "00:00:00"))  # after the range
    gold = Tier.objects.get(code="gold")
    PointsAccount.objects.create(member=m1, tier=gold)
    PointsAccount.objects.create(member=m2, tier=None)  # no tier yet: the entry tier

    # m1: bought on joining day (Tue 14:30) and again; part of the second sale refunded
    receipt(a, m1, at("2026-03-03", "14:30:00"), [(jia, women, 10_000), (yi, women, 5_000)])
    second = receipt(a, m1, at("2026-04-02", "20:15:00"), [(jia, women, 20_000)])
    receipt(a, m1, at("2026-04-05", "10:00:00"), [(jia, women, 5_000)], refund_of=second)
    # m2: 15 days after joining; supermarket goods without a brand, a bag left out
    receipt(a, m2, at("2026-03-20", "09:05:00"), [(None, food, 3_000), (None, None, 50, True)])
    # m3 at the other store, within 7 days of joining
    receipt(b, m3, at("2026-04-11", "18:00:00"), [(jia, women, 8_000)])
    # m4: the last second before the range does not count, its first instant does
    receipt(a, m4, at("2026-02-28", "23:59:59"), [(yi, women, 99_999)])
    receipt(a, m4, at("2026-03-01", "00:00:00"), [(yi, women, 1_000)])
    receipt(a, m4, at("2026-06-30", "23:59:59"), [(yi, women, 2_000)])
    receipt(a, m4, at("2026-07-01", "00:00:00"), [(yi, women, 77_777)])
    # m5: twice on one day is one purchase day
    receipt(a, m5, at("2026-05-06", "10:00:00"), [(jia, women, 500)])
    receipt(a, m5, at("2026-05-06", "19:00:00"), [(jia, women, 500)])
    # no member: not a member statistic
    receipt(a, None, at("2026-03-10"), [(jia, women, 50_000)])
    return {
        "a": a,
        "b": b,
        "members": [m1, m2, m3, m4, m5, m6],
        "jia": jia,
        "yi": yi,
        "women": women,
        "food": food,
    }


def hq_filter(mall, **kwargs):
    user = StaffFactory(scope=StaffProfile.Scope.ALL).user
    return stats.statistics_filter(user=user, start=START, end=END, **kwargs)


def manager_of(store):
    return StaffFactory(
        scope=StaffProfile.Scope.STORE, store=store, user__role=Role.STORE_MANAGER
    ).user


# --- Scope and filter ------------------------------------------------------------------------


def test_the_scope_resolves_once_to_store_ids(mall):
    assert hq_filter(mall).store_ids is None
    assert hq_filter(mall, store=mall["b"]).store_ids == (mall["b"].pk,)
    manager = manager_of(mall["a"])
    assert stats.statistics_filter(user=manager, start=START, end=END).store_ids == (mall["a"].pk,)
    # a store outside the scope gives nothing, not the whole scope
    outside = stats.statistics_filter(user=manager, start=START, end=END, store=mall["b"])
    assert outside.store_ids == ()
    assert stats.members_growth(outside, grain="month")["total"] == 0
    assert stats.repurchase_rate(outside)["buyers"] == 0
    assert stats.abc_members(outside)["items"] == 0


def test_the_range_runs_from_shanghai_midnight_to_midnight(mall):
    f = hq_filter(mall)
    assert f.since == at("2026-03-01", "00:00:00")
    assert f.until == at("2026-07-01", "00:00:00")
    assert f.since.astimezone(ZoneInfo("UTC")).hour == 16  # the day before, in UTC


def test_periods_cover_the_range():
    assert stats.periods(date(2026, 3, 4), date(2026, 3, 6), "day") == [
        date(2026, 3, 4),
        date(2026, 3, 5),
        date(2026, 3, 6),
    ]
    assert stats.periods(date(2026, 3, 4), date(2026, 3, 16), "week") == [
        date(2026, 3, 2),
        date(2026, 3, 9),
        date(2026, 3, 16),
    ]
    assert stats.periods(date(2025, 11, 30), date(2026, 2, 1), "month") == [
        date(2025, 11, 1),
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]
    assert stats.grain_auto(START, START) == "day"
    assert stats.grain_auto(START, date(2026, 7, 1)) == "week"
    assert stats.grain_auto(START, date(2027, 2, 28)) == "month"


# --- Members ---------------------------------------------------------------------------------


def test_growth_counts_new_members_per_month_and_cumulative(mall):
    data = stats.members_growth(hq_filter(mall), grain="month")
    # 7 members not closed; m4 and m5 before the range; m1 m2 (Mar), m3 (Apr), m6 (Jun) in it
    assert (data["total"], data["before"], data["new"]) == (7, 2, 4)
    assert [(p["period"], p["new"], p["cumulative"]) for p in data["points"]] == [
        (date(2026, 3, 1), 2, 4),
        (date(2026, 4, 1), 1, 5),
        (date(2026, 5, 1), 0, 5),
        (date(2026, 6, 1), 1, 6),
    ]


def test_growth_per_day_puts_a_member_on_their_shanghai_date(mall):
    f = stats.StatisticsFilter(date(2026, 2, 28), date(2026, 3, 1), None)
    points = stats.members_growth(f, grain="day")["points"]
    # m5 joined 02-28 23:59:59 (15:59:59 UTC), m1 03-01 00:00:00 (02-28 16:00 UTC)
    assert [(p["period"], p["new"]) for p in points] == [
        (date(2026, 2, 28), 1),
        (date(2026, 3, 1), 1),
    ]


def test_a_store_manager_counts_only_their_stores_members(mall):
    f = stats.statistics_filter(user=manager_of(mall["b"]), start=START, end=END)
    data = stats.members_growth(f, grain="month")
    assert (data["total"], data["new"]) == (1, 1)  # m3
    assert [r["name"] for r in stats.members_by_region(f)] == ["华南"]


def test_new_members_by_channel(mall):
    rows = stats.new_members_by_channel(hq_filter(mall))
    assert rows == [  # most first, ties by code
        {"channel": "", "name": "", "members": 2},
        {"channel": "poster", "name": "门店海报", "members": 2},
    ]


def test_members_without_an_account_or_tier_count_as_the_entry_tier(mall):
    rows = stats.members_by_tier(hq_filter(mall))
    assert [(r["tier"], r["members"]) for r in rows] == [
        ("regular", 6),
        ("silver", 0),
        ("gold", 1),
        ("diamond", 0),
    ]


def test_the_pyramid_bands_members_by_age_today_and_gender(mall):
    rows = stats.gender_age_pyramid(hq_filter(mall), today=date(2026, 5, 1))
    by_band = {r["band"]: (r["M"], r["F"], r["U"]) for r in rows}
    # m1 turns 35 on 2026-05-01 (35-44: the birthday itself counts), m2 is 26, m4 65
    assert by_band["35-44"] == (0, 1, 0)
    assert by_band["25-34"] == (1, 0, 0)
    assert by_band["65+"] == (1, 0, 0)
    # m3 has no birthday; m5, m6 and the late joiner are factory women without one
    assert by_band["unknown"] == (0, 4, 0)
    assert [r["band"] for r in rows][0] == "0-17"
    before_birthday = stats.gender_age_pyramid(hq_filter(mall), today=date(2026, 4, 30))
    assert {r["band"]: r["F"] for r in before_birthday}["25-34"] == 1  # m1 still 34


def test_members_by_region_of_their_home_store(mall):
    rows = stats.members_by_region(hq_filter(mall))
    assert rows == [
        {"code": "RA", "name": "华东", "members": 5},
        {"code": "RB", "name": "华南", "members": 1},
        {"code": "", "name": "", "members": 1},
    ]


# --- Snapshots -------------------------------------------------------------------------------


def _snapshot(as_of, rows, *, current=False):
    snapshot = RfmSnapshot.objects.create(
        as_of=as_of,
        window_days=365,
        status=RfmSnapshot.Status.DONE,
        started_at=at(as_of.isoformat()),
        is_current=current,
        cut_method="mean",
        preset=RfmSettings.current().preset,
    )
    for member, label, stage in rows:
        RfmRow.objects.create(
            snapshot=snapshot,
            member=member,
            recency_days=1,
            frequency=1,
            monetary_fen=1,
            r_score=1,
            f_score=1,
            m_score=1,
            r_short=True,
            f_high=True,
            m_high=True,
            rfm_class=label,
            lifecycle_stage=stage,
        )
    return snapshot


def test_rfm_classes_lifecycle_and_trend(mall):
    m1, m2, m3, m4, *_ = mall["members"]
    assert stats.rfm_class_counts(hq_filter(mall)) is None
    assert stats.lifecycle_shares(hq_filter(mall)) is None
    _snapshot(date(2026, 4, 10), [(m1, "重要保持", "active")])
    _snapshot(date(2026, 4, 30), [(m1, "重要保持", "active"), (m2, "无价值", "lost")])
    _snapshot(date(2026, 7, 31), [(m1, "无价值", "lost")])  # after the range
    _snapshot(
        date(2026, 6, 30),
        [(m1, "重要保持", "active"), (m2, "重要保持", "silent"), (m3, "无价值", "silent")],
        current=True,
    )
    f = hq_filter(mall)
    counts = stats.rfm_class_counts(f)
    assert counts["total"] == 3 and counts["as_of"] == date(2026, 6, 30)
    assert len(counts["classes"]) == 8  # the naming's eight, empty ones too
    by_label = {c["label"]: (c["members"], c["share"]) for c in counts["classes"]}
    assert by_label["重要保持"] == (2, 66.7) and by_label["无价值"] == (1, 33.3)
    assert by_label["重要发展"] == (0, 0.0)

    trend = stats.rfm_class_trend(f)  # the last snapshot of April and of June
    assert trend["dates"] == [date(2026, 4, 30), date(2026, 6, 30)]
    assert trend["series"] == [
        {"label": "无价值", "counts": [1, 1]},
        {"label": "重要保持", "counts": [1, 2]},
    ]

    stages = {s["code"]: (s["members"], s["share"]) for s in stats.lifecycle_shares(f)["stages"]}
    assert stages == {
        "active": (1, 33.3),
        "silent": (2, 66.7),
        "dormant": (0, 0.0),
        "lost": (0, 0.0),
    }
    # store B's manager sees m3 only
    b_only = stats.statistics_filter(user=manager_of(mall["b"]), start=START, end=END)
    assert stats.rfm_class_counts(b_only)["total"] == 1
    assert stats.rfm_class_trend(b_only)["series"] == [{"label": "无价值", "counts": [0, 1]}]


def test_predicted_value_distribution_in_buckets(mall):
    m1, m2, m3, *_ = mall["members"]
    assert stats.predicted_value_distribution(hq_filter(mall)) is None
    run = ClvRun.objects.create(as_of=date(2026, 6, 30), status="done", is_current=True)
    for member, value, p_alive in [(m1, 0, 0.2), (m2, 9_999, 0.4), (m3, 10_000, 0.9)]:
        ClvScore.objects.create(
            run=run,
            member=member,
            frequency=1,
            recency_days=1,
            t_days=2,
            monetary_fen=1,
            p_alive=p_alive,
            expected_purchases_90d=0.5,
            expected_value_fen=value,
        )
    data = stats.predicted_value_distribution(hq_filter(mall))
    first, second = data["buckets"][:2]
    assert (first["low_fen"], first["high_fen"], first["members"]) == (0, 10_000, 2)
    assert (first["value_fen"], first["p_alive"], first["share"]) == (9_999, 30.0, 66.7)
    assert (second["members"], second["value_fen"], second["p_alive"]) == (1, 10_000, 90.0)
    assert data["buckets"][-1]["high_fen"] is None and data["members"] == 3


# --- Purchases -------------------------------------------------------------------------------


def test_consumption_by_category_is_net_of_refunds_without_bags(mall):
    rows = stats.consumption_by_category(hq_filter(mall))
    assert [
        (r["label"], r["sales_fen"], r["refunds_fen"], r["net_fen"], r["buyers"]) for r in rows
    ] == [
        # 女装: m1 15000 + 20000 − 5000, m3 8000, m4 1000 + 2000, m5 1000
        ("女装", 47_000, 5_000, 42_000, 4),
        ("食品", 3_000, 0, 3_000, 1),
    ]


def test_consumption_by_brand(mall):
    rows = stats.consumption_by_brand(hq_filter(mall))
    assert [(r["label"], r["net_fen"], r["buyers"]) for r in rows] == [
        ("甲品牌", 34_000, 3),  # m1 10000 + 20000 − 5000, m3 8000, m5 1000
        ("乙品牌", 8_000, 2),  # m1 5000, m4 3000
        (None, 3_000, 1),
    ]


def test_consumption_by_floor_through_the_brands_shop_in_that_store(mall):
    rows = stats.consumption_by_floor(hq_filter(mall))
    assert [(r["store"], r["floor"], r["net_fen"]) for r in rows] == [
        ("SA1", "1F", 26_000),  # 甲 at SA1: its lower floor
        ("SA1", "2F", 8_000),  # 乙
        ("SB1", "B1", 8_000),  # 甲 at SB1
        ("", "", 3_000),  # no brand: no shop
    ]


def test_a_store_filter_limits_purchases_to_that_store(mall):
    f = hq_filter(mall, store=mall["b"])
    assert [(r["label"], r["net_fen"]) for r in stats.consumption_by_brand(f)] == [
        ("甲品牌", 8_000)
    ]
    assert stats.repurchase_rate(f)["buyers"] == 1


def test_the_heatmap_counts_sales_by_shanghai_weekday_and_hour(mall):
    cells = stats.purchase_heatmap(hq_filter(mall))
    assert len(cells) == 168
    counts = {(c["weekday"], c["hour"]): c["receipts"] for c in cells if c["receipts"]}
    assert counts == {
        (2, 14): 1,  # 2026-03-03 is a Tuesday
        (4, 20): 1,  # 04-02 Thursday 20:15 (the refund of 04-05 is no purchase)
        (5, 9): 1,  # 03-20 Friday
        (6, 18): 1,  # 04-11 Saturday
        (7, 0): 1,  # 03-01 00:00 Sunday, not Saturday 16:00 UTC
        (2, 23): 1,  # 06-30 Tuesday 23:59:59
        (3, 10): 1,  # 05-06 Wednesday
        (3, 19): 1,
    }


def test_first_purchase_within_seven_days_of_joining(mall):
    data = stats.first_purchase_within_days(hq_filter(mall), grain="month")
    # new: m1 (bought day 2), m2 (day 15: no), m3 (next day), m6 (nothing)
    assert (data["new"], data["converted"], data["share"]) == (4, 2, 50.0)
    assert [(p["new"], p["converted"]) for p in data["points"]] == [(2, 1), (1, 1), (0, 0), (1, 0)]
    # store A's new members are m1 and m2 (m3's home store is B)
    a_only = stats.first_purchase_within_days(hq_filter(mall, store=mall["a"]), grain="month")
    assert (a_only["new"], a_only["converted"]) == (2, 1)


def test_repurchase_rate_counts_purchase_days_not_receipts(mall):
    data = stats.repurchase_rate(hq_filter(mall))
    # buyers in the range: m1 (2 days), m2 (1), m3 (1), m4 (2: 03-01 and 06-30), m5 (1 day)
    assert (data["buyers"], data["repeat"], data["rate"]) == (5, 2, 40.0)
    assert [d["members"] for d in data["distribution"]] == [3, 2, 0, 0, 0]


def test_monthly_active_members(mall):
    rows = stats.monthly_active_members(hq_filter(mall))
    assert [(r["month"], r["members"], r["receipts"]) for r in rows] == [
        (date(2026, 3, 1), 3, 3),  # m1, m2, m4
        (date(2026, 4, 1), 2, 2),  # m1, m3 (the refund is no purchase)
        (date(2026, 5, 1), 1, 2),  # m5 twice
        (date(2026, 6, 1), 1, 1),  # m4 at 23:59:59 on the 30th
    ]


# --- ABC -------------------------------------------------------------------------------------


def test_abc_members_by_net_spend(mall):
    data = stats.abc_members(hq_filter(mall))
    # Receipt totals less refunds (the bag is spend too): m1 15000 + 20000 − 5000 = 30000,
    # m3 8000, m2 3050, m4 3000, m5 1000; total 45050. Value ranked above each: m1 0 (A),
    # m3 30000 = 66.6 % (A), m2 38000 = 84.4 % (B), m4 41050 = 91.1 % (C), m5 (C).
    assert data["items"] == 5 and data["total_fen"] == 45_050
    assert [(c["class"], c["items"], c["value_fen"]) for c in data["classes"]] == [
        ("A", 2, 38_000),
        ("B", 1, 3_050),
        ("C", 2, 4_000),
    ]
    assert [c["value_share"] for c in data["classes"]] == [84.4, 6.8, 8.9]
    assert [c["items_share"] for c in data["classes"]] == [40.0, 20.0, 40.0]
    assert data["curve"] == [
        (0.0, 0.0),
        (20.0, 66.59),
        (40.0, 84.35),
        (60.0, 91.12),
        (80.0, 97.78),
        (100.0, 100.0),
    ]


def test_abc_cut_exactly_at_seventy_percent_starts_class_b(mall):
    """A brand whose value ranked above is exactly 70 % is B (the cut is strict)."""
    a, women = mall["a"], mall["women"]
    buyer = mall["members"][3]
    brands = [Brand.objects.create(name=f"测{i}") for i in range(3)]
    f = stats.StatisticsFilter(date(2027, 1, 1), date(2027, 1, 31), (a.pk,))
    receipt(a, buyer, at("2027-01-05"), [(brands[0], women, 7_000), (brands[1], women, 2_000)])
    receipt(a, buyer, at("2027-01-06"), [(brands[2], women, 1_000)])
    data = stats.abc_brands(f)
    assert [(c["class"], c["items"]) for c in data["classes"]] == [("A", 1), ("B", 1), ("C", 1)]


def test_abc_of_brands_and_categories_leave_out_unnamed_lines(mall):
    brands = stats.abc_brands(hq_filter(mall))
    # 甲 34000, 乙 8000 of 42000: 乙 starts at 81 %: B
    assert [(c["class"], c["items"]) for c in brands["classes"]] == [("A", 1), ("B", 1), ("C", 0)]
    categories = stats.abc_categories(hq_filter(mall))
    assert categories["total_fen"] == 45_000 and categories["items"] == 2


def test_sections_register_once(mall):
    def top_goods(f):
        return {"title": "热门兑换", "columns": ["商品", "兑换"], "rows": [["保温杯", 3]]}

    stats.statistics_section_register(top_goods)
    stats.statistics_section_register(top_goods)
    try:
        assert stats.statistics_sections().count(top_goods) == 1
    finally:
        stats._sections.remove(top_goods)


# --- The page --------------------------------------------------------------------------------

URL = "/backoffice/analytics/statistics/"
RANGE = {"start": "2026-03-01", "end": "2026-06-30"}


@pytest.fixture
def analyst(client, db):
    client.force_login(StaffFactory(user__role=Role.ANALYST).user)
    return client


def test_the_url_and_the_menu_item(analyst, mall):
    assert reverse("backoffice:statistics") == URL
    assert "会员统计" in analyst.get("/backoffice/").content.decode()


def test_the_analyst_sees_every_chart_with_its_numbers(analyst, mall):
    page = analyst.get(URL, RANGE)
    assert page.status_code == 200
    html = page.content.decode()
    assert "会员统计" in html and "会员与增长" in html
    charts = {c.key: c for s in page.context["sections"] for c in s["charts"]}
    assert set(charts) >= {
        "growth",
        "channels",
        "tiers",
        "pyramid",
        "regions",
        "rfm",
        "rfm_trend",
        "lifecycle",
        "clv",
        "category",
        "floor",
        "brand",
        "heatmap",
        "first_purchase",
        "repurchase",
        "mau",
        "abc_members",
        "abc_brands",
        "abc_categories",
    }
    # a chart with data carries its option and the table of its numbers
    assert f'id="{charts["brand"].option_id}"' in html
    assert charts["brand"].tables[0].rows[0] == ["甲品牌", 39_000, 5_000, 34_000, 3]
    assert "340.00" in html and "甲品牌" in html
    # headline figures over the charts
    assert page.context["figures"] == [
        ("会员总数", "7"),
        ("区间新增会员", "4"),
        ("注册 7 天内消费占比", "50.0%"),
        ("区间消费会员", "5"),
        ("复购率", "40.0%"),
    ]
    # no snapshot yet: said so, no chart
    assert charts["rfm"].option is None and "还没有 RFM 快照" in html
    # four months: weekly points by default (from the Monday of 03-01's week), or monthly
    weeks = [row[0] for row in charts["growth"].tables[0].rows]
    assert (weeks[0], weeks[-1], len(weeks)) == ("2026-02-23", "2026-06-29", 19)
    monthly = analyst.get(URL, {**RANGE, "grain": "month"})
    growth = next(c for s in monthly.context["sections"] for c in s["charts"] if c.key == "growth")
    assert growth.tables[0].rows == [
        ["2026-03", 2, 4],
        ["2026-04", 1, 5],
        ["2026-05", 0, 5],
        ["2026-06", 1, 6],
    ]


def test_without_a_filter_the_last_twelve_months(analyst, mall):
    page = analyst.get(URL)
    assert page.status_code == 200
    form = page.context["form"]
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    assert end == timezone.localdate()
    assert start.day == 1 and (end.year * 12 + end.month) - (start.year * 12 + start.month) == 11


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-13-01", "end": "2026-06-30"}, "start"),
        ({"start": "2026-07-01", "end": "2026-06-30"}, "end"),
        ({"start": "2000-01-01", "end": "2026-06-30"}, "start"),
        ({"start": "", "end": "2026-06-30"}, "start"),
        ({"start": "9999-12-01", "end": "9999-12-31"}, "end"),
        ({"start": "1900-01-01", "end": "1900-12-31"}, "start"),
        ({**RANGE, "grain": "year"}, "grain"),
        ({**RANGE, "store": "999999"}, "store"),
        ({**RANGE, "export": "nonsense"}, "export"),
    ],
)
def test_a_bad_filter_is_a_400_with_the_reason(analyst, mall, params, field):
    page = analyst.get(URL, params)
    assert page.status_code == 400
    assert field in page.context["form"].errors
    assert "sections" not in page.context


def test_a_store_outside_the_scope_is_not_a_choice(client, mall):
    regional = StaffFactory(
        scope=StaffProfile.Scope.REGION, region=mall["a"].region, user__role=Role.ANALYST
    ).user
    client.force_login(regional)
    assert client.get(URL, {**RANGE, "store": mall["b"].pk}).status_code == 400
    page = client.get(URL, {**RANGE, "store": mall["a"].pk})
    assert page.status_code == 200
    charts = {c.key: c for s in page.context["sections"] for c in s["charts"]}
    assert [row[1] for row in charts["regions"].tables[0].rows] == ["华东"]


def test_customer_service_is_refused(client, mall):
    client.force_login(StaffFactory(user__role=Role.CUSTOMER_SERVICE).user)
    assert client.get(URL).status_code == 403
    assert "会员统计" not in client.get("/backoffice/").content.decode()


def test_the_page_runs_a_bounded_number_of_queries(analyst, mall, django_assert_max_num_queries):
    m1, m2, *_ = mall["members"]
    _snapshot(date(2026, 5, 31), [(m1, "重要保持", "active")])
    _snapshot(date(2026, 6, 30), [(m1, "重要保持", "active"), (m2, "无价值", "lost")], current=True)
    ClvRun.objects.create(as_of=date(2026, 6, 30), status="done", is_current=True)
    analyst.get(URL, RANGE)  # warm the session and permission caches
    cache.clear()  # the charts too: count them computed
    with django_assert_max_num_queries(40):
        page = analyst.get(URL, RANGE)
    assert page.status_code == 200
    cache.clear()
    with CaptureQueriesContext(connection) as before:
        analyst.get(URL, RANGE)
    # more members, brands, floors and receipts: not one query more
    for i in range(5):
        brand = Brand.objects.create(name=f"新品牌{i}")
        floor = Floor.objects.create(store=mall["b"], code=f"{i + 3}F", name="新楼层", order=i + 3)
        Shop.objects.create(floor=floor, brand=brand, unit_no=f"N{i}")
        buyer = MemberFactory(home_store=mall["b"], registered_at=at("2026-05-01"))
        receipt(mall["b"], buyer, at("2026-05-02"), [(brand, mall["food"], 100 * (i + 1))])
    cache.clear()
    with CaptureQueriesContext(connection) as after:
        analyst.get(URL, RANGE)
    assert len(after.captured_queries) == len(before.captured_queries)


def test_the_charts_are_cached_per_scope_range_and_period(client, analyst, mall):
    first = analyst.get(URL, RANGE)
    receipt(mall["a"], mall["members"][0], at("2026-03-04"), [(mall["jia"], mall["women"], 100)])
    with CaptureQueriesContext(connection) as again:
        second = analyst.get(URL, RANGE)
    assert len(again.captured_queries) < 12  # session, user, scope, the form's stores
    brand = [c for s in second.context["sections"] for c in s["charts"] if c.key == "brand"][0]
    assert brand.tables[0].rows[0][3] == 34_000  # as computed a moment ago
    assert len(first.context["sections"]) == len(second.context["sections"])
    # another range, or another scope, is computed afresh
    later = analyst.get(URL, {**RANGE, "end": "2026-06-29"})
    brand = [c for s in later.context["sections"] for c in s["charts"] if c.key == "brand"][0]
    assert brand.tables[0].rows[0][3] == 34_100
    regional = StaffFactory(
        scope=StaffProfile.Scope.REGION, region=mall["a"].region, user__role=Role.ANALYST
    ).user
    client.force_login(regional)
    page = client.get(URL, RANGE)
    regions = [c for s in page.context["sections"] for c in s["charts"] if c.key == "regions"][0]
    assert [row[1] for row in regions.tables[0].rows] == ["华东"]


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_one_charts_numbers_as_csv(analyst, mall):
    response = analyst.get(URL, {**RANGE, "export": "brand"})
    assert "member-statistics-brand-20260301-20260630.csv" in response["Content-Disposition"]
    rows = _csv(response)
    assert rows[0] == ["品牌", "销售额（元）", "退货额（元）", "净销售额（元）", "购买会员数"]
    assert rows[1] == ["甲品牌", "390.00", "50.00", "340.00", "3"]
    assert rows[3] == ["无品牌", "30.00", "0.00", "30.00", "1"]


def test_the_csv_defuses_formulas(analyst, mall):
    evil = Brand.objects.create(name='=HYPERLINK("http://evil.example")')
    receipt(mall["a"], mall["members"][0], at("2026-03-04"), [(evil, mall["women"], 100)])
    rows = _csv(analyst.get(URL, {**RANGE, "export": "brand"}))
    assert ['\'=HYPERLINK("http://evil.example")', "1.00", "0.00", "1.00", "1"] in rows


def test_every_chart_in_one_csv_with_sections(analyst, mall):
    rows = _csv(analyst.get(URL, {**RANGE, "export": "all"}))
    titles = [r[0] for i, r in enumerate(rows) if i == 0 or (rows[i - 1] == [] and r)]
    assert titles[0] == "会员与增长"
    assert "会员 ABC 分析（按消费） · 帕累托曲线" in titles
    assert len(titles) >= 19
    # the ABC table of members, as computed above
    start = rows.index(["会员 ABC 分析（按消费）"])
    assert rows[start + 2] == ["A", "2", "40.0", "380.00", "84.4"]


def test_a_registered_section_is_drawn_and_exported(analyst, mall):
    seen = []

    def top_goods(f):
        seen.append(f.store_ids)
        return {"title": "热门兑换商品", "columns": ["商品", "兑换次数"], "rows": [["@保温杯", 3]]}

    stats.statistics_section_register(top_goods)
    try:
        page = analyst.get(URL, RANGE)
        more = [s for s in page.context["sections"] if s["code"] == "more"][0]
        (chart,) = more["charts"]
        assert chart.title == "热门兑换商品" and chart.option["series"][0]["data"] == [3]
        assert "更多" in page.content.decode() and seen == [None]
        rows = _csv(analyst.get(URL, {**RANGE, "export": chart.key}))
        assert rows == [["商品", "兑换次数"], ["'@保温杯", "3"]]
    finally:
        stats._sections.remove(top_goods)
