"""The load scenario (issue 15): members browsing while tills post receipts and verify coupons.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x REDIS_URL=redis://127.0.0.1:6379/2 \\
        .venv/bin/python bench/load_scenario.py [--users 44] [--tills 4] [--spawn-rate 10] \\
        [--duration 60]

or `make loadtest` (installs the `bench` extra, locust, first; ARGS="--users 80" passes
options). About three minutes in all on 2 cores: two to build and seed the database, one
under load. Builds a scratch database (`--database`, default `mall_bench_load`) with the demo
mall (`seed_demo --members 2000 --months 1`), starts gunicorn as in production
(bench/common.py's `Gunicorn`: config/gunicorn.py, production settings, static files
collected, Redis) on a free loopback port, and prepares, with a fixed seed:

- --pool members signed in through WeChat (a WechatIdentity and a session each, as
  bench/card_page_bench.py), each given --coupons cash coupons of a fresh template (5 yuan
  off, any store and basket) on top of whatever the demo gave them;
- --tills POS terminals of S01, with their secrets.

Then headless locust (bench/locustfile.py) runs --users users for --duration seconds, spawned
at --spawn-rate per second: --tills of them are TillUsers (one terminal each: signed POST
receipts with fresh receipt numbers and nonces, 1-5 supermarket lines, 80 % with a member
card; one action in five a coupon verify on a real, unused coupon of a signed-in member;
0.5-1.5 s between actions), the others MemberUsers (a signed-in member each: the card page,
coupons list, a coupon's detail, records, messages and the points mall, weighted 4:2:2:2:1:1,
1-3 s of think time; every user's own random.Random seeded from --seed and its number).

After a warm-up (each member page a few times), it prints the per-endpoint throughput,
p50/p95/p99 (locust's histogram) and failures, then checks the ledger (`manage.py
check_ledger`) and counts the receipts and coupons recorded; it exits 1 on any failed request
or a ledger error. Everything runs on the one machine: the locust process takes CPU from the
server, so the figures are a floor.
"""

import argparse
import csv
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

from common import (
    ROOT,
    SEED,
    Gunicorn,
    closed_loop,
    http_request,
    machine,
    manage,
    member_sessions,
    query,
    scratch_database,
)

DATABASE = "mall_bench_load"
WARM_UP_MEMBERS = 6
LOCUSTFILE = Path(__file__).resolve().with_name("locustfile.py")

PREPARE_CODE = """
import json
from django.utils import timezone
from coupons.issuing import campaign_get_or_create, coupons_issue_bulk
from coupons.models import CouponTemplate
from pos.services import pos_terminal_create
from stores.models import Store
store = Store.objects.get(code="S01")
tills = [pos_terminal_create(store=store, name=f"load {n + 1}") for n in range(TILLS)]
template = CouponTemplate.objects.create(
    code=f"LOAD-{TAG}", name="压测代金券", kind="cash", face_value_fen=500, valid_days=30,
    per_member_limit=0,
)
campaign = campaign_get_or_create(channel="manual", name=f"load scenario {TAG}")
issued = []
for _ in range(COUPONS):
    issued += coupons_issue_bulk(template=template, member_ids=MEMBERS, campaign=campaign)
print("PREPARED " + json.dumps({
    "tills": [{"terminal": t.terminal_id, "secret": t.secret, "pos_no": f"P{n + 1:02d}"}
              for n, t in enumerate(tills)],
    "issued": issued,
}))
"""


def arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--users", type=int, default=44, help="locust users, tills included")
    parser.add_argument("--tills", type=int, default=4, help="of the users, TillUsers")
    parser.add_argument("--spawn-rate", type=float, default=10, help="users started per second")
    parser.add_argument("--duration", type=int, default=60, help="seconds under load")
    parser.add_argument("--pool", type=int, default=100, help="members signed in to browse")
    parser.add_argument("--coupons", type=int, default=3, help="cash coupons per pool member")
    parser.add_argument("--workers", type=int, default=None, help="default: config/gunicorn.py")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--database", default=DATABASE)
    args = parser.parse_args(argv)
    if not 0 <= args.tills < args.users or args.duration < 1 or args.pool < 1:
        parser.error("0 <= --tills < --users, --duration >= 1 and --pool >= 1")
    return args


def scenario_data(server: Gunicorn, args) -> dict:
    """What the locust users need (written to a file the locustfile reads)."""
    url = server.env["DATABASE_URL"]
    members = member_sessions(server.env, args.pool, args.seed)
    ids = [m["member_id"] for m in members]
    code = (
        PREPARE_CODE.replace("TILLS", str(args.tills))
        .replace("TAG", repr(secrets.token_hex(3)))
        .replace("COUPONS", str(args.coupons))
        .replace("MEMBERS", repr(ids))
    )
    prepared = json.loads(manage(server.env, "shell", "-c", code).split("PREPARED ", 1)[1])
    codes: dict[int, list[str]] = {}
    for member_id, coupon in query(
        url,
        "SELECT member_id, code FROM coupons_coupon WHERE member_id = ANY(%s) ORDER BY code",
        (ids,),
    ):
        codes.setdefault(member_id, []).append(coupon)
    for member in members:
        member["coupons"] = codes.get(member["member_id"], [])
    card_of = {m["member_id"]: m["card_no"] for m in members}
    verify = [{"code": c, "card_no": card_of[m]} for m, c in sorted(prepared["issued"])]
    random.Random(args.seed).shuffle(verify)  # noqa: S311 - benchmark data
    skus = query(
        url,
        "SELECT s.code, s.name, s.spec, COALESCE(b.name, ''), c.name, s.price_fen"
        " FROM loyalty_sku s JOIN loyalty_category c ON c.id = s.category_id"
        " LEFT JOIN mall_brand b ON b.id = s.brand_id"
        " WHERE c.division = 'supermarket' AND NOT s.non_merchandise ORDER BY s.code",
    )
    cards = [row[0] for row in query(url, "SELECT card_no FROM members_member ORDER BY card_no")]
    return {
        "seed": args.seed,
        "prefix": f"LOAD{secrets.token_hex(3).upper()}",
        "members": members,
        "tills": prepared["tills"],
        "verify": verify,
        "skus": skus,
        "cards": cards,
    }


