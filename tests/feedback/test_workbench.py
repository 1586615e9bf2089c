"""The staff workbench (客服工作台) through its pages: the queue's filters, order and scope, each
action of a ticket through its form (refusals shown, nothing changed), internal notes kept
from the member, compensation within the cap and once per form, who may open what, and the
member 360's tickets panel within a query budget."""

import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from coupons.models import Coupon
from feedback.models import Compensation, Ticket, TicketEvent
from feedback.services import ticket_claim, ticket_note, ticket_resolve
from loyalty.ledger import points_balance
from members.models import StaffProfile
from tests.conftest import once
from tests.members.factories import StaffFactory, signed_in_as

pytestmark = pytest.mark.django_db

QUEUE = "/backoffice/feedback/"


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(buffer, "JPEG")
    return buffer.getvalue()


def page_url(ticket, action=""):
    if action == "compensate":
        return reverse("backoffice:feedback_compensate", args=[ticket.pk])
    if action:
        return reverse("backoffice:feedback_ticket_act", args=[ticket.pk, action])
    return reverse("backoffice:feedback_ticket", args=[ticket.pk])


def rows(response) -> list[str]:
    return re.findall(r'data-ticket="(FK\d+)"', response.content.decode())


def act(client, ticket, action, **fields):
    data = {f"{action}-{name}": value for name, value in fields.items()} | once()
    return client.post(page_url(ticket, action), data)


@pytest.fixture
def desk(client, agent):
    client.force_login(agent)
    return client


def store_user(role, store):
    return StaffFactory(user__role=role, scope=StaffProfile.Scope.STORE, store=store).user


# --- The queue ---------------------------------------------------------------------------------


def test_the_queue_filters_by_status_type_store_handler_and_overdue(
    desk, submit, agent, store_a, store_b, opinion, member_factory
):
    a = submit(store_=store_a)
    b = submit(store_=store_b, ticket_type=opinion)
    c = submit(store_=store_a)
    ticket_claim(ticket=a, actor=agent)
    Ticket.objects.filter(pk=c.pk).update(
        first_response_due=timezone.now() - timedelta(hours=1),
        resolution_due=timezone.now() - timedelta(minutes=30),
    )

    assert set(rows(desk.get(QUEUE))) == {a.number, b.number, c.number}  # open by default
    assert rows(desk.get(QUEUE, {"status": "processing"})) == [a.number]
    assert set(rows(desk.get(QUEUE, {"status": "waiting"}))) == {b.number, c.number}
    assert rows(desk.get(QUEUE, {"ticket_type": opinion.pk})) == [b.number]
    assert rows(desk.get(QUEUE, {"store": store_b.pk})) == [b.number]
    assert rows(desk.get(QUEUE, {"handler": "mine"})) == [a.number]
    assert rows(desk.get(QUEUE, {"handler": str(agent.pk)})) == [a.number]
    assert set(rows(desk.get(QUEUE, {"handler": "unassigned"}))) == {b.number, c.number}
    assert rows(desk.get(QUEUE, {"overdue": "on"})) == [c.number]
    assert rows(desk.get(QUEUE, {"q": b.number.lower()})) == [b.number]

    html = desk.get(QUEUE).content.decode()
    assert rows(desk.get(QUEUE))[0] == c.number  # overdue first
    assert 'class="fb-row_late" data-late' in html and "已超时" in html
    assert 'data-tab="open"' in html and 'data-tab="processing"' in html


def test_the_queue_puts_the_higher_priority_first_among_tickets_in_time(desk, submit):
    low, high = submit(), submit()
    Ticket.objects.filter(pk=low.pk).update(priority=1)
    Ticket.objects.filter(pk=high.pk).update(priority=9)

    assert rows(desk.get(QUEUE)) == [high.number, low.number]


