"""Analytics writes: the RFM snapshot.

`rfm_snapshot_build` takes each member's figures for the window from the running state
(analytics.rfm_state: the previous night's, moved on by the receipts that entered and left
the window, those recorded late and the members whose receipts changed) or, when there is no
state that fits (or `full`), aggregates the loyalty receipts of the window in Postgres with one
GROUP BY over `loyalty_receipt` (one row per member comes back, never a receipt; the scan
writes the state anew); scores them with the pure analytics.rfm, and writes the rows with COPY
into a new snapshot; the switch of
`is_current` happens in the same transaction as the COPY, so a run that dies (an error, a
killed worker) leaves the previous snapshot current and its own snapshot `running` (marked
`failed` by the handler, or by the next run when the process was killed).

Lifecycle: the cut points are the settings' percentiles (default P50, P80, P95; Postgres's
percentile_cont, interpolated) of every gap in days between consecutive purchase days of a
member inside the window (the same GROUP BY returns each member's purchase days as a bitmap,
numpy takes the gaps and counts them by length, analytics.rfm.percentile_cuts_counted cuts);
recency below the first cut is 活跃, below the second 沉默, below the third 睡眠, else 流失
(no member bought on two days: no cuts, stage blank). Each member whose stage differs from
the previous current snapshot's gets a LifecycleChange row (entering the snapshot: from
blank; leaving it: to blank); the first snapshot records none.

Two runs at once: a session advisory lock (core.locks) is taken first; the second run refuses
at once with RfmRunInProgress rather than waiting, since it would only redo the same work.

The plan (EXPLAIN ANALYZE on 300,000 receipts of 20,000 members over two years, a year's
window holding 120,000 of them): Seq Scan on loyalty_receipt with the window as a filter →
HashAggregate, 230 ms; the whole rfm_run took about 1 s. A week's window: Bitmap Index Scan on
(occurred_at) → HashAggregate, 29 ms. The window's bounds are aware moments (the Shanghai
starts of days), never a date cast of the column, so that index stays usable. On 10M rows
Postgres once walked the (member, -occurred_at) index to feed a sorted GroupAggregate (27 s
against 8 s for the sequential scan). Two things keep that plan away: the query has no ORDER
BY member_id (the order that index offers for free), and the aggregate's transaction sets
enable_indexscan off (SET LOCAL, this transaction only); bitmap scans stay allowed, since
they read the table in physical order and win on short windows. The same transaction raises
work_mem (WORK_MEM) so that the hash aggregate of a million members stays in memory.

At 1,000,000 members and 10,000,000 receipts stored in time order (bench/rfm_bench.py,
docs/BENCHMARKS.md) the aggregate is a parallel Seq Scan → Partial HashAggregate → Finalize
HashAggregate in one batch; the planner, left alone there, also chose the sequential scan.
"""

import io
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from analytics import rfm, rfm_state
from analytics.models import RfmRow, RfmSettings, RfmSnapshot
from core.dates import local_day_start
from core.exceptions import ServiceError
from core.locks import advisory_lock

LOCK_NAME = "analytics.rfm_run"
# Postgres's memory for each hash and sort of the build (not this process's): a million
# members' hash aggregate takes about 180 MB; with the default 4 MB it spilled to disk in
# batches and took twice as long (bench/rfm_bench.py).
WORK_MEM = "256MB"

# One scan, one hash aggregate: R, F, M per member and, in `words` bigints, the member's
# purchase days as bits (bit d of the map = day first_day + d, a sale on it), from which
# Python takes the gaps between consecutive purchase days for the lifecycle cuts. No sort:
# the gaps used to come from a second query sorting every member-day (DISTINCT and a window
# LAG), 5 to 7 s of a 20 s run at 10M receipts.
_AGGREGATE = """
SELECT member_id,
       COUNT(*) FILTER (WHERE kind = 'sale') AS frequency,
       COALESCE(SUM(total_fen) FILTER (WHERE kind = 'sale'), 0)
           - COALESCE(SUM(total_fen) FILTER (WHERE kind = 'refund'), 0) AS monetary_fen,
       {day_words}
  FROM loyalty_receipt
 WHERE member_id IS NOT NULL AND occurred_at >= %(start)s AND occurred_at < %(end)s{watermark}
 GROUP BY member_id
"""
# A receipt's day in the window, 0 for the first: whole days of 86,400 s since the window's
# start (the start of a Shanghai day; Asia/Shanghai has kept UTC+8 without summer time since
# 1991, which _window checks) — plain arithmetic Postgres evaluates fast, where the 13 uses
# of a time-zone conversion per receipt took most of the aggregate's time.
_DAY = "floor((date_part('epoch', occurred_at) - %(start_epoch)s) / 86400)::int"
# the same where a window's days are not all 86,400 s long (a time zone with summer time)
_DAY_ZONED = "(occurred_at AT TIME ZONE %(zone)s)::date - %(first_day)s::date"
_DAY_WORD = """COALESCE(BIT_OR(CASE WHEN {day} / 64 = {word} THEN 1::bigint << ({day} %% 64) END)
           FILTER (WHERE kind = 'sale'), 0)"""
