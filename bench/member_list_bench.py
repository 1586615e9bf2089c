"""The member list at 1,000,000 members: its filtered first and next page (keyset, estimate)
side by side with the naive way (OFFSET pages and a COUNT(*) per page), in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x .venv/bin/python \\
        bench/member_list_bench.py [--members 1000000] [--runs 5] [--rebuild]

Builds (or reuses, if it holds the same data) the database `mall_bench_list` on the server of
DATABASE_URL, with seed 2026: members through COPY, 70 % with a points account, a current RFM
snapshot and CLV run for 60 %, one sale receipt with one line for 30 % in the last year, a
manual tag on 5 %. Then times, through the list's view function (RequestFactory, an HQ
superuser, the template rendered), the first page and the next page of each filter, and the
same filter the naive way: ORDER BY … OFFSET n LIMIT 50 plus SELECT COUNT(*).
"""

import argparse
import io
import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import SEED, admin, machine, manage, query  # noqa: E402

DB = "mall_bench_list"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉梅"
STAGES = ["active", "silent", "dormant", "lost"]


def database(members: int, rebuild: bool) -> dict:
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("Set DATABASE_URL to the machine's Postgres, e.g. postgres://postgres@127.0.0.1/x")
    env = dict(os.environ, DATABASE_URL=url.rsplit("/", 1)[0] + "/" + DB)
    exists = query(
        url.rsplit("/", 1)[0] + "/postgres", "SELECT 1 FROM pg_database WHERE datname = %s", [DB]
    )
    if exists and not rebuild:
        try:
            have = query(env["DATABASE_URL"], "SELECT count(*) FROM members_member")[0][0]
        except Exception:  # noqa: BLE001 - a half-built database: build it again
            have = -1
        if have == members:
            manage(env, "migrate", "--noinput", "-v", "0")
            print(f"reusing {DB} ({have:,} members)")
            return env
    admin(env["DATABASE_URL"], f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
    admin(env["DATABASE_URL"], f'CREATE DATABASE "{DB}"')
    manage(env, "migrate", "--noinput", "-v", "0")
    started = time.monotonic()
    generate(env["DATABASE_URL"], members)
    print(f"generated {members:,} members in {time.monotonic() - started:.0f} s")
    return env


def _copy(cursor, table: str, columns: list[str], rows) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)


