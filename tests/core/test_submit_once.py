"""Staff forms that write points, coupons or messages are submitted once (core/once.py): the
same POST again gets the first's answer, even when both arrive at the same moment."""

import re
import threading

import pytest
from django.db import connection
from django.test import Client

from core.models import AuditLog, FormSubmission
from core.roles import Role
from loyalty.ledger import points_balance
from loyalty.models import PointsEntry
from members.models import Message
from tests.conftest import once
from tests.members.factories import MemberFactory, StaffFactory


def token_of(html: str) -> str:
    return re.search(r'name="once_token" value="([\w-]+)"', html).group(1)


@pytest.fixture
def hq(db):
    return StaffFactory(user__role=Role.HQ_ADMIN).user


@pytest.fixture
def member(db):
    return MemberFactory()


def adjust_url(member):
    return f"/backoffice/loyalty/members/{member.pk}/points/"


@pytest.mark.django_db
def test_a_double_submitted_adjustment_posts_once_and_answers_the_first_result(client, hq, member):
    client.force_login(hq)
    page = client.get(adjust_url(member)).content.decode()
    data = {"points": "1000000", "reason": "活动补发", "once_token": token_of(page)}

    first = client.post(adjust_url(member), data)
    second = client.post(adjust_url(member), data)

    assert first.status_code == second.status_code == 302
    assert second["Location"] == first["Location"]
    assert PointsEntry.objects.filter(kind="adjust").count() == 1
    assert points_balance(member_id=member.pk) == 1_000_000
    assert AuditLog.objects.filter(action="loyalty.points.adjusted").count() == 1
    shown = client.get(second["Location"]).content.decode()
    assert shown.count("积分已调整。") == 2  # each answer's message, no error page
    assert "积分已调整。" in shown


@pytest.mark.django_db
def test_a_fresh_page_gets_a_fresh_token(client, hq, member):
    client.force_login(hq)
    first = token_of(client.get(adjust_url(member)).content.decode())
    assert first != token_of(client.get(adjust_url(member)).content.decode())


@pytest.mark.django_db
def test_a_post_with_form_errors_frees_its_token(client, hq, member):
    client.force_login(hq)
    token = once()
    assert client.post(adjust_url(member), {"points": "", "reason": "x"} | token).status_code == 400
    done = client.post(adjust_url(member), {"points": "5", "reason": "补"} | token)
    assert done.status_code == 302
    assert points_balance(member_id=member.pk) == 5


@pytest.mark.django_db
@pytest.mark.parametrize("token", [None, "", "short", "x" * 65, "<script>" * 6, "y" * 40 + "\n"])
def test_a_post_without_a_valid_token_changes_nothing_and_says_why(client, hq, member, token):
    client.force_login(hq)
    data = {"points": "5", "reason": "补"}
    if token is not None:
        data["once_token"] = token
    response = client.post(adjust_url(member), data)
    assert response.status_code == 400
    assert "重新提交" in response.content.decode()
    assert not PointsEntry.objects.exists()


@pytest.mark.django_db
def test_another_users_token_is_not_replayed_to_them(client, hq, member):
    token = once()
    client.force_login(hq)
    client.post(adjust_url(member), {"points": "5", "reason": "补"} | token)
    other = Client()
    other.force_login(StaffFactory(user__role=Role.HQ_ADMIN).user)
    response = other.post(adjust_url(member), {"points": "7", "reason": "补"} | token)
    assert response.status_code == 400
    assert points_balance(member_id=member.pk) == 5


@pytest.mark.django_db
def test_a_double_submitted_message_push_sends_once(client, hq):
    member = MemberFactory()
    client.force_login(hq)
    data = {
        "kind": "campaign",
        "title": "周末特惠",
        "body": "满 300 减 50",
        "link": "",
        "audience": "cards",
        "cards": member.card_no,
    } | once()
    first = client.post("/backoffice/members/messages/push/", data)
    second = client.post("/backoffice/members/messages/push/", data)
    assert first.status_code == second.status_code == 302
    assert Message.objects.filter(member=member).count() == 1
    assert AuditLog.objects.filter(action="members.message.pushed").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_posts_of_one_form_post_once(hq, member):
    data = {"points": "300", "reason": "并发", **once()}
    barrier = threading.Barrier(2)
    answers = []

    def submit():
        client = Client()
        client.force_login(hq)
        barrier.wait()
        try:
            answers.append(client.post(adjust_url(member), data))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [a.status_code for a in answers] == [302, 302]
    assert answers[0]["Location"] == answers[1]["Location"]
    assert PointsEntry.objects.filter(kind="adjust").count() == 1
    assert points_balance(member_id=member.pk) == 300
    assert FormSubmission.objects.count() == 1
