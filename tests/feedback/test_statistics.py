"""Customer-service statistics against hand-computed figures: business minutes across a
weekend, SLA met and missed, complaints, ratings and tags, handlers' workload; the store
scope; the pages, their CSV (formula-safe) and who may open them."""

import csv
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from feedback import statistics as stats
from feedback.models import Department, Handler, RatingTag, ServiceHours
from feedback.services import (
    ticket_claim,
    ticket_rate,
    ticket_resolve,
    ticket_step,
)
from members.models import StaffProfile
from stores.models import Brand
from tests.members.factories import StaffFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def frozen(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def weekdays_only(feedback_defaults):
    ServiceHours.objects.filter(weekday__in=[5, 6]).delete()


def hq_filter(user, start=date(2026, 12, 1), end=date(2026, 12, 9), store=None):
    return stats.stats_filter(user=user, start=start, end=end, store=store)


@pytest.fixture
def week(submit, agent, opinion, weekdays_only):
    """Four tickets of a regular member, hours 09:00–21:00 on weekdays only:
    A goods, filed Fri 20:00, answered Mon 09:45 (105 min, due 09:30: missed), resolved Mon
    11:00 (180 min, in time); B goods, filed Mon 10:00, answered 10:20 (20), resolved 12:00
    (120); C opinion, filed Tue 10:00, answered 11:00 (60), open (resolution due Thu 10:00);
    D goods, filed Mon 10:00, claimed but never answered (first due Mon 11:30, resolution due
    Tue 16:00)."""
    with frozen(at(2026, 12, 4, 20, 0)):
        a = submit()
    with frozen(at(2026, 12, 7, 9, 45)):
        ticket_claim(ticket=a, actor=agent)
        ticket_step(ticket=a, actor=agent, text="已联系专柜")
    with frozen(at(2026, 12, 7, 10, 0)):
        b, d = submit(), submit()
        ticket_claim(ticket=d, actor=agent)
    with frozen(at(2026, 12, 7, 10, 20)):
        ticket_claim(ticket=b, actor=agent)
        ticket_step(ticket=b, actor=agent, text="正在核实")
    with frozen(at(2026, 12, 7, 11, 0)):
        ticket_resolve(ticket=a, actor=agent, text="已换货")
    with frozen(at(2026, 12, 7, 12, 0)):
        ticket_resolve(ticket=b, actor=agent, text="已退款")
    with frozen(at(2026, 12, 8, 10, 0)):
        c = submit(ticket_type=opinion)
    with frozen(at(2026, 12, 8, 11, 0)):
        ticket_claim(ticket=c, actor=agent)
        ticket_step(ticket=c, actor=agent, text="感谢建议")
    return {"a": a, "b": b, "c": c, "d": d}


NOW = at(2026, 12, 9, 12, 0)  # Wednesday noon


def test_response_times_are_business_minutes_across_the_weekend(week, agent):
    rows = stats.response_times(hq_filter(agent), now=NOW)
    overall, opinion, goods = rows
    assert overall["name"] is None
    assert (overall["tickets"], overall["responded"], overall["resolved"]) == (4, 3, 2)
    # first responses 20, 60, 105: median 60, average 61.7, P90 60 + 0.8 × 45 = 96
    assert (overall["first_median"], overall["first_avg"], overall["first_p90"]) == (60, 61.7, 96)
    # resolutions 120 and 180: median 150, P90 120 + 0.9 × 60 = 174
    assert (overall["resolution_median"], overall["resolution_avg"]) == (150, 150)
    assert overall["resolution_p90"] == 174
    assert goods["name"] == "商品投诉" and goods["tickets"] == 3
    assert (goods["first_median"], goods["first_p90"]) == (62.5, 96.5)
    assert opinion["name"] == "服务意见" and opinion["first_median"] == 60
    assert opinion["resolution_median"] is None


def test_sla_compliance_judges_met_missed_and_not_yet_due(week, agent):
    rows = stats.sla_compliance(hq_filter(agent), now=NOW)
    total = rows[0]
    assert total["type"] is None
    # first responses: A late, B and C in time, D unanswered past its due time
    assert (total["first_judged"], total["first_met"], total["first_share"]) == (4, 2, 50.0)
    # resolutions: A and B in time, D past due; C still within its time
    assert (total["resolution_judged"], total["resolution_met"]) == (3, 2)
    assert total["resolution_share"] == 66.7
    goods = [r for r in rows[1:] if r["type"] == "商品投诉"]
    assert sum(r["tickets"] for r in goods) == 3
    assert sum(r["first_met"] for r in goods) == 1


def test_sla_compliance_keeps_the_tier_a_ticket_was_filed_in(submit, member, agent):
    from loyalty.ledger import account_get_or_create
    from loyalty.models import PointsAccount, Tier

    entry, top = Tier.objects.order_by("threshold")[0], Tier.objects.order_by("threshold").last()
    account_get_or_create(member_id=member.pk)
    PointsAccount.objects.filter(member=member).update(tier=entry)
    ticket = submit()
    assert ticket.tier == entry
    PointsAccount.objects.filter(member=member).update(tier=top)  # promoted after filing
    day = timezone.localdate()

    rows = stats.sla_compliance(hq_filter(agent, start=day, end=day))

    assert [(r["tier"], r["tickets"]) for r in rows[1:]] == [(entry.name, 1)]
    assert submit().tier == top  # a ticket filed now is in the new tier


def test_ticket_counts_by_type_status_and_over_time(week, agent):
    f = hq_filter(agent)
    assert stats.tickets_by_type(f) == [
        {"name": "服务意见", "complaint": False, "tickets": 1},
        {"name": "商品投诉", "complaint": True, "tickets": 3},
    ]
    rows = stats.tickets_by_status(f, now=NOW)
    status = {r["status"]: (r["tickets"], r["overdue"]) for r in rows}
    assert status == {"waiting": (0, 0), "processing": (2, 1), "resolved": (2, 0), "closed": (0, 0)}
    days = stats.tickets_over_time(f, grain="day")
    assert len(days["periods"]) == 9
    goods = next(t for t in days["types"] if t["name"] == "商品投诉")
    assert goods["counts"][3] == 1 and goods["counts"][6] == 2  # Fri 4th, Mon 7th
    weeks = stats.tickets_over_time(f, grain="week")
    assert weeks["periods"] == [date(2026, 11, 30), date(2026, 12, 7)]
    assert sum(sum(t["counts"]) for t in weeks["types"]) == 4


def test_a_store_managers_figures_include_only_their_store(submit, store_a, store_b, agent):
    brand = Brand.objects.create(name="某女装")
    submit(store_=store_a, brand=brand)
    submit(store_=store_b)
    submit(store_=store_b)
    manager = StaffFactory(
        user__role="store_manager", scope=StaffProfile.Scope.STORE, store=store_a
    ).user
    today = timezone.localdate()
    mine = stats.stats_filter(user=manager, start=today, end=today)
    assert [r["code"] for r in stats.tickets_by_store(mine)] == ["SA1"]
    assert stats.tickets_by_brand(mine) == [{"name": "某女装", "tickets": 1, "complaints": 1}]
    # another store asked for by name gives nothing
    elsewhere = stats.stats_filter(user=manager, start=today, end=today, store=store_b)
    assert stats.tickets_by_store(elsewhere) == []
    everything = stats.stats_filter(user=agent, start=today, end=today)
    assert {r["code"]: r["tickets"] for r in stats.tickets_by_store(everything)} == {
        "SB1": 2,
        "SA1": 1,
    }


@pytest.fixture
def rated(submit, agent, opinion, feedback_defaults):
    """Three resolved tickets rated: 5 stars (态度热情, 回复及时) and 1 star (回复太慢,
    问题未解决) for the agent; 4 stars (态度热情) for a second handler; one opinion open."""
    other = StaffFactory(user__role="customer_service", name="李强").user
    desk = Department.objects.create(name="客服部")
    Handler.objects.create(user=agent, department=desk, employee_no="KF001")
    tag = {t.name: t for t in RatingTag.objects.all()}
    brand = Brand.objects.create(name="某鞋")
    plan = [
        (agent, 5, ["态度热情", "回复及时"], brand),
        (agent, 1, ["回复太慢", "问题未解决"], None),
        (other, 4, ["态度热情"], brand),
    ]
    for handler, stars, tags, ticket_brand in plan:
        ticket = submit(brand=ticket_brand)
        ticket_claim(ticket=ticket, actor=handler)
        ticket_resolve(ticket=ticket, actor=handler, text="已处理")
        ticket_rate(ticket=ticket, member=ticket.member, stars=stars, tags=[tag[t] for t in tags])
    submit(ticket_type=opinion)
    return other


def test_ratings_and_tags_overall_and_per_handler(rated, agent):
    today = timezone.localdate()
    f = hq_filter(agent, today, today)
    data = stats.rating_distribution(f)
    assert [(s["stars"], s["ratings"]) for s in data["stars"]] == [
        (5, 1),
        (4, 1),
        (3, 0),
        (2, 0),
        (1, 1),
    ]
    assert (data["ratings"], data["average"]) == (3, 3.33)
    picked = {r["name"]: (r["positive"], r["picked"]) for r in stats.tag_distribution(f)}
    assert picked["态度热情"] == (True, 2)
    assert picked["回复及时"] == (True, 1)
    assert picked["专业耐心"] == (True, 0)
    assert picked["回复太慢"] == (False, 1)
    by_handler = {h["name"]: h for h in stats.tags_by_handler(f)["handlers"]}
    assert (by_handler["王芳"]["positive"], by_handler["王芳"]["negative"]) == (2, 2)
    assert (by_handler["李强"]["positive"], by_handler["李强"]["negative"]) == (1, 0)
    workload = {r["name"]: r for r in stats.handler_workload(f)}
    assert workload["王芳"]["resolved"] == 2 and workload["王芳"]["department"] == "客服部"
    assert (workload["王芳"]["ratings"], workload["王芳"]["average_stars"]) == (2, 3.0)
    assert (workload["李强"]["ratings"], workload["李强"]["average_stars"]) == (1, 4.0)


def test_complaints_per_brand_department_and_handler(rated, agent):
    today = timezone.localdate()
    f = hq_filter(agent, today, today)
    assert stats.complaints_by_brand(f) == [
        {"name": "某鞋", "complaints": 2, "resolved": 2},
        {"name": None, "complaints": 1, "resolved": 1},
    ]  # the open opinion is not a complaint
    assert stats.complaints_by_department(f) == [
        {"name": "客服部", "complaints": 2, "resolved": 2},
        {"name": None, "complaints": 1, "resolved": 1},  # 李强 has no handler card
    ]
    assert [(r["name"], r["complaints"]) for r in stats.complaints_by_handler(f)] == [
        ("王芳", 2),
        ("李强", 1),
    ]


def test_workload_counts_open_and_overdue_now(week, agent):
    rows = stats.handler_workload(hq_filter(agent), now=NOW)
    assert len(rows) == 1
    row = rows[0]
    assert (row["open"], row["overdue"], row["resolved"]) == (2, 1, 2)  # D is overdue


# --- Pages ------------------------------------------------------------------------------------


def test_the_pages_draw_each_chart_with_its_numbers(client, rated, agent):
    client.force_login(agent)
    for page in ["tickets", "complaints", "tags", "handlers"]:
        response = client.get(reverse(f"backoffice:feedback_stats_{page}"))
        assert response.status_code == 200, page
        html = response.content.decode()
        assert "data-chart " in html, page
        assert "data-empty-page" not in html
    html = client.get(reverse("backoffice:feedback_stats_tags")).content.decode()
    assert "态度热情" in html and "标签统计" in html


def test_empty_pages_say_so(client, agent):
    client.force_login(agent)
    html = client.get(reverse("backoffice:feedback_stats_tickets")).content.decode()
    assert "data-empty-page" in html and "data-chart " not in html


def test_csv_export_is_formula_safe(client, submit, agent):
    brand = Brand.objects.create(name='=HYPERLINK("http://evil.example","点我")')
    submit(brand=brand)
    client.force_login(agent)
    response = client.get(
        reverse("backoffice:feedback_stats_complaints"), {"export": "complaints_brand"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["品牌", "投诉", "已处理"]
    assert rows[1] == ['\'=HYPERLINK("http://evil.example","点我")', "1", "0"]
    everything = client.get(reverse("backoffice:feedback_stats_tickets"), {"export": "all"})
    assert "'=HYPERLINK" in everything.content.decode("utf-8-sig")


def test_bad_filters_are_refused_with_a_reason(client, agent):
    client.force_login(agent)
    url = reverse("backoffice:feedback_stats_tickets")
    assert client.get(url, {"start": "2026-12-09", "end": "2026-12-01"}).status_code == 400
    assert client.get(url, {"start": "not a date"}).status_code == 400
    assert client.get(url, {"export": "nonsense"}).status_code == 400


def test_a_store_manager_cannot_pick_another_store(client, store_a, store_b, feedback_defaults):
    manager = StaffFactory(
        user__role="store_manager", scope=StaffProfile.Scope.STORE, store=store_a
    ).user
    client.force_login(manager)
    url = reverse("backoffice:feedback_stats_tickets")
    assert client.get(url, {"store": store_a.pk}).status_code == 200
    assert client.get(url, {"store": store_b.pk}).status_code == 400


def test_who_may_open_the_statistics(client, feedback_defaults):
    url = reverse("backoffice:feedback_stats_tickets")
    analyst = StaffFactory(user__role="analyst").user
    client.force_login(analyst)
    assert client.get(url).status_code == 403
    service = StaffFactory(user__role="customer_service").user
    client.force_login(service)
    assert client.get(url).status_code == 200
    assert client.get(reverse("backoffice:statistics")).status_code == 403  # not analytics
    nav = client.get(url).content.decode()
    assert reverse("backoffice:feedback_stats_tickets") in nav
    assert reverse("backoffice:feedback_settings_index") not in nav
