"""The client address behind trusted reverse proxies (core/client_ip.py): one helper for the SMS
limits, the staff login limits and lockouts, and the audit log.

The end-to-end tests put a real header-adding reverse proxy on loopback in front of the live
server; two clients connect to it from different loopback addresses (127.0.0.2, 127.0.0.3),
as two phones behind one nginx would."""

import http.client
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
import requests
from django.conf import settings as django_settings
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory
from django.utils import timezone
from requests.adapters import HTTPAdapter

from core.audit import audit_log
from core.client_ip import client_ip
from core.models import AuditLog
from core.roles import Role
from members.models import SmsCode, WechatIdentity
from members.session import SESSION_KEY
from tests.members.factories import TEST_PASSWORD, MemberFactory, StaffFactory

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection"}


def _request(remote="10.0.0.1", xff=None):
    extra = {"REMOTE_ADDR": remote}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    return RequestFactory().get("/", **extra)


@pytest.mark.parametrize(
    ("proxies", "remote", "xff", "expected"),
    [
        (0, "203.0.113.5", "198.51.100.1", "203.0.113.5"),  # no proxy trusted: header ignored
        (1, "10.0.0.1", "198.51.100.1", "198.51.100.1"),
        (1, "10.0.0.1", "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # forged left entry
        (2, "10.0.0.1", "6.6.6.6, 198.51.100.1, 10.0.0.9", "198.51.100.1"),
        (1, "10.0.0.1", " 198.51.100.1:5123 ", "198.51.100.1"),  # a port from the proxy
        (1, "10.0.0.1", "[2001:db8::1]:443", "2001:db8::1"),
        (1, "10.0.0.1", "2001:db8::1", "2001:db8::1"),
        (1, "10.0.0.1", None, "10.0.0.1"),  # straight to the app: the peer
        (1, "10.0.0.1", "", "10.0.0.1"),
        (2, "10.0.0.1", "198.51.100.1", "10.0.0.1"),  # shorter than the proxy chain
        (1, "10.0.0.1", "not-an-ip", "10.0.0.1"),
        (1, "10.0.0.1", "1.2.3.4, ", "10.0.0.1"),
        (1, "10.0.0.1", "\x00<script>", "10.0.0.1"),
    ],
)
def test_client_ip_reads_x_forwarded_for_from_the_right(settings, proxies, remote, xff, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    assert client_ip(_request(remote, xff)) == expected


def test_allauth_uses_the_same_trusted_proxy_count():
    assert django_settings.ALLAUTH_TRUSTED_PROXY_COUNT == django_settings.TRUSTED_PROXY_COUNT


class _ForwardingHandler(BaseHTTPRequestHandler):
    """nginx's `proxy_add_x_forwarded_for`: forward to the app and append the peer address."""

    upstream: tuple[str, int]

    def _forward(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        previous = headers.pop("X-Forwarded-For", None)
        headers["X-Forwarded-For"] = (
            f"{previous}, {self.client_address[0]}" if previous else self.client_address[0]
        )
        conn = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            conn.request(self.command, self.path, body=body or None, headers=headers)
            upstream = conn.getresponse()
            payload = upstream.read()
            self.send_response(upstream.status)
            for key, value in upstream.getheaders():
                if key.lower() not in HOP_BY_HOP | {"content-length"}:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        finally:
            conn.close()

    do_GET = do_POST = _forward

    def log_message(self, *args):
        pass


@pytest.fixture
def proxy(live_server, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    target = urlsplit(live_server.url)
    handler = type("Handler", (_ForwardingHandler,), {"upstream": (target.hostname, target.port)})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _SourceAddressAdapter(HTTPAdapter):
    def __init__(self, source, **kwargs):
        self.source = source
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


def _browser(source: str) -> requests.Session:
    """An HTTP client whose connections come from `source` (any 127.x address is loopback)."""
    session = requests.Session()
    session.mount("http://", _SourceAddressAdapter(source))
    return session


def _csrf(session, url):
    page = session.get(url, timeout=30)
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def _login(session, base, password, **headers):
    token = _csrf(session, f"{base}/accounts/login/")
    return session.post(
        f"{base}/accounts/login/",
        data={"csrfmiddlewaretoken": token, "login": "hq7", "password": password},
        headers={"Referer": f"{base}/accounts/login/", **headers},
        allow_redirects=False,
        timeout=30,
    )


@pytest.mark.django_db(transaction=True)
def test_staff_behind_one_proxy_are_locked_out_separately(proxy):
    StaffFactory(user__role=Role.HQ_ADMIN, user__username="hq7")
    guesser, colleague = _browser("127.0.0.2"), _browser("127.0.0.3")
    for _ in range(5):
        assert _login(guesser, proxy, "wrong-guess").status_code == 200

    assert _login(guesser, proxy, TEST_PASSWORD).status_code == 200  # locked: the form again
    # a forged X-Forwarded-For is to the left of what the proxy appends: still locked
    assert (
        _login(guesser, proxy, TEST_PASSWORD, **{"X-Forwarded-For": "198.51.100.9"}).status_code
        == 200
    )
    signed_in = _login(colleague, proxy, TEST_PASSWORD)
    assert signed_in.status_code == 302
    assert colleague.get(f"{proxy}/backoffice/", timeout=30).status_code == 200


def _member_to_be(source: str, openid: str) -> requests.Session:
    identity = WechatIdentity.objects.create(
        app_id=django_settings.WECHAT_APP_ID, openid=openid, profile_fetched_at=timezone.now()
    )
    store = SessionStore()
    store[SESSION_KEY] = identity.pk
    store.save()
    session = _browser(source)
    session.cookies.set(django_settings.SESSION_COOKIE_NAME, store.session_key)
    return session


def _send_code(session, base, phone, **headers):
    url = f"{base}/m/register/"
    token = _csrf(session, url)
    return session.post(
        url,
        data={
            "csrfmiddlewaretoken": token,
            "phone": phone,
            "privacy_consent": "on",
            "action": "send",
        },
        headers={"Referer": url, **headers},
        timeout=30,
    )


@pytest.mark.django_db(transaction=True)
def test_phones_behind_one_proxy_have_their_own_sms_limit(proxy, settings, sms_outbox):
    settings.SMS_DAILY_LIMIT_PER_IP = 2
    first, second = _member_to_be("127.0.0.2", "o_first"), _member_to_be("127.0.0.3", "o_second")
    assert _send_code(first, proxy, "13800000001").status_code == 200
    assert _send_code(first, proxy, "13800000002").status_code == 200
    assert _send_code(first, proxy, "13800000003").status_code == 400  # this IP's limit
    spoofed = _send_code(first, proxy, "13800000004", **{"X-Forwarded-For": "198.51.100.9"})
    assert spoofed.status_code == 400

    assert _send_code(second, proxy, "13800000005").status_code == 200
    by_ip = dict(SmsCode.objects.values_list("phone", "ip"))
    assert by_ip == {
        "13800000001": "127.0.0.2",
        "13800000002": "127.0.0.2",
        "13800000005": "127.0.0.3",
    }


@pytest.mark.django_db
def test_audit_rows_record_the_client_behind_the_proxy(client, settings, store_a):
    settings.TRUSTED_PROXY_COUNT = 1
    member = MemberFactory(phone="13912345678", home_store=store_a)
    client.force_login(StaffFactory(user__role=Role.HQ_ADMIN).user)
    response = client.post(
        f"/backoffice/members/{member.pk}/reveal/",
        {"field": "phone", "reason": "工单 T-1024 回访"},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.23",
    )
    assert response.status_code == 200
    row = AuditLog.objects.get(action__startswith="members.pii")
    assert row.ip_address == "198.51.100.23"
    assert audit_log(actor=None, action="test.system").ip_address is None  # no request
