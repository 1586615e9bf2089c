"""The RFM window's running state: the nightly run moves it on by a day instead of scanning
the year's receipts again.

The state (RfmState, one at most, and one RfmStateRow per member) holds, for the receipts with
an id up to the state's watermark that occurred in the window of `window_days` days to its
as-of date, each member's sale count, net spend (sales minus refunds, each where it occurred,
as the full aggregate counts them) and purchase days (the days with a sale) as a ring of bits:
day n (Shanghai dates, days since 2000-01-01) is bit n mod P, P = 64 × ceil(window_days / 64),
so that a window's days never share a bit and nothing has to be shifted as the window moves.

From the state as of A (window [S, E), watermark M) to as of A' ≥ A (window [S', E'),
watermark M'), the receipts that change it are:

- leaving: id ≤ M, occurred in [S, S') — subtracted; every bit of those days is cleared, since
  every sale of those days leaves with them;
- entering: id ≤ M', occurred in [E, E') — added;
- late: M < id ≤ M', occurred in [S', E) — added (a till that was offline, an import, a refund
  of an older sale: anything recorded after the last run for a day still in the window);
- changed: a receipt's member, time, total or kind updated, or a receipt deleted, after it was
  recorded (a claim gives a receipt its member): a trigger on loyalty_receipt writes the
  members concerned into RfmReceiptChange (migration 0012); their rows are recomputed from
  their receipts (their member index), and the change rows consumed, in the run's transaction.

The watermark is safe: it is read holding a SHARE lock on loyalty_receipt, which waits for
every transaction inserting receipts to end (an INSERT takes its ROW EXCLUSIVE lock before it
draws an id), so no receipt with an id up to it can still commit later; the lock is held for
that one statement's transaction only (inserts queue behind it for milliseconds), with a short
lock_timeout: a run that cannot have it scans the window and leaves the state as it was. The
run then reads everything in one REPEATABLE READ transaction (one snapshot for the deltas, the
change rows and the state), so what it consumes is exactly what it applied.

The state belongs to the settings' window (the nightly run's): a run with another window, or
as of a date before the state's, scans the window and leaves the state alone; a run with no
state, a state of another window or time zone, an as-of more than MAX_STEP_DAYS after the
state's, or `rfm_run --full` scans the window and writes the state anew from the same scan.
tests/analytics/test_rfm_state.py checks that both paths give the same snapshots.
"""

import io
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from analytics.models import RfmReceiptChange, RfmState, RfmStateRow

EPOCH = date(2000, 1, 1)
WORD_BITS = 64
# the most days a run moves the state on; further, the year's scan is about as fast
MAX_STEP_DAYS = 31
WATERMARK_LOCK_TIMEOUT = "5s"
CHUNK = 50_000  # rows whose day bits are unpacked at once (50,000 × 384 bytes)

_ROWS = RfmStateRow._meta.db_table
_CHANGES = RfmReceiptChange._meta.db_table


