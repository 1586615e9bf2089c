"""Run only by test_failure_screenshot.py: a page test that fails on purpose."""

import pytest

pytestmark = pytest.mark.browser


def test_fails_after_rendering(page):
    page.set_content("<h1>会员中心</h1>")
    assert page.locator("h1").inner_text() == "something else"
