"""消费行为分析: spend and category shares per segment, aggregated in Postgres over hand-built
members and receipts, within the staff member's stores, beside each segment's rules."""

from datetime import date, datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from core.roles import Role
from members.models import MemberProfile, StaffProfile
from mining.selectors import consumer_behaviour
from tests.members.factories import MemberFactory, StaffFactory
from tests.mining.test_pages import ITEMS, RULES, receipt, run_built
from tests.mining.test_runs import BAG, DRESS, HAT, MILK, SHANGHAI
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db

SINCE, UNTIL = date(2026, 10, 1), date(2026, 11, 30)


def born(age: int) -> date:
    """A birthday that makes the member `age` today (1 January: already had it this year)."""
    return date(timezone.localdate().year - age, 1, 1)


@pytest.fixture
def mall():
    s1 = StoreFactory(code="S01", region__code="R1", region__name="杭州")
    s2 = StoreFactory(code="S02", region__code="R2", region__name="宁波")
    w1 = MemberFactory(gender="F", birthday=born(30), home_store=s1)
    MemberProfile.objects.create(
        member=w1, education="bachelor", occupation="employee", income_band="10k_20k"
    )
    w2 = MemberFactory(gender="F", birthday=born(26), home_store=s1)
    m1 = MemberFactory(gender="M", birthday=born(41), home_store=s2)
    MemberProfile.objects.create(member=m1, education="master")
    nobody = MemberFactory(gender="U", birthday=None, home_store=s1, region=None)

    sale1 = receipt(s1, "W1-1", [DRESS, HAT], member=w1)
    receipt(s1, "W1-2", [DRESS, HAT], member=w1)
    receipt(s1, "W1-R", [DRESS, HAT], member=w1, kind="refund", refund_of=sale1)
    receipt(s1, "W2-1", [DRESS, BAG], member=w2, nm=("购物袋",))
    receipt(s1, "W2-OLD", [HAT], member=w2, when=datetime(2026, 9, 1, 12, tzinfo=SHANGHAI))
    receipt(s2, "M1-1", [MILK], member=m1)
    receipt(s1, "U-1", [MILK], member=nobody)
    receipt(s1, "ANON", [MILK, HAT])  # no member: not in any segment
    return {"s1": s1, "s2": s2}


def segments(user, dimension):
    data = consumer_behaviour(user=user, dimension=dimension, since=SINCE, until=UNTIL)
    return data, {s["code"]: s for s in data["segments"]}


def test_spend_and_categories_per_age_band(mall):
    hq = StaffFactory(user__role=Role.ANALYST).user
    data, by = segments(hq, "age_band")
    assert list(by) == ["25-34", "35-44", "unknown"]
    young = by["25-34"]
    # three sales of 2 lines at 100 fen each, one refund of 200: net 400 fen
    assert (young["buyers"], young["receipts"], young["spend_fen"]) == (2, 3, 400)
    assert young["per_buyer_fen"] == 200 and young["per_receipt_fen"] == 200
    assert young["favourite"] == "女装"
    shares = dict(zip(data["categories"], young["shares"], strict=True))
    # dresses 300 of the 500 fen of merchandise lines (the bag is no merchandise)
    assert shares["女装"] == 60.0 and shares["配饰"] == 40.0 and shares["乳品"] == 0
    assert by["35-44"]["spend_fen"] == 100 and by["35-44"]["favourite"] == "乳品"
    assert by["unknown"]["label"] == "未知" and by["unknown"]["params"] is None
    assert young["params"] == {"age_min": 25, "age_max": 34}
    assert data["categories"][0] == "女装"


@pytest.mark.parametrize(
    ("dimension", "expected"),
    [
        ("gender", {"F": (2, 3, 400), "M": (1, 1, 100), "U": (1, 1, 100)}),
        ("education", {"bachelor": (1, 2, 200), "master": (1, 1, 100), "unknown": (2, 2, 300)}),
        ("occupation", {"employee": (1, 2, 200), "unknown": (3, 3, 400)}),
        ("income_band", {"10k_20k": (1, 2, 200), "unknown": (3, 3, 400)}),
    ],
)
def test_each_dimension_groups_buyers_receipts_and_net_spend(mall, dimension, expected):
    _data, by = segments(StaffFactory(user__role=Role.ANALYST).user, dimension)
    got = {code: (s["buyers"], s["receipts"], s["spend_fen"]) for code, s in by.items()}
    assert got == expected


def test_regions_by_the_members_region(mall):
    _data, by = segments(StaffFactory(user__role=Role.ANALYST).user, "region")
    named = {s["label"]: (s["buyers"], s["spend_fen"]) for s in by.values()}
    assert named == {"杭州": (2, 400), "宁波": (1, 100), "未知": (1, 100)}


def test_a_store_manager_sees_only_the_receipts_of_their_store(mall):
    staff = StaffFactory(
        user__role=Role.ANALYST, scope=StaffProfile.Scope.STORE, store=mall["s2"], region=None
    )
    _data, by = segments(staff.user, "gender")
    assert {code: s["spend_fen"] for code, s in by.items()} == {"M": 100}


def test_the_page_charts_segments_beside_their_rules(client, mall):
    client.force_login(StaffFactory(user__role=Role.ANALYST).user)
    women = run_built(ITEMS, RULES, segment={"gender": "F"}, segment_label="女")
    page = client.get(
        reverse("backoffice:mining_behaviour"),
        {"by": "gender", "since": SINCE.isoformat(), "until": UNTIL.isoformat()},
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "消费行为分析" in html and "spend-chart" in html and "category-chart" in html
    chart = page.context["chart"]
    assert chart["labels"] == ["男", "女", "未知"] and chart["per_buyer"] == [1.0, 2.0, 1.0]
    rows = {s["code"]: s for s in page.context["data"]["segments"]}
    assert rows["F"]["run"] == women and rows["M"]["run"] is None
    assert f'href="/backoffice/mining/runs/{women.pk}/"' in html
    assert "?gender=M#start" in rows["M"]["mine_url"]
    # education is no member filter: no rules to offer
    page = client.get(reverse("backoffice:mining_behaviour"), {"by": "education"})
    assert all(not s["mine_url"] for s in page.context["data"]["segments"])


def test_the_period_filters_and_bad_dates_are_form_errors(client, mall):
    client.force_login(StaffFactory(user__role=Role.ANALYST).user)
    september = client.get(
        reverse("backoffice:mining_behaviour"), {"since": "2026-09-01", "until": "2026-09-30"}
    )
    rows = september.context["data"]["segments"]
    assert [(s["code"], s["spend_fen"]) for s in rows] == [("25-34", 100)]
    bad = client.get(
        reverse("backoffice:mining_behaviour"), {"since": "2026-10-01", "until": "2026-09-01"}
    )
    assert bad.status_code == 400 and "范围的结束不能早于开始" in bad.content.decode()
    unknown = client.get(reverse("backoffice:mining_behaviour"), {"by": "shoe_size"})
    assert unknown.status_code == 200 and unknown.context["dimension"] == "age_band"
