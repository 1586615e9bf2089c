"""The points ledger: the only code that writes points entries and account balances.

Every change is one appended PointsEntry under a unique idempotency key, and the account's
balance moves in the same transaction by one conditional UPDATE, so a debit the balance does
not cover changes nothing and concurrent spends cannot overdraw (Postgres re-checks the
WHERE clause against the committed row). Lock order: the account row first, then anything
else the caller locks (stock, prizes), by ascending id.
"""

import csv
import io
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.exceptions import ServiceError
from loyalty.models import LoyaltySettings, PointsAccount, PointsEntry
from loyalty.tables import loyalty_policy, tiers_cached

NEVER = date(9999, 12, 31)


class InsufficientPoints(ServiceError):
    code = "insufficient_points"
    default_message = _("Not enough points.")


class LedgerConflict(ServiceError):
    code = "ledger_conflict"
    default_message = _("This change was already recorded with different figures.")


# --- Idempotency keys: the one place each event's key is built -----------------------------
# A key names the event that moves points, so the event counts once however often it is
# posted: every writer builds it here. ledger_check reads the date back out of expiry keys.


def earn_key(*, receipt_id: int) -> str:
    """The points a sale receipt earned."""
    return f"earn:receipt:{receipt_id}"


def refund_key(*, receipt_id: int) -> str:
    """The points a refund receipt took back from its sale's."""
    return f"refund:receipt:{receipt_id}"


def adjust_key(*, once: str | None, member_id: int, actor_id: int | None) -> str:
    """A staff adjustment: under the form's one-time token, or a fresh key without one."""
    return f"adjust:{once}" if once else f"adjust:{member_id}:{uuid.uuid4().hex}:{actor_id}"


def signin_key(*, member_id: int, day: date) -> str:
    """The points of one day's sign-in (签到)."""
    return f"signin:{member_id}:{day.isoformat()}"


def forfeit_key(*, member_id: int) -> str:
    """The balance forfeited when the member's account is deleted (注销)."""
    return f"forfeit:{member_id}"


def expire_key(*, account_id: int, on: date, earlier: int = 0) -> str:
    """The points of an account expiring on `on`; `earlier` expiries of that date (a late
    credit with an earlier expiry date) make the next one "expire:<account>:<date>:<n>"."""
    key = f"expire:{account_id}:{on.isoformat()}"
    return f"{key}:{earlier}" if earlier else key


def account_get_or_create(*, member_id: int) -> PointsAccount:
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
    policy = policy or loyalty_policy()
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
    now: datetime | None = None,
) -> tuple[PointsEntry | None, bool]:
    """Append one entry moving the member's balance by `points` and return (entry, created).

    Idempotent on `key`: the entry already recorded under it is returned with created=False
    (LedgerConflict if its figures differ). A debit larger than the balance raises
    InsufficientPoints, unless `floor_at_zero` takes only what is there (refunds of spent
    points); then a debit of nothing returns (None, False). `now` dates the entry (the demo's
    history; default the present). Locks the account row.
    """
    if points == 0:
        raise ValueError("a points entry moves the balance")
    existing = PointsEntry.objects.filter(key=key).first()
    if existing is not None:
        return _replayed(existing, member_id=member_id, kind=kind, points=points), False
    account = account_get_or_create(member_id=member_id)
    now = now or timezone.now()
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


@dataclass(frozen=True)
class ReceiptEarned:
    """What receipt_points_earn did: the account after it, as UPDATE … RETURNING gave it."""

    account_id: int
    points: int
    balance: int
    tier_id: int | None
    tier_spend_bound: int | None
    tier_growth_bound: int | None  # before this receipt's points (the entry comes after)


_EARN_UPDATE = """
    UPDATE loyalty_pointsaccount SET balance = balance + {points},
        updated_at = CASE WHEN {points} > 0 THEN %(now)s ELSE updated_at END
    WHERE member_id = %(member_id)s AND (tier_id IS NULL OR tier_id = ANY(%(tiers)s))
    RETURNING id, {points}, balance, tier_id, tier_spend_bound, tier_growth_bound"""

