"""The points ledger through its public services: posting, spending, immutability, checks."""

from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction

from loyalty.ledger import (
    InsufficientPoints,
    LedgerConflict,
    adjust_key,
    earn_key,
    expire_key,
    forfeit_key,
    ledger_check,
    points_balance,
    points_post,
    points_spend,
    refund_key,
    signin_key,
)
from loyalty.models import PointsAccount, PointsEntry


def _earn(member, points, key="k1"):
    entry, _created = points_post(member_id=member.pk, kind="earn", points=points, key=key)
    return entry


def test_the_balance_is_the_sum_of_entries_and_each_entry_records_it(member):
    _earn(member, 100, "a")
    _earn(member, 50, "b")
    points_spend(member_id=member.pk, points=30, kind="redeem", key="c")

    assert points_balance(member_id=member.pk) == 120
    entries = PointsEntry.objects.order_by("pk")
    assert [e.balance_after for e in entries] == [100, 150, 120]
    assert ledger_check() == []


def test_a_spend_the_balance_does_not_cover_changes_nothing(member):
    _earn(member, 10)

    with pytest.raises(InsufficientPoints):
        points_spend(member_id=member.pk, points=11, kind="redeem", key="too-much")

    assert points_balance(member_id=member.pk) == 10
    assert not PointsEntry.objects.filter(key="too-much").exists()


def test_the_same_key_posts_once(member):
    first, created = points_post(member_id=member.pk, kind="earn", points=10, key="once")
    again, created_again = points_post(member_id=member.pk, kind="earn", points=10, key="once")

    assert (created, created_again) == (True, False)
    assert again == first
    assert points_balance(member_id=member.pk) == 10


def test_the_same_key_with_other_figures_is_a_conflict(member, member_factory):
    _earn(member, 10, "k")
    with pytest.raises(LedgerConflict):
        points_post(member_id=member.pk, kind="earn", points=11, key="k")
    with pytest.raises(LedgerConflict):
        points_post(member_id=member_factory().pk, kind="earn", points=10, key="k")


def test_only_redemptions_and_draws_spend(member):
    with pytest.raises(ValueError):
        points_spend(member_id=member.pk, points=1, kind="adjust", key="x")
    with pytest.raises(ValueError):
        points_spend(member_id=member.pk, points=0, kind="redeem", key="x")


def test_credits_expire_at_the_end_of_next_year(member):
    entry, _ = points_post(
        member_id=member.pk,
        kind="earn",
        points=5,
        key="e",
        earned_on=__import__("datetime").date(2026, 3, 1),
    )
    assert entry.expires_on.isoformat() == "2027-12-31"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE loyalty_pointsentry SET points = 1000",
        "DELETE FROM loyalty_pointsentry",
    ],
)
def test_entries_cannot_be_updated_or_deleted_even_in_raw_sql(member, statement):
    _earn(member, 10)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert PointsEntry.objects.get().points == 10


def test_entries_cannot_be_changed_through_the_orm(member):
    entry = _earn(member, 10)
    entry.points = 99
    with pytest.raises(IntegrityError), transaction.atomic():
        entry.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsEntry.objects.filter(pk=entry.pk).update(points=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        entry.delete()


def test_the_database_refuses_a_negative_balance(member):
    _earn(member, 10)
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsAccount.objects.filter(member=member).update(balance=-1)


def test_check_ledger_finds_a_balance_that_is_not_the_sum_of_entries(member):
    _earn(member, 10)
    call_command("check_ledger")  # healthy: no exception

    PointsAccount.objects.filter(member=member).update(balance=11)

    breaches = ledger_check()
    assert {b.check for b in breaches} == {"balance_is_sum_of_entries"}
    with pytest.raises(CommandError):
        call_command("check_ledger")


def test_check_ledger_notices_a_missing_immutability_trigger(member):
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE loyalty_pointsentry DISABLE TRIGGER USER")
        cursor.execute("DROP TRIGGER loyalty_pointsentry_append_only ON loyalty_pointsentry")
    assert "entries_are_immutable" in {b.check for b in ledger_check()}


def test_the_admin_offers_no_way_to_change_or_delete_entries_even_to_a_superuser(
    admin_client, member
):
    entry = _earn(member, 10)
    url = f"/admin/loyalty/pointsentry/{entry.pk}"

    assert admin_client.get(f"{url}/change/").status_code == 200  # readable
    assert admin_client.post(f"{url}/change/", {"points": 99}).status_code == 403
    assert admin_client.post(f"{url}/delete/", {"post": "yes"}).status_code == 403
    assert PointsEntry.objects.get().points == 10


def test_every_event_key_is_built_in_one_place():
    assert earn_key(receipt_id=7) == "earn:receipt:7"
    assert refund_key(receipt_id=8) == "refund:receipt:8"
    assert adjust_key(once="tok", member_id=1, actor_id=2) == "adjust:tok"
    assert adjust_key(once=None, member_id=1, actor_id=2) != adjust_key(
        once=None, member_id=1, actor_id=2
    )
    assert signin_key(member_id=3, day=date(2026, 12, 2)) == "signin:3:2026-12-02"
    assert forfeit_key(member_id=4) == "forfeit:4"
    assert expire_key(account_id=5, on=date(2026, 12, 31)) == "expire:5:2026-12-31"
    # ledger_check reads the date as the key's third part, second expiries included.
    assert expire_key(account_id=5, on=date(2026, 12, 31), earlier=1).split(":")[2] == "2026-12-31"


@pytest.mark.django_db
def test_points_won_in_the_lottery_are_earned_not_less_spent():
    from loyalty.ledger import points_post, points_spend
    from loyalty.selectors import points_totals
    from tests.members.factories import MemberFactory

    member = MemberFactory()
    points_post(member_id=member.pk, kind="earn", points=500, key="t:earn")
    points_spend(member_id=member.pk, points=100, kind="lottery", key="t:draw1")
    points_spend(member_id=member.pk, points=100, kind="lottery", key="t:draw2")
    points_post(member_id=member.pk, kind="lottery", points=88, key="t:prize")
    points_spend(member_id=member.pk, points=50, kind="redeem", key="t:goods")

    assert points_totals(member=member) == {"earned": 588, "spent": 250, "expired": 0}
