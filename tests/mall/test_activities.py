"""Brand activities (楼层活动展示): only current ones reach members, filtered by store, floor and
category; the services check what staff write; the back office keeps to permissions and the
user's stores; bad input is an error with a reason, never a 500."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from core.models import AuditLog
from core.roles import Role
from mall.activities import (
    ActivityError,
    activities_current,
    activity_create,
    activity_unpublish,
    activity_update,
)
from mall.models import ACTIVITY_BODY_MAX, BrandActivity
from tests.mall.activity_data import activity, brand_in, category, floor, png_upload
from tests.members.factories import TEST_PASSWORD
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mall(store):
    """S01: 雅诗兰黛 (护肤) on 1F, 歌莉娅 (连衣裙, under 女装) on 2F; S02: 歌莉娅 on 2F."""
    women = category("女装")
    dresses = category("连衣裙", parent=women)
    skin = category("护肤")
    other = StoreFactory(code="S02", name="天一店")
    estee = brand_in(store, "雅诗兰黛", floor_code="1F", order=1, unit="1F-01", cat=skin)
    gloria = brand_in(store, "歌莉娅", floor_code="2F", order=2, unit="2F-08", cat=dresses)
    brand_in(other, "歌莉娅", floor_code="2F", order=2, unit="2F-03")
    return {
        "store": store,
        "other": other,
        "estee": estee,
        "gloria": gloria,
        "women": women,
        "dresses": dresses,
        "skin": skin,
        "f1": floor(store, "1F", 1),
        "f2": floor(store, "2F", 2),
    }


# --- Current only ---------------------------------------------------------------------------


def test_only_published_activities_running_today_are_current(mall):
    store, estee = mall["store"], mall["estee"]
    running = activity(store, estee, days=(-3, 3), title="进行中")
    first_day = activity(store, estee, days=(0, 5), title="今天开始")
    last_day = activity(store, estee, days=(-5, 0), title="今天最后一天")
    activity(store, estee, days=(-9, -1), title="昨天结束")
    activity(store, estee, days=(1, 9), title="明天开始")
    activity(store, estee, days=(-1, 9), title="未发布", is_published=False)

    current = set(activities_current())

    assert current == {running, first_day, last_day}


def test_today_is_the_shanghai_day_not_the_utc_one(mall):
    store, estee = mall["store"], mall["estee"]
    # 2026-12-02 23:30 UTC is 2026-12-03 07:30 in Shanghai
    starts_shanghai_day = BrandActivity.objects.create(
        store=store,
        brand=estee,
        title="上海的今天",
        body="x",
        starts_on=date(2026, 12, 3),
        ends_on=date(2026, 12, 10),
    )
    with time_machine.travel(datetime(2026, 12, 2, 23, 30, tzinfo=UTC), tick=False):
        assert list(activities_current()) == [starts_shanghai_day]
    with time_machine.travel(datetime(2026, 12, 2, 15, 59, tzinfo=UTC), tick=False):
        assert list(activities_current()) == []


def test_filters_by_store_floor_category_and_brand(mall):
    store, other = mall["store"], mall["other"]
    on_1f = activity(store, mall["estee"])
    on_2f = activity(store, mall["gloria"])
    in_s02 = activity(other, mall["gloria"])

    assert set(activities_current(store=store)) == {on_1f, on_2f}
    assert list(activities_current(floor=mall["f1"])) == [on_1f]
    # the brand has shops in both stores: a floor of S01 shows S01's activity only
    assert list(activities_current(floor=mall["f2"])) == [on_2f]
    assert set(activities_current(category=mall["dresses"])) == {on_2f, in_s02}
    # a parent category covers its children
    assert set(activities_current(category=mall["women"])) == {on_2f, in_s02}
    assert list(activities_current(category=mall["skin"], store=store)) == [on_1f]
    assert list(activities_current(brand=mall["estee"])) == [on_1f]


def test_a_brand_with_two_shops_on_the_floor_is_listed_once(mall):
    store = mall["store"]
    brand_in(store, "雅诗兰黛", floor_code="1F", order=1, unit="1F-99")
    one = activity(store, mall["estee"])

    assert list(activities_current(floor=mall["f1"])) == [one]


# --- Services -------------------------------------------------------------------------------


def _fields(mall, **changes):
    today = timezone.localdate()
    return {
        "store": mall["store"],
        "brand": mall["estee"],
        "title": "冬季护肤节",
        "body": "满 1000 元赠精华小样。",
        "starts_on": today,
        "ends_on": today + timedelta(days=10),
    } | changes


def test_create_saves_the_activity_with_a_clean_image_and_audits_it(mall, staff_user):
    actor = staff_user(Role.MARKETING)

    created = activity_create(actor=actor, image=png_upload(), **_fields(mall))

    assert created.created_by == actor and created.is_published
    assert created.image.name.endswith(".jpg")  # re-encoded as a JPEG without metadata
    log = AuditLog.objects.get(action="mall.activity.created")
    assert (log.actor, log.target_id, log.data["brand"]) == (actor, str(created.pk), "雅诗兰黛")
    assert list(activities_current()) == [created]


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"title": "长" * 41}, "title_too_long", "title"),
        ({"title": "  "}, "title_missing", "title"),
        ({"body": "字" * (ACTIVITY_BODY_MAX + 1)}, "body_too_long", "body"),
        ({"body": ""}, "body_missing", "body"),
        ({"ends_on": timezone.localdate() - timedelta(days=1)}, "dates_reversed", "ends_on"),
    ],
)
def test_create_refuses_bad_fields_with_a_reason(mall, staff_user, changes, code, field):
    with pytest.raises(ActivityError) as refused:
        activity_create(actor=staff_user(Role.MARKETING), **_fields(mall, **changes))

    assert (refused.value.code, refused.value.field) == (code, field)
    assert not BrandActivity.objects.exists()


def test_a_brand_without_a_shop_in_the_store_is_refused(mall, staff_user):
    with pytest.raises(ActivityError) as refused:
        activity_create(actor=staff_user(Role.MARKETING), **_fields(mall, store=mall["other"]))

    assert refused.value.code == "brand_not_in_store"
    assert "雅诗兰黛" in str(refused.value.message) and "天一店" in str(refused.value.message)


@pytest.mark.parametrize(
    "upload",
    [
        "not an image",
        "zip",
    ],
)
def test_an_image_that_is_not_a_picture_is_refused(mall, staff_user, upload):
    from django.core.files.uploadedfile import SimpleUploadedFile

    if upload == "zip":
        data = png_upload().read() + b"PK\x03\x04" + b"\x00" * 30
        bad = SimpleUploadedFile("poster.png", data, content_type="image/png")
    else:
        bad = SimpleUploadedFile("poster.png", b"<html>hello</html>", content_type="image/png")

    with pytest.raises(ActivityError) as refused:
        activity_create(actor=staff_user(Role.MARKETING), image=bad, **_fields(mall))

    assert refused.value.field == "image" and refused.value.code.startswith("photo_")
    assert not BrandActivity.objects.exists()


def test_update_checks_like_create_and_audits_what_changed(mall, staff_user):
    actor = staff_user(Role.MARKETING)
    existing = activity(mall["store"], mall["estee"])

    with pytest.raises(ActivityError):
        activity_update(activity=existing, actor=actor, ends_on=existing.starts_on - timedelta(1))
    updated = activity_update(activity=existing, actor=actor, title="新标题")

    assert updated.title == "新标题"
    log = AuditLog.objects.get(action="mall.activity.updated")
    assert log.data == {"title": [existing.title, "新标题"]}


def test_unpublish_takes_it_off_the_member_pages(mall, staff_user):
    existing = activity(mall["store"], mall["estee"])

    activity_unpublish(activity=existing, actor=staff_user(Role.MARKETING))

    assert list(activities_current()) == []
    assert AuditLog.objects.filter(action="mall.activity.unpublished").count() == 1


# --- Member pages ---------------------------------------------------------------------------


def test_the_list_shows_the_store_s_current_activities_and_filters_by_floor(client, mall):
    store = mall["store"]
    on_1f = activity(store, mall["estee"], title="护肤节")
    activity(store, mall["gloria"], title="夏装上新")
    activity(store, mall["gloria"], title="已结束的活动", days=(-10, -2))

    page = client.get("/m/activities/", {"store": "S01"}).content.decode()
    assert "护肤节" in page and "夏装上新" in page and "已结束的活动" not in page
    assert "1F · 1F-01" in page and "2F · 2F-08" in page

    page = client.get("/m/activities/", {"store": "S01", "floor": mall["f1"].pk})
    html = page.content.decode()
    assert page.status_code == 200
    assert "护肤节" in html and "夏装上新" not in html
    assert f'href="/m/activities/{on_1f.pk}/"' in html

    html = client.get(
        "/m/activities/", {"store": "S01", "category": mall["women"].pk}
    ).content.decode()
    assert "夏装上新" in html and "护肤节" not in html


@pytest.mark.parametrize(
    "query",
    [
        {"store": "NOPE"},
        {"floor": "abc"},
        {"floor": "999999"},
        {"category": "x"},
        {"category": "9" * 30},
        {"category": "-1"},
    ],
)
def test_bad_filters_are_a_400_with_a_reason(client, mall, query):
    response = client.get("/m/activities/", query)

    assert response.status_code == 400
    assert "楼层" in response.content.decode() or "门店" in response.content.decode()


def test_a_floor_of_another_store_is_refused(client, mall):
    s02_floor = floor(mall["other"], "2F", 2)

    response = client.get("/m/activities/", {"store": "S01", "floor": s02_floor.pk})

    assert response.status_code == 400


def test_the_detail_page_shows_a_current_activity_and_404s_otherwise(client, mall):
    store = mall["store"]
    current = activity(store, mall["gloria"], body="第一段。\n第二段。")
    ended = activity(store, mall["gloria"], days=(-10, -1))
    hidden = activity(store, mall["gloria"], is_published=False)
    upcoming = activity(store, mall["gloria"], days=(2, 9))

    html = client.get(f"/m/activities/{current.pk}/").content.decode()
    assert "歌莉娅" in html and "2F-08" in html and "<p>第一段。<br>第二段。</p>" in html
    for pk in (ended.pk, hidden.pk, upcoming.pk, 999999, 10**30):
        assert client.get(f"/m/activities/{pk}/").status_code == 404


def test_the_mall_home_links_the_activities(client, mall):
    assert 'href="/m/activities/"' in client.get("/m/").content.decode()


# --- Back office ----------------------------------------------------------------------------


def _login(client, user):
    assert client.login(username=user.username, password=TEST_PASSWORD)
    return client


def test_marketing_lists_activities_by_status(client, mall, staff_user):
    store = mall["store"]
    activity(store, mall["estee"], title="进行中的活动")
    activity(store, mall["estee"], title="即将开始的活动", days=(3, 9))
    activity(store, mall["estee"], title="已结束的活动", days=(-9, -3))
    activity(store, mall["estee"], title="下线的活动", is_published=False)
    _login(client, staff_user(Role.MARKETING))

    everything = client.get("/backoffice/mall/activities/").content.decode()
    upcoming = client.get("/backoffice/mall/activities/", {"status": "upcoming"})

    assert all(
        title in everything
        for title in ("进行中的活动", "即将开始的活动", "已结束的活动", "下线的活动")
    )
    assert "品牌活动" in everything  # the menu entry
    html = upcoming.content.decode()
    assert "即将开始的活动" in html and "进行中的活动" not in html
    assert client.get("/backoffice/mall/activities/", {"status": "bogus"}).status_code == 400


def test_marketing_creates_an_activity_through_the_form(client, mall, staff_user):
    _login(client, staff_user(Role.MARKETING))
    today = timezone.localdate()
    data = {
        "store": mall["store"].pk,
        "brand": mall["estee"].pk,
        "title": "冬季护肤节",
        "body": "满 1000 元赠精华小样。",
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=10)).isoformat(),
        "is_published": "on",
        "image": png_upload(),
    }

    response = client.post("/backoffice/mall/activities/new/", data)

    created = BrandActivity.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{created.pk}/")
    assert created.image and created.title == "冬季护肤节"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"brand": "gloria_s02_only"}, "没有门店"),
        ({"body": "字" * (ACTIVITY_BODY_MAX + 1)}, "500"),
        ({"ends_on": "2020-01-01"}, "结束"),
        ({"starts_on": "not a date"}, "日期"),
        ({"image": "bad"}, "照片"),
    ],
)
def test_bad_input_on_the_form_is_a_400_with_the_reason(client, mall, staff_user, changes, message):
    _login(client, staff_user(Role.MARKETING))
    today = timezone.localdate()
    s02_only = brand_in(mall["other"], "只在天一店", floor_code="3F", order=3)
    data = {
        "store": mall["store"].pk,
        "brand": mall["estee"].pk,
        "title": "冬季护肤节",
        "body": "满 1000 元赠精华小样。",
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=10)).isoformat(),
    } | changes
    if data["brand"] == "gloria_s02_only":
        data["brand"] = s02_only.pk
    if data.get("image") == "bad":
        from django.core.files.uploadedfile import SimpleUploadedFile

        data["image"] = SimpleUploadedFile("x.png", b"GIF89a not really", "image/png")

    response = client.post("/backoffice/mall/activities/new/", data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not BrandActivity.objects.exists()


def test_permissions_decide_who_sees_and_edits(client, mall, staff_user):
    existing = activity(mall["store"], mall["estee"])
    _login(client, staff_user(Role.ANALYST))

    assert client.get("/backoffice/mall/activities/").status_code == 403
    assert client.get("/backoffice/mall/activities/new/").status_code == 403
    assert client.get(f"/backoffice/mall/activities/{existing.pk}/").status_code == 403
    assert client.post(f"/backoffice/mall/activities/{existing.pk}/unpublish/").status_code == 403
    assert "品牌活动" not in client.get("/backoffice/").content.decode()


def test_a_store_user_sees_and_edits_only_their_store(client, mall, staff_user):
    mine = activity(mall["store"], mall["estee"], title="本店活动")
    theirs = activity(mall["other"], mall["gloria"], title="外店活动")
    user = staff_user(Role.MARKETING, scope="store", store=mall["store"])
    _login(client, user)

    html = client.get("/backoffice/mall/activities/").content.decode()
    assert "本店活动" in html and "外店活动" not in html
    assert client.get(f"/backoffice/mall/activities/{theirs.pk}/").status_code == 404
    assert client.post(f"/backoffice/mall/activities/{theirs.pk}/unpublish/").status_code == 404
    assert client.get(f"/backoffice/mall/activities/{10**30}/").status_code == 404
    assert client.get(f"/backoffice/mall/activities/{mine.pk}/").status_code == 200
    # the other store is not a choice in the form either
    response = client.post(
        f"/backoffice/mall/activities/{mine.pk}/",
        {
            "store": mall["other"].pk,
            "brand": mall["gloria"].pk,
            "title": "搬到外店",
            "body": "x",
            "starts_on": mine.starts_on.isoformat(),
            "ends_on": mine.ends_on.isoformat(),
        },
    )
    assert response.status_code == 400
    mine.refresh_from_db()
    assert mine.store == mall["store"] and mine.title == "本店活动"


def test_editing_keeps_the_image_and_unpublishing_hides_it(client, mall, staff_user):
    _login(client, staff_user(Role.MARKETING))
    existing = activity_create(actor=None, image=png_upload(), **_fields(mall, title="旧标题"))
    image = existing.image.name

    response = client.post(
        f"/backoffice/mall/activities/{existing.pk}/",
        {
            "store": mall["store"].pk,
            "brand": mall["estee"].pk,
            "title": "新标题",
            "body": existing.body,
            "starts_on": existing.starts_on.isoformat(),
            "ends_on": existing.ends_on.isoformat(),
            "is_published": "on",
        },
    )
    existing.refresh_from_db()
    assert response.status_code == 302
    assert (existing.title, existing.image.name) == ("新标题", image)

    client.post(f"/backoffice/mall/activities/{existing.pk}/unpublish/")
    assert client.get(f"/m/activities/{existing.pk}/").status_code == 404


# --- Helpers and the demo -------------------------------------------------------------------


def test_url_or_none_builds_links_only_to_pages_that_exist():
    from mall.activities import url_or_none

    assert url_or_none("h5:activity_detail", 7) == "/m/activities/7/"
    assert url_or_none("h5:no_such_page", 7) is None


def test_the_demo_has_current_upcoming_and_ended_activities_with_pictures():
    from django.core.management import call_command

    from mall.activities import activity_status

    call_command(
        "seed_demo",
        members=0,
        months=1,
        stdout=open("/dev/null", "w"),  # noqa: SIM115
    )

    activities = list(BrandActivity.objects.select_related("store", "brand"))
    statuses = {activity_status(a) for a in activities}
    assert len(activities) >= 12 and {"current", "upcoming", "ended"} <= statuses
    assert {a.store.code for a in activities} == {"S01", "S02"}
    assert all(a.image and a.brand.logo for a in activities)
    # every activity's brand has a shop in its store: it shows on a floor
    assert all(a.brand.shops.filter(floor__store=a.store).exists() for a in activities)
    assert {a.created_by.username for a in activities} == {"marketing"}


def test_the_detail_links_the_brand_s_floor_guide_page_once_it_exists(client, mall):
    # The floor guide's brand page (h5:brand_detail) is built beside this one: the link is
    # there exactly when the page is.
    from mall.activities import url_or_none

    current = activity(mall["store"], mall["gloria"])
    url = url_or_none("h5:brand_detail", "S01", mall["gloria"].pk)

    html = client.get(f"/m/activities/{current.pk}/").content.decode()

    assert ("data-brand-link" in html) == (url is not None)
    if url is not None:
        assert f'href="{url}"' in html


def test_a_signed_in_member_starts_on_their_home_store(client, mall):
    from tests.members.factories import MemberFactory, signed_in_as

    activity(mall["store"], mall["estee"], title="武林店的活动")
    activity(mall["other"], mall["gloria"], title="天一店的活动")

    anonymous = client.get("/m/activities/").content.decode()
    signed_in_as(client, MemberFactory(home_store=mall["other"]))
    member = client.get("/m/activities/").content.decode()

    assert "武林店的活动" in anonymous and "天一店的活动" not in anonymous
    assert "天一店的活动" in member and "武林店的活动" not in member


def test_a_new_image_replaces_the_old_file(mall, staff_user, django_capture_on_commit_callbacks):
    existing = activity_create(actor=None, image=png_upload(), **_fields(mall))
    old = existing.image.name
    storage = existing.image.storage

    with django_capture_on_commit_callbacks(execute=True):
        updated = activity_update(
            activity=existing, actor=staff_user(Role.MARKETING), image=png_upload(color=(9, 9, 9))
        )

    assert updated.image.name != old and storage.exists(updated.image.name)
    assert not storage.exists(old)
