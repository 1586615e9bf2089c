"""How fast `import_receipts` loads a big file: fixed seed, sizes and as-of time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x \\
        .venv/bin/python bench/import_receipts_bench.py [--lines 1000000] [--members 10000]

Builds a scratch database `mall_bench_import` on DATABASE_URL's server with the demo mall
(`seed_demo --members N --months 1`, for stores, SKUs and card numbers), writes a CSV of
exactly --lines receipt lines (a year of receipts before the as-of time, two thirds with a
member card, 1 % refunds), then times `manage.py import_receipts` with points, a second
import of the same file (everything skipped), and checks the ledger.
"""

import argparse
import csv
import random
import time
from datetime import datetime, timedelta
from pathlib import Path

from common import AS_OF, ROOT, SEED, machine, manage, query, scratch_database

DATABASE = "mall_bench_import"
SUPERMARKET_POS = [f"P{n:02d}" for n in range(1, 13)]
DEPARTMENT_POS = [f"D{n:02d}" for n in range(1, 6)]


def write_file(path: Path, url: str, lines: int) -> int:
    """The CSV, the same for the same seed and database; returns the number of receipts."""
    rng = random.Random(SEED)  # noqa: S311 - benchmark data
    cards = [row[0] for row in query(url, "SELECT card_no FROM members_member ORDER BY card_no")]
    skus = query(
        url,
        "SELECT s.code, s.name, s.spec, COALESCE(b.name, ''), c.name, c.division, s.price_fen,"
        " s.non_merchandise FROM loyalty_sku s JOIN loyalty_category c ON c.id = s.category_id"
        " LEFT JOIN mall_brand b ON b.id = s.brand_id ORDER BY s.code",
    )
    by_division = {
        division: [s for s in skus if s[5] == division]
        for division in ("supermarket", "department")
    }
    end = datetime.fromisoformat(AS_OF)
    written = receipts = 0
    sales = []  # department sales with a member, candidates for a refund
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(
            "store,pos_no,receipt_no,occurred_at,card_no,sku,name,spec,brand,category,qty,"
            "amount_fen,non_merchandise,refund_of".split(",")
        )
        while written < lines:
            receipts += 1
            store = "S01" if rng.random() < 0.62 else "S02"
            when = end - timedelta(seconds=rng.randrange(365 * 86400))
            card = rng.choice(cards) if rng.random() < 0.66 else ""
            receipt_no = f"B{receipts:08d}"
            if sales and rng.random() < 0.01:
                sale = sales.pop(rng.randrange(len(sales)))
                refund_at = min(sale[3] + timedelta(days=rng.randint(1, 10)), end)
                out.writerow([*sale[:2], receipt_no, refund_at.isoformat(), "", *sale[4:], sale[2]])
                written += 1
                continue
            division = "supermarket" if rng.random() < 0.7 else "department"
            pos = rng.choice(SUPERMARKET_POS if division == "supermarket" else DEPARTMENT_POS)
            size = min(lines - written, 1 + int(rng.expovariate(1 / 1.6)))
            for _ in range(size):
                code, name, spec, brand, category, _d, price, non_merch = rng.choice(
                    by_division[division]
                )
                qty = 1 if rng.random() < 0.8 else rng.randint(2, 3)
                row = [code, name, spec, brand, category, qty, price * qty, int(non_merch)]
                out.writerow([store, pos, receipt_no, when.isoformat(), card, *row, ""])
                written += 1
                if card and division == "department" and size == 1:
                    sales.append((store, pos, receipt_no, when, *row))
    return receipts


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=10_000)
    args = parser.parse_args()

    env = scratch_database(DATABASE)
    url = env["DATABASE_URL"]
    manage(
        env,
        "seed_demo",
        "--members",
        str(args.members),
        "--months",
        "1",
        "--seed",
        str(SEED),
        "--as-of",
        AS_OF,
    )
    path = ROOT / "test-output" / f"bench-receipts-{args.lines}.csv"
    path.parent.mkdir(exist_ok=True)
    started = time.monotonic()
    receipts = write_file(path, url, args.lines)
    print(f"machine: {machine(url)}")
    print(
        f"file: {args.lines} lines, {receipts} receipts, {path.stat().st_size / 2**20:.0f} MiB,"
        f" written in {time.monotonic() - started:.1f} s"
    )
    # The file spans the year before AS_OF; receipts older than the earning window are
    # recorded without points. Widen the window to the whole file, so the earning path is
    # what is measured, as in the figures of docs/BENCHMARKS.md.
    first_day = datetime.fromisoformat(AS_OF) - timedelta(days=366)
    env["RECEIPT_EARN_WINDOW_DAYS"] = str((datetime.now(first_day.tzinfo) - first_day).days + 1)
    for label in ("first import", "same file again"):
        started = time.monotonic()
        summary = manage(env, "import_receipts", str(path)).strip()
        seconds = time.monotonic() - started
        print(f"{label}: {seconds:.1f} s wall, {args.lines / seconds:,.0f} lines/s | {summary}")
    print(manage(env, "check_ledger").strip())


if __name__ == "__main__":
    main()