_ENTRY_INSERT = """
    INSERT INTO loyalty_pointsentry (account_id, kind, points, balance_after, key, receipt_id,
        expires_on, memo, created_at)
    VALUES (%s, 'earn', %s, %s, %s, %s, %s, %s, %s)"""


def receipt_points_earn(
    *,
    member_id: int,
    receipt_id: int,
    points_by_tier: dict[int, int],
    points_without_tier: int,
    earned_on: date,
    memo: str = "",
) -> ReceiptEarned:
    """Credit a sale receipt's points, at the tier the member's account is in (`points_by_tier`
    maps each tier id to what the sale earns there, `points_without_tier` for an account not
    yet placed), in two statements: one UPDATE … RETURNING that locks the account row, adds
    the points and answers the new balance, tier and tier bounds, then one INSERT of the
    entry. For a receipt just inserted in the caller's transaction (its earn_key cannot have
    been posted: the key's uniqueness still guards); 0 points write no entry, but the account
    row is locked all the same (the tier check relies on it). Creates the account if need be.
    """
    now = timezone.now()
    cases = " ".join(f"WHEN {int(t)} THEN {int(p)}" for t, p in points_by_tier.items())
    points_sql = (
        f"(CASE tier_id {cases} ELSE {int(points_without_tier)} END)"
        if cases
        else f"({int(points_without_tier)})"
    )
    sql = _EARN_UPDATE.format(points=points_sql)
    params = {"now": now, "member_id": member_id, "tiers": list(points_by_tier)}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        if row is None:
            account = account_get_or_create(member_id=member_id)
            if account.tier_id is not None and account.tier_id not in points_by_tier:
                raise LedgerConflict()  # a tier made since the caller read them: retry
            cursor.execute(sql, params)
            row = cursor.fetchone()
        account_id, points, balance, tier_id, spend_bound, growth_bound = row
        if points > 0:
            cursor.execute(
                _ENTRY_INSERT,
                [
                    account_id,
                    points,
                    balance,
                    earn_key(receipt_id=receipt_id),
                    receipt_id,
                    credit_expires_on(earned_on, loyalty_policy()),
                    memo[:200],
                    now,
                ],
            )
    return ReceiptEarned(account_id, points, balance, tier_id, spend_bound, growth_bound)


def _replayed(entry: PointsEntry, *, member_id: int, kind: str, points: int) -> PointsEntry:
    same_account = PointsAccount.objects.filter(pk=entry.account_id, member_id=member_id).exists()
    if not same_account or entry.kind != kind or (entry.points != points and kind != "refund"):
        raise LedgerConflict()
    return entry


def points_spend(
    *,
    member_id: int,
    points: int,
    kind: str,
    key: str,
    memo: str = "",
    actor=None,
    now: datetime | None = None,
) -> PointsEntry:
    """Take `points` (> 0) from the member for a redemption or a draw; InsufficientPoints if
    the balance does not cover them, and then nothing changes. Idempotent on `key`."""
    if points <= 0:
        raise ValueError("spend a positive number of points")
    if kind not in {PointsEntry.Kind.REDEEM, PointsEntry.Kind.LOTTERY}:
        raise ValueError(f"points are spent by redemptions and draws, not {kind!r}")
    entry, _created = points_post(
        member_id=member_id, kind=kind, points=-points, key=key, memo=memo, actor=actor, now=now
    )
    return entry


def points_standing(*, member_id: int):
    """The member's (balance, tier) in one statement: the entry tier while not yet placed."""
    row = (
        PointsAccount.objects.filter(member_id=member_id).values_list("balance", "tier_id").first()
    )
    balance, tier_id = row or (0, None)
    tiers = tiers_cached()
    tier = next((t for t in tiers if t.pk == tier_id), None) or (tiers[0] if tiers else None)
    return balance, tier


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


# --- Bulk posting (imports and the demo history) ----------------------------------------------


@dataclass(frozen=True)
class EntryIn:
    """One entry for points_post_many. `reverses_key` names the entry it corrects, posted
    before or earlier in the same batch; `created_at` backdates history (default: now)."""

    member_id: int
    kind: str
    points: int
    key: str
    receipt_id: int | None = None
    reverses_key: str = ""
    memo: str = ""
    earned_on: date | None = None
    created_at: datetime | None = None
    floor_at_zero: bool = False


