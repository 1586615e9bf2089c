"""What the benchmarks share: scratch databases, manage.py runs and the machine's description."""

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANAGE = [sys.executable, str(ROOT / "manage.py")]
SEED = 2026
AS_OF = "2026-11-20T21:00:00+08:00"


def scratch_database(name: str) -> dict:
    """An environment whose DATABASE_URL points at a fresh, migrated database `name` on the
    server of DATABASE_URL (which the benchmarks need: the machine's Postgres)."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("Set DATABASE_URL to the machine's Postgres, e.g. postgres://postgres@127.0.0.1/x")
    env = dict(os.environ)
    env["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + name
    admin(env["DATABASE_URL"], f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin(env["DATABASE_URL"], f'CREATE DATABASE "{name}"')
    manage(env, "migrate", "--noinput", "-v", "0")
    return env


def admin(url: str, sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(sql)
    conn.close()


def query(url: str, sql: str, params=None) -> list[tuple]:
    import psycopg2

    conn = psycopg2.connect(url)
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    conn.close()
    return rows


def manage(env: dict, *args: str) -> str:
    """Run manage.py with `env`; its stdout (stderr passes through)."""
    done = subprocess.run([*MANAGE, *args], env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"manage.py {' '.join(args)} failed ({done.returncode})")
    return done.stdout


def machine(url: str) -> str:
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split("MemTotal:")[1].split()[0])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    postgres = query(url, "SHOW server_version")[0][0]
    return (
        f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}){memory}, "
        f"Python {platform.python_version()}, PostgreSQL {postgres}"
    )


def child_measured(command: list[str], env: dict) -> tuple[str, float, int]:
    """Run `command` in a child process: (its stdout, wall seconds, its peak RSS in bytes),
    so each contender's memory is its own (ru_maxrss from wait4)."""
    started = time.monotonic()
    child = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    out = child.stdout.read()
    _pid, status, usage = os.wait4(child.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code:
        raise SystemExit(f"{' '.join(command[:3])} failed ({code})")
    return out, time.monotonic() - started, usage.ru_maxrss * 1024  # KiB on Linux