def test_the_queue_pages_keep_to_the_open_tickets(desk, submit, agent, monkeypatch):
    from feedback import views_backoffice

    monkeypatch.setattr(views_backoffice, "PAGE_SIZE", 2)
    tickets = [submit() for _ in range(4)]
    ticket_claim(ticket=tickets[0], actor=agent)
    ticket_resolve(ticket=tickets[0], actor=agent, text="已处理")

    first, second = desk.get(QUEUE), desk.get(QUEUE, {"page": "2"})

    assert len(rows(first)) == 2 and len(rows(second)) == 1
    assert tickets[0].number not in rows(first) + rows(second)
    html = first.content.decode()
    assert "page=2" in html
    assert 'data-tab="resolved"' in html and 'data-tab="all"' in html
    counts = dict(re.findall(r'data-tab="(\w+)">[^<]*<span class="fb-count">(\d+)<', html))
    assert counts == {
        "open": "3",
        "waiting": "3",
        "processing": "0",
        "resolved": "1",
        "closed": "0",
        "all": "4",
    }


def test_the_queue_reads_a_page_in_a_fixed_number_of_queries(
    desk, submit, agent, member_factory, store, django_assert_max_num_queries
):
    def queries_for_a_page():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert desk.get(QUEUE).status_code == 200
        return len(captured)

    for _ in range(2):
        ticket_claim(ticket=submit(member_factory(home_store=store)), actor=agent)
    few = queries_for_a_page()
    for _ in range(6):
        ticket_claim(ticket=submit(member_factory(home_store=store)), actor=agent)

    assert queries_for_a_page() == few
    with django_assert_max_num_queries(18):  # session, user, scope ×3, counts, page, choices …
        desk.get(QUEUE)


def test_bad_filters_are_form_errors_not_500(desk, submit):
    submit()

    for bad in ({"store": "999999"}, {"ticket_type": "x"}, {"status": "lost"}, {"handler": "7"}):
        answer = desk.get(QUEUE, bad)
        assert answer.status_code == 400, bad
        assert "bo-errors" in answer.content.decode()
    assert desk.get(QUEUE, {"page": "999"}).status_code == 200


def test_a_store_scoped_user_sees_only_its_store_and_gets_404_elsewhere(
    client, submit, store_a, store_b
):
    mine = submit(store_=store_a, photos=[jpeg()])
    theirs = submit(store_=store_b, photos=[jpeg()])
    for user in (
        store_user("customer_service", store_a),
        store_user("store_manager", store_a),
    ):
        client.force_login(user)

        assert rows(client.get(QUEUE, {"status": ""})) == [mine.number]
        assert client.get(QUEUE, {"store": store_b.pk}).status_code == 400
        assert client.get(page_url(mine)).status_code == 200
        photo = mine.photos.get()
        answer = client.get(reverse("backoffice:feedback_ticket_photo", args=[mine.pk, photo.pk]))
        assert answer.status_code == 200 and answer["Content-Type"] == "image/jpeg"
        assert client.get(page_url(theirs)).status_code == 404
        other_photo = theirs.photos.get()
        assert (
            client.get(
                reverse("backoffice:feedback_ticket_photo", args=[theirs.pk, other_photo.pk])
            ).status_code
            == 404
        )
        assert (
            client.get(
                reverse("backoffice:feedback_ticket_photo", args=[mine.pk, other_photo.pk])
            ).status_code
            == 404
        )
        assert act(client, theirs, "claim").status_code == 404
        theirs.refresh_from_db()
        assert theirs.status == "waiting"


def test_analysts_cannot_open_the_workbench_and_customer_service_not_analytics(
    client, submit, agent
):
    ticket = submit()
    client.force_login(StaffFactory(user__role="analyst").user)
    assert client.get(QUEUE).status_code == 403
    assert client.get(page_url(ticket)).status_code == 403
    assert act(client, ticket, "claim").status_code == 403

    client.force_login(agent)
    assert client.get(QUEUE).status_code == 200
    assert client.get(reverse("backoffice:statistics")).status_code == 403
    assert client.get(reverse("backoffice:rfm")).status_code == 403
    nav = client.get(QUEUE).content.decode()
    assert "客服工作台" in nav and reverse("backoffice:statistics") not in nav


# --- A ticket and its actions ----------------------------------------------------------------


