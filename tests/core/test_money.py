"""Fen shown as yuan: one exact helper (core.money) behind every page, filter and export,
negative amounts included."""

import pytest
from django.template import Context, Template

from core.money import fen_to_display, fen_to_yuan, fen_to_yuan_short


@pytest.mark.parametrize(
    ("fen", "yuan", "display", "short"),
    [
        (0, "0.00", "¥0.00", "0"),
        (5, "0.05", "¥0.05", "0.05"),
        (1250, "12.50", "¥12.50", "12.5"),
        (123456, "1,234.56", "¥1,234.56", "1234.56"),
        (-50, "-0.50", "-¥0.50", "-0.5"),
        (-1, "-0.01", "-¥0.01", "-0.01"),
        (-100, "-1.00", "-¥1.00", "-1"),
        (-123456, "-1,234.56", "-¥1,234.56", "-1234.56"),
    ],
)
def test_fen_to_yuan_is_exact_both_ways_of_zero(fen, yuan, display, short):
    assert fen_to_yuan(fen) == yuan
    assert fen_to_display(fen) == display
    assert fen_to_yuan_short(fen) == short


def test_without_grouping_a_spreadsheet_reads_the_number():
    assert fen_to_yuan(-123456, grouping=False) == "-1234.56"
    assert fen_to_yuan(99, grouping=False) == "0.99"


def test_templates_show_amounts_through_the_filters():
    page = Template("{% load money %}{{ a|money }} {{ b|yuan }} [{{ c|money }}]").render(
        Context({"a": -50, "b": 123456, "c": None})
    )
    assert page == "-¥0.50 1,234.56 []"


@pytest.mark.django_db
def test_the_campaign_csv_writes_negative_amounts_exactly(client, monkeypatch):
    import csv
    import io

    from django.utils import timezone

    from core.roles import Role
    from coupons import selectors
    from tests.members.factories import StaffFactory

    row = selectors.CampaignResult(
        campaign_id=1,
        name="退货冲减",
        channel="manual",
        channel_label="人工发放",
        created_at=timezone.now(),
        issued=1,
        used=1,
        revenue_fen=-50,
        cost_fen=-1,
        receipts=1,
    )
    monkeypatch.setattr(selectors, "campaign_results", lambda user: [row])
    client.force_login(StaffFactory(user__role=Role.MARKETING).user)

    body = client.get("/backoffice/coupons/campaigns/results.csv").content.decode("utf-8-sig")

    cells = list(csv.reader(io.StringIO(body)))[1]
    # A leading "-" is quoted against formulas (csv_cell); the figure itself must be exact.
    assert [cell.lstrip("'") for cell in cells[-2:]] == ["-0.50", "-0.01"]