def warm_up(server: Gunicorn, data: dict) -> None:
    """Each member page a few times before the clock starts (templates, translations and URL
    resolvers loaded in every worker)."""
    pages = ["/m/card/", "/m/coupons/", "/m/records/", "/m/messages/", "/m/mall/"]
    members = [m for m in data["members"] if m["coupons"]][:WARM_UP_MEMBERS]
    pages += [f"/m/coupons/{m['coupons'][0]}/" for m in members]
    requests = [(page, m["session"]) for page in pages for m in members]
    closed_loop(
        lambda item: http_request(
            server.port, "GET", item[0], headers={"Cookie": f"sessionid={item[1]}"}
        ),
        requests,
        4,
    )


def locust(server: Gunicorn, args, data_file: Path, csv_prefix: Path) -> int:
    command = [
        str(Path(sys.executable).with_name("locust")),
        *("-f", str(LOCUSTFILE), "--headless", "--only-summary", "--loglevel", "WARNING"),
        *("--host", server.url, "-u", str(args.users), "-r", str(args.spawn_rate)),
        *("-t", f"{args.duration}s", "--stop-timeout", "5", "--csv", str(csv_prefix)),
    ]
    env = {
        **os.environ,
        "LOAD_SCENARIO_DATA": str(data_file),
        "LOAD_SCENARIO_TILLS": str(args.tills),
    }
    done = subprocess.run(  # noqa: S603 - our own locust, fixed arguments
        command, env=env, cwd=ROOT, check=False, capture_output=True, text=True
    )
    if done.returncode not in (0, 1):  # 1: some requests failed (reported below)
        sys.stderr.write(done.stderr[-4000:])
    return done.returncode


def report(csv_prefix: Path) -> int:
    """Print locust's figures per endpoint; the failures counted."""
    with open(f"{csv_prefix}_stats.csv", newline="") as stats:
        rows = list(csv.DictReader(stats))
    print(
        f"{'endpoint':<44} {'requests':>8} {'fails':>5} {'req/s':>6}"
        f" {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
    )
    for row in rows:
        name = row["Name"] if row["Name"] == "Aggregated" else f"{row['Type']} {row['Name']}"
        print(
            f"{name:<44} {row['Request Count']:>8} {row['Failure Count']:>5}"
            f" {float(row['Requests/s']):>6.1f} {row['50%']:>7} {row['95%']:>7} {row['99%']:>7}"
        )
    with open(f"{csv_prefix}_failures.csv", newline="") as failures:
        for row in csv.DictReader(failures):
            print(f"failure: {row['Method']} {row['Name']}: {row['Error']} x {row['Occurrences']}")
    total = next(row for row in rows if row["Name"] == "Aggregated")
    return int(total["Failure Count"])


def main():
    args = arguments()
    if not os.environ.get("REDIS_URL"):
        sys.exit("Set REDIS_URL: production settings keep the cache (the tills' nonces) in Redis.")
    env = scratch_database(args.database)
    url = env["DATABASE_URL"]
    manage(env, "seed_demo", "--members", "2000", "--months", "1", "--seed", str(args.seed))

    with tempfile.TemporaryDirectory(prefix="load-scenario-") as temp:
        data_file, csv_prefix = Path(temp) / "data.json", Path(temp) / "locust"
        with Gunicorn(env, workers=args.workers, static=True) as server:
            data = scenario_data(server, args)
            data_file.write_text(json.dumps(data))
            warm_up(server, data)
            load = os.getloadavg()[0]
            code = locust(server, args, data_file, csv_prefix)
            print(f"machine: {machine(url)}; load average at start: {load:.1f}")
            print(
                f"{server.describe()}; locust {args.users} users ({args.tills} tills,"
                f" {args.users - args.tills} members), spawn rate {args.spawn_rate:g}/s,"
                f" {args.duration} s, seed {args.seed}"
            )
            failed = report(csv_prefix)
    receipts = query(
        url,
        "SELECT count(*) FROM loyalty_receipt WHERE receipt_no LIKE %s",
        (data["prefix"] + "-%",),
    )[0][0]
    used = query(
        url,
        "SELECT count(*) FROM coupons_coupon c JOIN coupons_coupontemplate t"
        " ON t.id = c.template_id WHERE t.code LIKE 'LOAD-%%' AND c.status = 'used'",
    )[0][0]
    print(f"receipts recorded: {receipts}; coupons verified: {used}")
    print(manage(env, "check_ledger").strip())  # exits non-zero on a ledger error
    if failed or code not in (0, 1):
        sys.exit(f"{failed} failed requests (locust exit code {code})")


if __name__ == "__main__":
    main()
