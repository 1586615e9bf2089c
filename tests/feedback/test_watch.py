"""The SLA watch (every five minutes): a reminder to the handler before a deadline, sent
once; an escalation to the supervisors once overdue, sent once; resolved tickets nobody
reopened close by themselves. The clock is frozen at each run."""

import importlib
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps as django_apps
from django_celery_beat.models import PeriodicTask

from feedback.models import Department, Handler, Ticket
from feedback.services import ticket_claim, ticket_hold, ticket_resolve
from feedback.tasks import tickets_sla_watch_task
from feedback.watch import tickets_sla_watch
from members.models import Message
from tests.members.factories import StaffFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def supervisor(store, feedback_defaults):
    user = StaffFactory(user__role="customer_service", user__email="boss@mall.example").user
    department = Department.objects.create(name="武林店客服部", store=store)
    Handler.objects.create(
        user=user, department=department, employee_no="KF900", is_supervisor=True
    )
    return user


@pytest.fixture
def claimed(submit, agent):
    with time_machine.travel(at(2026, 12, 9, 10, 0), tick=False):  # Wednesday
        ticket = submit()  # first response due 11:30, resolution Thursday 16:00
        ticket_claim(ticket=ticket, actor=agent)
    return ticket


def watch(moment, capture):
    with time_machine.travel(moment, tick=False), capture(execute=True):
        return tickets_sla_watch()


def test_the_handler_is_reminded_once_before_the_deadline(
    claimed, agent, supervisor, mailoutbox, django_capture_on_commit_callbacks
):
    assert watch(at(2026, 12, 9, 10, 55), django_capture_on_commit_callbacks)["reminded"] == 0

    counts = watch(at(2026, 12, 9, 11, 5), django_capture_on_commit_callbacks)
    again = watch(at(2026, 12, 9, 11, 10), django_capture_on_commit_callbacks)

    assert counts["reminded"] == 1 and again["reminded"] == 0
    assert [m.to for m in mailoutbox] == [[agent.email]]
    assert claimed.number in mailoutbox[0].subject and "11:30" in mailoutbox[0].subject
    event = claimed.events.get(kind="reminded")
    assert not event.public and event.actor is None and event.data["to"] == [agent.pk]
    assert Ticket.objects.get(pk=claimed.pk).reminded_first_at == at(2026, 12, 9, 11, 5)


def test_an_overdue_ticket_escalates_once_to_the_stores_supervisor(
    claimed, agent, supervisor, mailoutbox, django_capture_on_commit_callbacks
):
    watch(at(2026, 12, 9, 11, 5), django_capture_on_commit_callbacks)  # the reminder
    counts = watch(at(2026, 12, 9, 11, 31), django_capture_on_commit_callbacks)
    again = watch(at(2026, 12, 9, 12, 0), django_capture_on_commit_callbacks)

    assert counts["escalated"] == 1 and again["escalated"] == 0
    assert [m.to for m in mailoutbox] == [[agent.email], ["boss@mall.example"]]
    assert "超时" in mailoutbox[1].subject
    event = claimed.events.get(kind="escalated")
    assert not event.public and event.data["to"] == [supervisor.pk]
    # the member hears nothing of reminders or escalations
    assert not Message.objects.filter(body__contains="超时").exists()


def test_a_ticket_on_hold_is_neither_reminded_nor_escalated(
    claimed, agent, supervisor, mailoutbox, django_capture_on_commit_callbacks
):
    with time_machine.travel(at(2026, 12, 9, 10, 30), tick=False):
        ticket_hold(ticket=claimed, actor=agent)

    counts = watch(at(2026, 12, 9, 18, 0), django_capture_on_commit_callbacks)

    assert counts == {"reminded": 0, "escalated": 0, "closed": 0}
    assert mailoutbox == []


def test_resolved_tickets_close_after_the_policys_days(
    claimed, agent, member, django_capture_on_commit_callbacks
):
    with time_machine.travel(at(2026, 12, 9, 11, 0), tick=False):
        ticket_resolve(ticket=claimed, actor=agent, text="已退款")

    assert watch(at(2026, 12, 16, 10, 0), django_capture_on_commit_callbacks)["closed"] == 0
    counts = watch(at(2026, 12, 16, 11, 1), django_capture_on_commit_callbacks)

    ticket = Ticket.objects.get(pk=claimed.pk)
    assert counts["closed"] == 1 and ticket.status == Ticket.Status.CLOSED
    assert ticket.events.get(kind="closed").actor is None
    assert Message.objects.filter(member=member, title__contains="已关闭").exists()


def test_the_task_runs_the_watch_and_is_on_the_beat_schedule(claimed, supervisor):
    # The data migration's function (a transactional test elsewhere may have flushed its row).
    importlib.import_module("feedback.migrations.0003_sla_watch_schedule").schedule(
        django_apps, None
    )
    entry = PeriodicTask.objects.get(task="feedback.tasks.tickets_sla_watch_task")
    assert entry.enabled and entry.crontab.minute == "*/5"
    with time_machine.travel(at(2026, 12, 9, 11, 31), tick=False):
        assert tickets_sla_watch_task() == {"reminded": 1, "escalated": 1, "closed": 0}
