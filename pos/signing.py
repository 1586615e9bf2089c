"""The POS API's request signing (DESIGN.md, "POS API"): which till sent a request.

Signature: lowercase hex HMAC-SHA256(secret, METHOD "\n" PATH "\n" TIMESTAMP "\n" NONCE "\n"
hex SHA-256 of the raw body). PATH is the request target as sent: the path, plus "?" and the
query string when there is one. The body is checked as raw bytes, so a proxy that re-encodes
JSON breaks the signature, as it should.
"""

import hashlib
import hmac
import re
import time

from django.core.cache import cache
from django.utils import timezone

from core.tablecache import table_cached
from pos.models import PosTerminal

TIMESTAMP_SKEW = 300  # seconds either way
NONCE_TTL = 600
NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
TERMINAL_RE = re.compile(r"[\x21-\x7e]{1,32}")  # printable ASCII: no NUL reaches the query
MAX_BODY = 256 * 1024


class PosAuthError(Exception):
    def __init__(self, reason: str, status: int = 401):
        self.reason, self.status = reason, status
        super().__init__(reason)


def pos_signature(*, secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes):
    message = "\n".join([method, path, timestamp, nonce, hashlib.sha256(body).hexdigest()])
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def pos_authenticate(request) -> PosTerminal:
    """The active terminal that signed `request`; PosAuthError (401) for anything else.
    The nonce is recorded only once the signature holds, so forgeries cannot burn nonces."""
    terminal_id = request.headers.get("X-Pos-Terminal", "")
    timestamp = request.headers.get("X-Pos-Timestamp", "")
    nonce = request.headers.get("X-Pos-Nonce", "")
    signature = request.headers.get("X-Pos-Signature", "")
    if not (terminal_id and timestamp and nonce and signature):
        raise PosAuthError("missing_signature_headers")
    if not TERMINAL_RE.fullmatch(terminal_id):
        raise PosAuthError("unknown_terminal")
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise PosAuthError("bad_timestamp")
    if abs(timezone.now().timestamp() - int(timestamp)) > TIMESTAMP_SKEW:
        raise PosAuthError("stale_timestamp")
    if not NONCE_RE.match(nonce):
        raise PosAuthError("bad_nonce")
    terminal = active_terminals().get(terminal_id)
    if terminal is None:
        raise PosAuthError("unknown_terminal")
    expected = pos_signature(
        secret=terminal.secret,
        method=request.method,
        path=request.get_full_path(),
        timestamp=timestamp,
        nonce=nonce,
        body=request.body,
    )
    if not signature.isascii() or not hmac.compare_digest(expected, signature):
        raise PosAuthError("bad_signature")
    if not cache.add(f"pos:nonce:{terminal.terminal_id}:{nonce}", 1, NONCE_TTL):
        raise PosAuthError("nonce_reused")
    return terminal


def active_terminals() -> dict[str, PosTerminal]:
    """The active tills by terminal id (with their stores), cached per process until a
    terminal is saved or deleted (core/tablecache.py): a deactivated till is refused at once."""
    return table_cached(
        "pos:terminals",
        lambda: {
            t.terminal_id: t
            for t in PosTerminal.objects.select_related("store").filter(is_active=True)
        },
    )


def pos_rate_wait(*, terminal: PosTerminal, action: str, limit: int, window: int) -> int:
    """Count one `action` by `terminal` in the current fixed window of `window` seconds: 0 if
    it is within `limit`, else the seconds until the window ends (for Retry-After)."""
    now = int(time.time())
    start = now - now % window
    key = f"pos:rate:{action}:{terminal.terminal_id}:{start}"
    cache.add(key, 0, window + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window + 5)
        count = 1
    return 0 if count <= limit else max(1, start + window - now)
