"""The member card page (GET /m/card/) at 50 concurrent members, through gunicorn as in production.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x REDIS_URL=redis://127.0.0.1:6379/2 \\
        .venv/bin/python bench/card_page_bench.py [--members 50] [--duration 60] \\
        [--think 1 3] [--clients 8] [--requests 600]

Builds a scratch database (`--database`, default `mall_bench_card`) with the demo mall
(`seed_demo --members 2000 --months 1`), signs --members members (a seeded sample) in as the
WeChat sign-in does: each gets a WechatIdentity bound to it with its profile fetched and a
session holding that identity (bench/common.py's `member_sessions`), sent as the "sessionid"
cookie. gunicorn then serves the project as in production (bench/common.py's `Gunicorn`:
config/gunicorn.py, 3 preloaded sync workers, production settings with the static files
collected) on a free loopback port.

"Concurrent members" means members with think time, as locust users are, not requests in
flight: each member is a client thread that GETs its card page, reads it for a pause drawn
uniformly from --think (1-3 s; fixed seed per member) and asks again, for --duration seconds
(first requests staggered over the first pause). 50 such members offer about 25 requests/s;
the figures are the throughput they got and the latency they saw. The issue's target is the
card page's p95 under 50 ms at 50 concurrent members.

Side by side in the same run, because the machine is shared: the same members with the same
pauses GET /healthz (one trivial query through the same gunicorn and middleware) for the same
duration just before. For reference, a closed-loop figure follows: --clients threads GET the
card pages of the same members --requests times without pause, then /healthz as many times.
Every answer must be 200 (a redirect would mean the session did not sign the member in);
the script exits 1 otherwise. The client runs on the same machine and takes CPU from the
server.
"""

import argparse
import os
import random
import sys
import threading
import time
from collections import Counter

from common import (
    SEED,
    Gunicorn,
    closed_loop,
    http_request,
    machine,
    manage,
    member_sessions,
    percentiles_ms,
    scratch_database,
)

DATABASE = "mall_bench_card"
CARD = "/m/card/"
TARGET_P95_MS = 50
WARM_UP = 60


def arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--members", type=int, default=50, help="concurrent members")
    parser.add_argument("--duration", type=float, default=60, help="seconds of browsing")
    parser.add_argument(
        "--think", type=float, nargs=2, default=[1.0, 3.0], metavar=("MIN", "MAX"), help="s"
    )
    parser.add_argument("--clients", type=int, default=8, help="closed-loop client threads")
    parser.add_argument("--requests", type=int, default=600, help="closed-loop requests")
    parser.add_argument("--workers", type=int, default=None, help="default: config/gunicorn.py")
    parser.add_argument("--months", type=int, default=1, help="of demo history")
    parser.add_argument("--database", default=DATABASE)
    args = parser.parse_args(argv)
    if args.members < 1 or args.duration <= 0 or not 0 <= args.think[0] <= args.think[1]:
        parser.error("--members >= 1, --duration > 0 and 0 <= MIN <= MAX for --think")
    return args


def card(port: int, session: str) -> tuple[int, float]:
    return http_request(port, "GET", CARD, headers={"Cookie": f"sessionid={session}"})


def healthz(port: int, _session: str) -> tuple[int, float]:
    return http_request(port, "GET", "/healthz")


def members_browsing(port, send, sessions, duration, think) -> tuple[float, list, Counter]:
    """One thread per member: send, pause uniform(think), for `duration` seconds (the first
    request after a uniform(think) pause, so the members do not all start at once); the
    requests sent within `duration`, over `duration`."""
    latencies, statuses, lock = [], Counter(), threading.Lock()
    started = time.perf_counter()
    end = started + duration

    def member(index: int, session: str):
        rng = random.Random(SEED + index)  # noqa: S311 - benchmark pauses

        def pause():
            time.sleep(min(rng.uniform(*think), max(0.0, end - time.perf_counter())))

        pause()
        while time.perf_counter() < end:
            status, seconds = send(port, session)
            with lock:
                latencies.append(seconds)
                statuses[status] += 1
            pause()

    threads = [
        threading.Thread(target=member, args=(index, session))
        for index, session in enumerate(sessions)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return duration, latencies, statuses


def line(what: str, figures: tuple[float, list, Counter]) -> str:
    seconds, latencies, statuses = figures
    p50, p95, p99 = percentiles_ms(latencies)
    return (
        f"{what}: {len(latencies)} requests in {seconds:.1f} s = {len(latencies) / seconds:.1f}"
        f" requests/s; latency p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms;"
        f" answers {dict(statuses)}"
    )


def main():
    args = arguments()
    if not os.environ.get("REDIS_URL"):
        sys.exit("Set REDIS_URL: production settings keep the cache in Redis.")
    env = scratch_database(args.database)
    url = env["DATABASE_URL"]
    manage(env, "seed_demo", "--members", "2000", "--months", str(args.months), "--seed", str(SEED))

    server = Gunicorn(env, workers=args.workers, static=True)
    with server:
        sessions = [m["session"] for m in member_sessions(server.env, args.members)]
        port = server.port
        load = os.getloadavg()[0]
        closed_loop(lambda s: card(port, s), (sessions * WARM_UP)[:WARM_UP], args.clients)
        closed_loop(lambda s: healthz(port, s), [None] * WARM_UP, args.clients)
        think = tuple(args.think)
        health = members_browsing(port, healthz, sessions, args.duration, think)
        browsed = members_browsing(port, card, sessions, args.duration, think)
        pages = [sessions[n % len(sessions)] for n in range(args.requests)]
        closed = closed_loop(lambda s: card(port, s), pages, args.clients)
        closed_health = closed_loop(lambda s: healthz(port, s), pages, args.clients)

    print(f"machine: {machine(url)}; load average at start: {load:.1f}")
    members = (
        f"{args.members} members with think time {think[0]:g}-{think[1]:g} s,"
        f" {args.duration:g} s, {server.describe()}"
    )
    print(line(f"/healthz, {members}", health))
    print(line(f"card page, {members}", browsed))
    closed_what = f"{args.clients} client threads without think time, {server.describe()}"
    print(line(f"card page closed loop, {closed_what}", closed))
    print(line(f"/healthz closed loop, {closed_what}", closed_health))
    p95 = percentiles_ms(browsed[1])[1]
    verdict = "met" if p95 < TARGET_P95_MS else "not met"
    print(f"target card page p95 < {TARGET_P95_MS} ms at {args.members} members: {verdict}")
    answers = browsed[2] + closed[2] + health[2] + closed_health[2]
    if set(answers) != {200}:
        sys.exit(f"not every answer was 200: {dict(answers)}")


if __name__ == "__main__":
    main()
