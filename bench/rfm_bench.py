"""RFM and predicted value at 1,000,000 members / 10,000,000 receipts, against the naive way.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x \\
        .venv/bin/python bench/rfm_bench.py [--members 1000000] [--receipts 10000000]
        [--only rfm,naive,clv] [--regenerate]

Works in its own database `mall_bench_rfm` on DATABASE_URL's server: created and migrated if
missing, and the data generated once (seed 2026, in SQL: generate_series, with the indexes and
foreign keys of the two big tables dropped during the load and rebuilt after); a later run
with the same sizes reuses it (`--regenerate` builds it again). The data: members registered
over two years; half of them buy once, the rest a geometric number of times (mean about 19)
spread over an active span of their own, so some have lapsed; totals log-normal around ¥150;
exactly --receipts sale receipts over the two years before the as-of date (2026-11-20), plus
refunds of 1 % of them a few days later. The receipts are stored in time order, as the tills
send them (so the member index is not in the table's physical order, as in a real table).

Each contender runs in a child process of its own, so its peak RSS (ru_maxrss from wait4) is
its own; Postgres's memory (work_mem per sort or hash, shared buffers) is separate and not in
these figures:

- `previous` (untimed): the snapshot and the running state of the night before (as of the
  day before the as-of date, by a scan of the window), as the nightly run finds them.
- `ours`: analytics.services.rfm_snapshot_build as the nightly run (`rfm_run_nightly`, or
  `manage.py rfm_run`) calls it, as of the as-of date over 365 days, end to end: the running
  state moved on by a day (the receipts that entered and left the window, those recorded
  late), the lifecycle intervals, scoring, the rows by binary COPY into a table of their own,
  its indexes, its ATTACH to analytics_rfmrow, the stage changes against the previous
  snapshot and the switch. Write-back included.
- `full`: the same as of the same date with `full=True` (`rfm_run --full`; a run with no
  state that fits): one GROUP BY over the window's receipts, which also writes the state
  anew, then the same scoring and write-back. The run checks that `ours` and `full` wrote
  the same rows (an md5 of them) and fails otherwise.
- `naive`: every receipt (member, time, total, kind) read into pandas with read_sql, the window
  filtered and grouped there, quintile scores with qcut and the mean cuts in pandas, and the
  lifecycle stages (percentiles of the gaps between purchase days) so that it computes what
  the snapshot holds. No write-back (it would only add time). Its figures split the time into
  reading, RFM with scores, and lifecycle.
- `clv`: analytics.predicted_value.clv_run as `manage.py clv_run` calls it: the per-member
  summary over all purchase days up to the as-of date, BG/NBD and Gamma-Gamma fitted, every
  member scored and written with COPY into a new run.

It also prints the plan of the RFM aggregate (EXPLAIN ANALYZE, as the service runs it, and
with the planner left to its defaults).
"""

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta

from common import ROOT, SEED, admin, child_measured, machine, manage, query

DATABASE = "mall_bench_rfm"
AS_OF = "2026-11-20"
WINDOW_DAYS = 365
BIG_TABLES = ("members_member", "loyalty_receipt")
_EXISTS = "SELECT 1 FROM pg_database WHERE datname = %s"


def database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("Set DATABASE_URL to the machine's Postgres, e.g. postgres://postgres@127.0.0.1/x")
    return url.rsplit("/", 1)[0] + "/" + DATABASE


