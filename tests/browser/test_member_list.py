"""The analyst filters the member list and saves the result as a group, on a desktop and on a
phone-sized window."""

import pytest
from playwright.sync_api import expect

from analytics.models import MemberGroup, Tag
from tests.analytics.list_helpers import points, snapshot
from tests.conftest import screenshot
from tests.members.factories import TEST_PASSWORD, MemberFactory, StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _mall(store):
    women = [
        MemberFactory(name=f"王{n}芳", gender="F", home_store=store, phone=f"1381234{n:04d}")
        for n in range(4)
    ]
    men = [MemberFactory(name="李强", gender="M", home_store=store) for _ in range(2)]
    snapshot({women[0]: {"rfm_class": "重要保持"}, women[1]: {}, men[0]: {}})
    for i, member in enumerate(women + men):
        points(member, 100 * i)
    return women, men


def _log_in(page, live_server, staff):
    page.goto(f"{live_server.url}/accounts/login/?next=/backoffice/")
    page.get_by_label("用户名或邮箱").fill(staff.user.username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()


@pytest.mark.parametrize(
    ("size", "viewport"),
    [("desktop", {"width": 1280, "height": 900}), ("phone", {"width": 390, "height": 844})],
)
def test_filter_the_list_and_save_a_group(live_server, page, store, size, viewport):
    page.set_viewport_size(viewport)
    women, _men = _mall(store)
    staff = StaffFactory(user__username=f"zhou_{size}", user__role="analyst")
    _log_in(page, live_server, staff)

    page.get_by_role("link", name="会员", exact=True).first.click()
    expect(page.get_by_role("heading", name="会员", exact=True)).to_be_visible()
    expect(page.locator("[data-members] tbody tr")).to_have_count(6)
    expect(page.get_by_text("王**", exact=True).first).to_be_visible()  # names masked
    page.locator("summary", has_text="筛选条件").click()
    page.get_by_label("性别").select_option("F")
    page.get_by_label("积分自").fill("100")
    page.get_by_role("button", name="筛选").click()

    expect(page.locator("[data-members] tbody tr")).to_have_count(3)
    expect(page.locator("[data-count]")).to_contain_text("3")
    expect(page.locator("[data-filters]")).to_contain_text("性别：女")
    screenshot(page, f"backoffice_member_list_{size}")

    page.locator("[data-save-group]").click()
    expect(page.get_by_role("heading", name="建立分组")).to_be_visible()
    page.get_by_label("分组名称").fill(f"女性 积分≥100 {size}")
    page.get_by_label("静态分组（保存时的名单）").check()
    page.get_by_role("button", name="保存分组").click()

    expect(page.get_by_text("分组已保存。")).to_be_visible()
    expect(page.locator("[data-figure=members] [data-count]")).to_have_text("3")
    expect(page.locator("[data-filters]")).to_contain_text("积分余额：100 起")
    screenshot(page, f"backoffice_group_detail_{size}")
    group = MemberGroup.objects.get(name=f"女性 积分≥100 {size}")
    assert group.kind == "static" and group.params == {"gender": "F", "points_min": 100}

    page.locator("[data-open-list]").click()
    expect(page.locator("[data-members] tbody tr")).to_have_count(3)
    assert women[0].card_no not in page.content()  # balance 0: not in the group


def test_one_click_group_from_the_rfm_page_and_the_tag_pages(live_server, page, store):
    page.set_viewport_size({"width": 1280, "height": 900})
    women, men = _mall(store)
    # a transactional test's flush empties the migration's seed: the rule tag again
    Tag.objects.get_or_create(name="高复购", kind="rule", rule={"rfm_f_high": True})
    staff = StaffFactory(user__username="zhou_rfm", user__role="analyst")
    _log_in(page, live_server, staff)

    page.get_by_role("link", name="RFM 模型").click()
    screenshot(page, "backoffice_rfm_with_group_buttons")
    page.locator("[data-quick-group=重要保持] button").click()
    expect(page.get_by_text("分组已保存。")).to_be_visible()
    expect(page.locator("[data-figure=members] [data-count]")).to_have_text("1")
    expect(page.locator("[data-filters]")).to_contain_text("RFM 分类：重要保持")
    screenshot(page, "backoffice_group_from_rfm")

    page.get_by_role("link", name="会员分组").click()
    expect(page.locator("[data-groups] tbody tr")).to_have_count(1)
    screenshot(page, "backoffice_group_list")

    page.get_by_role("link", name="会员标签").click()
    expect(page.locator("[data-tag=高复购]")).to_be_visible()
    page.get_by_role("link", name="新建标签").click()
    page.get_by_label("标签名称").fill("VIP 顾客")
    page.get_by_role("button", name="保存标签").click()
    expect(page.get_by_text("标签已保存。")).to_be_visible()
    screenshot(page, "backoffice_tag_list")

    page.goto(f"{live_server.url}/backoffice/members/{women[0].pk}/")
    page.get_by_label("添加标签").select_option(label="VIP 顾客")
    page.get_by_role("button", name="添加", exact=True).click()
    expect(page.locator("[data-member-tags] [data-tag='VIP 顾客']")).to_be_visible()
    screenshot(page, "backoffice_member_tags")
