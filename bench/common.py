"""What the benchmarks share: scratch databases, manage.py runs, the machine's description,
and gunicorn served as in production with its clients (plain, signed POS, signed-in members)."""

import base64
import hashlib
import hmac
import http.client
import json
import os
import platform
import queue
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
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


# --- gunicorn as in production, and its clients ------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(env: dict) -> dict:
    """`env` (a scratch database's) with the production settings and throwaway secrets: DEBUG
    off, persistent connections, Redis for the cache (REDIS_URL is required)."""
    if not env.get("REDIS_URL"):
        sys.exit("Set REDIS_URL: production settings keep the cache (the tills' nonces) in Redis.")
    return {
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


class Gunicorn:
    """gunicorn serving config.wsgi on a free loopback port, as in production: config/gunicorn.py
    (sync workers, the app preloaded), the production settings of `production_env`, and with
    `static` the static files collected into a temporary STATIC_ROOT first (the production
    storage renders `{% static %}` from collectstatic's manifest; the POS API needs none).

        with Gunicorn(env, static=True) as server:
            http_request(server.port, "GET", "/healthz")

    `workers` overrides WEB_CONCURRENCY; `worker_class` and `threads` override the config file;
    `preload=False` leaves the config file out (gunicorn cannot unset preload_app) and gives
    the same bind, workers and access log on the command line. `server.env` is the server's
    environment: manage.py run with it shares the SECRET_KEY (sessions signed for the server).
    """

    def __init__(
        self, env: dict, *, workers=None, worker_class="sync", threads=1, preload=True, static=False
    ):
        self.env = production_env(env)
        self.port = free_port()
        self.workers = workers
        self.worker_class, self.threads, self.preload, self.static = (
            worker_class,
            threads,
            preload,
            static,
        )
        self.process = None
        self._temp = None

    def command(self) -> list[str]:
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        bind = f"127.0.0.1:{self.port}"
        if self.preload:
            command, workers = [gunicorn, "-c", str(ROOT / "config" / "gunicorn.py")], self.workers
        else:
            command, workers = [gunicorn, "--access-logfile", "-"], self.workers or 3
        command += ["-b", bind] + (["-w", str(workers)] if workers else [])
        command += ["-k", self.worker_class, "--threads", str(self.threads)]
        return [*command, "config.wsgi:application"]

    def __enter__(self) -> "Gunicorn":
        self._temp = tempfile.TemporaryDirectory(prefix="bench-gunicorn-")
        if self.static:
            self.env["STATIC_ROOT"] = str(Path(self._temp.name) / "static")
            manage(self.env, "collectstatic", "--noinput", "-v", "0")
        self.log = open(Path(self._temp.name) / "gunicorn.log", "w+")  # noqa: SIM115
        self.process = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
            self.command(),
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,  # the access log
            stderr=self.log,
        )
        deadline = time.monotonic() + 90
        while True:
            try:
                if http_request(self.port, "GET", "/healthz", timeout=5)[0] == 200:
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.__exit__(None, None, None)
                sys.exit("gunicorn did not start (or /healthz did not answer 200)")
            time.sleep(0.3)

    def __exit__(self, *_exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.returncode not in (0, -15, None):
            self.log.seek(0)
            sys.stderr.write(self.log.read()[-4000:])
        self.log.close()
        self._temp.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def describe(self) -> str:
        workers = self.workers or int(self.env.get("WEB_CONCURRENCY", "3"))
        threads = f" x {self.threads} threads" if self.threads > 1 else ""
        preload = ", --preload" if self.preload else ""
        return f"gunicorn {workers} {self.worker_class} workers{threads}{preload}"


def http_request(
    port: int, method: str, path: str, body: bytes | None = None, headers=None, timeout=30
) -> tuple[int, float]:
    """One request on a new connection (sync workers close it anyway): (status, seconds)."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status, time.perf_counter() - started


def pos_headers(terminal: str, secret: str, method: str, path: str, body: bytes) -> dict:
    """The headers of a signed POS API request (docs/POS_API.md): a fresh nonce each time."""
    timestamp, nonce = str(int(time.time())), secrets.token_urlsafe(18)
    message = "\n".join([method, path, timestamp, nonce, hashlib.sha256(body).hexdigest()])
    signature = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Pos-Terminal": terminal,
        "X-Pos-Timestamp": timestamp,
        "X-Pos-Nonce": nonce,
        "X-Pos-Signature": signature,
    }


def pos_post(port: int, terminal: str, secret: str, path: str, body: bytes) -> tuple[int, float]:
    return http_request(port, "POST", path, body, pos_headers(terminal, secret, "POST", path, body))


def closed_loop(send, items: list, clients: int) -> tuple[float, list[float], Counter]:
    """`clients` threads call send(item) -> (status, seconds) for every item, each taking the
    next as soon as its last is answered (no think time): (wall seconds, latencies, statuses)."""
    work: queue.Queue = queue.Queue()
    for item in items:
        work.put(item)
    latencies, statuses, lock = [], Counter(), threading.Lock()

    def client():
        while True:
            try:
                item = work.get_nowait()
            except queue.Empty:
                return
            status, seconds = send(item)
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


def percentiles_ms(latencies: list[float]) -> tuple[float, float, float]:
    """p50, p95, p99 in milliseconds."""
    cuts = statistics.quantiles(latencies, n=100)
    return cuts[49] * 1000, cuts[94] * 1000, cuts[98] * 1000


# --- members signed in through WeChat ----------------------------------------------------------

SESSIONS_CODE = """
import json
from importlib import import_module
from django.conf import settings
from django.utils import timezone
from members.models import Member, WechatIdentity
from members.session import SESSION_KEY
store = import_module(settings.SESSION_ENGINE).SessionStore
out = []
for member in Member.objects.filter(pk__in=json.loads(IDS)).order_by("pk"):
    identity = WechatIdentity.objects.create(
        member=member, app_id=settings.WECHAT_APP_ID, openid=f"bench-{member.pk}-{TAG}",
        nickname=f"bench {member.pk}", profile_fetched_at=timezone.now(),
    )
    session = store()
    session[SESSION_KEY] = identity.pk
    session.create()
    out.append({"member_id": member.pk, "card_no": member.card_no, "session": session.session_key})
print("SESSIONS " + json.dumps(out))
"""


def member_sessions(server_env: dict, count: int, seed: int = SEED) -> list[dict]:
    """`count` active members (a seeded sample) each signed in as the WeChat sign-in leaves
    them: a WechatIdentity bound to the member with its profile fetched, and a session whose
    "wechat_identity_id" is that identity (members/session.py), stored in the server's session
    store and signed with its SECRET_KEY. [{"member_id", "card_no", "session"}]; send the
    session as the cookie "sessionid"."""
    url = server_env["DATABASE_URL"]
    ids = [row[0] for row in query(url, "SELECT id FROM members_member WHERE status = 'active'")]
    if len(ids) < count:
        sys.exit(f"only {len(ids)} active members, {count} wanted")
    chosen = random.Random(seed).sample(sorted(ids), count)  # noqa: S311 - benchmark data
    code = SESSIONS_CODE.replace("IDS", repr(json.dumps(chosen))).replace(
        "TAG", repr(secrets.token_hex(4))
    )
    out = manage(server_env, "shell", "-c", code)
    return json.loads(out.split("SESSIONS ", 1)[1])


def receipt_lines(rng, skus: list[tuple]) -> list[dict]:
    """1-5 till lines drawn by `rng` from `skus` (code, name, spec, brand, category, price),
    1-3 of each, as the POS API takes them."""
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
    return lines
