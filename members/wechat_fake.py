"""A fake of WeChat's servers on loopback, for tests and the embedded `make run`.

It speaks the endpoints the project calls, with WeChat's JSON shapes and error codes, so the
real client library (wechatpy) talks to it unchanged:

  GET  /connect/oauth2/authorize            web authorization: a page to pick a test user,
                                            then a redirect back with ?code=…&state=…
  GET  /sns/oauth2/access_token             code -> openid (40029 invalid, 40163 used,
                                            42003 expired)
  GET  /sns/userinfo                        profile (48001 for a snsapi_base token, 42001 expired)
  GET  /cgi-bin/token                       the official account's access_token (40125 bad secret)
  GET  /cgi-bin/ticket/getticket            JS-SDK ticket
  POST /cgi-bin/message/template/send       template message (43004 if the user does not follow)

and, for tests only, under /fake/: POST /fake/codes issues a code for a user without the page,
GET /fake/messages lists the template messages sent, POST /fake/users adds a user.
"""

import html
import json
import secrets
import threading
import time
from dataclasses import asdict, dataclass, field
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

CODE_TTL = 300
TOKEN_TTL = 7200


@dataclass
class FakeUser:
    openid: str
    nickname: str
    sex: int = 0
    headimgurl: str = ""
    unionid: str = ""
    subscribed: bool = True
    province: str = "浙江"
    city: str = "杭州"
    country: str = "中国"


@dataclass
class FakeWeChatState:
    app_id: str
    secret: str
    users: dict[str, FakeUser] = field(default_factory=dict)
    codes: dict[str, dict] = field(default_factory=dict)
    sns_tokens: dict[str, dict] = field(default_factory=dict)
    access_tokens: dict[str, float] = field(default_factory=dict)
    messages: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def code_issue(self, *, openid: str, scope: str) -> str:
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = {"openid": openid, "scope": scope, "at": time.time(), "used": False}
        return code


DEFAULT_USERS = [
    FakeUser("o_fake_zhang_san", "张三", sex=1, unionid="u_fake_zhang_san"),
    FakeUser("o_fake_li_na", "李娜", sex=2, unionid="u_fake_li_na"),
    FakeUser("o_fake_guest", "访客（未关注）", subscribed=False),
]


def error(code: int, message: str) -> dict:
    return {"errcode": code, "errmsg": message}


