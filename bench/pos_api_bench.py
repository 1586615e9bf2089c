"""Receipts per second through the signed POS API, served by gunicorn as in production.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x REDIS_URL=redis://127.0.0.1:6379/2 \\
        .venv/bin/python bench/pos_api_bench.py [--receipts 3000] [--workers 3] [--clients 8]

Builds a scratch database (`--database`, default `mall_bench_pos`) with the demo mall
(`seed_demo --members 2000 --months 1`), creates a till for S01 and starts gunicorn
(bench/common.py's `Gunicorn`: config/gunicorn.py, production settings, Redis for the nonce
cache) on a free loopback port. Client threads
then post --receipts fixed receipts (seeded: 1-5 supermarket lines, 80 % with a member card,
each signed with a fresh nonce) after 100 warm-up receipts, and the script reports receipts
per second and the latency percentiles, then checks every answer and the ledger. The client
runs on the same machine and takes CPU from the server, so the figure is a floor.

The same client threads also GET /healthz (one trivial query through the same gunicorn and
middleware) as many times, before and after the receipts: the machine is shared, so the
receipts/s figure means something only next to that floor measured in the same run
(`--healthz 0` skips it). `--worker-class`, `--threads` and `--no-preload` vary gunicorn.
"""

import argparse
import json
import os
import random
import statistics
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone

from common import (
    SEED,
    Gunicorn,
    closed_loop,
    http_request,
    machine,
    manage,
    pos_post,
    query,
    receipt_lines,
    scratch_database,
)

DATABASE = "mall_bench_pos"
WARM_UP = 100
PATH = "/api/pos/v1/receipts"


def bodies(url: str, count: int, prefix: str) -> list[bytes]:
    rng = random.Random(SEED)  # noqa: S311 - benchmark data
    cards = [row[0] for row in query(url, "SELECT card_no FROM members_member ORDER BY card_no")]
    skus = query(
        url,
        "SELECT s.code, s.name, s.spec, COALESCE(b.name, ''), c.name, s.price_fen"
        " FROM loyalty_sku s JOIN loyalty_category c ON c.id = s.category_id"
        " LEFT JOIN mall_brand b ON b.id = s.brand_id"
        " WHERE c.division = 'supermarket' AND NOT s.non_merchandise ORDER BY s.code",
    )
    when = (datetime.now(timezone(timedelta(hours=8))) - timedelta(minutes=5)).isoformat(
        timespec="seconds"
    )
    out = []
    for n in range(count):
        lines = receipt_lines(rng, skus)
        total = sum(line["amount_fen"] for line in lines)
        body = {
            "store": "S01",
            "pos_no": f"P{n % 12 + 1:02d}",
            "receipt_no": f"{prefix}-{n:06d}",
            "occurred_at": when,
            "member": {"card_no": rng.choice(cards)} if rng.random() < 0.8 else None,
            "lines": lines,
            "payments": [{"method": "wechat", "amount_fen": total}],
            "total_fen": total,
            "coupons": [],
            "refund_of": None,
        }
        out.append(json.dumps(body, ensure_ascii=False).encode())
    return out


def healthz(port: int, *_ignored) -> tuple[int, float]:
    return http_request(port, "GET", "/healthz")


def post(port: int, terminal: str, secret: str, body: bytes) -> tuple[int, float]:
    return pos_post(port, terminal, secret, PATH, body)


def run(port, terminal, secret, payloads, clients, send=None) -> tuple[float, list, Counter]:
    send = send or post
    return closed_loop(lambda payload: send(port, terminal, secret, payload), payloads, clients)


def arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--receipts", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=3)  # as config/gunicorn.py
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-preload", action="store_true")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--healthz", type=int, default=None, help="requests (default: --receipts)")
    parser.add_argument("--database", default=DATABASE)
    return parser.parse_args(argv)


def main():
    args = arguments()
    if not os.environ.get("REDIS_URL"):
        sys.exit("Set REDIS_URL: the tills' nonces live in the shared cache.")

    env = scratch_database(args.database)
    url = env["DATABASE_URL"]
    manage(env, "seed_demo", "--members", "2000", "--months", "1", "--seed", str(SEED))
    created = manage(env, "pos_terminal_create", "--store", "S01", "--name", "bench")
    terminal, secret = (part.split("=", 1)[1] for part in created.split())
    warm_up = bodies(url, WARM_UP, "WARM")
    payloads = bodies(url, args.receipts, "BENCH")

    health_count = args.receipts if args.healthz is None else args.healthz
    server = Gunicorn(
        env,
        workers=args.workers,
        worker_class=args.worker_class,
        threads=args.threads,
        preload=not args.no_preload,
    )
    with server:
        port = server.port
        load = os.getloadavg()[0]
        run(port, terminal, secret, warm_up, args.clients)
        health = []
        if health_count:
            run(port, None, None, [None] * WARM_UP, args.clients, healthz)
            health.append(run(port, None, None, [None] * health_count, args.clients, healthz))
        seconds, latencies, statuses = run(port, terminal, secret, payloads, args.clients)
        if health_count:
            health.append(run(port, None, None, [None] * health_count, args.clients, healthz))

    cuts = statistics.quantiles(latencies, n=100)
    print(f"machine: {machine(url)}; load average at start: {load:.1f}")
    served = f"{server.describe()}, {args.clients} client threads"
    rates = []
    for when, run_figures in zip(("before", "after"), health, strict=False):
        h_seconds, h_latencies, h_statuses = run_figures
        h_cuts = statistics.quantiles(h_latencies, n=100)
        rates.append(health_count / h_seconds)
        print(
            f"/healthz {when}, {served}: {health_count / h_seconds:.0f} requests/s; latency"
            f" p50 {h_cuts[49] * 1000:.0f} ms, p95 {h_cuts[94] * 1000:.0f} ms;"
            f" answers {dict(h_statuses)}"
        )
    print(
        f"POS API, {served}: "
        f"{args.receipts} receipts in {seconds:.1f} s = {args.receipts / seconds:.0f} receipts/s; "
        f"latency p50 {cuts[49] * 1000:.0f} ms, p95 {cuts[94] * 1000:.0f} ms, "
        f"p99 {cuts[98] * 1000:.0f} ms; answers {dict(statuses)}"
    )
    if rates:
        ratio = args.receipts / seconds / statistics.mean(rates)
        print(f"receipts/s over /healthz/s (mean of before and after): {ratio:.2f}")
    recorded = query(url, "SELECT count(*) FROM loyalty_receipt WHERE receipt_no LIKE 'BENCH-%%'")
    print(f"receipts recorded: {recorded[0][0]}; {manage(env, 'check_ledger').strip()}")


if __name__ == "__main__":
    main()
