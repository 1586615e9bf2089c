"""The HTTP SMS backend against a loopback gateway; the console backend keeps an outbox."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from members.sms import SmsError, sms_send


class Gateway(ThreadingHTTPServer):
    def __init__(self, status: int):
        self.status, self.received = status, []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                return

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                server.received.append((self.headers["Authorization"], json.loads(body)))
                self.send_response(server.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        server = self
        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


@pytest.fixture
def gateway(request, settings):
    server = Gateway(request.param)
    settings.SMS_BACKEND = "members.sms.HttpSmsBackend"
    settings.SMS_GATEWAY_URL = f"http://127.0.0.1:{server.server_address[1]}/send"
    settings.SMS_GATEWAY_KEY = "k-123"
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("gateway", [200], indirect=True)
def test_http_backend_posts_phone_text_and_key(gateway):
    sms_send(phone="13800001111", text="您的验证码为 123456")
    assert gateway.received == [
        (
            "Bearer k-123",
            {"phone": "13800001111", "text": "您的验证码为 123456", "sign": "星河购物中心"},
        )
    ]


@pytest.mark.parametrize("gateway", [500], indirect=True)
def test_a_failing_gateway_raises_a_service_error(gateway):
    with pytest.raises(SmsError):
        sms_send(phone="13800001111", text="x")


def test_console_backend_keeps_the_outbox(sms_outbox):
    sms_send(phone="13800001111", text="hello")
    assert sms_outbox == [{"phone": "13800001111", "text": "hello"}]