class _Handler(BaseHTTPRequestHandler):
    server: "FakeWeChatServer"

    def log_message(self, format, *args):  # noqa: A002 - the signature is http.server's
        return

    # --- plumbing ---
    def _reply(self, body: dict, status: int = 200) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        # What WeChat really sends: JSON declared as UTF-8 (see ECO.md on allauth's mangling).
        self.send_header("Content-Type", "application/json; encoding=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _query(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return {}

    @property
    def state(self) -> FakeWeChatState:
        return self.server.state

    def do_GET(self):  # noqa: N802 - http.server's naming
        route = urlsplit(self.path).path
        handler = {
            "/connect/oauth2/authorize": self._authorize,
            "/sns/oauth2/access_token": self._sns_access_token,
            "/sns/userinfo": self._sns_userinfo,
            "/cgi-bin/token": self._token,
            "/cgi-bin/ticket/getticket": self._ticket,
            "/fake/messages": lambda q: self._reply({"messages": self.state.messages}),
        }.get(route)
        if handler is None:
            self._reply(error(404, "not found"), status=404)
            return
        handler(self._query())

    def do_POST(self):  # noqa: N802
        route = urlsplit(self.path).path
        query, body = self._query(), self._body()
        if route == "/cgi-bin/message/template/send":
            self._template_send(query, body)
        elif route == "/fake/codes":
            user = self.state.users.get(body.get("openid", ""))
            if user is None:
                self._reply(error(40003, "invalid openid"))
                return
            self._reply(
                {
                    "code": self.state.code_issue(
                        openid=user.openid, scope=body.get("scope", "snsapi_base")
                    )
                }
            )
        elif route == "/fake/users":
            user = FakeUser(**body)
            with self.state.lock:
                self.state.users[user.openid] = user
            self._reply({"errcode": 0, "errmsg": "ok"})
        else:
            self._reply(error(404, "not found"), status=404)

    # --- web authorization ---
    def _authorize(self, q):
        if q.get("appid") != self.state.app_id:
            self._page("appid 无效 (40013)")
            return
        if q.get("response_type") != "code" or q.get("scope") not in (
            "snsapi_base",
            "snsapi_userinfo",
        ):
            self._page("参数错误 (10003)")
            return
        # Inside WeChat the user is known; here the browser remembers whom it picked.
        cookies = SimpleCookie(self.headers.get("Cookie", ""))
        remembered = cookies["fake_wechat_openid"].value if "fake_wechat_openid" in cookies else ""
        openid = q.get("openid") or remembered
        if openid in self.state.users:
            code = self.state.code_issue(openid=openid, scope=q["scope"])
            params = {"code": code}
            if q.get("state"):
                params["state"] = q["state"]
            target = q.get("redirect_uri", "")
            separator = "&" if "?" in target else "?"
            self.send_response(302)
            self.send_header("Location", f"{target}{separator}{urlencode(params)}")
            self.send_header("Set-Cookie", f"fake_wechat_openid={openid}; Path=/; HttpOnly")
            self.end_headers()
            return
        # The fake's stand-in for WeChat's own consent screen: pick who is "in WeChat".
        links = "".join(
            f'<li><a href="?{html.escape(urlencode({**q, "openid": user.openid}))}">'
            f"{html.escape(user.nickname)}</a></li>"
            for user in self.state.users.values()
        )
        self._page(f"<h1>模拟微信授权</h1><p>选择一位微信用户继续：</p><ul>{links}</ul>")

    def _page(self, body: str) -> None:
        data = f'<!DOCTYPE html><meta charset="utf-8"><title>Fake WeChat</title>{body}'.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _sns_access_token(self, q):
        if q.get("appid") != self.state.app_id:
            return self._reply(error(40013, "invalid appid"))
        if q.get("secret") != self.state.secret:
            return self._reply(error(40125, "invalid appsecret"))
        with self.state.lock:
            grant = self.state.codes.get(q.get("code", ""))
            if grant is None:
                return self._reply(error(40029, "invalid code"))
            if grant["used"]:
                return self._reply(error(40163, "code been used"))
            if time.time() - grant["at"] > CODE_TTL:
                return self._reply(error(42003, "code expired"))
            grant["used"] = True
            token = secrets.token_urlsafe(32)
            self.state.sns_tokens[token] = {**grant, "at": time.time()}
        user = self.state.users[grant["openid"]]
        body = {
            "access_token": token,
            "expires_in": TOKEN_TTL,
            "refresh_token": secrets.token_urlsafe(32),
            "openid": user.openid,
            "scope": grant["scope"],
        }
        if user.unionid:
            body["unionid"] = user.unionid
        return self._reply(body)

    def _sns_userinfo(self, q):
        grant = self.state.sns_tokens.get(q.get("access_token", ""))
        if grant is None or grant["openid"] != q.get("openid"):
            return self._reply(error(40001, "invalid credential, access_token is invalid"))
        if time.time() - grant["at"] > TOKEN_TTL:
            return self._reply(error(42001, "access_token expired"))
        if grant["scope"] != "snsapi_userinfo":
            return self._reply(error(48001, "api unauthorized"))
        user = asdict(self.state.users[grant["openid"]])
        user.pop("subscribed")
        user["privilege"] = []
        if not user["unionid"]:
            user.pop("unionid")
        return self._reply(user)

    # --- official account ---
    def _token(self, q):
        if q.get("grant_type") != "client_credential":
            return self._reply(error(40002, "invalid grant_type"))
        if q.get("appid") != self.state.app_id:
            return self._reply(error(40013, "invalid appid"))
        if q.get("secret") != self.state.secret:
            return self._reply(error(40125, "invalid appsecret"))
        token = secrets.token_urlsafe(32)
        with self.state.lock:
            self.state.access_tokens[token] = time.time()
        return self._reply({"access_token": token, "expires_in": TOKEN_TTL})

    def _token_valid(self, token: str) -> dict | None:
        issued = self.state.access_tokens.get(token)
        if issued is None:
            return error(40001, "invalid credential, access_token is invalid or not latest")
        if time.time() - issued > TOKEN_TTL:
            return error(42001, "access_token expired")
        return None

    def _ticket(self, q):
        problem = self._token_valid(q.get("access_token", ""))
        if problem:
            return self._reply(problem)
        return self._reply(
            {
                "errcode": 0,
                "errmsg": "ok",
                "ticket": secrets.token_urlsafe(48),
                "expires_in": TOKEN_TTL,
            }
        )

    def _template_send(self, q, body):
        problem = self._token_valid(q.get("access_token", ""))
        if problem:
            return self._reply(problem)
        user = self.state.users.get(body.get("touser", ""))
        if user is None:
            return self._reply(error(40003, "invalid openid"))
        if not body.get("template_id"):
            return self._reply(error(40037, "invalid template_id"))
        if not user.subscribed:
            return self._reply(error(43004, "require subscribe"))
        with self.state.lock:
            msgid = len(self.state.messages) + 1
            self.state.messages.append({**body, "msgid": msgid})
        return self._reply({"errcode": 0, "errmsg": "ok", "msgid": msgid})


class FakeWeChatServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, *, app_id: str, secret: str, host: str = "127.0.0.1", port: int = 0):
        super().__init__((host, port), _Handler)
        self.state = FakeWeChatState(app_id=app_id, secret=secret)
        for user in DEFAULT_USERS:
            self.state.users[user.openid] = FakeUser(**asdict(user))

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="fake-wechat", daemon=True)
        thread.start()
        return thread