def ensure_database(url: str, *, fresh: bool) -> dict:
    """The database, migrated; dropped first when `fresh` (a load that died half-way has
    dropped indexes that only a new database brings back)."""
    env = dict(os.environ, DATABASE_URL=url, REDIS_URL="")
    if fresh:
        admin(url, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    if not query(url.rsplit("/", 1)[0] + "/postgres", _EXISTS, [DATABASE]):
        admin(url, f'CREATE DATABASE "{DATABASE}"')
    manage(env, "migrate", "--noinput", "-v", "0")
    return env


GENERATE = """
SET max_parallel_workers_per_gather = 0;
SET work_mem = '1GB';
SELECT setseed(%(seed)s);
INSERT INTO members_region (code, name) VALUES ('BR', '基准区域') ON CONFLICT DO NOTHING;
INSERT INTO members_store (code, name, address, phone, is_active, region_id)
SELECT code, name, '', '', true, (SELECT id FROM members_region WHERE code = 'BR')
  FROM (VALUES ('S01', '基准一店'), ('S02', '基准二店')) s(code, name)
    ON CONFLICT DO NOTHING;

INSERT INTO members_member (card_no, phone, name, gender, channel, registered_at, status,
                            region_id, home_store_id)
SELECT 'B' || lpad(g::text, 9, '0'), '139' || lpad(g::text, 8, '0'), '会员' || g,
       CASE WHEN random() < 0.62 THEN 'F' ELSE 'M' END, 'wechat',
       %(start)s::timestamptz + random() * interval '730 days', 'active',
       (SELECT id FROM members_region WHERE code = 'BR'),
       (SELECT id FROM members_store WHERE code = CASE WHEN g %% 3 = 0 THEN 'S02' ELSE 'S01' END)
  FROM generate_series(1, %(members)s) g;

-- Per member: how many purchases (half buy once) and the active span they fall in.
CREATE TEMP TABLE bench_buyers AS
SELECT id AS member_id,
       CASE WHEN random() < 0.5 THEN 1 ELSE 2 + floor(-ln(1 - random()) * %(mean_repeat)s)::int END
           AS n,
       random() * 730 AS first_day,
       random() AS span_share
  FROM members_member ORDER BY id;

INSERT INTO loyalty_receipt (store_id, pos_no, receipt_no, occurred_at, member_id, kind,
                             division, total_fen, created_at, payload_hash)
SELECT CASE WHEN random() < 0.62 THEN s1 ELSE s2 END, 'P01', 'R' || lpad(k::text, 9, '0'), at,
       member_id, 'sale', CASE WHEN random() < 0.7 THEN 'supermarket' ELSE 'department' END,
       greatest(100, round(exp(ln(15000) + 0.9 * sqrt(-2 * ln(1 - random()))
                               * cos(2 * pi() * random()))))::bigint,
       at, ''
  FROM (
    SELECT row_number() OVER () AS k, b.member_id,
           %(start)s::date + (b.first_day + random() * (730 - b.first_day) * b.span_share)::int
             + interval '9 hours' + random() * interval '13 hours' AS local_at
      FROM bench_buyers b CROSS JOIN LATERAL generate_series(1, b.n)
     LIMIT %(receipts)s
  ) r,
  LATERAL (SELECT r.local_at AT TIME ZONE 'Asia/Shanghai' AS at) t,
  (SELECT (SELECT id FROM members_store WHERE code = 'S01') s1,
          (SELECT id FROM members_store WHERE code = 'S02') s2) s
 ORDER BY at;  -- stored in the order the tills send them, as in a real table

-- 1 %% of the sales refunded, in full or in part, one to ten days later.
INSERT INTO loyalty_receipt (store_id, pos_no, receipt_no, occurred_at, member_id, kind,
                             refund_of_id, division, total_fen, created_at, payload_hash)
SELECT store_id, pos_no, 'F' || substr(receipt_no, 2), at, member_id, 'refund', id, division,
       CASE WHEN random() < 0.7 THEN total_fen ELSE (total_fen * random())::bigint END, at, ''
  FROM (SELECT *, occurred_at + (1 + floor(random() * 10)) * interval '1 day' AS at
          FROM loyalty_receipt WHERE kind = 'sale' AND id %% 100 = 7) s;
"""


def generate(url: str, members: int, receipts: int) -> None:
    """The members and receipts, with the big tables' indexes and foreign keys dropped
    during the load and rebuilt after it (each in one pass, not row by row)."""
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(
            "TRUNCATE analytics_rfmsnapshot, analytics_clvrun, members_member, loyalty_receipt,"
            " members_store, members_region CASCADE"
        )
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid::regclass::text = ANY(%s) AND contype IN ('f', 'u')",
            [list(BIG_TABLES)],
        )
        constraints = cursor.fetchall()
        for table, name, _ in constraints:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)"
            " AND indexname NOT LIKE '%%_pkey'",
            [list(BIG_TABLES)],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        # a repeat buyer's mean so that the members' purchases reach the receipts asked for
        mean_repeat = max(1.0, (2 * receipts / members - 1) * 1.03 - 1.5)
        started = time.monotonic()
        cursor.execute(
            GENERATE,
            {
                "seed": SEED / 10_000,
                "members": members,
                "receipts": receipts,
                "mean_repeat": mean_repeat,
                "start": "2024-11-21T00:00:00+08:00",
            },
        )
        print(f"generated rows in {time.monotonic() - started:.0f} s; rebuilding indexes")
        started = time.monotonic()
        for _, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in constraints:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        print(f"indexes and constraints in {time.monotonic() - started:.0f} s; vacuum analyze")
        for table in BIG_TABLES:
            cursor.execute(f"VACUUM (ANALYZE) {table}")
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_meta (members int, receipts int, seed int)"
        )
        cursor.execute("TRUNCATE bench_meta")
        cursor.execute("INSERT INTO bench_meta VALUES (%s, %s, %s)", [members, receipts, SEED])
    conn.close()


