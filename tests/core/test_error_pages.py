"""403, 404 and 500 pages are Chinese and wear the shell of the part of the site they are in."""

import pytest
from django.test import Client

from core.roles import Role
from tests.members.factories import StaffFactory

H5_SHELL = "weui.min.css"
BACKOFFICE_SHELL = "backoffice/css/backoffice.css"


def page(response) -> str:
    return response.content.decode()


@pytest.mark.django_db
def test_a_missing_member_page_is_chinese_in_the_member_shell(client, settings):
    assert settings.DEBUG is False
    html = page(response := client.get("/m/no-such-page/"))
    assert response.status_code == 404
    assert "页面不存在" in html and "返回会员首页" in html
    assert H5_SHELL in html and BACKOFFICE_SHELL not in html
    assert "Not Found" not in html


@pytest.mark.django_db
def test_a_missing_back_office_page_is_chinese_in_the_back_office_shell(client):
    for path in ("/backoffice/no-such-page/", "/no-such-page/"):
        html = page(response := client.get(path))
        assert response.status_code == 404
        assert "页面不存在" in html and "返回管理后台" in html
        assert BACKOFFICE_SHELL in html and H5_SHELL not in html


@pytest.mark.django_db
def test_a_forbidden_back_office_page_is_chinese(client):
    client.force_login(StaffFactory(user__role=Role.ANALYST).user)
    html = page(response := client.get("/backoffice/loyalty/claims/"))
    assert response.status_code == 403
    assert "无权访问" in html and BACKOFFICE_SHELL in html
    assert "403 Forbidden" not in html


@pytest.mark.urls("tests.core.error_urls")
@pytest.mark.parametrize(
    ("path", "shell"), [("/m/broken/", H5_SHELL), ("/backoffice/broken/", BACKOFFICE_SHELL)]
)
def test_a_server_error_is_chinese_in_its_shell_without_touching_the_database(path, shell):
    client = Client(raise_request_exception=False)  # no django_db: a query would fail the test
    html = page(response := client.get(path))
    assert response.status_code == 500
    assert "系统出错了" in html and shell in html
    assert "Server Error" not in html


@pytest.mark.django_db
def test_a_bad_request_is_chinese_in_its_shell(client):
    """A NUL character in a field is refused before any view (NulRefusalMiddleware)."""
    for path, shell in (("/m/privacy/", H5_SHELL), ("/accounts/login/", BACKOFFICE_SHELL)):
        html = page(response := client.get(path, {"q": "a\x00b"}))
        assert response.status_code == 400
        assert "请求无效" in html and shell in html
        assert "Bad Request" not in html


@pytest.mark.urls("tests.core.error_urls")
@pytest.mark.parametrize(
    ("path", "shell"), [("/m/busy/", H5_SHELL), ("/backoffice/busy/", BACKOFFICE_SHELL)]
)
def test_a_database_too_busy_is_a_chinese_503_asking_to_try_again(path, shell):
    client = Client(raise_request_exception=False)
    html = page(response := client.get(path))
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert "系统繁忙，请稍后再试" in html and shell in html


@pytest.mark.urls("tests.core.error_urls")
def test_a_database_too_busy_under_the_api_is_json():
    response = Client(raise_request_exception=False).get("/api/pos/v1/busy")
    assert response.status_code == 503
    assert response.json() == {"error": "database_busy"}
    assert response["Retry-After"] == "1"