def generate(url: str, count: int) -> None:
    import psycopg2

    rng = random.Random(SEED)  # noqa: S311 - bench data
    now = datetime(2026, 11, 20, 12, 0, tzinfo=timezone(timedelta(hours=8)))
    conn = psycopg2.connect(url)
    cur = conn.cursor()
    cur.execute(
        "INSERT INTO members_region (code, name) VALUES ('HZ', '杭州'), ('NB', '宁波') RETURNING id"
    )
    regions = [r[0] for r in cur.fetchall()]
    stores, region_of = [], {}
    for code, region in (("S01", regions[0]), ("S02", regions[1]), ("S03", regions[0])):
        cur.execute(
            "INSERT INTO members_store (code, name, region_id, address, phone, is_active) "
            "VALUES (%s, %s, %s, '', '', true) RETURNING id",
            [code, code, region],
        )
        stores.append(cur.fetchone()[0])
        region_of[stores[-1]] = region
    cur.execute(
        "INSERT INTO loyalty_category (code, name, division, parent_id) VALUES "
        "('KIDS', '童装', 'department', NULL) RETURNING id"
    )
    kids = cur.fetchone()[0]
    cur.execute(
        "INSERT INTO loyalty_category (code, name, division, parent_id) VALUES "
        "('DP16', '玩具', 'department', %s), ('DP05', '连衣裙', 'department', NULL) "
        "RETURNING id",
        [kids],
    )
    toys, dresses = [r[0] for r in cur.fetchall()]
    cur.execute("SELECT id FROM loyalty_tier ORDER BY threshold")
    tiers = [r[0] for r in cur.fetchall()]
    cur.execute("SELECT id FROM analytics_rfmpreset ORDER BY id LIMIT 1")
    preset = cur.fetchone()[0]
    cur.execute("SELECT label FROM analytics_rfmclass WHERE preset_id = %s", [preset])
    labels = [r[0] for r in cur.fetchall()]

    def members():
        for i in range(1, count + 1):
            gender = rng.choice("FFFMMU")
            name = rng.choice(SURNAMES) + "".join(
                rng.choice(GIVEN) for _ in range(rng.randint(1, 2))
            )
            birthday = None
            if rng.random() < 0.8:
                birthday = (now - timedelta(days=rng.randint(18 * 365, 70 * 365))).date()
            registered = now - timedelta(seconds=rng.randint(0, 5 * 365 * 86400))
            status = "frozen" if rng.random() < 0.02 else "active"
            store = rng.choice(stores)
            yield (
                f"B{i:08d}",
                f"13{i:09d}",
                name,
                gender,
                birthday,
                store,
                region_of[store],
                rng.choice(["", "", "wechat_menu", "poster_s01", "till_qr"]),
                registered.isoformat(),
                status,
            )

    _copy(
        cur,
        "members_member",
        [
            "card_no",
            "phone",
            "name",
            "gender",
            "birthday",
            "home_store_id",
            "region_id",
            "channel",
            "registered_at",
            "status",
        ],
        members(),
    )
    cur.execute("SELECT min(id), max(id) FROM members_member")
    first, last = cur.fetchone()
    ids = range(first, last + 1)

    def accounts():
        for member in ids:
            if rng.random() < 0.7:
                balance = 0 if rng.random() < 0.3 else int(rng.paretovariate(1.2) * 100)
                yield member, min(balance, 10**7), rng.choice(tiers), now.isoformat()

    _copy(
        cur, "loyalty_pointsaccount", ["member_id", "balance", "tier_id", "updated_at"], accounts()
    )
    cur.execute(
        "INSERT INTO analytics_rfmsnapshot (as_of, window_days, status, started_at, "
        "finished_at, row_count, is_current, cut_method, preset_id, lifecycle_cuts, "
        "interval_histogram, error) VALUES ('2026-11-19', 365, 'done', now(), now(), 0, "
        "true, 'mean', %s, '[]', '[]', '') RETURNING id",
        [preset],
    )
    snapshot = cur.fetchone()[0]
    scored = [m for m in ids if rng.random() < 0.6]

    def rfm_rows():
        for member in scored:
            r, f, m = rng.randint(0, 364), rng.randint(1, 30), rng.randint(100, 5_000_000)
            yield (
                snapshot,
                member,
                r,
                f,
                m,
                rng.randint(1, 5),
                rng.randint(1, 5),
                rng.randint(1, 5),
                r < 120,
                f > 4,
                m > 300_000,
                rng.choice(labels),
                rng.choice(STAGES),
            )

    _copy(
        cur,
        "analytics_rfmrow",
        [
            "snapshot_id",
            "member_id",
            "recency_days",
            "frequency",
            "monetary_fen",
            "r_score",
            "f_score",
            "m_score",
            "r_short",
            "f_high",
            "m_high",
            "rfm_class",
            "lifecycle_stage",
        ],
        rfm_rows(),
    )
    cur.execute(
        "INSERT INTO analytics_clvrun (as_of, status, started_at, member_count, error, "
        "is_current) VALUES ('2026-11-19', 'done', now(), 0, '', true) RETURNING id"
    )
    run = cur.fetchone()[0]

    def scores():
        for member in scored:
            t = rng.randint(1, 700)
            yield (
                run,
                member,
                rng.randint(0, 20),
                rng.randint(0, t),
                t,
                rng.randint(0, 50_000),
                round(rng.random(), 4),
                round(rng.random() * 5, 3),
                rng.randint(0, 500_000),
            )

    _copy(
        cur,
        "analytics_clvscore",
        [
            "run_id",
            "member_id",
            "frequency",
            "recency_days",
            "t_days",
            "monetary_fen",
            "p_alive",
            "expected_purchases_90d",
            "expected_value_fen",
        ],
        scores(),
    )
    buyers = [m for m in ids if rng.random() < 0.3]

    def receipts():
        for n, member in enumerate(buyers):
            when = now - timedelta(seconds=rng.randint(0, 365 * 86400))
            yield (
                rng.choice(stores),
                "P01",
                f"R{n:09d}",
                when.isoformat(),
                member,
                "sale",
                "department",
                rng.randint(1000, 200_000),
                when.isoformat(),
                "",
            )

    _copy(
        cur,
        "loyalty_receipt",
        [
            "store_id",
            "pos_no",
            "receipt_no",
            "occurred_at",
            "member_id",
            "kind",
            "division",
            "total_fen",
            "created_at",
            "payload_hash",
        ],
        receipts(),
    )
    cur.execute(
        "INSERT INTO loyalty_receiptline (receipt_id, line_no, sku_code, name, spec, "
        "brand_name, category_name, category_id, qty, amount_fen, non_merchandise) "
        "SELECT id, 1, '69' || (id %% 500), '商品', '', '', '', "
        "CASE WHEN id %% 7 = 0 THEN %s ELSE %s END, 1, total_fen, false "
        "FROM loyalty_receipt",
        [toys, dresses],
    )
    cur.execute(
        "INSERT INTO analytics_tag (name, kind, rule, description, created_at) VALUES "
        "('VIP 客户', 'manual', '{}', '', now()) RETURNING id"
    )
    tag = cur.fetchone()[0]
    cur.execute(
        "INSERT INTO analytics_membertag (tag_id, member_id, added_at) "
        "SELECT %s, id, now() FROM members_member WHERE id %% 20 = 0",
        [tag],
    )
    conn.commit()
    conn.autocommit = True
    cur.execute("VACUUM ANALYZE")
    conn.close()