def generated(url: str) -> tuple | None:
    rows = query(url, "SELECT to_regclass('bench_meta') IS NOT NULL")
    if not rows[0][0]:
        return None
    rows = query(url, "SELECT members, receipts, seed FROM bench_meta")
    return rows[0] if rows else None


# ---- contenders, each in its own child process -------------------------------------------


def _django():
    sys.path.insert(0, str(ROOT))
    from config.env import default_settings_module

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", default_settings_module())
    import django

    django.setup()


def contender_ours() -> dict:
    """The nightly run: the running state of the night before moves on by a day."""
    return _build(full=False)


def contender_full() -> dict:
    """The cold path: no state that fits (`rfm_run --full`), a scan of the window's receipts,
    which writes the state anew."""
    return _build(full=True)


def _build(*, full: bool) -> dict:
    from datetime import date

    from analytics.models import LifecycleChange
    from analytics.services import rfm_snapshot_build

    started = time.monotonic()
    snapshot = rfm_snapshot_build(
        as_of=date.fromisoformat(AS_OF), window_days=WINDOW_DAYS, full=full
    )
    seconds = time.monotonic() - started
    assert snapshot.from_state != full, "the nightly run did not find the state"
    changes = LifecycleChange.objects.filter(snapshot=snapshot).count()
    return {
        "seconds": seconds,
        "members": snapshot.row_count,
        "detail": f"snapshot {snapshot.pk} {'from a scan' if full else 'from the state'},"
        f" {changes:,} stage changes written",
        "rows": _digest(snapshot),
    }