WORD_BITS = 64
GAP_CHUNK = 50_000  # members whose day bits are unpacked at once (50,000 × 384 bytes)

# the histogram's last bar: a year or more
HISTOGRAM_LAST = 366


def aggregate_sql(window_days: int, *, uniform_days: bool = True, watermark: bool = False) -> str:
    """The aggregate for a window of `window_days` days: every member with a receipt in it
    (a member with refunds only has frequency 0), ceil(days / 64) words of day bits; with
    `watermark`, the receipts up to %(watermark)s only (the running state's)."""
    day = _DAY if uniform_days else _DAY_ZONED
    words = [_DAY_WORD.format(day=day, word=w) for w in range(-(-window_days // WORD_BITS))]
    return _AGGREGATE.format(
        day_words=",\n       ".join(words),
        watermark=" AND id <= %(watermark)s" if watermark else "",
    )


_CHANGES = """
INSERT INTO analytics_lifecyclechange (snapshot_id, member_id, from_stage, to_stage)
SELECT %(new)s, COALESCE(n.member_id, o.member_id),
       COALESCE(o.lifecycle_stage, ''), COALESCE(n.lifecycle_stage, '')
  FROM (SELECT member_id, lifecycle_stage FROM analytics_rfmrow WHERE snapshot_id = %(new)s) n
  FULL JOIN (SELECT member_id, lifecycle_stage FROM analytics_rfmrow WHERE snapshot_id = %(old)s) o
    ON n.member_id = o.member_id
 WHERE COALESCE(o.lifecycle_stage, '') <> COALESCE(n.lifecycle_stage, '')
"""

_COLUMNS = (
    "snapshot_id, member_id, recency_days, frequency, monetary_fen, r_score, f_score, m_score,"
    " r_short, f_high, m_high, rfm_class, lifecycle_stage"
)


class RfmRunInProgress(ServiceError):
    code = "rfm_run_in_progress"
    default_message = _("Another RFM run is in progress; this one did not start.")


@dataclass(frozen=True)
class _Aggregate:
    member_id: np.ndarray
    recency_days: np.ndarray
    frequency: np.ndarray
    monetary_fen: np.ndarray


def rfm_default_as_of() -> date:
    """Yesterday in Shanghai: the last whole day."""
    return timezone.localdate() - timedelta(days=1)


def _window(as_of: date, window_days: int) -> dict:
    # (as_of − N, as_of] in Shanghai dates: from the start of day as_of − N + 1 to the start
    # of day as_of + 1
    start = local_day_start(as_of - timedelta(days=window_days - 1))
    end = local_day_start(as_of + timedelta(days=1))
    return {
        "as_of": as_of,
        "first_day": as_of - timedelta(days=window_days - 1),
        "start": start,
        "end": end,
        "start_epoch": start.timestamp(),
        "zone": str(timezone.get_current_timezone()),
        "uniform_days": (end - start).total_seconds() == window_days * 86400,
    }


def _scan(cursor, params: dict, window_days: int, watermark: int | None) -> np.ndarray:
    """Every member with a receipt in the window, one GROUP BY over the window's receipts:
    rows of (member, frequency, monetary, words of day bits, bit d = the window's day d)."""
    cursor.execute("SET LOCAL enable_indexscan = off")
    cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
    # COPY out as CSV and parsed by pandas' C reader: a cursor's fetch made a Python int of
    # each of the 7 million figures (about 5 s at 1M members)
    sql = aggregate_sql(
        window_days, uniform_days=params["uniform_days"], watermark=watermark is not None
    )
    sql = cursor.mogrify(sql, {**params, "watermark": watermark})
    buffer = io.BytesIO()
    cursor.copy_expert(f"COPY ({sql.decode()}) TO STDOUT WITH (FORMAT csv)", buffer)
    buffer.seek(0)
    words = -(-window_days // WORD_BITS)
    if buffer.getbuffer().nbytes:
        return pd.read_csv(buffer, header=None, dtype=np.int64, engine="c").to_numpy()
    return np.empty((0, 3 + words), dtype=np.int64)


def _summarise(rows: np.ndarray, window_days: int) -> tuple[_Aggregate, np.ndarray]:
    """Each member's R, F, M from rows of (member, frequency, monetary, day words) with a sale;
    and how many gaps of each length (index: days) there are between consecutive purchase
    days of a member in the window."""
    last_day = np.empty(len(rows), dtype=np.int64)
    gaps = np.zeros(window_days, dtype=np.int64)
    for start in range(0, len(rows), GAP_CHUNK):
        chunk_last, chunk_gaps = _days(rows[start : start + GAP_CHUNK, 3:], window_days)
        last_day[start : start + GAP_CHUNK] = chunk_last
        gaps += chunk_gaps
    columns = np.column_stack([rows[:, 0], window_days - 1 - last_day, rows[:, 1], rows[:, 2]])
    # in member order (the hash aggregate's is random): the snapshot's table is written in
    # that order (within each class and stage), so its member indexes build from sorted input
    columns = columns[np.argsort(columns[:, 0], kind="stable")]
    return _Aggregate(*columns.T), gaps


# each byte's set bits: _BYTE_BITS[b, j] is bit j (little-endian) of byte b
_BYTE_BITS = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1, bitorder="little")


def _days(words: np.ndarray, window_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's last purchase day (the highest set bit; every row has one) and the gaps
    between consecutive set bits of the rows, counted by length. Only the bytes that are not
    zero are opened into bits (a member buys on a few days of the year)."""
    octets = np.ascontiguousarray(words, dtype="<i8").view(np.uint8)
    rows, columns = np.nonzero(octets)  # row by row, each row's bytes ascending
    which, bit = np.nonzero(_BYTE_BITS[octets[rows, columns]])
    rows, days = rows[which], columns[which] * 8 + bit  # each row's days ascending
    last = np.zeros(len(words), dtype=np.int64)
    ends = np.append(rows[1:] != rows[:-1], True) if len(rows) else np.zeros(0, dtype=bool)
    last[rows[ends]] = days[ends]
    same_member = rows[1:] == rows[:-1]
    gaps = np.bincount(np.diff(days)[same_member], minlength=window_days)[:window_days]
    return last, gaps


def _lifecycle_cuts(gaps: np.ndarray, settings: RfmSettings) -> tuple[list[float], list]:
    """The lifecycle cuts (days: Postgres's percentile_cont of the gaps) and the histogram of
    repurchase intervals [[days, gaps], …], the last bar holding a year or more."""
    percentiles = [
        settings.lifecycle_percentile_silent,
        settings.lifecycle_percentile_dormant,
        settings.lifecycle_percentile_lost,
    ]
    counts = [(int(gap), int(n)) for gap, n in enumerate(gaps) if n]
    cuts = rfm.percentile_cuts_counted(counts, [p / 100 for p in percentiles])
    histogram: dict[int, int] = {}
    for gap, n in counts:
        bar = min(gap, HISTOGRAM_LAST)
        histogram[bar] = histogram.get(bar, 0) + n
    return cuts, [[gap, n] for gap, n in sorted(histogram.items())]


# The snapshot's rows go into a table of their own, attached to analytics_rfmrow (list-
# partitioned by snapshot, migration 0013) once they are in and indexed: COPY into the one
# table of every snapshot, through its seven indexes, took 8–9 s for 733,000 rows; into a
# bare table, then the indexes built sorted, about a third of that (bench/rfm_bench.py). The
# CHECK lets ATTACH skip its scan of the rows; the indexes and constraints are the parent's
# (ATTACH adopts them instead of building its own).
_PARTITION_INDEXES = [
    "ADD PRIMARY KEY (id, snapshot_id)",
    "ADD UNIQUE (snapshot_id, member_id)",
]
_PARTITION_INDEX_COLUMNS = [
    "(snapshot_id, rfm_class)",
    "(member_id)",
    "(snapshot_id, recency_days, member_id)",
    "(snapshot_id, monetary_fen, member_id)",
    "(snapshot_id, lifecycle_stage)",
]
# for the sorts of the index builds (this transaction only)
MAINTENANCE_WORK_MEM = "256MB"


# Postgres's binary COPY format: a row is its field count, then each field's length and bytes
# (big-endian); built with numpy, a group of rows of one class and stage at a time (those rows
# have one size). The CSV of 733,000 rows took 0.7 s to write in Python.
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
_COPY_TRAILER = b"\xff\xff"
_ROW_FIELDS = [
    ("snapshot_id", ">i8"),
    ("member_id", ">i8"),
    ("recency_days", ">i4"),
    ("frequency", ">i4"),
    ("monetary_fen", ">i8"),
    ("r_score", ">i2"),
    ("f_score", ">i2"),
    ("m_score", ">i2"),
    ("r_short", "u1"),
    ("f_high", "u1"),
    ("m_high", "u1"),
]


def _binary_rows(buffer, snapshot_id: int, agg: _Aggregate, scored: rfm.Scored, stages) -> None:
    columns = {
        "snapshot_id": snapshot_id,
        "member_id": agg.member_id,
        "recency_days": agg.recency_days,
        "frequency": agg.frequency,
        "monetary_fen": agg.monetary_fen,
        "r_score": scored.r_score,
        "f_score": scored.f_score,
        "m_score": scored.m_score,
        "r_short": scored.r_short,
        "f_high": scored.f_high,
        "m_high": scored.m_high,
    }
    classes, class_names = pd.factorize(np.asarray(scored.rfm_class, dtype=object))
    stage_codes, stage_names = pd.factorize(np.asarray(stages, dtype=object))
    group = classes.astype(np.int64) * len(stage_names) + stage_codes
    buffer.write(_COPY_HEADER)
    for key in np.unique(group):
        rows = np.flatnonzero(group == key)
        texts = [
            str(class_names[key // len(stage_names)]).encode(),
            str(stage_names[key % len(stage_names)]).encode(),
        ]
        fields = [("count", ">i2")]
        for name, kind in _ROW_FIELDS:
            fields += [(f"{name}_len", ">i4"), (name, kind)]
        for i, text in enumerate(texts):
            fields += [(f"text{i}_len", ">i4")] + ([(f"text{i}", f"S{len(text)}")] if text else [])
        body = np.empty(len(rows), dtype=np.dtype(fields))
        body["count"] = len(_ROW_FIELDS) + len(texts)
        for name, kind in _ROW_FIELDS:
            body[f"{name}_len"] = np.dtype(kind).itemsize
            value = columns[name]
            body[name] = value if np.isscalar(value) else np.asarray(value)[rows]
        for i, text in enumerate(texts):
            body[f"text{i}_len"] = len(text)
            if text:
                body[f"text{i}"] = text
        buffer.write(body.tobytes())
    buffer.write(_COPY_TRAILER)


def _copy_rows(cursor, snapshot_id: int, agg: _Aggregate, scored: rfm.Scored, stages) -> None:
    parent = RfmRow._meta.db_table
    table = f"{parent}_s{int(snapshot_id)}"
    # a table of this name left over can only hold rows of an earlier database's snapshot
    # of the same id (ids are never reused in one database): not this one's
    cursor.execute(f"DROP TABLE IF EXISTS {table}")
    cursor.execute(
        f"CREATE TABLE {table} (LIKE {parent} INCLUDING DEFAULTS INCLUDING CONSTRAINTS,"
        f" CHECK (snapshot_id = {int(snapshot_id)}))"
    )
    buffer = io.BytesIO()
    _binary_rows(buffer, snapshot_id, agg, scored, stages)
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} ({_COLUMNS}) FROM STDIN WITH (FORMAT binary)", buffer)
    cursor.execute(f"SET LOCAL maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'")
    for constraint in _PARTITION_INDEXES:
        cursor.execute(f"ALTER TABLE {table} {constraint}")
    for columns in _PARTITION_INDEX_COLUMNS:
        cursor.execute(f"CREATE INDEX ON {table} {columns}")
    cursor.execute(
        f"ALTER TABLE {parent} ATTACH PARTITION {table} FOR VALUES IN ({int(snapshot_id)})"
    )


def rfm_snapshot_build(
    *, as_of: date | None = None, window_days: int | None = None, full: bool = False
) -> RfmSnapshot:
    """Build a new RFM snapshot as of `as_of` and make it current. Holds the advisory lock
    `analytics.rfm_run` (refuses when taken); the rows and the switch commit together. The
    members' figures come from the running state when it fits (analytics.rfm_state), else
    (or with `full`) from a scan of the window's receipts: the same snapshot either way."""
    as_of = as_of or rfm_default_as_of()
    settings = RfmSettings.current()
    if window_days is None:
        window_days = settings.window_days
    if window_days < 1:
        raise ServiceError(_("The window must be at least one day."), code="rfm_window")
    with advisory_lock(LOCK_NAME) as acquired:
        if not acquired:
            raise RfmRunInProgress()
        # we hold the lock: a snapshot still running was left by a run that was killed
        RfmSnapshot.objects.filter(status=RfmSnapshot.Status.RUNNING).update(
            status=RfmSnapshot.Status.FAILED, error="interrupted"
        )
        _drop_emptied_partitions()
        snapshot = RfmSnapshot.objects.create(
            as_of=as_of,
            window_days=window_days,
            started_at=timezone.now(),
            cut_method=settings.cut_method,
            preset=settings.preset,
        )
        try:
            plan = rfm_state.plan(
                as_of=as_of,
                window_days=window_days,
                settings_window_days=settings.window_days,
                full=full,
            )
            _build(snapshot, settings, plan)
        except BaseException as error:
            RfmSnapshot.objects.filter(pk=snapshot.pk).update(
                status=RfmSnapshot.Status.FAILED, error=repr(error)[:2000]
            )
            raise
    snapshot.refresh_from_db()
    return snapshot


def _drop_emptied_partitions() -> None:
    """The row tables of snapshots deleted since (deleting a snapshot deletes its rows and
    leaves its table empty): dropped, so that queries over every snapshot (a member's history)
    do not visit them."""
    parent = RfmRow._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = %s::regclass AND c.relname ~ ('^' || %s || '_s[0-9]+$')"
            " AND NOT EXISTS (SELECT 1 FROM analytics_rfmsnapshot s"
            "                  WHERE c.relname = %s || s.id)",
            [parent, parent, f"{parent}_s"],
        )
        for (table,) in cursor.fetchall():
            cursor.execute(f'DROP TABLE "{table}"')


def _members(cursor, snapshot: RfmSnapshot, params: dict, plan: rfm_state.Plan) -> np.ndarray:
    """Rows of (member, frequency, monetary, words of the window's days) of the members with a
    sale in the window: from the state moved on, or from a scan (which writes the state when
    the plan says so)."""
    if plan.state is not None:
        return rfm_state.advance(cursor, plan.state, params, plan.watermark)
    rows = _scan(cursor, params, snapshot.window_days, plan.watermark)
    if plan.write:
        rfm_state.write(
            cursor,
            rows,
            as_of=snapshot.as_of,
            window_days=snapshot.window_days,
            watermark=plan.watermark,
        )
    return rows[rows[:, 1] > 0]


def _build(snapshot: RfmSnapshot, settings: RfmSettings, plan: rfm_state.Plan) -> None:
    params = _window(snapshot.as_of, snapshot.window_days)
    fixed = None
    if settings.cut_method == RfmSettings.CutMethod.FIXED:
        fixed = rfm.Cuts(
            recency=settings.fixed_recency_days,
            frequency=settings.fixed_frequency,
            monetary=settings.fixed_monetary_fen,
        )
    mapping = settings.preset.mapping()
    outermost = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if outermost:
            # one snapshot for every read: the state's deltas, the changed receipts' members
            # and the state itself (inside a caller's transaction, the caller's)
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        rows = _members(cursor, snapshot, params, plan)
        agg, gaps = _summarise(rows, snapshot.window_days)
        del rows
        lifecycle_cuts, histogram = _lifecycle_cuts(gaps, settings)
        scored = rfm.score(
            agg.recency_days,
            agg.frequency,
            agg.monetary_fen,
            mapping=mapping,
            method=settings.cut_method,
            fixed=fixed,
        )
        stages = rfm.lifecycle_stages(agg.recency_days, lifecycle_cuts)
        _copy_rows(cursor, snapshot.pk, agg, scored, stages)
        previous = RfmSnapshot.objects.select_for_update().filter(is_current=True).first()
        if previous is not None:
            cursor.execute(_CHANGES, {"new": snapshot.pk, "old": previous.pk})
            previous.is_current = False
            previous.save(update_fields=["is_current"])
        snapshot.status = RfmSnapshot.Status.DONE
        snapshot.is_current = True
        snapshot.from_state = plan.state is not None
        snapshot.finished_at = timezone.now()
        snapshot.row_count = len(agg.member_id)
        snapshot.recency_cut = scored.cuts.recency if snapshot.row_count else None
        snapshot.frequency_cut = scored.cuts.frequency if snapshot.row_count else None
        snapshot.monetary_cut = scored.cuts.monetary if snapshot.row_count else None
        snapshot.lifecycle_cuts = lifecycle_cuts
        snapshot.interval_histogram = histogram
        snapshot.save()
