"""What browser tests do against the live server besides clicking: a till's signed POS
request over HTTP, and a member signed in through the session cookie."""

import json
import secrets
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone

from members.models import WechatIdentity
from members.session import SESSION_KEY
from pos.signing import pos_signature


def pos_post(base_url: str, terminal, path: str, body: dict) -> tuple[int, dict]:
    """POST `body` to the POS API as `terminal` signs it; (status, JSON answer)."""
    raw = json.dumps(body, ensure_ascii=False).encode()
    timestamp, nonce = str(int(time.time())), secrets.token_urlsafe(18)
    request = urllib.request.Request(base_url + path, data=raw, method="POST")  # noqa: S310
    headers = {
        "Content-Type": "application/json",
        "X-Pos-Terminal": terminal.terminal_id,
        "X-Pos-Timestamp": timestamp,
        "X-Pos-Nonce": nonce,
        "X-Pos-Signature": pos_signature(
            secret=terminal.secret,
            method="POST",
            path=path,
            timestamp=timestamp,
            nonce=nonce,
            body=raw,
        ),
    }
    for name, value in headers.items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request) as response:  # noqa: S310 - the live test server
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def member_sign_in(page, live_server, member, *, nickname="王芳", openid="o_browser") -> None:
    """`page`'s browser is `member`, signed in through WeChat (the identity in the session)."""
    identity = WechatIdentity.objects.create(
        app_id=settings.WECHAT_APP_ID,
        openid=openid,
        member=member,
        nickname=nickname,
        profile_fetched_at=timezone.now(),
    )
    session = SessionStore()
    session[SESSION_KEY] = identity.pk
    session.create()
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": session.session_key,
                "url": live_server.url,
            }
        ]
    )