def _digest(snapshot) -> str:
    """A digest of the snapshot's rows, so the run can check both paths wrote the same."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT md5(string_agg(concat_ws(',', member_id, recency_days, frequency,"
            " monetary_fen, r_score, f_score, m_score, rfm_class, lifecycle_stage), ';'"
            " ORDER BY member_id)) FROM analytics_rfmrow WHERE snapshot_id = %s",
            [snapshot.pk],
        )
        return cursor.fetchone()[0]


def contender_previous() -> dict:
    """The snapshot, and the running state, of the night before (untimed), so that `ours`
    finds them as the nightly run does."""
    from datetime import date, timedelta

    from analytics.models import RfmSettings
    from analytics.services import rfm_snapshot_build

    settings = RfmSettings.current()
    if settings.window_days != WINDOW_DAYS:  # the state is the settings' window's
        settings.window_days = WINDOW_DAYS
        settings.save()
    started = time.monotonic()
    as_of = date.fromisoformat(AS_OF) - timedelta(days=1)
    snapshot = rfm_snapshot_build(as_of=as_of, window_days=WINDOW_DAYS, full=True)
    return {"seconds": time.monotonic() - started, "members": snapshot.row_count, "detail": ""}


def contender_naive() -> dict:
    import numpy as np
    import pandas as pd
    from django.db import connection

    started = time.monotonic()
    connection.ensure_connection()
    receipts = pd.read_sql(
        "SELECT member_id, occurred_at, total_fen, kind FROM loyalty_receipt"
        " WHERE member_id IS NOT NULL",
        connection.connection,
    )
    loaded = time.monotonic()
    as_of = pd.Timestamp(AS_OF)
    receipts["day"] = (
        receipts["occurred_at"].dt.tz_convert("Asia/Shanghai").dt.tz_localize(None).dt.floor("D")
    )
    in_window = receipts[
        (receipts["day"] > as_of - pd.Timedelta(days=WINDOW_DAYS)) & (receipts["day"] <= as_of)
    ]
    sales = in_window[in_window["kind"] == "sale"]
    refunds = in_window[in_window["kind"] == "refund"]
    rfm = sales.groupby("member_id").agg(
        last_day=("day", "max"), frequency=("day", "size"), sales_fen=("total_fen", "sum")
    )
    refunded = refunds.groupby("member_id")["total_fen"].sum()
    rfm["monetary_fen"] = rfm["sales_fen"] - refunded.reindex(rfm.index, fill_value=0)
    rfm["recency_days"] = (as_of - rfm["last_day"]).dt.days
    rfm["r_score"] = pd.qcut(rfm["recency_days"].rank(method="first"), 5, labels=[5, 4, 3, 2, 1])
    rfm["f_score"] = pd.qcut(rfm["frequency"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5])
    rfm["m_score"] = pd.qcut(rfm["monetary_fen"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5])
    rfm["r_short"] = rfm["recency_days"] < rfm["recency_days"].mean()
    rfm["f_high"] = rfm["frequency"] > rfm["frequency"].mean()
    rfm["m_high"] = rfm["monetary_fen"] > rfm["monetary_fen"].mean()
    rfm["cell"] = (
        rfm["r_short"].astype(int) * 4 + rfm["f_high"].astype(int) * 2 + rfm["m_high"].astype(int)
    )
    scored = time.monotonic()
    # the lifecycle stages, as the snapshot has them: percentiles of the gaps between
    # consecutive purchase days, recency cut at them
    days = sales[["member_id", "day"]].drop_duplicates().sort_values(["member_id", "day"])
    same_member = days["member_id"].eq(days["member_id"].shift())
    gaps = days["day"].diff().dt.days[same_member]
    cuts = gaps.quantile([0.5, 0.8, 0.95]).to_numpy()
    rfm["stage"] = np.searchsorted(cuts, rfm["recency_days"].to_numpy(), side="right")
    done = time.monotonic()
    return {
        "seconds": done - started,
        "members": len(rfm),
        "detail": f"read_sql of {len(receipts):,} receipts {loaded - started:.1f} s, RFM and"
        f" scores {scored - loaded:.1f} s, lifecycle {done - scored:.1f} s; no write-back",
    }


def contender_clv() -> dict:
    from datetime import date

    from analytics.predicted_value import clv_run

    started = time.monotonic()
    run = clv_run(as_of=date.fromisoformat(AS_OF))
    return {
        "seconds": time.monotonic() - started,
        "members": run.member_count,
        "detail": f"bgnbd r={run.r:.4g} alpha={run.alpha:.4g} a={run.a:.4g} b={run.b:.4g}",
    }


CONTENDERS = {
    "previous": contender_previous,
    "ours": contender_ours,
    "full": contender_full,
    "naive": contender_naive,
    "clv": contender_clv,
}


def run_child(env: dict, name: str) -> dict:
    """`name` in a child process: its own figures, plus its peak RSS and wall time."""
    out, seconds, peak = child_measured([sys.executable, __file__, "--contender", name], env)
    result = json.loads(out.strip().splitlines()[-1])
    result["process_seconds"] = seconds
    result["peak_rss_mib"] = peak / 2**20
    return result


def explain(url: str) -> None:
    """The aggregate's plan as the service runs it, and as the planner would choose alone."""
    import psycopg2

    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = url
    _django()
    from datetime import date

    from analytics.services import WORK_MEM, _window, aggregate_sql

    params = _window(date.fromisoformat(AS_OF), WINDOW_DAYS)
    conn = psycopg2.connect(url)
    for label, settings in (
        ("as the service runs it", ["enable_indexscan = off", f"work_mem = '{WORK_MEM}'"]),
        ("the planner's own choice (default settings)", []),
        (
            "a walk of the member index (seq and bitmap scans, hashing and sorts off)",
            ["enable_seqscan = off", _NO_BITMAP, "enable_hashagg = off", "enable_sort = off"],
        ),
    ):
        with conn.cursor() as cursor:
            for setting in settings:
                cursor.execute(f"SET LOCAL {setting}")
            sql = aggregate_sql(WINDOW_DAYS)
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) " + sql, params)
            plan = "\n".join(f"    {row[0]}" for row in cursor.fetchall())
        conn.rollback()
        print(f"plan, {label}:\n{plan}", flush=True)
    conn.close()


