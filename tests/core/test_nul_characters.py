"""A NUL character cannot be stored in Postgres text: wherever a person's input enters a page
(a search box, an admin search, a form field read without a form) it is a 400, not a 500."""

import pytest

from core.roles import Role
from tests.factories import StaffFactory


@pytest.fixture
def hq(db):
    return StaffFactory(user__role=Role.HQ_ADMIN).user


@pytest.mark.parametrize(
    "url",
    [
        "/backoffice/loyalty/points/?q=12%00",
        "/admin/members/member/?q=%00",
        "/admin/loyalty/receipt/?q=a%00b",
        "/m/?next=%00",
    ],
)
def test_a_nul_in_a_query_is_a_400(client, hq, url):
    client.force_login(hq)
    client.raise_request_exception = False
    response = client.get(url)
    assert response.status_code == 400


def test_a_nul_in_a_posted_field_is_a_400(client, hq):
    client.force_login(hq)
    response = client.post("/backoffice/loyalty/points/", {"q": "a\x00b"})
    assert response.status_code == 400
