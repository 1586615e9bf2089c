"""The points ledger: the only code that writes points entries and account balances.

Every change is one appended PointsEntry under a unique idempotency key, and the account's
balance moves in the same transaction by one conditional UPDATE, so a debit the balance does
not cover changes nothing and concurrent spends cannot overdraw (Postgres re-checks the
WHERE clause against the committed row). Lock order: the account row first, then anything
else the caller locks (stock, prizes), by ascending id.
"""

from dataclasses import dataclass
from datetime import date

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.exceptions import ServiceError
from loyalty.models import LoyaltySettings, PointsAccount, PointsEntry

NEVER = date(9999, 12, 31)


class InsufficientPoints(ServiceError):
    code = "insufficient_points"
    default_message = _("Not enough points.")


class LedgerConflict(ServiceError):
    code = "ledger_conflict"
    default_message = _("This change was already recorded with different figures.")


def account_for(*, member_id: int) -> PointsAccount:
    """The member's points account, created empty on first use."""
    account = PointsAccount.objects.filter(member_id=member_id).first()
    if account is None:
        PointsAccount.objects.bulk_create(
            [PointsAccount(member_id=member_id)], ignore_conflicts=True
        )
        account = PointsAccount.objects.get(member_id=member_id)
    return account


def credit_expires_on(earned_on: date, policy: LoyaltySettings | None = None) -> date:
    """When points earned on `earned_on` expire: the end of that year plus the policy's years."""
    policy = policy or LoyaltySettings.current()
    if not policy.expiry_enabled:
        return NEVER
    return date(earned_on.year + policy.expiry_years_after, 12, 31)


def points_post(
    *,
    member_id: int,
    kind: str,
    points: int,
    key: str,
    receipt_id: int | None = None,
    reverses: PointsEntry | None = None,
    memo: str = "",
    actor=None,
    earned_on: date | None = None,
    floor_at_zero: bool = False,
) -> tuple[PointsEntry | None, bool]:
    """Append one entry moving the member's balance by `points` and return (entry, created).

    Idempotent on `key`: the entry already recorded under it is returned with created=False
    (LedgerConflict if its figures differ). A debit larger than the balance raises
    InsufficientPoints, unless `floor_at_zero` takes only what is there (refunds of spent
    points); then a debit of nothing returns (None, False). Locks the account row.
    """
    if points == 0:
        raise ValueError("a points entry moves the balance")
    existing = PointsEntry.objects.filter(key=key).first()
    if existing is not None:
        return _replayed(existing, member_id=member_id, kind=kind, points=points), False
    account = account_for(member_id=member_id)
    now = timezone.now()
    expires_on = credit_expires_on(earned_on or timezone.localdate(now)) if points > 0 else None
    try:
        with transaction.atomic():
            if floor_at_zero and points < 0:
                account = PointsAccount.objects.select_for_update().get(pk=account.pk)
                points = -min(-points, account.balance)
                if points == 0:
                    return None, False
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE loyalty_pointsaccount SET balance = balance + %s, updated_at = %s"
                    " WHERE id = %s AND balance + %s >= 0 RETURNING balance",
                    [points, now, account.pk, points],
                )
                row = cursor.fetchone()
            if row is None:
                raise InsufficientPoints()
            entry = PointsEntry.objects.create(
                account=account,
                kind=kind,
                points=points,
                balance_after=row[0],
                key=key,
                receipt_id=receipt_id,
                reverses=reverses,
                expires_on=expires_on,
                memo=memo[:200],
                actor=actor if getattr(actor, "is_authenticated", False) else None,
                created_at=now,
            )
    except IntegrityError:
        # Another transaction recorded the same key first; it has committed by now.
        existing = PointsEntry.objects.filter(key=key).first()
        if existing is None:
            raise
        return _replayed(existing, member_id=member_id, kind=kind, points=points), False
    return entry, True


def _replayed(entry: PointsEntry, *, member_id: int, kind: str, points: int) -> PointsEntry:
    same_account = PointsAccount.objects.filter(pk=entry.account_id, member_id=member_id).exists()
    if not same_account or entry.kind != kind or (entry.points != points and kind != "refund"):
        raise LedgerConflict()
    return entry