_NO_BITMAP = "enable_bitmapscan = off"


def prune(url: str) -> None:
    """Drop the snapshots, runs and running state of earlier bench runs, so that every run
    measures the same thing: a nightly run that finds the previous night's snapshot and state
    (built first). The emptied row tables go with the next run (analytics.services)."""
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(
            "TRUNCATE analytics_lifecyclechange, analytics_rfmrow, analytics_rfmsnapshot,"
            " analytics_clvscore, analytics_clvrun, analytics_rfmstate, analytics_rfmstaterow,"
            " analytics_rfmreceiptchange"
        )
    conn.close()


def load() -> str:
    with open("/proc/loadavg") as handle:
        return " ".join(handle.read().split()[:3])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--receipts", type=int, default=10_000_000)
    parser.add_argument("--only", default="rfm,naive,clv,explain")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--contender", choices=sorted(CONTENDERS), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.contender:
        _django()
        print(json.dumps(CONTENDERS[args.contender]()))
        return

    url = database_url()
    have = None
    if query(url.rsplit("/", 1)[0] + "/postgres", _EXISTS, [DATABASE]):
        have = generated(url)
    fresh = args.regenerate or have != (args.members, args.receipts, SEED)
    env = ensure_database(url, fresh=fresh)
    print(f"machine: {machine(url)}; load average {load()}")
    if fresh:
        started = time.monotonic()
        generate(url, args.members, args.receipts)
        print(f"data generated in {time.monotonic() - started:.0f} s")
    else:
        print("data: reused from an earlier run")
    counts = query(
        url,
        "SELECT (SELECT count(*) FROM members_member),"
        " count(*) FILTER (WHERE kind = 'sale'), count(*) FILTER (WHERE kind = 'refund'),"
        " pg_size_pretty(pg_total_relation_size('loyalty_receipt'))"
        " FROM loyalty_receipt",
    )[0]
    print(
        f"data: {counts[0]:,} members, {counts[1]:,} sale receipts, {counts[2]:,} refunds;"
        f" loyalty_receipt with its indexes {counts[3]}"
    )
    only = set(args.only.split(","))
    prune(url)
    wanted = []
    if "rfm" in only:
        wanted += ["previous", "ours", "full"]
    wanted += [name for name in ("naive", "clv") if name in only]
    results = {}
    for name in wanted:
        results[name] = result = run_child(env, name)
        print(
            f"{name}: {result['seconds']:.1f} s (process {result['process_seconds']:.1f} s),"
            f" peak RSS {result['peak_rss_mib']:,.0f} MiB, {result['members']:,} members;"
            f" {result['detail']}; load average {load()}"
        )
    if "ours" in results and "full" in results:
        same = results["ours"]["rows"] == results["full"]["rows"]
        print(f"the nightly run and the scan wrote the same rows: {same}")
        if not same:
            raise SystemExit("the nightly run's snapshot differs from the scan's")
    if "naive" in results:
        for name in ("ours", "full"):
            if name in results:
                ratio = results["naive"]["seconds"] / results[name]["seconds"]
                print(f"{name} is {ratio:.1f}x faster than naive")
    if "clv" in results:
        start = datetime(2026, 1, 1, 4, 30, tzinfo=UTC)
        ends = start + timedelta(seconds=results["clv"]["process_seconds"])
        print(
            f"clv_run started at 04:30 (its nightly time) ends at {ends:%H:%M:%S};"
            " the window: done by 05:30, before the tills open"
        )
    if "explain" in only:
        explain(url)


if __name__ == "__main__":
    main()
