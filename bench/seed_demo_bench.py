"""How long `seed_demo` takes: fixed seed, sizes and as-of time, on a scratch database.

    .venv/bin/python bench/seed_demo_bench.py [--members 10000] [--months 12] [--runs 3]

Uses DATABASE_URL when set (the machine's Postgres), the embedded Postgres otherwise; the
scratch database `mall_bench` is created and dropped.
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = 2026
AS_OF = "2026-11-20T21:00:00+08:00"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=10000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    env = dict(os.environ)
    if env.get("DATABASE_URL"):
        env["DATABASE_URL"] = env["DATABASE_URL"].rsplit("/", 1)[0] + "/mall_bench"
        _psql_admin(env["DATABASE_URL"], "DROP DATABASE IF EXISTS mall_bench")
        _psql_admin(env["DATABASE_URL"], "CREATE DATABASE mall_bench")
    else:
        env["EMBEDDED_DB_NAME"] = "mall_bench"
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True, cwd=ROOT)

    timings, summary = [], ""
    for _ in range(args.runs):
        started = time.monotonic()
        out = subprocess.run(
            [
                *manage,
                "seed_demo",
                "--reset",
                "--members",
                str(args.members),
                "--months",
                str(args.months),
                "--seed",
                str(SEED),
                "--as-of",
                AS_OF,
            ],
            env=env,
            check=True,
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout
        timings.append(time.monotonic() - started)
        summary = out.splitlines()[0]
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, database: "
        f"{'DATABASE_URL' if os.environ.get('DATABASE_URL') else 'embedded Postgres'}"
    )
    print(summary)
    print(
        f"seed_demo --members {args.members} --months {args.months}: wall time per run "
        f"(incl. interpreter start) min {min(timings):.1f} s, median "
        f"{statistics.median(timings):.1f} s over {args.runs} runs"
    )


def _psql_admin(url: str, sql: str) -> None:
    import psycopg2

    admin = url.rsplit("/", 1)[0] + "/postgres"
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(sql)
    conn.close()


if __name__ == "__main__":
    main()
