"""Basket mining from Postgres to stored rules, side by side with the naive pipeline.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x .venv/bin/python bench/mining_bench.py \
        --receipts 1000000 --skus 5000

A scratch database `mall_bench_mining` gets RECEIPTS sale receipts of 1–8 lines over SKUS SKUs
(seeded, generated in SQL: skewed popularity, 40 planted pairs), once (reused while its size
matches; --fresh rebuilds). Then, each in its own process so peak memory is its own:

- ours: `manage.py mine_rules --level sku` (pairs by binary COPY into numpy, the sparse basket
  matrix, mlxtend FP-growth, rules from counts, stored with COPY);
- naive: every (receipt, SKU) row fetched into Python, item lists per receipt, mlxtend's
  TransactionEncoder (a dense matrix), fpgrowth, association_rules; nothing stored.

Both must give the same rules (antecedents, consequent, count); the script fails otherwise.
"""

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import MANAGE, admin, child_measured, machine, manage, query  # noqa: E402

NAME = "mall_bench_mining"

GENERATE = """
SELECT setseed(%(seed)s);
INSERT INTO members_region (code, name) VALUES ('BR', 'Bench');
INSERT INTO members_store (code, name, address, phone, is_active, opened_on, region_id)
SELECT 'B01', 'Bench', '', '', true, '2020-01-01', id FROM members_region WHERE code = 'BR';
CREATE TEMP TABLE planted AS
  SELECT g AS a, 100 + g * 7 AS b FROM generate_series(1, 40) g;
INSERT INTO loyalty_receipt (store_id, pos_no, receipt_no, occurred_at, kind, division,
                             total_fen, created_at, payload_hash)
SELECT (SELECT id FROM members_store WHERE code = 'B01'), 'P1', lpad(g::text, 9, '0'),
       timestamptz '2026-01-01 10:00+08' + (g %% 300) * interval '1 day', 'sale', 'supermarket',
       1000, now(), ''
FROM generate_series(1, %(receipts)s) g;
CREATE TEMP TABLE draws AS
  SELECT r.id AS receipt_id, n AS line_no,
         (floor(%(skus)s * power(random(), 2.2)))::int + 1 AS sku
  -- (the line count refers to r so it is drawn per receipt, not once)
  FROM loyalty_receipt r,
       LATERAL generate_series(1, 1 + floor(power(random(), 1.5) * 7)::int + 0 * r.id::int) n
  WHERE r.id > 0;
-- planted: a basket holding an anchor also holds its partner half the time
INSERT INTO draws
  SELECT d.receipt_id, 100, p.b FROM draws d JOIN planted p ON p.a = d.sku
  WHERE random() < 0.5;
INSERT INTO loyalty_receiptline (receipt_id, line_no, sku_code, name, spec, brand_name,
                                 category_name, qty, amount_fen, non_merchandise)
SELECT receipt_id, row_number() OVER (PARTITION BY receipt_id ORDER BY line_no, sku),
       'SKU' || lpad(sku::text, 5, '0'), '商品' || sku, '', '', '', 1, 1000, false
FROM draws;
ANALYZE loyalty_receipt; ANALYZE loyalty_receiptline;
"""

