"""Failed staff logins lock the account for that IP only (RELIABILITY W5): someone guessing
from elsewhere cannot lock an HQ administrator out."""

import pytest
from django.test import Client

from core.roles import Role
from tests.members.factories import TEST_PASSWORD, StaffFactory


def _login(ip, password):
    client = Client(REMOTE_ADDR=ip)
    response = client.post("/accounts/login/", {"login": "hq9", "password": password})
    return client, response


@pytest.mark.django_db
def test_five_wrong_passwords_lock_that_ip_not_others():
    StaffFactory(user__role=Role.HQ_ADMIN, user__username="hq9")
    for _ in range(5):
        _login("203.0.113.7", "wrong-guess")

    _client, locked = _login("203.0.113.7", TEST_PASSWORD)
    assert locked.status_code == 200  # the form again, with the lockout message
    assert "_auth_user_id" not in _client.session

    office, response = _login("198.51.100.20", TEST_PASSWORD)
    assert response.status_code == 302
    assert office.get("/backoffice/").status_code == 200
