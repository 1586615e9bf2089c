"""Two-factor sign-in for staff (RELIABILITY W5): roles listed in STAFF_MFA_ROLES set up TOTP
before they may use the back office; afterwards a sign-in asks for the app's code."""

import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value

from core.roles import Role
from tests.members.factories import TEST_PASSWORD, StaffFactory


def _code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def _login(client, username, password=TEST_PASSWORD):
    return client.post("/accounts/login/", {"login": username, "password": password})


@pytest.fixture
def mfa_for_hq(settings):
    settings.STAFF_MFA_ROLES = [Role.HQ_ADMIN]


@pytest.mark.django_db
def test_hq_sets_up_totp_first_then_sign_in_asks_for_the_code(client, mfa_for_hq):
    hq = StaffFactory(user__role=Role.HQ_ADMIN, user__username="hq1").user
    _login(client, "hq1")

    blocked = client.get("/backoffice/")
    assert blocked.status_code == 302 and blocked["Location"] == "/accounts/2fa/totp/activate/"
    assert client.get("/admin/").status_code == 302

    # allauth asks for the password once more before a second factor is set up.
    reauth = client.get("/accounts/2fa/totp/activate/")
    assert reauth["Location"].startswith("/accounts/reauthenticate/")
    client.post(reauth["Location"], {"password": TEST_PASSWORD})
    assert client.get("/accounts/2fa/totp/activate/").status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    wrong = client.post("/accounts/2fa/totp/activate/", {"code": "000000"})
    assert wrong.status_code == 200 and not Authenticator.objects.filter(user=hq).exists()
    client.post("/accounts/2fa/totp/activate/", {"code": _code(secret)})
    assert Authenticator.objects.filter(user=hq, type="totp").exists()
    assert client.get("/backoffice/").status_code == 200

    client.post("/accounts/logout/")
    first_step = _login(client, "hq1")
    assert first_step["Location"].startswith("/accounts/2fa/authenticate/")
    assert client.get("/backoffice/").status_code == 302  # not signed in yet
    client.post("/accounts/2fa/authenticate/", {"code": _code(secret)})
    assert client.get("/backoffice/").status_code == 200


@pytest.mark.django_db
def test_roles_not_listed_are_not_asked(client, mfa_for_hq):
    StaffFactory(user__role=Role.MARKETING, user__username="mk1")
    _login(client, "mk1")
    assert client.get("/backoffice/").status_code == 200


@pytest.mark.django_db
def test_nobody_is_asked_when_no_role_is_listed(client, settings):
    settings.STAFF_MFA_ROLES = []
    StaffFactory(user__role=Role.HQ_ADMIN, user__username="hq2")
    _login(client, "hq2")
    assert client.get("/backoffice/").status_code == 200


def test_production_requires_it_of_hq_administrators():
    import subprocess
    import sys

    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; django.setup();"
            " from django.conf import settings; print(settings.STAFF_MFA_ROLES)",
        ],
        env={
            **__import__("os").environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": "x" * 60,
            "ALLOWED_HOSTS": "mall.example.com",
            "DATABASE_URL": "postgres://u:p@db/mall",
            "REDIS_URL": "redis://redis:6379/0",
            "WECHAT_APP_ID": "wx1",
            "WECHAT_SECRET": "s",
            "PII_ENCRYPTION_KEY": "A" * 43 + "=",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.stdout.strip() == "['hq_admin']", out.stderr