def timed(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def bench(env: dict, runs: int) -> None:
    os.environ["DATABASE_URL"] = env["DATABASE_URL"]
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.development"
    os.environ["DEBUG"] = "false"  # no query log
    import django

    django.setup()
    import re
    from urllib.parse import urlencode

    from django.contrib.auth.models import AnonymousUser, User  # noqa: F401
    from django.db import connection
    from django.http import QueryDict
    from django.test import RequestFactory

    from analytics.member_list import (
        EXACT_COUNT_BELOW,
        cursor_decode,
        keyset_page,
        members_searched,
        members_sorted,
        page_decorate,
        rows_count,
        rows_estimate,
    )
    from analytics.models import Tag
    from analytics.segments import MemberFilterForm, members_filtered
    from analytics.views_backoffice import member_list
    from stores.models import Category

    user, _created = User.objects.get_or_create(username="bench", defaults={"is_superuser": True})
    factory = RequestFactory()
    kids = Category.objects.get(code="KIDS").pk
    tag = Tag.objects.get(name="VIP 客户").pk
    filters = [
        ("every member, newest first", {}),
        ("women aged 25-34", {"gender": "F", "age_min": "25", "age_max": "34"}),
        ("RFM class 重要保持", {"rfm_class": "重要保持"}),
        (
            "lost, 1,000+ points, by points",
            {"lifecycle_stage": "lost", "points_min": "1000", "sort": "-points"},
        ),
        (
            "likely to lapse (p<0.3, value>¥500), by value",
            {"clv_p_alive_below": "0.3", "clv_value_min": "500.01", "sort": "-value"},
        ),
        ("last purchase in the last 30 days", {"last_purchase_from": "2026-10-22"}),
        ("bought 童装 in the last 90 days", {"bought_category": str(kids), "bought_days": "90"}),
        ("tagged VIP 客户", {"tags": str(tag)}),
        ("name starts with 张", {"q": "张"}),
    ]

    def page(params):
        request = factory.get("/backoffice/members/?" + urlencode(params))
        request.user = user
        response = member_list(request)
        assert response.status_code == 200, response.status_code
        return response.content.decode()

    def filtered(params):
        form = MemberFilterForm(QueryDict(urlencode(params)))
        assert form.is_valid(), form.errors
        return members_searched(members_filtered(form.params(), user=user), params.get("q"))

    def keyset(params, after=None):
        """What the view does before rendering: one keyset page, the page's extra columns,
        the planner's estimate (and an exact count when that is small)."""
        members, descending = members_sorted(filtered(params), params.get("sort", "-registered"))
        members = members.select_related("home_store", "points_account__tier")
        rows = keyset_page(members, descending=descending, after=after)
        page_decorate(rows.rows)
        if rows_estimate(members) < EXACT_COUNT_BELOW:
            rows_count(members)
        return rows

    def naive(params, offset):
        """The usual Django list: ORDER BY … OFFSET, and COUNT(*) for "page n of m"."""
        members = filtered(params).order_by("-registered_at", "-id")
        members = members.select_related("home_store", "points_account__tier")
        list(members[offset : offset + 50])
        return members.count()

    print(f"machine: {machine(env['DATABASE_URL'])}")
    print(
        f"{'filter':<46} {'view p1':>8} {'view p2':>8} {'keyset p1':>9} {'keyset p2':>9} "
        f"{'naive p1':>9} {'naive p2':>9} {'naive p401':>10} {'matches':>9}"
    )
    for label, params in filters:
        html = page(params)  # warm the cache once, and find the next page's cursor
        found = re.search(r'after=([A-Za-z0-9_-]+)" rel="next"', html)
        token = found.group(1) if found else None
        after = cursor_decode(token) if token else None
        p = params
        view1 = timed(lambda p=p: page(p), runs)
        view2 = timed(lambda p=p, t=token: page(p | {"after": t}), runs) if token else 0
        first = timed(lambda p=p: keyset(p), runs)
        second = timed(lambda p=p, a=after: keyset(p, a), runs) if token else 0
        count = naive(params, 0)
        naive1 = timed(lambda p=p: naive(p, 0), runs)
        naive2 = timed(lambda p=p: naive(p, 50), runs)
        naive_deep = timed(lambda p=p: naive(p, 20_000), max(1, runs // 2))
        print(
            f"{label:<46} {view1:>6.0f}ms {view2:>6.0f}ms {first:>7.0f}ms {second:>7.0f}ms "
            f"{naive1:>7.0f}ms {naive2:>7.0f}ms {naive_deep:>8.0f}ms {count:>9,}",
            flush=True,
        )
    writes(user)
    connection.close()


def writes(user) -> None:
    """The set-based writes once each: a static group of every woman (INSERT … SELECT) and
    the 高复购 rule tag recomputed from nothing and again (DELETE stale + INSERT new)."""
    from analytics.groups import group_create
    from analytics.models import MemberGroup, MemberTag, Tag
    from analytics.tags import rule_tag_recompute

    started = time.perf_counter()
    group = group_create(name="bench", kind="static", params={"gender": "F"}, actor=user)
    print(
        f"static group of {group.member_count:,} members: "
        f"{(time.perf_counter() - started) * 1000:.0f} ms"
    )
    MemberGroup.objects.filter(pk=group.pk).delete()
    tag, _new = Tag.objects.get_or_create(
        name="高复购", defaults={"kind": "rule", "rule": {"rfm_f_high": True}}
    )
    MemberTag.objects.filter(tag=tag).delete()
    for label in ("from nothing", "again, unchanged"):
        started = time.perf_counter()
        result = rule_tag_recompute(tag=tag)
        print(
            f"rule tag 高复购 {label}: +{result['added']:,} -{result['removed']:,} in "
            f"{(time.perf_counter() - started) * 1000:.0f} ms"
        )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    env = database(args.members, args.rebuild)
    bench(env, args.runs)


if __name__ == "__main__":
    main()