def test_the_ticket_page_shows_member_card_photos_sla_and_timeline(
    desk, submit, member, agent, make_template, campaign
):
    from coupons.issuing import coupon_issue
    from loyalty.ledger import points_post

    points_post(member_id=member.pk, kind="adjust", points=321, key="t:1", memo="x")
    coupon_issue(template=make_template(name="十元现金券"), member=member, campaign=campaign)
    ticket = submit(photos=[jpeg()])

    html = desk.get(page_url(ticket)).content.decode()

    assert ticket.number in html and "买的牛奶过期了" in html
    assert 'data-member="points">321<' in html and "十元现金券" in html
    assert member.name not in html and member.phone not in html  # masked
    assert 'data-link="member-360"' in html
    photo = ticket.photos.get()
    assert reverse("backoffice:feedback_ticket_photo", args=[ticket.pk, photo.pk]) in html
    assert 'data-panel="sla"' in html and "首次响应" in html
    assert 'data-action="claim"' in html and 'data-action="resolve"' not in html  # waiting
    assert 'data-action="compensate"' in html


def test_each_action_through_the_page(desk, submit, agent, store):
    other = StaffFactory(user__role="customer_service", user__username="zhang").user
    ticket = submit()

    assert act(desk, ticket, "claim").status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.handler) == ("processing", agent)
    html = desk.get(page_url(ticket)).content.decode()
    assert 'data-action="claim"' not in html
    for shown in ("step", "callback", "note", "resolve", "assign", "hold", "close"):
        assert f'data-action="{shown}"' in html, shown

    assert act(desk, ticket, "step", text="已联系专柜核实").status_code == 302
    called = timezone.localtime() - timedelta(minutes=5)
    answer = act(
        desk,
        ticket,
        "callback",
        called_at=called.strftime("%Y-%m-%dT%H:%M"),
        outcome="reached",
        text="会员同意换货",
    )
    assert answer.status_code == 302
    callback = ticket.events.get(kind="callback")
    assert callback.callback_outcome == "reached" and callback.text == "会员同意换货"
    assert act(desk, ticket, "note", text="会员情绪激动").status_code == 302
    assert act(desk, ticket, "assign", handler=other.pk).status_code == 302
    ticket.refresh_from_db()
    assert ticket.handler == other
    assert act(desk, ticket, "hold", text="等会员发照片").status_code == 302
    ticket.refresh_from_db()
    assert ticket.on_hold
    html = desk.get(page_url(ticket)).content.decode()
    assert 'data-action="resume"' in html and 'data-action="hold"' not in html
    assert act(desk, ticket, "resume", text="").status_code == 302
    assert act(desk, ticket, "resolve", text="已为您换货").status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "resolved" and not ticket.on_hold
    assert act(desk, ticket, "reopen", text="会员说还有问题").status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "processing" and ticket.reopen_count == 1
    assert act(desk, ticket, "close").status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "closed"

    kinds = list(ticket.events.values_list("kind", flat=True))
    assert kinds == [
        "created",
        "claimed",
        "step",
        "callback",
        "note",
        "assigned",
        "held",
        "resumed",
        "resolved",
        "reopened",
        "closed",
    ]
    html = desk.get(page_url(ticket)).content.decode()
    assert "内部备注 (仅员工可见)" in html and "data-internal" in html
    assert f"指派给 {other.staff_profile.name}" in html
    assert "接通" in html  # the call's outcome
    for action in ("claim", "step", "resolve", "close", "reopen"):
        assert f'data-action="{action}"' not in html  # closed: nothing left to do


def test_the_contact_phone_is_whole_for_the_handler_only(desk, submit, agent):
    ticket = submit(contact_phone="13712345678")

    html = desk.get(page_url(ticket)).content.decode()
    assert "137****5678" in html and "13712345678" not in html
    act(desk, ticket, "claim")
    assert "13712345678" in desk.get(page_url(ticket)).content.decode()