@dataclass(frozen=True)
class BulkPosted:
    entries: int  # appended
    skipped: int  # keys already posted, and debits floored to nothing
    points: int  # net points moved


_BULK_STAGE = """
    CREATE TEMP TABLE ledger_in (
        seq integer PRIMARY KEY, member_id bigint NOT NULL, kind varchar(8) NOT NULL,
        points bigint NOT NULL, key varchar(120) NOT NULL, receipt_id bigint,
        reverses_key varchar(120), reverses_id bigint, memo varchar(200), expires_on date,
        created_at timestamptz NOT NULL, floor_at_zero boolean NOT NULL
    ) ON COMMIT DROP"""

# Balances in one pass. With S the running sum (from the locked balance) and m its running
# minimum, a balance that floored debits clip at zero is S - LEAST(0, m): the reflected walk.
# `posted` is what each entry really moves; a non-floored debit that would have to be clipped
# is a debit the balance does not cover.
_BULK_RUN = """
    CREATE TEMP TABLE ledger_run ON COMMIT DROP AS
    WITH s AS (
        SELECT i.*, a.id AS account_id, a.balance AS start,
               a.balance + SUM(i.points) OVER (PARTITION BY a.id ORDER BY i.seq) AS total
        FROM ledger_in i JOIN loyalty_pointsaccount a ON a.member_id = i.member_id),
    b AS (
        SELECT s.*, total - LEAST(0, MIN(total) OVER (PARTITION BY account_id ORDER BY seq))
               AS balance_after
        FROM s)
    SELECT b.*, balance_after - COALESCE(
               LAG(balance_after) OVER (PARTITION BY account_id ORDER BY seq), start) AS posted
    FROM b"""

# Ids come from the table's sequence and are handed out in batch order, so balance_after is
# the running sum by id as ledger_check reads it; earlier entries of these accounts all have
# smaller ids because their rows are locked before any id is drawn.
_BULK_NUMBER = """
    CREATE TEMP TABLE ledger_new ON COMMIT DROP AS
    WITH ids AS (
        SELECT id, row_number() OVER (ORDER BY id) AS n FROM (
            SELECT nextval(%s::regclass) AS id FROM generate_series(1,
                (SELECT count(*) FROM ledger_run WHERE posted <> 0))) x),
    rows AS (
        SELECT r.*, row_number() OVER (ORDER BY seq) AS n FROM ledger_run r WHERE posted <> 0)
    SELECT ids.id, rows.* FROM rows JOIN ids USING (n)"""

_BULK_INSERT = """
    INSERT INTO loyalty_pointsentry (id, account_id, kind, points, balance_after, key,
        receipt_id, reverses_id, expires_on, memo, actor_id, created_at)
    SELECT n.id, n.account_id, n.kind, n.posted, n.balance_after, n.key, n.receipt_id,
           COALESCE(n.reverses_id, batch.id), n.expires_on, COALESCE(n.memo, ''), NULL,
           n.created_at
    FROM ledger_new n LEFT JOIN ledger_new batch
         ON n.reverses_id IS NULL AND batch.key = n.reverses_key
    ORDER BY n.id"""


