"""Issuing: validity, limits, total quantity, idempotent keys, welcome and birthday coupons."""

import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection

from coupons.issuing import (
    CODE_ALPHABET,
    CouponError,
    birthday_coupons_issue,
    coupon_issue,
    coupons_issue_bulk,
    validity_for,
    welcome_coupons_issue,
)
from coupons.models import Campaign, Coupon, CouponTemplate, IssueRule
from members.models import Member

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_codes_are_long_unguessable_and_unique(make_template, campaign, member_factory):
    template = make_template(per_member_limit=0)
    members = [member_factory().pk for _ in range(50)]
    issued = coupons_issue_bulk(template=template, member_ids=members, campaign=campaign)

    codes = [code for _m, code in issued]
    assert len(set(codes)) == 50
    assert all(len(c) == 16 and set(c) <= set(CODE_ALPHABET) for c in codes)


@pytest.mark.parametrize(
    "issued_at, days, last_valid, first_invalid",
    [
        # Issued 25 Nov, 30 days: usable to the end of 25 Dec, Shanghai time.
        ("2026-11-25T10:00", 30, "2026-12-25T23:59:59", "2026-12-26T00:00:00"),
        # Issued one second before midnight: the day of issue is day 0.
        ("2026-11-25T23:59:59", 1, "2026-11-26T23:59:59", "2026-11-27T00:00:00"),
        ("2026-11-26T00:00:00", 0, "2026-11-26T23:59:59", "2026-11-27T00:00:00"),
    ],
)
def test_validity_in_days_ends_at_shanghai_midnight(
    make_template, issued_at, days, last_valid, first_invalid
):
    template = make_template(valid_days=days)
    start, end = validity_for(template, datetime.fromisoformat(issued_at).replace(tzinfo=SHANGHAI))

    assert datetime.fromisoformat(last_valid).replace(tzinfo=SHANGHAI) < end
    assert end == datetime.fromisoformat(first_invalid).replace(tzinfo=SHANGHAI)
    assert end.astimezone(ZoneInfo("UTC")).hour == 16  # 16:00 UTC, not midnight UTC


def test_fixed_dates_are_the_templates(make_template):
    begin = datetime(2026, 12, 1, tzinfo=SHANGHAI)
    end = datetime(2027, 1, 1, tzinfo=SHANGHAI)
    template = make_template(valid_days=None, valid_from=begin, valid_until=end)
    assert validity_for(template, datetime(2026, 11, 1, tzinfo=SHANGHAI)) == (begin, end)


def test_an_ended_template_issues_nothing(make_template, campaign, member):
    past = datetime(2020, 1, 1, tzinfo=SHANGHAI)
    template = make_template(valid_days=None, valid_from=past, valid_until=past + timedelta(days=1))
    with pytest.raises(CouponError):
        coupons_issue_bulk(template=template, member_ids=[member.pk], campaign=campaign)


def test_the_per_member_limit_holds(make_template, campaign, member):
    template = make_template(per_member_limit=2)
    for _ in range(3):
        coupons_issue_bulk(template=template, member_ids=[member.pk, member.pk], campaign=campaign)
    assert Coupon.objects.filter(member=member).count() == 2


def test_total_quantity_is_never_exceeded_and_counts_issues(
    make_template, campaign, member_factory
):
    template = make_template(total_quantity=3)
    members = [member_factory().pk for _ in range(5)]

    issued = coupons_issue_bulk(template=template, member_ids=members, campaign=campaign)

    assert [m for m, _c in issued] == members[:3]
    template.refresh_from_db()
    assert template.issued_count == 3
    assert coupons_issue_bulk(template=template, member_ids=members[3:], campaign=campaign) == []


def test_closed_members_get_nothing(make_template, campaign, member):
    Member.objects.filter(pk=member.pk).update(status=Member.Status.CLOSED)
    assert (
        coupons_issue_bulk(template=make_template(), member_ids=[member.pk], campaign=campaign)
        == []
    )


def test_an_issue_key_issues_once_even_without_a_limit(make_template, campaign, member):
    template = make_template(per_member_limit=0)
    first = coupon_issue(
        template=template, member=member, campaign=campaign, key=f"prize:9:{member.pk}"
    )
    again = coupon_issue(
        template=template, member=member, campaign=campaign, key=f"prize:9:{member.pk}"
    )
    assert first == again
    assert Coupon.objects.count() == 1