def words_for(window_days: int) -> int:
    return -(-window_days // WORD_BITS)


def day_number(day: date) -> int:
    return (day - EPOCH).days


@dataclass(frozen=True)
class Plan:
    """How a run gets its members' figures: from the state (`state` set) or by a scan of the
    window, and whether it writes the state (then up to `watermark`)."""

    state: RfmState | None
    write: bool
    watermark: int | None


def plan(*, as_of: date, window_days: int, settings_window_days: int, full: bool) -> Plan:
    """Called holding the run's advisory lock (nothing else writes the state)."""
    state = RfmState.objects.first()
    zone = str(timezone.get_current_timezone())
    same_kind = state is not None and state.window_days == window_days and state.time_zone == zone
    write = window_days == settings_window_days and (not same_kind or as_of >= state.as_of)
    if not write:
        return Plan(None, False, None)
    watermark = receipt_watermark()
    if watermark is None:
        return Plan(None, False, None)
    fits = (
        not full
        and same_kind
        and 0 <= (as_of - state.as_of).days <= MAX_STEP_DAYS
        and watermark >= state.receipt_watermark
    )
    return Plan(state if fits else None, True, watermark)


def receipt_watermark() -> int | None:
    """The highest receipt id such that every receipt up to it has committed; None when the
    lock cannot be had in WATERMARK_LOCK_TIMEOUT (a long import holds the table)."""
    if connection.in_atomic_block:
        # inside a caller's transaction (tests): its snapshot is the run's
        with connection.cursor() as cursor:
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM loyalty_receipt")
            return cursor.fetchone()[0]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{WATERMARK_LOCK_TIMEOUT}'")
            cursor.execute("LOCK TABLE loyalty_receipt IN SHARE MODE")
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM loyalty_receipt")
            return cursor.fetchone()[0]
    except OperationalError as error:
        if getattr(error.__cause__, "pgcode", None) == "55P03":  # lock_not_available
            return None
        raise


# ---- moving the state on -----------------------------------------------------------------

# a receipt's slot in the ring: its Shanghai date's day number mod P (a few days' receipts:
# the zone conversion costs nothing here)
_SLOT = "(((occurred_at AT TIME ZONE %(zone)s)::date - DATE '2000-01-01') %% %(ring)s)"
_PART = (
    "SELECT member_id, kind, total_fen, {sign} AS sign, "  # noqa: S608 (our own fragments)
    + _SLOT
    + " AS slot FROM loyalty_receipt WHERE member_id IS NOT NULL AND {where}"
)
_LEAVING = "id <= %(old_watermark)s AND occurred_at >= %(old_start)s AND occurred_at < %(start)s"
_ENTERING = "id <= %(watermark)s AND occurred_at >= %(old_end)s AND occurred_at < %(end)s"
_LATE = (
    "id > %(old_watermark)s AND id <= %(watermark)s"
    " AND occurred_at >= %(start)s AND occurred_at < %(old_end)s"
)
_MEMBERS = (
    "member_id = ANY(%(recomputed)s::bigint[]) AND id <= %(watermark)s"
    " AND occurred_at >= %(start)s AND occurred_at < %(end)s"
)
_FIGURES = """
SELECT member_id,
       COALESCE(SUM(sign) FILTER (WHERE kind = 'sale'), 0),
       COALESCE(SUM(sign * CASE WHEN kind = 'sale' THEN total_fen ELSE -total_fen END), 0),
       ARRAY[{words}]::bigint[]
  FROM ({parts}) r
 {exclude}
 GROUP BY member_id
"""
_WORD = (
    "COALESCE(BIT_OR(1::bigint << (slot %% 64))"
    " FILTER (WHERE sign = 1 AND kind = 'sale' AND slot / 64 = {word}), 0)"
)


def _figures_sql(words: int, parts: list[str], *, exclude: bool) -> str:
    return _FIGURES.format(
        words=", ".join(_WORD.format(word=w) for w in range(words)),
        parts=" UNION ALL ".join(parts),
        exclude="WHERE NOT (member_id = ANY(%(recomputed)s::bigint[]))" if exclude else "",
    )


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def advance(cursor, state: RfmState, params: dict, watermark: int) -> np.ndarray:
    """Move the state on to `params`' window and `watermark` (in the caller's REPEATABLE READ
    transaction); its members with a sale, as rows (member, frequency, monetary, words of the
    window's days, bit d = the window's day d)."""
    window_days = state.window_days
    words = words_for(window_days)
    ring = words * WORD_BITS
    old = _window_bounds(state.as_of, window_days)
    first_day, as_of = params["first_day"], params["as_of"]
    cursor.execute(f"DELETE FROM {_CHANGES} RETURNING member_id")  # noqa: S608
    recomputed = sorted({row[0] for row in cursor.fetchall()})
    values = {
        **params,
        "ring": ring,
        "watermark": watermark,
        "old_watermark": state.receipt_watermark,
        "old_start": old[0],
        "old_end": old[1],
        "recomputed": recomputed,
    }
    # the leaving days' bits, cleared in every row the leaving receipts touch
    keep = [(1 << WORD_BITS) - 1] * words
    for n in range(
        day_number(state.as_of - timedelta(days=window_days - 1)), day_number(first_day)
    ):
        slot = n % ring
        keep[slot // WORD_BITS] &= ~(1 << (slot % WORD_BITS))
    merged = ", ".join(
        f"(s.day_bits[{w + 1}] & ({_signed(keep[w])})::bigint) | EXCLUDED.day_bits[{w + 1}]"
        for w in range(words)
    )
    parts = [
        _PART.format(sign=-1, where=_LEAVING),
        _PART.format(sign=1, where=_ENTERING),
        _PART.format(sign=1, where=_LATE),
    ]
    cursor.execute(
        f"INSERT INTO {_ROWS} AS s (member_id, frequency, monetary_fen, day_bits)"  # noqa: S608
        + _figures_sql(words, parts, exclude=True)
        + " ON CONFLICT (member_id) DO UPDATE SET frequency = s.frequency + EXCLUDED.frequency,"
        " monetary_fen = s.monetary_fen + EXCLUDED.monetary_fen,"
        f" day_bits = ARRAY[{merged}]::bigint[]"
        " RETURNING member_id, frequency, monetary_fen",
        values,
    )
    empty = [
        member for member, frequency, monetary in cursor.fetchall() if not (frequency or monetary)
    ]
    if empty:  # nothing of theirs left in the window: the same as no row
        cursor.execute(f"DELETE FROM {_ROWS} WHERE member_id = ANY(%s)", [empty])  # noqa: S608
    if recomputed:
        cursor.execute(f"DELETE FROM {_ROWS} WHERE member_id = ANY(%s)", [recomputed])  # noqa: S608
        cursor.execute(
            f"INSERT INTO {_ROWS} (member_id, frequency, monetary_fen, day_bits)"  # noqa: S608
            + _figures_sql(words, [_PART.format(sign=1, where=_MEMBERS)], exclude=False),
            values,
        )
    RfmState.objects.filter(pk=state.pk).update(
        as_of=as_of, receipt_watermark=watermark, built_at=timezone.now()
    )
    rows = _read(cursor, words)
    rows[:, 3:] = rotate(rows[:, 3:], -day_number(first_day) % ring)
    return rows


def _window_bounds(as_of: date, window_days: int):
    from core.dates import local_day_start

    return (
        local_day_start(as_of - timedelta(days=window_days - 1)),
        local_day_start(as_of + timedelta(days=1)),
    )


# ---- binary COPY of the state rows ---------------------------------------------------------

_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8  # header, flags 0, no extension
_TRAILER = b"\xff\xff"
_INT8_OID = 20


def _row_dtype(words: int) -> np.dtype:
    return np.dtype(
        [
            ("fields", ">i2"),
            ("member_len", ">i4"),
            ("member", ">i8"),
            ("frequency_len", ">i4"),
            ("frequency", ">i4"),
            ("monetary_len", ">i4"),
            ("monetary", ">i8"),
            ("array_len", ">i4"),
            ("ndim", ">i4"),
            ("has_null", ">i4"),
            ("element", ">i4"),
            ("dim", ">i4"),
            ("lower", ">i4"),
            ("words", np.dtype([("len", ">i4"), ("value", ">i8")]), (words,)),
        ]
    )


def _read(cursor, words: int) -> np.ndarray:
    buffer = io.BytesIO()
    cursor.copy_expert(
        f"COPY (SELECT member_id, frequency, monetary_fen, day_bits FROM {_ROWS}"  # noqa: S608
        " WHERE frequency > 0) TO STDOUT WITH (FORMAT binary)",
        buffer,
    )
    data = buffer.getbuffer()
    dtype = _row_dtype(words)
    body = np.frombuffer(
        data,
        dtype=dtype,
        offset=len(_SIGNATURE),
        count=(len(data) - len(_SIGNATURE) - len(_TRAILER)) // dtype.itemsize,
    )
    if len(body) and not (body["dim"] == words).all():
        raise ValueError("RFM state rows of another window's size")
    rows = np.empty((len(body), 3 + words), dtype=np.int64)
    rows[:, 0] = body["member"]
    rows[:, 1] = body["frequency"]
    rows[:, 2] = body["monetary"]
    rows[:, 3:] = body["words"]["value"]
    return rows


def write(cursor, rows: np.ndarray, *, as_of: date, window_days: int, watermark: int) -> None:
    """The state anew from a scan of the window: rows (member, frequency, monetary, words of
    the window's days, bit d = the window's day d), every member with a receipt in it."""
    words = words_for(window_days)
    ring = words * WORD_BITS
    first_day = as_of - timedelta(days=window_days - 1)
    cursor.execute(f"TRUNCATE {_ROWS}")
    cursor.execute(f"DELETE FROM {_CHANGES}")  # noqa: S608 (what the scan saw)
    RfmState.objects.all().delete()
    body = np.zeros(len(rows), dtype=_row_dtype(words))
    body["fields"] = 4
    body["member_len"], body["frequency_len"], body["monetary_len"] = 8, 4, 8
    body["array_len"] = 20 + 12 * words
    body["ndim"], body["element"], body["dim"], body["lower"] = 1, _INT8_OID, words, 1
    body["member"], body["frequency"], body["monetary"] = rows[:, 0], rows[:, 1], rows[:, 2]
    body["words"]["len"] = 8
    body["words"]["value"] = rotate(rows[:, 3:], day_number(first_day) % ring)
    buffer = io.BytesIO()
    buffer.write(_SIGNATURE)
    buffer.write(body.tobytes())
    buffer.write(_TRAILER)
    buffer.seek(0)
    cursor.copy_expert(
        f"COPY {_ROWS} (member_id, frequency, monetary_fen, day_bits) FROM STDIN"
        " WITH (FORMAT binary)",
        buffer,
    )
    RfmState.objects.create(
        as_of=as_of,
        window_days=window_days,
        time_zone=str(timezone.get_current_timezone()),
        receipt_watermark=watermark,
    )


def rotate(words: np.ndarray, shift: int) -> np.ndarray:
    """Each row's bits as a ring of 64 × words bits: bit i moves to bit (i + shift) mod that."""
    count = words.shape[1] * WORD_BITS
    shift %= count
    if not shift or not len(words):
        return words.copy()
    out = np.empty_like(words)
    for start in range(0, len(words), CHUNK):
        chunk = np.ascontiguousarray(words[start : start + CHUNK], dtype="<i8")
        bits = np.unpackbits(chunk.view(np.uint8), axis=1, bitorder="little")
        bits = np.roll(bits, shift, axis=1)
        out[start : start + CHUNK] = np.packbits(bits, axis=1, bitorder="little").view("<i8")
    return out
