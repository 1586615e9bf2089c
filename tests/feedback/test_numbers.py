"""Ticket numbers: FK + the Shanghai date + a daily sequence, unique however many members
submit at once (threads on real Postgres, released together by a barrier)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from feedback.models import Ticket
from feedback.services import ticket_submit

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_twenty_members_submitting_at_once_get_twenty_different_numbers(
    feedback_defaults, goods_complaint, store, member_factory
):
    members = [member_factory(home_store=store) for _ in range(20)]
    barrier = threading.Barrier(len(members))

    def run(member):
        try:
            barrier.wait()
            return ticket_submit(
                member=member,
                ticket_type=goods_complaint,
                store=store,
                details="同时提交",
                contact_name="李娜",
                contact_phone="13900001111",
            ).number
        finally:
            connection.close()

    with ThreadPoolExecutor(len(members)) as pool:
        numbers = list(pool.map(run, members))

    assert len(set(numbers)) == 20
    assert Ticket.objects.count() == 20
    sequences = sorted(int(n[-4:]) for n in numbers)
    assert sequences == list(range(1, 21))
