"""How fast coupons are issued in bulk: 100,000 members, one coupon each, fixed seed.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x \\
        .venv/bin/python bench/coupons_bulk_issue_bench.py [--members 100000] [--runs 3]

Builds a scratch database `mall_bench_coupons` on DATABASE_URL's server (migrated), loads the
members with COPY, then times, on a fresh template and campaign each time:

1. `coupons_issue_bulk` for every member in one call (the service every issuing path uses:
   template locked, limits checked in SQL, coupons written with COPY);
2. the group path of 发送优惠券: `issue_job_create` and the Celery task run eagerly
   (`REDIS_URL` is ignored here), in chunks of 5,000 that commit with their progress.

and checks that each member holds exactly one coupon of each template.
"""

import argparse
import io
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "mall_bench_coupons"
SEED = 2026


def scratch_url() -> str:
    import psycopg2

    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("Set DATABASE_URL to the machine's Postgres, e.g. postgres://postgres@127.0.0.1/x")
    server = url.rsplit("/", 1)[0]
    conn = psycopg2.connect(server + "/postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{DATABASE}"')
    conn.close()
    return f"{server}/{DATABASE}"


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)  # eager Celery: the job runs in this process
    sys.path.insert(0, str(ROOT))
    from config.env import default_settings_module

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", default_settings_module())
    import django

    django.setup()


def load_members(count: int) -> list[int]:
    """`count` members of store S01 with well-formed, distinct card numbers, by COPY."""
    from django.db import connection, transaction
    from django.utils import timezone

    from members.cards import luhn_check_digit
    from members.models import Member
    from stores.models import Region, Store

    rng = random.Random(SEED)  # noqa: S311 - benchmark data
    region, _ = Region.objects.get_or_create(code="HZ", defaults={"name": "杭州"})
    store, _ = Store.objects.get_or_create(
        code="S01", defaults={"name": "武林旗舰店", "region": region}
    )
    now = timezone.now().isoformat()
    buffer = io.StringIO()
    for n, body in enumerate(rng.sample(range(10**9), count)):
        digits = f"88{body:09d}"
        card = digits + luhn_check_digit(digits)
        buffer.write(f"{card}\t139{n:08d}\t会员{n}\tF\t{region.pk}\t{store.pk}\t\t{now}\tactive\n")
    buffer.seek(0)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.copy_expert(
            "COPY members_member (card_no, phone, name, gender, region_id, home_store_id,"
            " channel, registered_at, status) FROM STDIN",
            buffer,
        )
        cursor.execute("ANALYZE members_member")
    return list(Member.objects.order_by("pk").values_list("pk", flat=True))


def machine() -> str:
    from django.db import connection

    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split("MemTotal:")[1].split()[0])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    return (
        f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}){memory}, "
        f"Python {platform.python_version()}, PostgreSQL {postgres}"
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    setup_django(scratch_url())
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)
    from coupons.issuing import coupons_issue_bulk, issue_job_create
    from coupons.models import Campaign, Coupon, CouponTemplate, IssueJob
    from coupons.tasks import issue_job_run_task

    started = time.monotonic()
    member_ids = load_members(args.members)
    print(f"machine: {machine()}")
    print(f"members: {len(member_ids):,} loaded by COPY in {time.monotonic() - started:.1f} s")

    def template(name: str) -> CouponTemplate:
        return CouponTemplate.objects.create(
            code=name, name=name, kind="cash", face_value_fen=1000, valid_days=30
        )

    timings = {"service": [], "job": []}
    for run in range(1, args.runs + 1):
        cash = template(f"bench-service-{run}")
        campaign = Campaign.objects.create(name=f"bench service {run}", channel="group")
        started = time.monotonic()
        issued = coupons_issue_bulk(template=cash, member_ids=member_ids, campaign=campaign)
        timings["service"].append(time.monotonic() - started)
        assert len(issued) == len(member_ids)

        grouped = template(f"bench-job-{run}")
        campaign = Campaign.objects.create(name=f"bench job {run}", channel="group")
        started = time.monotonic()
        job = issue_job_create(
            template=grouped,
            campaign=campaign,
            member_ids=member_ids,
            actor=None,
            enqueue=issue_job_run_task.delay,
        )
        timings["job"].append(time.monotonic() - started)
        job = IssueJob.objects.get(pk=job.pk)
        assert (job.status, job.issued) == ("done", len(member_ids)), (job.status, job.error)
        for tmpl in (cash, grouped):
            held = Coupon.objects.filter(template=tmpl)
            assert held.count() == held.values("member_id").distinct().count() == len(member_ids)
        print(
            f"run {run}: coupons_issue_bulk {timings['service'][-1]:.1f} s,"
            f" group job (eager, chunks of 5,000) {timings['job'][-1]:.1f} s"
        )
    for path, label in (("service", "coupons_issue_bulk"), ("job", "group job")):
        seconds = timings[path]
        print(
            f"{label}: {len(member_ids):,} coupons, median {statistics.median(seconds):.1f} s"
            f" (min {min(seconds):.1f} s), {len(member_ids) / statistics.median(seconds):,.0f}"
            " coupons/s"
        )


if __name__ == "__main__":
    main()
