"""Every route of the site, walked: state changes need a CSRF token everywhere except the
signed POS API, and every page forbids framing (RELIABILITY W2)."""

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

# Routes a forged cross-site POST may reach: the POS API (HMAC-signed, no cookies) and the
# health check (answered before any view, changes nothing).
CSRF_EXEMPT = {
    "/api/pos/v1/receipts",
    "/api/pos/v1/coupons/verify",
    "/api/pos/v1/members/resolve",
    "/healthz",
}


def _walk(resolver, prefix=""):
    for entry in resolver.url_patterns:
        pattern = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry, pattern)
        elif isinstance(entry, URLPattern):
            yield pattern


def _sample(pattern: str) -> str | None:
    """A concrete path for a route pattern (None for regex routes we cannot fill in)."""
    path = re.sub(r"<int:[^>]+>", "1", pattern)
    path = re.sub(r"<(?:str|slug):[^>]+>", "x", path)
    path = re.sub(r"<path:[^>]+>", "x/y", path)
    if any(ch in path for ch in "^$()[]?*+\\<"):
        return None
    return "/" + path


def _paths():
    paths = {p for p in (_sample(p) for p in _walk(get_resolver())) if p}
    assert len(paths) > 60  # the walk really found the site
    return sorted(paths)


@pytest.mark.django_db
def test_every_post_without_a_csrf_token_is_refused_except_the_signed_api(admin_user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_user)
    reached = {path for path in _paths() if browser.post(path, {"x": "1"}).status_code != 403}
    assert reached == CSRF_EXEMPT


@pytest.mark.django_db
def test_every_page_forbids_framing(admin_user, client):
    client.force_login(admin_user)
    for path in _paths():
        response = client.get(path)
        if response.get("Content-Type", "").startswith("text/html"):
            assert response.get("X-Frame-Options") == "DENY", path
