"""The member's pages of customer service: 服务反馈 (validation that loses nothing typed, one
ticket per form, a daily quota), 我的反馈 (tabs, pages), the ticket page (only one's own, the
handler's card, no internal events), 服务评价 once when resolved, 再次反馈 within the window."""

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from feedback.models import (
    Department,
    FeedbackSettings,
    Handler,
    Rating,
    RatingTag,
    Ticket,
    TicketType,
)
from feedback.services import (
    compensation_grant,
    ticket_claim,
    ticket_close,
    ticket_note,
    ticket_resolve,
    ticket_step,
    ticket_submit,
)
from members.models import Message
from stores.models import Brand, Floor, Shop
from tests.feedback.test_photos import jpeg_bytes, zip_bytes
from tests.members.factories import signed_in_as
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
TOKEN = "t" * 43


@pytest.fixture(autouse=True)
def roots(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def me(client, member, feedback_defaults):
    member.name, member.phone = "李娜", "13900001111"
    member.save(update_fields=["name", "phone"])
    return signed_in_as(client, member)


@pytest.fixture
def shops(store):
    brand = Brand.objects.create(name="江南布衣")
    elsewhere = StoreFactory(code="S02", name="城西店")
    here = Shop.objects.create(
        floor=Floor.objects.create(store=store, code="2F", name="女装", order=2),
        brand=brand,
        unit_no="2F-01",
    )
    there = Shop.objects.create(
        floor=Floor.objects.create(store=elsewhere, code="1F", name="鞋", order=1),
        brand=Brand.objects.create(name="某鞋"),
        unit_no="1F-08",
    )
    return here, there


def photo(data: bytes, name="IMG_0001.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def fields(goods_complaint, store, **overrides) -> dict:
    data = {
        "ticket_type": goods_complaint.pk,
        "details": "买的牛奶过期了\n第二行说明",
        "store": store.pk,
        "brand": "",
        "shop": "",
        "contact_name": "李娜",
        "contact_phone": "13900001111",
        "once_token": TOKEN,
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_the_form_offers_active_types_and_prefills_the_contact_and_home_store(me, store, opinion):
    TicketType.objects.filter(code="staff").update(is_active=False)
    html = me.get("/m/feedback/new/").content.decode()
    assert "服务意见" in html and "商品投诉" in html and "人员投诉" not in html
    assert 'value="李娜"' in html and 'value="13900001111"' in html
    assert re.search(rf'<option value="{store.pk}" selected>', html)
    assert re.search(r'name="once_token" value="[A-Za-z0-9_-]{32,}"', html)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"contact_name": ""}, "contact_name", "填写联系方式后才可以提交"),
        ({"contact_phone": ""}, "contact_phone", "填写联系方式后才可以提交"),
        ({"contact_phone": "1390000111"}, "contact_phone", "11 位手机号"),
        ({"contact_phone": "abc"}, "contact_phone", "11 位手机号"),
        ({"details": "长" * 1001}, "details", "1000"),
        ({"details": "  "}, "details", "请描述"),
        ({"ticket_type": None}, "ticket_type", "反馈类型"),
    ],
)
def test_bad_input_is_a_form_error_and_keeps_what_was_typed(
    me, goods_complaint, store, overrides, field, message
):
    data = fields(goods_complaint, store, **overrides)
    response = me.post("/m/feedback/new/", data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == [field] and message in str(errors[field])
    html = response.content.decode()
    if field != "details":
        assert "买的牛奶过期了" in html  # the typed text stays
    assert "data-photos-again" not in html  # no photos were sent: none to choose again
    assert not Ticket.objects.exists()


def test_a_form_error_asks_for_the_photos_sent_with_it_again(me, goods_complaint, store):
    data = fields(goods_complaint, store, contact_phone="")
    response = me.post("/m/feedback/new/", {**data, "photos": [photo(jpeg_bytes())]})
    assert response.status_code == 400
    assert "请重新选择照片" in response.content.decode()
    assert not Ticket.objects.exists()


def test_an_inactive_type_is_refused(me, goods_complaint, store):
    goods_complaint.is_active = False
    goods_complaint.save(update_fields=["is_active"])
    response = me.post("/m/feedback/new/", fields(goods_complaint, store))
    assert response.status_code == 400
    assert "不再提供" in str(response.context["form"].errors["ticket_type"])
    assert not Ticket.objects.exists()


def test_the_shop_must_be_in_the_chosen_store(me, goods_complaint, store, shops):
    here, there = shops
    response = me.post("/m/feedback/new/", fields(goods_complaint, store, shop=there.pk))
    assert response.status_code == 400
    assert "不在所选门店" in str(response.context["form"].errors["shop"])
    response = me.post("/m/feedback/new/", fields(goods_complaint, store, brand=there.brand_id))
    assert response.status_code == 400 and "brand" in response.context["form"].errors
    assert not Ticket.objects.exists()

    html = me.get("/m/feedback/new/").content.decode()  # options say which store they are in
    assert f'data-stores="{store.pk}"' in html and f'data-stores="{there.floor.store_id}"' in html

    response = me.post("/m/feedback/new/", fields(goods_complaint, store, shop=here.pk))
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert (ticket.shop, ticket.brand) == (here, here.brand)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"%PDF-1.4 not a picture", "无法识别该照片"),
        (jpeg_bytes() + zip_bytes(), "夹带了其他内容"),
        (jpeg_bytes(size=(1200, 1200)), "照片太大"),
    ],
    ids=["not-an-image", "polyglot", "oversized"],
)
def test_a_refused_photo_names_the_file_and_the_reason_and_nothing_else_is_lost(
    me, goods_complaint, store, data, reason
):
    FeedbackSettings.objects.filter(pk=1).update(photo_max_bytes=20_000)
    good = photo(jpeg_bytes(), "good.jpg")
    bad = photo(data, "坏照片.jpg")
    response = me.post(
        "/m/feedback/new/", {**fields(goods_complaint, store), "photos": [good, bad]}
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["photos"]
    assert "坏照片.jpg" in str(errors["photos"]) and reason in str(errors["photos"])
    assert "good.jpg" not in str(errors["photos"])
    html = response.content.decode()
    assert "买的牛奶过期了" in html and 'value="李娜"' in html and f'value="{TOKEN}"' in html
    assert not Ticket.objects.exists()


def test_too_many_photos_are_refused(me, goods_complaint, store):
    FeedbackSettings.objects.filter(pk=1).update(max_photos=2)
    photos = [photo(jpeg_bytes(), f"{n}.jpg") for n in range(3)]
    response = me.post("/m/feedback/new/", {**fields(goods_complaint, store), "photos": photos})
    assert response.status_code == 400
    assert "最多 2 张" in str(response.context["form"].errors["photos"])
    assert not Ticket.objects.exists()


def test_a_submission_files_one_ticket_even_when_posted_twice(me, member, goods_complaint, store):
    data = {**fields(goods_complaint, store), "photos": [photo(jpeg_bytes())]}
    first = me.post("/m/feedback/new/", data, follow=True)
    ticket = Ticket.objects.get()
    assert first.redirect_chain == [(f"/m/feedback/{ticket.number}/", 302)]
    assert ticket.number in first.content.decode()  # the success message names it
    assert ticket.member == member and ticket.details == "买的牛奶过期了\n第二行说明"
    assert ticket.photos.count() == 1

    again = me.post("/m/feedback/new/", {**fields(goods_complaint, store), "photos": []})
    assert again.status_code == 302 and again["Location"] == f"/m/feedback/{ticket.number}/"
    assert Ticket.objects.count() == 1
    assert Message.objects.filter(member=member, kind=Message.Kind.FEEDBACK).count() == 1

    me.post("/m/feedback/new/", fields(goods_complaint, store, once_token="u" * 43))
    assert Ticket.objects.count() == 2  # a new form is a new ticket


def test_the_forms_script_is_told_where_to_go_and_the_message_waits(me, goods_complaint, store):
    response = me.post(
        "/m/feedback/new/", fields(goods_complaint, store), headers={"X-Feedback-Form": "fetch"}
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 204
    assert response["X-Location"] == f"/m/feedback/{ticket.number}/"
    assert ticket.number in me.get(response["X-Location"]).content.decode()
    refused = me.post(
        "/m/feedback/new/",
        fields(goods_complaint, store, contact_phone="1"),
        headers={"X-Feedback-Form": "fetch"},
    )
    assert refused.status_code == 400 and "data-feedback-form" in refused.content.decode()


def test_a_form_without_its_token_asks_to_submit_again(me, goods_complaint, store):
    response = me.post("/m/feedback/new/", fields(goods_complaint, store, once_token="x"))
    assert response.status_code == 400 and "表单已过期" in response.content.decode()
    fresh = re.search(r'name="once_token" value="([^"]+)"', response.content.decode())[1]
    assert fresh != "x"
    assert (
        me.post("/m/feedback/new/", fields(goods_complaint, store, once_token=fresh)).status_code
        == 302
    )


def test_a_member_sends_at_most_the_policys_tickets_a_day(me, goods_complaint, store, submit):
    FeedbackSettings.objects.filter(pk=1).update(tickets_per_day=2)
    for n in range(2):
        me.post("/m/feedback/new/", fields(goods_complaint, store, once_token=f"{n}" * 40))
    response = me.post("/m/feedback/new/", fields(goods_complaint, store, once_token="z" * 40))
    assert response.status_code == 400 and "每天最多" in response.content.decode()
    assert Ticket.objects.count() == 2
    submit()  # staff filing a phone complaint for the member are not counted against them
    assert Ticket.objects.count() == 3


def test_my_feedback_lists_my_tickets_by_status_newest_first(
    me, member, member_factory, store, submit, agent
):
    waiting = submit(details="第一条\n更多")
    processing = submit(details="第二条")
    ticket_claim(ticket=processing, actor=agent)
    submit(member_factory(home_store=store), details="别人的")

    html = me.get("/m/feedback/").content.decode()
    numbers = re.findall(r'data-ticket="(FK\d+)"', html)
    assert numbers == [processing.number, waiting.number]
    assert "第一条" in html and "更多" not in html and "别人的" not in html
    assert 'data-status="waiting">等待处理' in html and 'data-status="processing">正在处理' in html

    html = me.get("/m/feedback/?status=processing").content.decode()
    assert re.findall(r'data-ticket="(FK\d+)"', html) == [processing.number]
    assert "data-empty" in me.get("/m/feedback/?status=closed").content.decode()
    assert me.get("/m/feedback/?status=nonsense").status_code == 200  # all of them


def test_my_feedback_pages_and_empty_state(me, submit):
    html = me.get("/m/feedback/").content.decode()
    assert "data-empty" in html and 'href="/m/feedback/new/"' in html
    tickets = [submit(details=f"第{n}条") for n in range(12)]
    first = re.findall(r'data-ticket="(FK\d+)"', me.get("/m/feedback/").content.decode())
    second = re.findall(r'data-ticket="(FK\d+)"', me.get("/m/feedback/?page=2").content.decode())
    assert len(first) == 10 and len(second) == 2
    assert set(first + second) == {t.number for t in tickets}
    assert me.get("/m/feedback/?page=abc").status_code == 200


def test_the_ticket_page_shows_the_handler_card_and_only_public_events(
    me, member, submit, agent, settings
):
    settings.MEDIA_ROOT  # noqa: B018 - roots fixture set it
    Handler.objects.create(
        user=agent,
        department=Department.objects.create(name="客服部"),
        employee_no="KF007",
        contact_phone="0571-88886666",
    )
    ticket = submit(photos=[jpeg_bytes()])
    ticket_claim(ticket=ticket, actor=agent)
    ticket_note(ticket=ticket, actor=agent, text="内部备注不可见")
    ticket_step(ticket=ticket, actor=agent, text="已联系专柜核实")
    compensation_grant(
        ticket=ticket, actor=agent, kind="points", points=50, reason="致歉补偿", once="c" * 40
    )
    html = me.get(f"/m/feedback/{ticket.number}/").content.decode()
    card = ["客服部", "KF007", "0571-88886666", "王芳", "已联系专柜核实", "139****1111"]
    for shown in [*card, "已为您补偿 · 50 积分"]:
        assert shown in html
    assert "内部备注不可见" not in html and "13900001111" not in html
    photo_url = f"/m/feedback/{ticket.number}/photos/{ticket.photos.get().pk}/"
    assert photo_url in html
    assert me.get(photo_url)["Content-Type"] == "image/jpeg"


def test_the_reply_promise_is_shown_only_while_it_holds(me, submit, agent):
    ticket = submit()
    html = me.get(f"/m/feedback/{ticket.number}/").content.decode()
    assert "data-reply-by" in html and "前回复您" in html
    Ticket.objects.filter(pk=ticket.pk).update(first_response_due=timezone.now() - timedelta(1))
    assert "data-reply-by" not in me.get(f"/m/feedback/{ticket.number}/").content.decode()


def test_another_members_ticket_and_photo_are_404(client, member_factory, store, submit, me):
    theirs = submit(member_factory(home_store=store), photos=[jpeg_bytes()])
    photo_id = theirs.photos.get().pk
    for url in [
        f"/m/feedback/{theirs.number}/",
        f"/m/feedback/{theirs.number}/photos/{photo_id}/",
    ]:
        assert me.get(url).status_code == 404
    for url in [f"/m/feedback/{theirs.number}/rate/", f"/m/feedback/{theirs.number}/reopen/"]:
        assert me.post(url, {"stars": 5, "reason": "x"}).status_code == 404
    assert not Rating.objects.exists()


def test_rating_only_once_and_only_when_resolved_or_closed(me, member, submit, agent):
    ticket = submit()
    tags = list(RatingTag.objects.filter(is_positive=True)[:2])
    rate = {"stars": "4", "tags": [t.pk for t in tags], "comment": "很快就解决了"}

    page = me.get(f"/m/feedback/{ticket.number}/").content.decode()
    assert "data-rate-form" not in page
    response = me.post(f"/m/feedback/{ticket.number}/rate/", rate)
    assert response.status_code == 400 and not Rating.objects.exists()

    ticket_claim(ticket=ticket, actor=agent)
    ticket_resolve(ticket=ticket, actor=agent, text="已为您换货")
    assert "data-rate-form" in me.get(f"/m/feedback/{ticket.number}/").content.decode()
    response = me.post(f"/m/feedback/{ticket.number}/rate/", rate)
    assert response.status_code == 302
    rating = Rating.objects.get()
    assert rating.stars == 4 and set(rating.tags.all()) == set(tags)
    assert rating.handler == agent and rating.comment == "很快就解决了"

    again = me.post(f"/m/feedback/{ticket.number}/rate/", {**rate, "stars": "1"}, follow=True)
    assert Rating.objects.get().stars == 4
    html = again.content.decode()
    assert 'data-stars="4"' in html and "data-rate-form" not in html and "该工单已评价" in html


def test_a_closed_unrated_ticket_can_be_rated_but_not_with_bad_stars_or_inactive_tags(
    me, submit, agent
):
    ticket = submit()
    ticket_close(ticket=ticket, actor=agent)
    retired = RatingTag.objects.create(name="旧标签", is_active=False)
    url = f"/m/feedback/{ticket.number}/rate/"
    for bad in [{"stars": "6"}, {"stars": "0"}, {"stars": "x"}, {}]:
        assert me.post(url, bad).status_code == 400
    response = me.post(url, {"stars": "5", "tags": [retired.pk]})
    assert response.status_code == 400 and "请从列表中选择标签" in response.content.decode()
    assert me.post(url, {"stars": "2", "comment": "长" * 501}).status_code == 400
    assert not Rating.objects.exists()
    assert me.post(url, {"stars": "5"}).status_code == 302
    assert Rating.objects.get().stars == 5


def test_reopening_within_the_window_only(me, submit, agent, member):
    ticket = submit()
    url = f"/m/feedback/{ticket.number}/reopen/"
    assert me.post(url, {"reason": "还没好"}).status_code == 400  # not resolved yet
    ticket_claim(ticket=ticket, actor=agent)
    ticket_resolve(ticket=ticket, actor=agent, text="已处理")
    assert "data-reopen-form" in me.get(f"/m/feedback/{ticket.number}/").content.decode()
    assert me.post(url, {"reason": ""}).status_code == 400
    assert me.post(url, {"reason": "换的还是坏的"}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.PROCESSING and ticket.reopen_count == 1
    assert "换的还是坏的" in me.get(f"/m/feedback/{ticket.number}/").content.decode()

    ticket_resolve(ticket=ticket, actor=agent, text="再次处理")
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=timezone.now() - timedelta(days=8))
    assert "data-reopen-form" not in me.get(f"/m/feedback/{ticket.number}/").content.decode()
    response = me.post(url, {"reason": "又坏了"})
    assert response.status_code == 400 and "7 天内" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.RESOLVED


def test_entry_points_and_inbox_link(me, member, submit):
    html = me.get("/m/card/").content.decode()
    assert 'href="/m/feedback/new/"' in html and 'href="/m/feedback/"' in html
    ticket = submit()
    message = Message.objects.get(member=member, kind=Message.Kind.FEEDBACK)
    html = me.get(f"/m/messages/{message.pk}/").content.decode()
    assert f'href="/m/feedback/{ticket.number}/"' in html and "查看反馈" in html


def test_pages_need_a_member(client):
    for url in ["/m/feedback/", "/m/feedback/new/"]:
        response = client.get(url)
        assert response.status_code == 302 and "/m/wechat/login/" in response["Location"]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_same_form_posted_at_once_from_two_tabs_files_one_ticket(
    feedback_defaults, member, store, goods_complaint
):
    barrier = threading.Barrier(4)

    def run(_n):
        try:
            barrier.wait()
            return ticket_submit(
                member=member,
                ticket_type=goods_complaint,
                store=store,
                details="双击了两次",
                contact_name="李娜",
                contact_phone="13900001111",
                once=TOKEN,
            )
        finally:
            connection.close()

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(run, range(4)))

    assert Ticket.objects.count() == 1
    assert {ticket.pk for ticket in results} == {Ticket.objects.get().pk}
