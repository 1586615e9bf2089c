"""The bulk posting path: many entries at once with the guarantees of points_post."""

import threading
from datetime import date

import pytest
from django.db import connection, transaction

from loyalty.ledger import (
    NEVER,
    EntryIn,
    InsufficientPoints,
    LedgerConflict,
    ledger_check,
    points_balance,
    points_post,
    points_post_many,
    points_spend,
)
from loyalty.models import LoyaltySettings, PointsEntry


def _earn(member, key, points, **extra):
    return EntryIn(member_id=member.pk, kind="earn", points=points, key=key, **extra)


def _history(member) -> list[tuple[str, int, int]]:
    return list(
        PointsEntry.objects.filter(account__member=member)
        .order_by("id")
        .values_list("key", "points", "balance_after")
    )


def test_entries_apply_in_order_after_what_the_account_already_holds(member, member_factory):
    other = member_factory()
    points_post(member_id=member.pk, kind="earn", points=40, key="before")

    result = points_post_many(
        [
            _earn(member, "a", 100),
            _earn(other, "b", 7),
            EntryIn(member_id=member.pk, kind="redeem", points=-30, key="c"),
            _earn(member, "d", 5),
        ]
    )

    assert (result.entries, result.skipped, result.points) == (4, 0, 82)
    assert _history(member) == [
        ("before", 40, 40),
        ("a", 100, 140),
        ("c", -30, 110),
        ("d", 5, 115),
    ]
    assert _history(other) == [("b", 7, 7)]
    assert points_balance(member_id=member.pk) == 115
    assert points_balance(member_id=other.pk) == 7
    assert ledger_check() == []


def test_a_rerun_posts_nothing_and_keys_posted_singly_are_skipped(member):
    points_post(member_id=member.pk, kind="earn", points=10, key="k2")
    batch = [_earn(member, f"k{i}", 10 * i) for i in range(1, 4)]

    first = points_post_many(batch)
    again = points_post_many(batch)

    assert (first.entries, first.skipped) == (2, 1)
    assert (again.entries, again.skipped, again.points) == (0, 3, 0)
    assert PointsEntry.objects.count() == 3
    assert points_balance(member_id=member.pk) == 10 + 10 + 30
    assert ledger_check() == []


def test_a_key_posted_for_another_member_is_a_conflict(member, member_factory):
    points_post(member_id=member.pk, kind="earn", points=10, key="shared")
    with pytest.raises(LedgerConflict):
        points_post_many([_earn(member_factory(), "shared", 10)])


def test_floored_debits_take_only_what_is_there_and_later_entries_build_on_that(member):
    points_post(member_id=member.pk, kind="earn", points=100, key="earn-1")
    points_spend(member_id=member.pk, points=80, kind="redeem", key="spend-1")

    result = points_post_many(
        [
            EntryIn(member_id=member.pk, kind="refund", points=-50, key="r1", floor_at_zero=True),
            EntryIn(member_id=member.pk, kind="refund", points=-9, key="r2", floor_at_zero=True),
            _earn(member, "e2", 10),
            EntryIn(member_id=member.pk, kind="refund", points=-4, key="r3", floor_at_zero=True),
        ]
    )

    # r1 takes the 20 left, r2 finds nothing (no entry), e2 adds 10, r3 takes 4 of them.
    assert (result.entries, result.skipped, result.points) == (3, 1, -14)
    assert _history(member)[2:] == [("r1", -20, 0), ("e2", 10, 10), ("r3", -4, 6)]
    assert points_balance(member_id=member.pk) == 6
    assert ledger_check() == []


def test_a_debit_the_balance_does_not_cover_posts_nothing_at_all(member, member_factory):
    other = member_factory()
    points_post(member_id=member.pk, kind="earn", points=10, key="earn-1")

    with pytest.raises(InsufficientPoints):
        points_post_many(
            [
                _earn(other, "fine", 5),
                EntryIn(member_id=member.pk, kind="redeem", points=-11, key="too-much"),
            ]
        )

    assert PointsEntry.objects.count() == 1
    assert points_balance(member_id=member.pk) == 10
    assert points_balance(member_id=other.pk) == 0


def test_credits_expire_by_the_policy_and_reversals_point_at_their_credit(member):
    points_post(member_id=member.pk, kind="earn", points=50, key="earn:old")

    points_post_many(
        [
            _earn(member, "earn:new", 30, earned_on=date(2026, 3, 1)),
            EntryIn(
                member_id=member.pk,
                kind="refund",
                points=-10,
                key="refund:new",
                reverses_key="earn:new",
                floor_at_zero=True,
            ),
            EntryIn(
                member_id=member.pk,
                kind="refund",
                points=-5,
                key="refund:old",
                reverses_key="earn:old",
                floor_at_zero=True,
            ),
        ]
    )

    entries = {e.key: e for e in PointsEntry.objects.all()}
    assert entries["earn:new"].expires_on == date(2027, 12, 31)
    assert entries["refund:new"].expires_on is None
    assert entries["refund:new"].reverses == entries["earn:new"]
    assert entries["refund:old"].reverses == entries["earn:old"]
    assert ledger_check() == []

    LoyaltySettings.objects.filter(pk=1).update(expiry_enabled=False)
    points_post_many([_earn(member, "earn:forever", 1, earned_on=date(2026, 3, 1))])
    assert PointsEntry.objects.get(key="earn:forever").expires_on == NEVER


def test_a_reversal_of_nothing_posted_is_refused(member):
    with pytest.raises(ValueError, match="names no entry"):
        points_post_many(
            [
                _earn(member, "e", 5),
                EntryIn(member_id=member.pk, kind="refund", points=-1, key="r", reverses_key="x"),
            ]
        )


def test_a_repeated_key_within_one_batch_is_refused(member):
    with pytest.raises(ValueError, match="repeated key"):
        points_post_many([_earn(member, "twice", 1), _earn(member, "twice", 1)])


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_single_posts_during_bulk_posts_wait_and_keep_every_running_balance(member_factory):
    members = [member_factory() for _ in range(5)]
    rounds = 6
    start = threading.Barrier(3)
    errors = []

    def singles(worker):
        try:
            start.wait()
            for n in range(60):
                target = members[n % len(members)]
                points_post(member_id=target.pk, kind="earn", points=1, key=f"s{worker}-{n}")
                if n % 3 == 0:
                    points_spend(member_id=target.pk, points=1, kind="redeem", key=f"x{worker}-{n}")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=singles, args=(w,)) for w in range(2)]
    for thread in threads:
        thread.start()
    start.wait()
    for r in range(rounds):
        with transaction.atomic():
            points_post_many(
                [_earn(m, f"bulk{r}-{i}", 10 + i) for i, m in enumerate(members)]
                + [
                    EntryIn(member_id=m.pk, kind="refund", points=-3, key=f"bulk{r}-r{i}")
                    for i, m in enumerate(members)
                ]
            )
    for thread in threads:
        thread.join()

    assert errors == []
    assert ledger_check() == []
    bulk_net = sum(10 + i - 3 for i in range(len(members))) * rounds
    singles_net = 2 * (60 - 20)
    total = sum(points_balance(member_id=m.pk) for m in members)
    assert total == bulk_net + singles_net