def test_a_refused_transition_shows_the_services_reason_and_changes_nothing(desk, submit, agent):
    ticket = submit()
    ticket_claim(ticket=ticket, actor=agent)
    before = ticket.events.count()

    answer = act(desk, ticket, "claim")

    assert answer.status_code == 409
    html = answer.content.decode()
    assert "data-error" in html and "正在处理" in html and "不能" in html
    assert ticket.events.count() == before
    answer = act(desk, ticket, "reopen", text="再看看")
    assert answer.status_code == 409 and "data-error" in answer.content.decode()
    answer = act(desk, ticket, "resume", text="")
    assert answer.status_code == 409
    ticket.refresh_from_db()
    assert (ticket.status, ticket.on_hold, ticket.events.count()) == ("processing", False, before)


def test_bad_input_is_a_form_error(desk, submit, agent, store_b):
    ticket = submit()
    ticket_claim(ticket=ticket, actor=agent)
    elsewhere = store_user("customer_service", store_b)

    assert act(desk, ticket, "step", text="  ").status_code in (400, 409)
    assert (
        act(desk, ticket, "callback", called_at="yesterday", outcome="reached").status_code == 400
    )
    assert (
        act(desk, ticket, "callback", called_at="2026-01-01T10:00", outcome="maybe").status_code
        == 400
    )
    future = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    answer = act(desk, ticket, "callback", called_at=future, outcome="reached")
    assert answer.status_code == 409 and "不能晚于现在" in answer.content.decode()
    assert act(desk, ticket, "assign", handler=elsewhere.pk).status_code == 400  # not a choice
    assert act(desk, ticket, "nonsense").status_code == 404
    assert desk.post(page_url(ticket, "step"), {"step-text": "x"}).status_code == 400  # no token
    assert ticket.events.count() == 2


def test_a_double_submitted_action_runs_once(desk, submit, agent):
    ticket = submit()
    ticket_claim(ticket=ticket, actor=agent)
    data = {"step-text": "已联系专柜"} | once()

    first = desk.post(page_url(ticket, "step"), data)
    again = desk.post(page_url(ticket, "step"), data)

    assert first.status_code == again.status_code == 302
    assert ticket.events.filter(kind="step").count() == 1


def test_internal_notes_never_reach_the_members_page(client, desk, submit, member, agent):
    ticket = submit()
    act(desk, ticket, "claim")
    act(desk, ticket, "note", text="会员情绪激动内部注意")
    act(desk, ticket, "step", text="已联系专柜换货")

    assert "会员情绪激动内部注意" in desk.get(page_url(ticket)).content.decode()
    member_client = signed_in_as(type(client)(), member)
    html = member_client.get(f"/m/feedback/{ticket.number}/").content.decode()
    assert "已联系专柜换货" in html
    assert "会员情绪激动内部注意" not in html


# --- Compensation --------------------------------------------------------------------------


def test_compensation_within_the_cap_once_per_form(desk, submit, member, agent):
    ticket = submit()
    html = desk.get(page_url(ticket)).content.decode()
    assert "200" in html and "data-cap" in html  # customer service: 200 points a ticket

    token = once()
    data = {
        "compensate-kind": "points",
        "compensate-points": "50",
        "compensate-reason": "商品质量问题致歉",
    } | token
    first = desk.post(page_url(ticket, "compensate"), data)
    again = desk.post(page_url(ticket, "compensate"), data)

    assert first.status_code == again.status_code == 302
    assert points_balance(member_id=member.pk) == 50
    assert Compensation.objects.filter(ticket=ticket).count() == 1
    html = desk.get(page_url(ticket)).content.decode()
    assert 'data-compensation="points"' in html and "商品质量问题致歉" in html


def test_compensation_over_the_cap_is_refused_with_a_reason(desk, submit, member):
    ticket = submit()
    data = {"compensate-kind": "points", "compensate-points": "201", "compensate-reason": "致歉"}

    answer = desk.post(page_url(ticket, "compensate"), data | once())

    assert answer.status_code == 409
    html = answer.content.decode()
    assert "200" in html and "data-error" in html
    assert points_balance(member_id=member.pk) == 0
    assert not Compensation.objects.exists()