def points_post_many(entries: Iterable[EntryIn], *, now: datetime | None = None) -> BulkPosted:
    """Append many entries at once with points_post's guarantees: each key counts once (keys
    already posted are skipped, so a rerun posts nothing), balance_after is the running sum
    of each account, and balances move in the same transaction, never below zero. Entries of
    an account apply in the order given; floor_at_zero debits take only what is there, and
    any other debit the balance does not cover raises InsufficientPoints (nothing is posted).

    Staged with COPY, computed in set-based SQL. Locks the accounts involved in id order, so
    single posts to them wait and cannot interleave."""
    now = now or timezone.now()
    policy = LoyaltySettings.current()
    kinds = set(PointsEntry.Kind.values)
    stage = io.StringIO()
    writer = csv.writer(stage, lineterminator="\n")
    keys: set[str] = set()
    for seq, entry in enumerate(entries):
        if entry.points == 0:
            raise ValueError("a points entry moves the balance")
        if entry.kind not in kinds:
            raise ValueError(f"unknown entry kind {entry.kind!r}")
        if not entry.key or entry.key in keys:
            raise ValueError(f"empty or repeated key {entry.key!r} in one batch")
        keys.add(entry.key)
        at = entry.created_at or now
        expires_on = (
            credit_expires_on(entry.earned_on or timezone.localdate(at), policy)
            if entry.points > 0
            else None
        )
        writer.writerow(
            [
                seq,
                entry.member_id,
                entry.kind,
                entry.points,
                entry.key,
                entry.receipt_id,
                entry.reverses_key or None,
                None,
                entry.memo[:200],
                expires_on,
                at.isoformat(),
                "t" if entry.floor_at_zero else "f",
            ]
        )
    if not keys:
        return BulkPosted(0, 0, 0)
    stage.seek(0)
    with transaction.atomic(), connection.cursor() as cursor:
        # Sorts of a few hundred thousand rows stay in memory (until the transaction ends).
        cursor.execute("SELECT set_config('work_mem', '256MB', true)")
        cursor.execute(_BULK_STAGE)
        cursor.copy_expert("COPY ledger_in FROM STDIN WITH (FORMAT csv)", stage)
        cursor.execute("ANALYZE ledger_in")
        cursor.execute(
            "INSERT INTO loyalty_pointsaccount (member_id, balance, updated_at)"
            " SELECT DISTINCT member_id, 0, %s FROM ledger_in"
            " ON CONFLICT (member_id) DO NOTHING",
            [now],
        )
        cursor.execute(
            "SELECT id FROM loyalty_pointsaccount"
            " WHERE member_id IN (SELECT member_id FROM ledger_in) ORDER BY id FOR UPDATE"
        )
        # Keys posted before (or by a single post that held a lock until just now).
        cursor.execute(
            "SELECT i.key FROM ledger_in i JOIN loyalty_pointsentry e ON e.key = i.key"
            " JOIN loyalty_pointsaccount a ON a.id = e.account_id"
            " WHERE a.member_id <> i.member_id OR e.kind <> i.kind LIMIT 1"
        )
        if cursor.fetchone() is not None:
            raise LedgerConflict()
        cursor.execute("DELETE FROM ledger_in i USING loyalty_pointsentry e WHERE e.key = i.key")
        cursor.execute(
            "UPDATE ledger_in i SET reverses_id = e.id FROM loyalty_pointsentry e"
            " WHERE i.reverses_key IS NOT NULL AND e.key = i.reverses_key"
        )
        cursor.execute(_BULK_RUN)
        cursor.execute("ANALYZE ledger_run")
        cursor.execute("SELECT 1 FROM ledger_run WHERE NOT floor_at_zero AND posted <> points")
        if cursor.fetchone() is not None:
            raise InsufficientPoints()
        cursor.execute(  # no LIMIT: it would talk the planner into a nested loop
            "SELECT min(n.reverses_key) FROM ledger_run n"
            " WHERE n.reverses_key IS NOT NULL AND n.reverses_id IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM ledger_run b WHERE b.key = n.reverses_key)"
        )
        missing = cursor.fetchone()
        if missing[0] is not None:
            raise ValueError(f"reverses_key {missing[0]!r} names no entry")
        cursor.execute("SELECT pg_get_serial_sequence('loyalty_pointsentry', 'id')")
        cursor.execute(_BULK_NUMBER, [cursor.fetchone()[0]])
        cursor.execute("ANALYZE ledger_new")
        cursor.execute(_BULK_INSERT)
        posted = cursor.rowcount
        cursor.execute(
            "UPDATE loyalty_pointsaccount a SET balance = n.balance_after, updated_at = %s"
            " FROM (SELECT DISTINCT ON (account_id) account_id, balance_after FROM ledger_new"
            "       ORDER BY account_id, seq DESC) n WHERE a.id = n.account_id",
            [now],
        )
        cursor.execute("SELECT COALESCE(SUM(posted), 0)::bigint FROM ledger_new")
        points = cursor.fetchone()[0]
        cursor.execute("DROP TABLE ledger_in, ledger_run, ledger_new")
    return BulkPosted(entries=posted, skipped=len(keys) - posted, points=points)