NAIVE = r"""
import json, os, sys, time
import numpy as np, pandas as pd, psycopg2
from mlxtend.preprocessing import TransactionEncoder
from mlxtend.frequent_patterns import fpgrowth, association_rules
support, confidence = float(sys.argv[1]), float(sys.argv[2])
start = time.monotonic()
conn = psycopg2.connect(os.environ["DATABASE_URL"])
cur = conn.cursor()
cur.execute("SELECT l.receipt_id, l.sku_code FROM loyalty_receiptline l "
            "JOIN loyalty_receipt r ON r.id = l.receipt_id "
            "WHERE r.kind = 'sale' AND NOT l.non_merchandise")
baskets = {}
for receipt, sku in cur.fetchall():
    baskets.setdefault(receipt, set()).add(sku)
lists = [sorted(items) for items in baskets.values() if len(items) >= 2]
encoder = TransactionEncoder()
frame = pd.DataFrame(encoder.fit(lists).transform(lists), columns=encoder.columns_)
found = fpgrowth(frame, min_support=support, use_colnames=True)
rules = association_rules(found, num_itemsets=len(lists), metric="confidence",
                          min_threshold=confidence)
rules = rules[rules["consequents"].apply(len) == 1]
out = sorted(("|".join(sorted(r.antecedents)), "|".join(sorted(r.consequents)),
              int(round(r.support * len(lists)))) for r in rules.itertuples())
print(json.dumps({"seconds": time.monotonic() - start, "rules": out, "baskets": len(lists)}))
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--receipts", type=int, default=1_000_000)
    parser.add_argument("--skus", type=int, default=5000)
    parser.add_argument("--min-support", type=float, default=0.001)
    parser.add_argument("--min-confidence", type=float, default=0.3)
    parser.add_argument("--seed", type=float, default=0.2026)
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("Set DATABASE_URL to the machine's Postgres")
    env = dict(os.environ, DATABASE_URL=url.rsplit("/", 1)[0] + "/" + NAME)
    exists = query(
        url.rsplit("/", 1)[0] + "/postgres", "SELECT 1 FROM pg_database WHERE datname = %s", [NAME]
    )
    have = 0
    if exists and not args.fresh:
        have = query(env["DATABASE_URL"], "SELECT count(*) FROM loyalty_receipt")[0][0]
    if have != args.receipts:
        print(f"generating {args.receipts:,} receipts over {args.skus:,} SKUs…", flush=True)
        admin(env["DATABASE_URL"], f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
        admin(env["DATABASE_URL"], f'CREATE DATABASE "{NAME}"')
        manage(env, "migrate", "--noinput", "-v", "0")
        import psycopg2

        conn = psycopg2.connect(env["DATABASE_URL"])
        with conn, conn.cursor() as cursor:
            cursor.execute(
                GENERATE, {"seed": args.seed, "receipts": args.receipts, "skus": args.skus}
            )
        conn.close()
    lines = query(env["DATABASE_URL"], "SELECT count(*) FROM loyalty_receiptline")[0][0]
    print(f"{args.receipts:,} receipts, {lines:,} lines; {machine(env['DATABASE_URL'])}")

    thresholds = [
        "--min-support",
        str(args.min_support),
        "--min-confidence",
        str(args.min_confidence),
    ]
    out, ours_s, ours_rss = child_measured(
        [*MANAGE, "mine_rules", "--level", "sku", *thresholds], env
    )
    run_id = int(out.strip())
    path = Path(tempfile.gettempdir()) / f"bench-rules-{run_id}.csv"
    manage(env, "rules_export", str(run_id), str(path))
    import csv

    with open(path, encoding="utf-8") as f:
        ours = sorted(
            (r["antecedents"], r["consequents"], int(r["count"])) for r in csv.DictReader(f)
        )
    run = query(
        env["DATABASE_URL"],
        "SELECT basket_count, item_count, itemset_count, duration_ms, "
        "peak_memory_bytes FROM mining_miningrun WHERE id = %s",
        [run_id],
    )[0]

    out, naive_s, naive_rss = child_measured(
        [sys.executable, "-c", NAIVE, str(args.min_support), str(args.min_confidence)], env
    )
    naive = json.loads(out)
    same = [tuple(r) for r in naive["rules"]] == ours
    print(
        f"baskets {run[0]:,} (naive {naive['baskets']:,}), items {run[1]:,}, "
        f"itemsets {run[2]:,}, rules {len(ours):,}; identical rules: {same}"
    )
    print(
        f"ours : {ours_s:6.1f} s wall (run {run[3] / 1000:.1f} s), "
        f"peak RSS {ours_rss / 2**20:7.0f} MiB"
    )
    print(
        f"naive: {naive_s:6.1f} s wall (inside {naive['seconds']:.1f} s), "
        f"peak RSS {naive_rss / 2**20:7.0f} MiB"
    )
    print(
        f"ours is {naive_s / ours_s:.1f}x faster and uses {naive_rss / ours_rss:.1f}x less memory"
    )
    if not same:
        raise SystemExit("the rules differ")


if __name__ == "__main__":
    main()
