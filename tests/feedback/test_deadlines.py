"""SLA deadlines of submitted tickets in the desk's business hours, with the clock frozen:
across a weekend, a holiday and the Shanghai midnight; a diamond member's complaint first;
hold/resume moving the deadlines by the business minutes held; the first response set once."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from feedback.models import ServiceDay, ServiceHours
from feedback.services import (
    ticket_callback,
    ticket_claim,
    ticket_hold,
    ticket_note,
    ticket_resolve,
    ticket_resume,
    ticket_step,
)
from loyalty.ledger import account_get_or_create
from loyalty.models import PointsAccount, Tier

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def frozen(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def weekdays_only(feedback_defaults):
    ServiceHours.objects.filter(weekday__in=[5, 6]).delete()


# A regular member's goods complaint: 90 business minutes to answer, 1080 to resolve.


def test_a_friday_evening_complaint_is_due_on_monday_across_the_weekend(submit, weekdays_only):
    with frozen(at(2026, 12, 4, 20, 30)):  # Friday
        ticket = submit()

    assert ticket.first_response_due == at(2026, 12, 7, 10, 0)  # 30 min Fri + 60 min Mon
    assert ticket.resolution_due == at(2026, 12, 8, 14, 30)  # 30 + 720 Mon + 330 Tue
    assert ticket.number == "FK202612040001"


def test_a_holiday_is_skipped(submit, weekdays_only):
    ServiceDay.objects.create(date=date(2026, 12, 7), note="调休")
    ServiceDay.objects.create(date=date(2026, 12, 8), opens=time(10), closes=time(16))
    with frozen(at(2026, 12, 4, 20, 30)):
        ticket = submit()

    # Monday closed, Tuesday 10:00–16:00: 30 min Fri + 60 min from Tuesday's opening
    assert ticket.first_response_due == at(2026, 12, 8, 11, 0)
    # 30 Fri + 360 Tue + 690 from Wednesday 09:00
    assert ticket.resolution_due == at(2026, 12, 9, 20, 30)


def test_just_after_the_shanghai_midnight_counts_as_saturday_not_friday(submit, weekdays_only):
    moment = at(2026, 12, 5, 0, 30)  # Saturday in Shanghai, still Friday 16:30 in UTC
    assert moment.astimezone(ZoneInfo("UTC")).date() == date(2026, 12, 4)
    with frozen(moment):
        ticket = submit()

    assert ticket.first_response_due == at(2026, 12, 7, 10, 30)
    assert ticket.number == "FK202612050001"


def test_a_diamond_members_complaint_has_a_shorter_target_and_comes_first(
    submit, member, member_factory, store
):
    account = account_get_or_create(member_id=member.pk)
    PointsAccount.objects.filter(pk=account.pk).update(tier=Tier.objects.get(code="diamond"))
    with frozen(at(2026, 12, 9, 10, 0)):
        diamond = submit()
        regular = submit(member_factory(home_store=store))

    assert diamond.first_response_due == at(2026, 12, 9, 10, 22)
    assert regular.first_response_due == at(2026, 12, 9, 11, 30)
    assert diamond.priority > regular.priority


def test_hold_pauses_the_clock_and_resume_moves_the_deadlines_by_business_minutes(submit, agent):
    with frozen(at(2026, 12, 9, 20, 0)):  # Wednesday, the desk closes at 21:00
        ticket = submit()
        ticket_claim(ticket=ticket, actor=agent)
    assert ticket.first_response_due == at(2026, 12, 10, 9, 30)  # 60 Wed + 30 Thu
    assert ticket.resolution_due == at(2026, 12, 11, 14, 0)  # 60 Wed + 720 Thu + 300 Fri
    with frozen(at(2026, 12, 9, 20, 30)):
        ticket_hold(ticket=ticket, actor=agent, text="等会员提供小票")
    with frozen(at(2026, 12, 10, 9, 45)):  # 30 min Wed + 45 min Thu held, the night not
        ticket = ticket_resume(ticket=ticket, actor=agent)

    assert ticket.first_response_due == at(2026, 12, 10, 10, 45)
    assert ticket.resolution_due == at(2026, 12, 11, 15, 15)
    assert not ticket.on_hold and ticket.held_since is None
    assert ticket.events.get(kind="resumed").data == {"held_minutes": 75}


def test_the_first_response_is_set_once_by_the_first_public_answer(submit, agent):
    with frozen(at(2026, 12, 9, 10, 0)):
        ticket = submit()
        ticket_claim(ticket=ticket, actor=agent)
    with frozen(at(2026, 12, 9, 10, 5)):
        ticket_note(ticket=ticket, actor=agent, text="内部：先查监控")
        ticket_step(ticket=ticket, actor=agent, text="内部步骤", public=False)
    ticket.refresh_from_db()
    assert ticket.first_responded_at is None
    with frozen(at(2026, 12, 9, 10, 10)):
        ticket_callback(
            ticket=ticket,
            actor=agent,
            called_at=at(2026, 12, 9, 10, 8),
            outcome="reached",
            text="已致电",
        )
    with frozen(at(2026, 12, 9, 11, 0)):
        ticket_step(ticket=ticket, actor=agent, text="已联系专柜")
        ticket_resolve(ticket=ticket, actor=agent, text="已退款")

    ticket.refresh_from_db()
    assert ticket.first_responded_at == at(2026, 12, 9, 10, 10)
    assert ticket.resolved_at == at(2026, 12, 9, 11, 0)
