import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the main thread; Django would then refuse ORM
# calls from tests. Tests only: the loop never serves requests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

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