def points_spend(
    *, member_id: int, points: int, kind: str, key: str, memo: str = "", actor=None
) -> PointsEntry:
    """Take `points` (> 0) from the member for a redemption or a draw; InsufficientPoints if
    the balance does not cover them, and then nothing changes. Idempotent on `key`."""
    if points <= 0:
        raise ValueError("spend a positive number of points")
    if kind not in {PointsEntry.Kind.REDEEM, PointsEntry.Kind.LOTTERY}:
        raise ValueError(f"points are spent by redemptions and draws, not {kind!r}")
    entry, _created = points_post(
        member_id=member_id, kind=kind, points=-points, key=key, memo=memo, actor=actor
    )
    return entry


def points_balance(*, member_id: int) -> int:
    return (
        PointsAccount.objects.filter(member_id=member_id).values_list("balance", flat=True).first()
        or 0
    )


@dataclass(frozen=True)
class Breach:
    check: str
    detail: str

    def __str__(self):
        return f"{self.check}: {self.detail}"


LEDGER_CHECKS = {
    "balance_is_sum_of_entries": """
        SELECT a.id, a.balance, COALESCE(SUM(e.points), 0)
        FROM loyalty_pointsaccount a LEFT JOIN loyalty_pointsentry e ON e.account_id = a.id
        GROUP BY a.id HAVING a.balance <> COALESCE(SUM(e.points), 0)""",
    "balance_after_is_running_sum": """
        SELECT id, account_id, balance_after, running FROM (
            SELECT id, account_id, balance_after,
                   SUM(points) OVER (PARTITION BY account_id ORDER BY id) AS running
            FROM loyalty_pointsentry) t
        WHERE balance_after <> running""",
    "no_negative_balance": """
        SELECT id, balance FROM loyalty_pointsaccount WHERE balance < 0
        UNION ALL SELECT account_id, balance_after FROM loyalty_pointsentry
        WHERE balance_after < 0""",
    "reversals_within_original": """
        SELECT o.id, o.points, -SUM(r.points) FROM loyalty_pointsentry o
        JOIN loyalty_pointsentry r ON r.reverses_id = o.id
        GROUP BY o.id, o.points HAVING -SUM(r.points) > o.points""",
    "expired_within_credits_due": """
        SELECT x.account_id, x.expired, COALESCE(SUM(c.points), 0) FROM (
            SELECT account_id, -SUM(points) AS expired,
                   MAX(split_part(key, ':', 3)::date) AS last_on
            FROM loyalty_pointsentry WHERE kind = 'expire' GROUP BY account_id) x
        LEFT JOIN loyalty_pointsentry c ON c.account_id = x.account_id AND c.points > 0
             AND c.expires_on <= x.last_on
        GROUP BY x.account_id, x.expired HAVING x.expired > COALESCE(SUM(c.points), 0)""",
    "receipt_earns_once": """
        SELECT receipt_id, COUNT(*) FROM loyalty_pointsentry
        WHERE kind = 'earn' AND receipt_id IS NOT NULL GROUP BY receipt_id HAVING COUNT(*) > 1""",
    "entry_matches_receipt_member": """
        SELECT e.id, e.receipt_id FROM loyalty_pointsentry e
        JOIN loyalty_pointsaccount a ON a.id = e.account_id
        JOIN loyalty_receipt r ON r.id = e.receipt_id
        WHERE r.member_id IS DISTINCT FROM a.member_id""",
    "entries_are_immutable": """
        SELECT 'trigger missing' WHERE NOT EXISTS (
            SELECT 1 FROM pg_trigger WHERE tgname = 'loyalty_pointsentry_append_only')""",
}


def ledger_check(*, limit: int = 20) -> list[Breach]:
    """Every invariant of the ledger, checked in SQL; the breaches found (none is healthy)."""
    breaches = []
    with connection.cursor() as cursor:
        for name, sql in LEDGER_CHECKS.items():
            cursor.execute(f"{sql} LIMIT {int(limit)}")  # noqa: S608 - constant SQL
            breaches += [Breach(name, ", ".join(map(str, row))) for row in cursor.fetchall()]
    return breaches
