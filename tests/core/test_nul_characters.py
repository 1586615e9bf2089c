"""A NUL character cannot be stored in Postgres text: wherever a person's input enters a page
(a search box, an admin search, a form field read without a form) it is a 400, not a 500."""

import pytest

from core.roles import Role
from tests.members.factories import StaffFactory


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


@pytest.mark.parametrize("column", range(7))
def test_a_nul_in_any_cell_of_a_member_import_rejects_that_row_only(db, tmp_path, column):
    import io

    from django.core.management import CommandError, call_command

    from members.models import Member
    from tests.stores.factories import StoreFactory

    StoreFactory(code="S01")
    good = ["880000000018", "13900000001", "张三", "F", "1990-01-02", "2020-01-01", "S01"]
    bad = ["880000000026", "13900000002", "李四", "M", "1991-01-02", "2021-01-01", "S01"]
    bad[column] = bad[column][:2] + "\x00" + bad[column][2:]
    path = tmp_path / "members.csv"
    rows = ["card_no,phone,name,gender,birthday,registered_at,store", ",".join(good), ",".join(bad)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    err = io.StringIO()

    with pytest.raises(CommandError):
        call_command("import_members", str(path), stdout=io.StringIO(), stderr=err)

    assert list(Member.objects.values_list("card_no", flat=True)) == ["880000000018"]
    assert "line 3" in err.getvalue() and "\x00" not in err.getvalue()
