"""Receipts per second through the signed POS API, served by gunicorn as in production.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x REDIS_URL=redis://127.0.0.1:6379/2 \\
        .venv/bin/python bench/pos_api_bench.py [--receipts 3000] [--workers 3] [--clients 8]

Builds a scratch database (`--database`, default `mall_bench_pos`) with the demo mall
(`seed_demo --members 2000 --months 1`), creates a till for S01 and starts gunicorn
(production settings, Redis for the nonce cache) on a free loopback port. Client threads
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
import base64
import hashlib
import hmac
import http.client
import json
import os
import queue
import random
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from common import ROOT, SEED, machine, manage, query, scratch_database

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
        lines = []
        for code, name, spec, brand, category, price in rng.sample(skus, rng.randint(1, 5)):
            qty = rng.randint(1, 3)
            lines.append(
                {
                    "sku": code,
                    "name": name,
                    "spec": spec,
                    "brand": brand,
                    "category": category,
                    "qty": qty,
                    "amount_fen": price * qty,
                    "non_merchandise": False,
                }
            )
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
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/healthz")
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status, time.perf_counter() - started


def post(port: int, terminal: str, secret: str, body: bytes) -> tuple[int, float]:
    timestamp, nonce = str(int(time.time())), secrets.token_urlsafe(18)
    message = "\n".join(["POST", PATH, timestamp, nonce, hashlib.sha256(body).hexdigest()])
    signature = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-Pos-Terminal": terminal,
        "X-Pos-Timestamp": timestamp,
        "X-Pos-Nonce": nonce,
        "X-Pos-Signature": signature,
    }
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", PATH, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status, time.perf_counter() - started


def run(port, terminal, secret, payloads, clients, send=None) -> tuple[float, list, Counter]:
    send = send or post
    work: queue.Queue = queue.Queue()
    for payload in payloads:
        work.put(payload)
    latencies, statuses, lock = [], Counter(), threading.Lock()

    def client():
        while True:
            try:
                payload = work.get_nowait()
            except queue.Empty:
                return
            status, seconds = send(port, terminal, secret, payload)
            with lock:
                latencies.append(seconds)
                statuses[status] += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, statuses


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--receipts", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=3)  # as config/gunicorn.py
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-preload", action="store_true")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--healthz", type=int, default=None, help="requests (default: --receipts)")
    parser.add_argument("--database", default=DATABASE)
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        sys.exit("Set REDIS_URL: the tills' nonces live in the shared cache.")

    env = scratch_database(args.database)
    url = env["DATABASE_URL"]
    manage(env, "seed_demo", "--members", "2000", "--months", "1", "--seed", str(SEED))
    created = manage(env, "pos_terminal_create", "--store", "S01", "--name", "bench")
    terminal, secret = (part.split("=", 1)[1] for part in created.split())
    warm_up = bodies(url, WARM_UP, "WARM")
    payloads = bodies(url, args.receipts, "BENCH")

    port = free_port()
    server_env = {
        **env,
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "WECHAT_APP_ID": "bench",
        "WECHAT_SECRET": "bench",
        "PII_ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "CACHE_KEY_PREFIX": f"bench-{os.getpid()}",
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn), "config.wsgi", "-w", str(args.workers), "-b", f"127.0.0.1:{port}"]
    command += ["-k", args.worker_class, "--threads", str(args.threads)]
    command += [] if args.no_preload else ["--preload"]
    health_count = args.receipts if args.healthz is None else args.healthz
    server = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
        command,
        env=server_env,
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    sys.exit("gunicorn did not start")
                time.sleep(0.2)
        load = os.getloadavg()[0]
        run(port, terminal, secret, warm_up, args.clients)
        health = []
        if health_count:
            run(port, None, None, [None] * WARM_UP, args.clients, healthz)
            health.append(run(port, None, None, [None] * health_count, args.clients, healthz))
        seconds, latencies, statuses = run(port, terminal, secret, payloads, args.clients)
        if health_count:
            health.append(run(port, None, None, [None] * health_count, args.clients, healthz))
    finally:
        server.terminate()
        server.wait(timeout=30)

    cuts = statistics.quantiles(latencies, n=100)
    print(f"machine: {machine(url)}; load average at start: {load:.1f}")
    served = (
        f"gunicorn {args.workers} {args.worker_class} workers"
        f"{f' x {args.threads} threads' if args.threads > 1 else ''}"
        f"{'' if args.no_preload else ', --preload'}, {args.clients} client threads"
    )
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