def test_a_compensation_coupon_from_the_list(desk, submit, member, make_template):
    ticket = submit()
    ten = make_template("CASH10", name="十元券", face_value_fen=1000)
    make_template("OLD", is_active=False)
    html = desk.get(page_url(ticket)).content.decode()
    assert "十元券" in html and ">OLD<" not in html

    data = {"compensate-kind": "coupon", "compensate-template": ten.pk, "compensate-reason": "致歉"}
    assert desk.post(page_url(ticket, "compensate"), data | once()).status_code == 302
    assert Coupon.objects.get(member=member).template == ten

    for bad in (
        {"compensate-kind": "coupon", "compensate-reason": "x"},  # no coupon chosen
        {"compensate-kind": "points", "compensate-points": "-5", "compensate-reason": "x"},
        {"compensate-kind": "cash", "compensate-reason": "x"},
    ):
        assert desk.post(page_url(ticket, "compensate"), bad | once()).status_code == 400


def test_without_the_permission_no_compensation(client, submit, feedback_defaults):
    ticket = submit()
    user = StaffFactory(user__role="customer_service").user
    from django.contrib.auth.models import Permission

    user.user_permissions.add(Permission.objects.get(codename="view_ticket"))
    # a customer-service role without grant_compensation: strip it from the group
    group = user.groups.get()
    group.permissions.remove(Permission.objects.get(codename="grant_compensation"))
    client.force_login(user)

    assert 'data-action="compensate"' not in client.get(page_url(ticket)).content.decode()
    data = {"compensate-kind": "points", "compensate-points": "5", "compensate-reason": "x"}
    assert client.post(page_url(ticket, "compensate"), data | once()).status_code == 403


# --- The member 360 ------------------------------------------------------------------------


def test_the_member_360_lists_the_members_tickets_within_a_query_budget(
    desk, submit, member, agent, django_assert_max_num_queries
):
    tickets = [submit() for _ in range(3)]
    ticket_claim(ticket=tickets[0], actor=agent)
    ticket_note(ticket=tickets[0], actor=agent, text="内部")
    ticket_resolve(ticket=tickets[0], actor=agent, text="已处理")
    from feedback.models import RatingTag
    from feedback.services import ticket_rate

    ticket_rate(ticket=tickets[0], member=member, stars=4, tags=[RatingTag.objects.first()])
    url = reverse("backoffice:member_detail", args=[member.pk])
    desk.get(url)  # warm the caches (content types, permissions)

    from feedback.panels import tickets_member_panel

    with django_assert_max_num_queries(2):  # the user's scope, the tickets
        panel = tickets_member_panel(member=member, user=agent)
    with django_assert_max_num_queries(30):
        html = desk.get(url).content.decode()

    assert panel.context["total"] == 3
    assert 'data-panel="tickets"' in html
    for ticket in tickets:
        assert page_url(ticket) in html
    assert "4 星" in html


def test_the_member_360_panel_keeps_to_the_scope_and_the_permission(
    client, submit, member, store_a
):
    submit()
    analyst = StaffFactory(user__role="analyst").user
    client.force_login(analyst)
    url = reverse("backoffice:member_detail", args=[member.pk])
    assert 'data-panel="tickets"' not in client.get(url).content.decode()

    from feedback.panels import tickets_member_panel

    assert tickets_member_panel(member=member, user=store_user("store_manager", store_a)) is None
    assert TicketEvent.objects.exists()


def test_the_ticket_page_reads_in_a_fixed_number_of_queries(desk, submit, agent):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core.once import once_token_new
    from feedback.services import compensation_grant, ticket_step

    ticket = submit(photos=[jpeg()])
    ticket_claim(ticket=ticket, actor=agent)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert desk.get(page_url(ticket)).status_code == 200
        return len(captured)

    few = queries()
    for n in range(5):
        ticket_step(ticket=ticket, actor=agent, text=f"第{n}步")
        ticket_note(ticket=ticket, actor=agent, text=f"备注{n}")
        compensation_grant(
            ticket=ticket,
            actor=agent,
            kind="points",
            points=10,
            reason="致歉",
            once=once_token_new(),
        )

    assert queries() <= few + 1  # the granted list appears: its sums come from the same rows
