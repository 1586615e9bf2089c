"""The client's address, the one way every rate limit, lockout and audit row reads it.

Behind reverse proxies REMOTE_ADDR is the nearest proxy, the same for every visitor. Each
trusted proxy appends the address it was connected from to X-Forwarded-For, so with
TRUSTED_PROXY_COUNT = N the client is the N-th entry from the right; anything to the left of
it came from the client and can be forged. With N = 0 the header is ignored.
"""

import ipaddress
from contextvars import ContextVar

from django.conf import settings

_current_ip: ContextVar[str | None] = ContextVar("client_ip", default=None)


def _clean(value: str) -> str | None:
    """An IPv4/IPv6 address in canonical form, or None; tolerates a port ("1.2.3.4:80",
    "[::1]:80") since some proxies send one."""
    value = value.strip()
    if value.startswith("[") and "]" in value:
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The client's IP address behind settings.TRUSTED_PROXY_COUNT proxies (X-Forwarded-For
    read from the right); REMOTE_ADDR when no proxy is trusted or the header is missing,
    too short or malformed — the proxy's own address then, never one the client chose."""
    remote = _clean(request.META.get("REMOTE_ADDR") or "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    entries = header.split(",") if header else []
    if len(entries) < proxies:
        return remote
    return _clean(entries[-proxies]) or remote


def current_client_ip() -> str | None:
    """The client address of the request being served in this thread, if any (audit rows)."""
    return _current_ip.get()


class ClientIpMiddleware:
    """Makes the request's client address available to code without the request (audit_log)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            _current_ip.reset(token)
