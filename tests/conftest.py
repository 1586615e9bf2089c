import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError

# Playwright's sync API runs an event loop in the main thread; Django would then refuse ORM
# calls from tests. Tests only: the loop never serves requests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from config.celery import app  # noqa: E402
from coupons.models import Campaign, CouponTemplate  # noqa: E402
from pos.services import pos_terminal_create  # noqa: E402
from pos.signing import pos_signature  # noqa: E402
from tests import fastflush  # noqa: E402
from tests.members.factories import MemberFactory, StaffFactory  # noqa: E402
from tests.stores.factories import StoreFactory  # noqa: E402

fastflush.install()

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = Path(os.environ.get("TEST_RESULTS_DIR", Path(__file__).parent.parent / "test-output"))
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WECHAT_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c)"
    " NetType/WIFI Language/zh_CN"
)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, with autovacuum kept off its tables (tests/fastflush.py)."""
    with django_db_blocker.unblock():
        fastflush.autoanalyze_off(connection)


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def fake_wechat(settings):
    """The fake WeChat server on a free loopback port, with the settings pointing at it."""
    from members.wechat_fake import FakeWeChatServer

    server = FakeWeChatServer(app_id=settings.WECHAT_APP_ID, secret=settings.WECHAT_SECRET)
    server.start_in_thread()
    settings.WECHAT_API_BASE_URL = server.base_url
    settings.WECHAT_OAUTH_BASE_URL = server.base_url + "connect/"
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def sms_outbox():
    from members import sms

    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


@pytest.fixture
def store_a(db):
    return StoreFactory(code="SA1", region__code="RA")


@pytest.fixture
def store_b(db):
    return StoreFactory(code="SB1", region__code="RB")


@pytest.fixture
def member_factory(db):
    return MemberFactory


@pytest.fixture
def staff_factory(db):
    return StaffFactory


def once() -> dict:
    """A fresh one-time token for a staff form guarded by core.once.submit_once."""
    from core.once import FIELD, once_token_new

    return {FIELD: once_token_new()}


def tools_missing(tools: list[str]) -> None:
    """Skip, naming the missing tools, on a machine without them (one with only Python)."""
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}: apt-get install {' '.join(missing)}")


# --- The till: a signed POS client, its store and member, receipt bodies --------------------


class PosClient:
    """A till: signs each request as DESIGN.md's contract says and sends it through the
    Django test client (`live` tests send the same bytes over HTTP)."""

    def __init__(self, client, terminal):
        self.client, self.terminal = client, terminal

    def headers(self, method, path, body: bytes, *, timestamp=None, nonce=None, secret=None):
        timestamp = str(int(time.time()) if timestamp is None else timestamp)
        nonce = nonce or secrets.token_urlsafe(18)
        signature = pos_signature(
            secret=secret or self.terminal.secret,
            method=method,
            path=path,
            timestamp=timestamp,
            nonce=nonce,
            body=body,
        )
        return {
            "X-Pos-Terminal": self.terminal.terminal_id,
            "X-Pos-Timestamp": timestamp,
            "X-Pos-Nonce": nonce,
            "X-Pos-Signature": signature,
        }

    def post(self, path, payload=None, *, raw: bytes | None = None, **sign):
        body = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode()
        headers = self.headers("POST", path, body, **sign)
        return self.client.post(path, data=body, content_type="application/json", headers=headers)

    def receipt(self, payload=None, **kwargs):
        return self.post("/api/pos/v1/receipts", payload, **kwargs)

    def get(self, path, **sign):
        return self.client.get(path, headers=self.headers("GET", path, b"", **sign))


@pytest.fixture
def store(db):
    return StoreFactory(code="S01", name="武林旗舰店")


@pytest.fixture
def terminal(store):
    return pos_terminal_create(store=store, name="1F 收银 01")


@pytest.fixture
def pos(client, terminal):
    return PosClient(client, terminal)


@pytest.fixture
def member(store):
    return MemberFactory(home_store=store)


def sale(member=None, /, *, receipt_no="20261123-000123", amount_fen=29900, **overrides):
    """A department-store sale body; `overrides` replace top-level fields."""
    body = {
        "store": "S01",
        "pos_no": "P03",
        "receipt_no": receipt_no,
        # an hour ago, on the hour: two bodies built a second apart (a retry) stay identical
        "occurred_at": (
            timezone.localtime().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
        ).isoformat(timespec="seconds"),
        "member": {"card_no": member.card_no} if member else None,
        "lines": [
            {
                "sku": "6901234567890",
                "name": "连衣裙",
                "spec": "M 蓝",
                "brand": "某品牌",
                "category": "女装",
                "qty": 1,
                "amount_fen": amount_fen,
                "non_merchandise": False,
            }
        ],
        "payments": [{"method": "wechat", "amount_fen": amount_fen}],
        "total_fen": amount_fen,
        "coupons": [],
        "refund_of": None,
    }
    body.update(overrides)
    return body


@pytest.fixture
def loyalty_defaults(request):
    """The default tiers and earning rules of the migration (a flush after a transactional
    test empties them); autouse in the loyalty and coupons tests."""
    if "db" not in request.fixturenames and "transactional_db" not in request.fixturenames:
        marker = request.node.get_closest_marker("django_db")
        if marker is None:
            return
    request.getfixturevalue("transactional_db" if _transactional(request) else "db")
    from django.apps import apps

    from loyalty.defaults import loyalty_defaults_install

    loyalty_defaults_install(apps)


def _transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return bool(marker and marker.kwargs.get("transaction"))


# --- Coupons: a campaign and templates (coupons and pos tests) -----------------------------


@pytest.fixture
def campaign(db):
    return Campaign.objects.create(name="双十一", channel=Campaign.Channel.MANUAL)


@pytest.fixture
def make_template(db):
    def make(code="CASH10", **fields):
        defaults = {
            "name": code,
            "kind": CouponTemplate.Kind.CASH,
            "face_value_fen": 1000,
            "valid_days": 30,
        }
        defaults.update(fields)
        return CouponTemplate.objects.create(code=code.lower(), **defaults)

    return make


# --- A member signing in through the fake WeChat and binding a phone -------------------------


def start(client, next_url="/m/card/", scope=None):
    """Open the sign-in link; the URL of WeChat's authorization page it sends the browser to."""
    params = {"next": next_url} | ({"scope": scope} if scope else {})
    response = client.get("/m/wechat/login/", params)
    assert response.status_code == 302
    return response["Location"]


