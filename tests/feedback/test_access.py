"""Who sees which ticket: a member only their own (another's is a 404), store-scoped staff
only their store's, internal notes never in the member's timeline or page; customer service
does not reach analytics."""

import pytest
from django.urls import reverse

from feedback.models import Department, Handler, TicketEvent
from feedback.selectors import member_tickets, member_timeline, staff_tickets
from feedback.services import ticket_claim, ticket_note, ticket_step
from members.models import StaffProfile
from tests.members.factories import StaffFactory, signed_in_as

pytestmark = pytest.mark.django_db


def test_a_member_sees_only_their_own_tickets_and_gets_404_for_another(
    client, submit, member, member_factory, store
):
    other = member_factory(home_store=store)
    mine, theirs = submit(), submit(other)

    assert list(member_tickets(member=member)) == [mine]
    signed_in_as(client, member)
    assert client.get(f"/m/feedback/{mine.number}/").status_code == 200
    assert client.get(f"/m/feedback/{theirs.number}/").status_code == 404
    assert client.get(f"/m/feedback/{theirs.number}/photos/1/").status_code == 404


def test_store_scoped_staff_see_only_their_stores_tickets(submit, store_a, store_b, agent):
    in_a, in_b = submit(store_=store_a), submit(store_=store_b)
    desk_a = StaffFactory(
        user__role="customer_service", scope=StaffProfile.Scope.STORE, store=store_a
    ).user
    manager_b = StaffFactory(
        user__role="store_manager", scope=StaffProfile.Scope.STORE, store=store_b
    ).user

    assert list(staff_tickets(user=desk_a)) == [in_a]
    assert list(staff_tickets(user=manager_b)) == [in_b]
    assert set(staff_tickets(user=agent)) == {in_a, in_b}  # HQ scope
    assert list(staff_tickets(user=agent, store=store_b)) == [in_b]
    ticket_claim(ticket=in_a, actor=agent)
    assert list(staff_tickets(user=agent, status="processing")) == [in_a]
    assert list(staff_tickets(user=agent, handler=agent)) == [in_a]


def test_internal_notes_never_reach_the_member(client, submit, member, agent):
    ticket = submit()
    ticket_claim(ticket=ticket, actor=agent)
    ticket_note(ticket=ticket, actor=agent, text="会员情绪激动，内部注意")
    ticket_step(ticket=ticket, actor=agent, text="内部核实库存", public=False)
    ticket_step(ticket=ticket, actor=agent, text="已联系专柜换货")
    TicketEvent.objects.create(ticket=ticket, kind="escalated", public=True, text="升级主管")

    kinds = [e.kind for e in member_timeline(ticket=ticket)]
    assert kinds == ["created", "claimed", "step"]
    html = signed_in_as(client, member).get(f"/m/feedback/{ticket.number}/").content.decode()
    assert "已联系专柜换货" in html
    for secret in ["会员情绪激动", "内部核实库存", "升级主管"]:
        assert secret not in html


def test_the_member_page_shows_the_handlers_card(client, submit, member, agent):
    department = Department.objects.create(name="客服部")
    Handler.objects.create(
        user=agent, department=department, employee_no="KF001", contact_phone="0571-88886666"
    )
    ticket = submit()
    ticket_claim(ticket=ticket, actor=agent)

    html = signed_in_as(client, member).get(f"/m/feedback/{ticket.number}/").content.decode()
    for shown in ["王芳", "客服部", "KF001", "0571-88886666", "正在处理", ticket.number]:
        assert shown in html


def test_customer_service_cannot_open_analytics(client, agent):
    client.force_login(agent)
    assert client.get(reverse("backoffice:statistics")).status_code == 403
    assert client.get(reverse("backoffice:rfm")).status_code == 403
    assert agent.has_perm("feedback.change_ticket")
    assert agent.has_perm("feedback.grant_compensation")
