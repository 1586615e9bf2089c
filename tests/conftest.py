import json
import os
import secrets
import shutil
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

# Playwright's sync API runs an event loop in the main thread; Django would then refuse ORM
# calls from tests. Tests only: the loop never serves requests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from loyalty.pos import pos_signature, pos_terminal_create  # noqa: E402
from tests.factories import MemberFactory, StaffFactory, StoreFactory  # noqa: E402

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
        "occurred_at": (timezone.localtime() - timedelta(hours=1)).isoformat(timespec="seconds"),
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


# --- Browser -------------------------------------------------------------------------------


def pytest_collection_modifyitems(config, items):
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
    page.screenshot(path=str(path), full_page=True)
    return path
