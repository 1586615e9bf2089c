"""The ticket's state machine: every allowed action works from its statuses and is recorded
with who and when; every other action is refused with a reason and changes nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.exceptions import ServiceError
from feedback.models import RatingTag, Ticket, TicketEvent
from feedback.services import (
    ticket_assign,
    ticket_callback,
    ticket_claim,
    ticket_close,
    ticket_hold,
    ticket_note,
    ticket_rate,
    ticket_reopen,
    ticket_resolve,
    ticket_resume,
    ticket_step,
)
from feedback.workflow import TRANSITIONS, TransitionRefused
from members.models import Message
from tests.members.factories import StaffFactory

pytestmark = pytest.mark.django_db
S = Ticket.Status


def in_status(submit, agent, status):
    ticket = submit()
    if status in (S.PROCESSING, S.RESOLVED, S.CLOSED):
        ticket_claim(ticket=ticket, actor=agent)
    if status in (S.RESOLVED, S.CLOSED):
        ticket_resolve(ticket=ticket, actor=agent, text="已为您退款")
    if status == S.CLOSED:
        ticket_close(ticket=ticket, actor=agent)
    return Ticket.objects.get(pk=ticket.pk)


def actions(agent, colleague):
    """action → (call, the event kind it records)."""
    return {
        "claim": (lambda t: ticket_claim(ticket=t, actor=agent), TicketEvent.Kind.CLAIMED),
        "assign": (
            lambda t: ticket_assign(ticket=t, actor=agent, handler_user=colleague),
            TicketEvent.Kind.ASSIGNED,
        ),
        "step": (lambda t: ticket_step(ticket=t, actor=agent, text="已联系专柜"), "step"),
        "callback": (
            lambda t: ticket_callback(
                ticket=t,
                actor=agent,
                called_at=timezone.now(),
                outcome="reached",
                text="致电给予回复",
            ),
            TicketEvent.Kind.CALLBACK,
        ),
        "note": (lambda t: ticket_note(ticket=t, actor=agent, text="疑似重复投诉"), "note"),
        "hold": (lambda t: ticket_hold(ticket=t, actor=agent), TicketEvent.Kind.HELD),
        "resolve": (lambda t: ticket_resolve(ticket=t, actor=agent, text="已处理"), "resolved"),
        "reopen": (lambda t: ticket_reopen(ticket=t, actor=agent, reason="会员不满意"), "reopened"),
        "close": (lambda t: ticket_close(ticket=t, actor=agent), TicketEvent.Kind.CLOSED),
    }


@pytest.fixture
def colleague(feedback_defaults):
    return StaffFactory(user__role="customer_service").user


STATUS_AFTER = {"claim": S.PROCESSING, "assign": S.PROCESSING, "resolve": S.RESOLVED}
STATUS_AFTER |= {"reopen": S.PROCESSING, "close": S.CLOSED}


@pytest.mark.parametrize("status", [S.WAITING, S.PROCESSING, S.RESOLVED, S.CLOSED])
@pytest.mark.parametrize(
    "action", ["claim", "assign", "step", "callback", "note", "hold", "resolve", "reopen", "close"]
)
def test_each_action_works_only_where_the_table_allows_it(submit, agent, colleague, status, action):
    ticket = in_status(submit, agent, status)
    call, kind = actions(agent, colleague)[action]
    events_before = ticket.events.count()
    allowed = status in TRANSITIONS[action][0]

    if not allowed:
        with pytest.raises(TransitionRefused) as refused:
            call(ticket)
        assert "不能" in str(refused.value)
        assert Ticket.objects.get(pk=ticket.pk).status == status
        assert ticket.events.count() == events_before
        return

    before = timezone.now()
    call(ticket)
    ticket.refresh_from_db()
    assert ticket.status == STATUS_AFTER.get(action, status)
    event = ticket.events.order_by("-pk").first()
    assert event.kind == kind
    assert event.actor == agent
    assert before <= event.created_at <= timezone.now()


def test_the_member_is_told_of_every_status_change_with_a_link(submit, agent, member):
    ticket = submit()
    ticket_claim(ticket=ticket, actor=agent)
    ticket_step(ticket=ticket, actor=agent, text="处理中")  # no status change: no message
    ticket_resolve(ticket=ticket, actor=agent, text="已处理")
    ticket_reopen(ticket=ticket, member=member, reason="还没解决")
    ticket_resolve(ticket=ticket, actor=agent, text="换货完成")
    ticket_close(ticket=ticket, actor=None)

    inbox = list(Message.objects.filter(member=member).order_by("pk"))
    assert len(inbox) == 6  # submitted, claimed, resolved, reopened, resolved, closed
    assert {m.kind for m in inbox} == {Message.Kind.FEEDBACK}
    assert {m.link for m in inbox} == {f"/m/feedback/{ticket.number}/"}
    assert "已处理" in inbox[2].title and ticket.number in inbox[2].body
    assert "正在处理" in inbox[1].body


def test_the_system_closes_only_resolved_tickets(submit, agent):
    ticket = submit()
    with pytest.raises(ServiceError):
        ticket_close(ticket=ticket, actor=None)
    assert Ticket.objects.get(pk=ticket.pk).status == S.WAITING


def test_a_claimed_ticket_cannot_be_claimed_again_by_another(submit, agent, colleague):
    ticket = submit()
    ticket_claim(ticket=ticket, actor=agent)
    with pytest.raises(TransitionRefused):
        ticket_claim(ticket=ticket, actor=colleague)
    assert Ticket.objects.get(pk=ticket.pk).handler == agent


def test_reopen_by_another_member_or_too_late_is_refused(submit, agent, member_factory, store):
    ticket = in_status(submit, agent, S.RESOLVED)
    with pytest.raises(ServiceError):
        ticket_reopen(ticket=ticket, member=member_factory(home_store=store), reason="我也要")
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=timezone.now() - timedelta(days=8))
    with pytest.raises(ServiceError) as late:
        ticket_reopen(ticket=ticket, member=ticket.member, reason="还没解决")
    assert late.value.code == "reopen_too_late"


def test_the_member_rates_a_resolved_ticket_once_with_tags(submit, agent, member):
    ticket = submit()
    tags = list(RatingTag.objects.filter(name__in=["态度热情", "回复及时"]))
    with pytest.raises(TransitionRefused):
        ticket_rate(ticket=ticket, member=member, stars=5, tags=tags)
    ticket = in_status(lambda: ticket, agent, S.RESOLVED)

    rating = ticket_rate(ticket=ticket, member=member, stars=5, tags=tags, comment="很满意")

    assert rating.handler == agent
    assert set(rating.tags.values_list("name", flat=True)) == {"态度热情", "回复及时"}
    with pytest.raises(ServiceError):
        ticket_rate(ticket=ticket, member=member, stars=1, tags=[])
    with pytest.raises(ServiceError):
        ticket_rate(ticket=ticket, member=member, stars=6, tags=[])


def test_resume_without_hold_and_steps_without_text_are_refused(submit, agent):
    ticket = in_status(submit, agent, S.PROCESSING)
    with pytest.raises(ServiceError):
        ticket_resume(ticket=ticket, actor=agent)
    with pytest.raises(ServiceError):
        ticket_step(ticket=ticket, actor=agent, text="   ")
    with pytest.raises(ServiceError):
        ticket_callback(
            ticket=ticket, actor=agent, called_at=timezone.now(), outcome="maybe", text=""
        )
