"""Campaign results: issued, used, use rate, revenue of the receipts that used the coupons
(each receipt once), cost (discounts, a gift's face value), on a known fixture; the CSV for
Excel; scope, permissions and a query count that does not grow with the campaigns."""

import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.roles import Role
from coupons.issuing import coupon_issue
from coupons.models import Campaign
from coupons.redeeming import coupon_use
from tests.conftest import sale
from tests.stores.factories import StoreFactory

RESULTS = "/backoffice/coupons/campaigns/"
EXPORT = "/backoffice/coupons/campaigns/results.csv"


@pytest.fixture
def known(pos, make_template, member_factory, store):
    """双十一: 5 coupons, 3 used on 2 receipts (one used two coupons: counted once);
    礼品: 2 gift coupons worth ¥30, 1 exchanged at the desk; a campaign named like a formula."""
    double11 = Campaign.objects.create(name="双十一", channel="manual")
    cash = make_template("CASH10", face_value_fen=1000, stackable=True)
    spend = make_template(
        "SPEND300",
        kind="threshold",
        face_value_fen=5000,
        min_spend_fen=30000,
        stackable=True,
    )
    m1, m2, m3, m4 = (member_factory(home_store=store) for _ in range(4))
    m1_cash, m1_spend, m2_cash = (
        coupon_issue(template=t, member=m, campaign=double11)
        for t, m in ((cash, m1), (spend, m1), (cash, m2))
    )
    for member in (m3, m4):
        coupon_issue(template=cash, member=member, campaign=double11)
    both = pos.receipt(
        sale(m1, receipt_no="R-1", amount_fen=40000, coupons=[m1_cash.code, m1_spend.code])
    )
    one = pos.receipt(sale(m2, receipt_no="R-2", amount_fen=20000, coupons=[m2_cash.code]))
    pos.receipt(sale(m3, receipt_no="R-3", amount_fen=99900))  # no coupon: not revenue
    assert both.status_code == one.status_code == 201, both.json()

    gifts = Campaign.objects.create(name="会员日礼品", channel="manual")
    gift = make_template("GIFT", kind="gift", face_value_fen=3000, gift_name="保温杯")
    exchanged = coupon_issue(template=gift, member=m1, campaign=gifts)
    coupon_issue(template=gift, member=m2, campaign=gifts)
    coupon_use(code=exchanged.code, store=store, pos_no="DESK", member=m1, basket_fen=0, lines=[])

    formula = Campaign.objects.create(name='=HYPERLINK("http://evil.example")', channel="group")
    coupon_issue(template=make_template("F1"), member=m4, campaign=formula)
    return {"double11": double11, "gifts": gifts, "formula": formula}


def figures(html: str, campaign) -> dict:
    row = re.search(rf'data-campaign="{campaign.pk}">(.*?)</tr>', html, flags=re.DOTALL).group(1)
    return {
        name: value
        for name, value in re.findall(r"data-(issued|used|rate|revenue|cost)>([^<]*)<", row)
    }


@pytest.fixture
def marketing(client, staff_user):
    client.force_login(staff_user(Role.MARKETING))
    return client


def test_the_figures_of_each_campaign(marketing, known):
    html = marketing.get(RESULTS).content.decode()

    assert figures(html, known["double11"]) == {
        "issued": "5",
        "used": "3",
        "rate": "60.0",
        "revenue": "600.00",  # R-1 ¥400 once, though it used two coupons, and R-2 ¥200
        "cost": "70.00",  # ¥10 + ¥50 + ¥10 taken off
    }
    assert figures(html, known["gifts"]) == {
        "issued": "2",
        "used": "1",
        "rate": "50.0",
        "revenue": "0.00",  # exchanged at the desk, no receipt
        "cost": "30.00",  # the gift's face value
    }
    assert figures(html, known["formula"])["rate"] == "0.0"
    assert "campaign-chart-data" in html and "echarts.init" in html


def test_the_csv_opens_in_excel_and_runs_no_formula(marketing, known):
    response = marketing.get(EXPORT)
    body = response.content

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="campaign-results-')
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == [
        "活动",
        "发放渠道",
        "创建时间",
        "已发放",
        "已使用",
        "使用率（%）",
        "小票数",
        "带动销售额（元）",
        "成本（元）",
    ]
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["双十一"][1] == "人工发放"
    assert by_name["双十一"][3:] == ["5", "3", "60.0", "2", "600.00", "70.00"]
    assert by_name["会员日礼品"][3:] == ["2", "1", "50.0", "0", "0.00", "30.00"]
    assert '\'=HYPERLINK("http://evil.example")' in by_name
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


@pytest.mark.parametrize("name", ["+1+1", "-2+3", "@SUM(A1)", "=1", "\t=1"])
def test_every_formula_start_is_quoted(marketing, make_template, member_factory, name):
    campaign = Campaign.objects.create(name=name, channel="manual")
    coupon_issue(template=make_template(), member=member_factory(), campaign=campaign)

    rows = list(csv.reader(io.StringIO(marketing.get(EXPORT).content.decode("utf-8-sig"))))

    assert rows[1][0] == f"'{name}"


def test_the_query_count_does_not_grow_with_campaigns(
    marketing, make_template, member_factory, django_assert_num_queries
):
    template = make_template(per_member_limit=0)
    member = member_factory()

    def add_campaigns(n):
        for i in range(n):
            campaign = Campaign.objects.create(name=f"活动{i}", channel="manual")
            coupon_issue(template=template, member=member, campaign=campaign)

    add_campaigns(2)
    marketing.get(RESULTS)  # warm the session and permission caches
    with CaptureQueriesContext(connection) as few:
        marketing.get(RESULTS)
    add_campaigns(10)
    with django_assert_num_queries(len(few.captured_queries)):
        marketing.get(RESULTS)
    assert len(few.captured_queries) <= 10


def test_staff_of_one_store_see_their_members_coupons(client, staff_user, known, member_factory):
    s02 = StoreFactory(code="S02")
    campaign = known["double11"]
    coupon_issue(
        template=campaign.coupons.first().template,
        member=member_factory(home_store=s02),
        campaign=campaign,
    )
    client.force_login(staff_user(Role.MARKETING, scope="store", store=s02))

    html = client.get(RESULTS).content.decode()

    assert figures(html, campaign) == {
        "issued": "1",
        "used": "0",
        "rate": "0.0",
        "revenue": "0.00",
        "cost": "0.00",
    }
    assert f'data-campaign="{known["gifts"].pk}"' not in html


@pytest.mark.parametrize(
    "role, allowed",
    [
        (Role.MARKETING, True),
        (Role.HQ_ADMIN, True),
        (Role.ANALYST, True),
        (Role.STORE_MANAGER, False),
        (Role.CUSTOMER_SERVICE, False),
    ],
)
def test_who_sees_campaign_results(client, staff_user, role, allowed):
    client.force_login(staff_user(role))
    assert client.get(RESULTS).status_code == (200 if allowed else 403)
    assert client.get(EXPORT).status_code == (200 if allowed else 403)