def authorize(fake, authorize_url: str, openid="o_fake_li_na") -> dict:
    """What WeChat does: the user approves, WeChat redirects back with code and state."""
    url = authorize_url.replace("#wechat_redirect", "") + f"&openid={openid}"
    back = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(back).query).items()}


def send_and_bind(client, outbox, phone, *, code=None):
    """验证手机 on /m/register/: ask for a code, then bind with it (or with `code`)."""
    agreed = {"privacy_consent": "on"}
    response = client.post("/m/register/", {"phone": phone, "action": "send", **agreed})
    assert response.status_code == 200
    code = code or re.search(r"\d{6}", outbox[-1]["text"]).group()
    return client.post(
        "/m/register/",
        {"phone": phone, "code": code, "action": "bind", "next": "/m/card/", **agreed},
    )


# --- A real Celery worker through Redis (REDIS_URL) -----------------------------------------


def database_env() -> dict:
    """Environment that points a child process at the test database this test uses."""
    db = connection.settings_dict
    if db["ENGINE"] == "config.embedded_postgres":
        return {"EMBEDDED_DB_NAME": db["NAME"], "EMBEDDED_PGDATA": db["HOST"]}
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return {"DATABASE_URL": f"postgres://{db['USER']}{password}@{db['HOST']}{port}/{db['NAME']}"}


@contextlib.contextmanager
def celery_worker_running(*, pool: str):
    """`celery -A config worker` (one process of `pool`) on a queue of its own, against the
    test database in use; tasks sent to that queue run there instead of eagerly."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    name = f"{queue}@pytest"
    env = {**os.environ, **database_env(), "DJANGO_ENV": "test", "REDIS_URL": settings.REDIS_URL}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            queue,
            "-n",
            name,
            "--concurrency",
            "1",
            "--pool",
            pool,
            "-l",
            "warning",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        yield {"queue": queue, "name": name, "process": process}
    finally:
        app.conf.task_always_eager = previous
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def worker(transactional_db):
    """A solo-pool worker on a queue of its own, against this test's database (core and
    coupons tests)."""
    with celery_worker_running(pool="solo") as running:
        yield running


# --- Browser -------------------------------------------------------------------------------


def pytest_collection_modifyitems(config, items):
    if not os.environ.get("RUN_FAIRNESS"):
        # 100,000 lottery draws through the service take half an hour on 2 cores.
        fairness = pytest.mark.skip(reason="a long statistical run: `make fairness`")
        for item in items:
            if "fairness" in item.keywords:
                item.add_marker(fairness)
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("REQUIRE_BROWSER"):
        raise pytest.UsageError(f"REQUIRE_BROWSER is set but Chromium is missing at {CHROMIUM}")
    skip = pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM}: run `make browser`")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-CN", "viewport": {"width": 1280, "height": 800}}


@pytest.fixture
def phone_page(browser, playwright, request):
    """A page in an iPhone-sized viewport whose user agent is WeChat's in-app browser."""
    device = playwright.devices["iPhone 13"]
    context = browser.new_context(**{**device, "user_agent": WECHAT_UA, "locale": "zh-CN"})
    page = context.new_page()
    yield page
    _screenshot_if_failed(request, page)
    context.close()


@pytest.fixture
def page(page, request):
    yield page
    _screenshot_if_failed(request, page)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _screenshot_if_failed(request, page) -> None:
    report = getattr(request.node, "rep_call", None)
    if report is None or not report.failed:
        return
    folder = RESULTS_DIR / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    name = request.node.nodeid.replace("/", "_").replace("::", "__").replace(".py", "")
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def screenshot(page, name: str) -> Path:
    """Save a screenshot under test-output/screenshots/ for people to look at."""
    folder = RESULTS_DIR / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    for attempt in range(3):
        try:
            page.screenshot(path=str(path), full_page=True)
            return path
        except PlaywrightError:
            # Chromium now and then answers "Unable to capture screenshot" on a busy machine
            if attempt == 2:
                raise
            page.wait_for_timeout(500)
    return path