def test_bulk_issuing_uses_copy_and_gives_each_member_one(make_template, campaign, member_factory):
    template = make_template()
    members = [member_factory().pk for _ in range(600)]  # above the COPY threshold

    issued = coupons_issue_bulk(template=template, member_ids=members + members, campaign=campaign)

    assert len(issued) == 600
    assert Coupon.objects.filter(template=template).count() == 600
    coupon = Coupon.objects.first()
    assert coupon.status == "unused" and coupon.campaign == campaign
    assert coupon.valid_until > coupon.valid_from


def test_welcome_coupons_on_registration_by_channel(make_template, member_factory):
    everyone = make_template("WELCOME10")
    subway = make_template("SUBWAY")
    IssueRule.objects.create(trigger="registration", template=everyone)
    IssueRule.objects.create(trigger="registration", template=subway, channel="METRO01")

    plain = member_factory()
    from_metro = member_factory()
    welcome_coupons_issue(member=plain)
    welcome_coupons_issue(member=from_metro, channel="METRO01")
    welcome_coupons_issue(member=from_metro, channel="METRO01")  # twice: still once

    assert list(plain.coupons.values_list("template__code", flat=True)) == ["welcome10"]
    assert sorted(from_metro.coupons.values_list("template__code", flat=True)) == [
        "subway",
        "welcome10",
    ]


def test_birthday_coupons_n_days_before_once_a_year(make_template, member_factory):
    IssueRule.objects.create(
        trigger="birthday", template=make_template(per_member_limit=0), days_before=7
    )
    soon = member_factory(birthday=date(1990, 12, 2))
    later = member_factory(birthday=date(1990, 12, 3))

    assert birthday_coupons_issue(today=date(2026, 11, 25)) == 1
    assert birthday_coupons_issue(today=date(2026, 11, 25)) == 0
    assert soon.coupons.count() == 1 and later.coupons.count() == 0


def test_leap_day_birthdays_are_celebrated_on_the_28th(make_template, member_factory):
    IssueRule.objects.create(trigger="birthday", template=make_template(), days_before=0)
    leap = member_factory(birthday=date(2000, 2, 29))
    assert birthday_coupons_issue(today=date(2027, 2, 28)) == 1
    assert leap.coupons.count() == 1


def test_issue_coupons_command_prints_card_and_code(tmp_path, member_factory, capsys):
    CouponTemplate.objects.create(
        code="WELCOME10", name="新会员 10 元", kind="cash", face_value_fen=1000, valid_days=30
    )
    a, b = member_factory(), member_factory()
    cards = tmp_path / "cards.txt"
    cards.write_text(f"{a.card_no}\n{b.card_no}\n000000000000\n{a.card_no}\n")

    call_command("issue_coupons", "WELCOME10", str(cards))

    out, err = capsys.readouterr()
    rows = [line.split(",") for line in out.strip().splitlines()]
    assert sorted(card for card, _code in rows) == sorted([a.card_no, b.card_no])
    assert {code for _card, code in rows} == set(Coupon.objects.values_list("code", flat=True))
    assert "line 3" in err
    call_command("issue_coupons", "WELCOME10", str(cards))  # the limit holds: nothing new
    assert Coupon.objects.count() == 2


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(2))
@pytest.mark.parametrize("limit, expected", [(1, 100), (0, 150)])
def test_two_campaigns_racing_respect_quantity_and_the_member_limit(
    member_factory, round_, limit, expected
):
    template = CouponTemplate.objects.create(
        code=f"race{round_}-{limit}",
        name="race",
        kind="cash",
        face_value_fen=100,
        valid_days=3,
        total_quantity=150,
        per_member_limit=limit,
    )
    members = [member_factory().pk for _ in range(100)]
    barrier = threading.Barrier(2)
    results = []

    def issue(name, ids):
        try:
            campaign = Campaign.objects.create(name=name, channel="group")
            barrier.wait()
            results.append(coupons_issue_bulk(template=template, member_ids=ids, campaign=campaign))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=issue, args=("A", members)),
        threading.Thread(target=issue, args=("B", list(reversed(members)))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert Coupon.objects.filter(template=template).count() == expected
    assert sum(len(r) for r in results) == expected
    template.refresh_from_db()
    assert template.issued_count == expected
    if limit:
        assert Coupon.objects.values("member").distinct().count() == expected
