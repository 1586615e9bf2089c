"""Compensation from a ticket: points through the ledger and coupons through issuing, within
the role's per-ticket cap (HQ unlimited, roles without a cap nothing), audited, and granted
once per one-time token however often the form is sent."""

import pytest

from core.exceptions import PermissionDenied, ServiceError
from core.models import AuditLog
from core.once import once_token_new
from coupons.models import Coupon
from feedback.models import Compensation
from feedback.services import compensation_grant
from loyalty.ledger import points_balance
from loyalty.models import PointsEntry
from tests.members.factories import StaffFactory

pytestmark = pytest.mark.django_db


def grant(ticket, actor, **kwargs):
    kwargs.setdefault("once", once_token_new())
    kwargs.setdefault("reason", "商品质量问题致歉")
    return compensation_grant(ticket=ticket, actor=actor, **kwargs)


def test_points_within_the_cap_are_posted_audited_and_shown_to_the_member(submit, agent, member):
    ticket = submit()

    compensation = grant(ticket, agent, kind="points", points=150)

    assert points_balance(member_id=member.pk) == 150
    entry = PointsEntry.objects.get(key=compensation.key)
    assert (entry.kind, entry.actor) == ("adjust", agent)
    assert compensation.ticket == ticket and compensation.actor == agent
    log = AuditLog.objects.get(action="feedback.compensation.granted")
    assert log.actor == agent and log.target_id == str(ticket.pk)
    assert log.data["points"] == 150
    event = ticket.events.get(kind="compensated")
    assert event.public and event.actor == agent


def test_over_the_cap_on_one_ticket_is_refused_and_changes_nothing(submit, agent, member):
    ticket = submit()
    grant(ticket, agent, kind="points", points=150)

    with pytest.raises(ServiceError) as over:
        grant(ticket, agent, kind="points", points=51)

    assert over.value.code == "over_cap" and "200" in str(over.value)
    assert points_balance(member_id=member.pk) == 150
    assert Compensation.objects.count() == 1
    grant(submit(), agent, kind="points", points=200)  # the cap is per ticket
    assert points_balance(member_id=member.pk) == 350


def test_the_same_token_grants_once(submit, agent, member, make_template):
    ticket = submit()
    token = once_token_new()

    first = grant(ticket, agent, kind="points", points=100, once=token)
    again = grant(ticket, agent, kind="points", points=100, once=token)

    assert first.pk == again.pk
    assert points_balance(member_id=member.pk) == 100
    coupon_token = once_token_new()
    c1 = grant(ticket, agent, kind="coupon", template=make_template(), once=coupon_token)
    c2 = grant(ticket, agent, kind="coupon", template=make_template("CASH5"), once=coupon_token)
    assert c1.pk == c2.pk
    assert Coupon.objects.filter(member=member).count() == 1


def test_coupons_count_their_value_against_the_cap(submit, agent, member, make_template):
    ticket = submit()
    ten = make_template("CASH10", face_value_fen=1000)
    fifteen = make_template("CASH15", face_value_fen=1500)
    no_cap = make_template("PCT20", kind="percent", percent_off=20, face_value_fen=0)

    compensation = grant(ticket, agent, kind="coupon", template=ten)

    assert compensation.coupon.member == member and compensation.value_fen == 1000
    with pytest.raises(ServiceError):
        grant(ticket, agent, kind="coupon", template=fifteen)  # 25 yuan > 20
    with pytest.raises(ServiceError):
        grant(submit(), agent, kind="coupon", template=no_cap)  # no bound on its value
    assert Coupon.objects.filter(member=member).count() == 1


def test_hq_grants_without_a_cap_and_roles_without_the_permission_grant_nothing(
    submit, member, feedback_defaults
):
    ticket = submit()
    hq = StaffFactory(user__role="hq_admin").user
    analyst = StaffFactory(user__role="analyst").user
    marketing = StaffFactory(user__role="marketing").user

    grant(ticket, hq, kind="points", points=5000)

    assert points_balance(member_id=member.pk) == 5000
    for user in (analyst, marketing):
        with pytest.raises(PermissionDenied):
            grant(ticket, user, kind="points", points=1)
    assert points_balance(member_id=member.pk) == 5000


def test_bad_input_is_refused_with_a_reason(submit, agent):
    ticket = submit()
    for kwargs in ({"kind": "points", "points": 0}, {"kind": "coupon"}, {"kind": "cash"}):
        with pytest.raises(ServiceError):
            grant(ticket, agent, **kwargs)
    with pytest.raises(ServiceError):
        grant(ticket, agent, kind="points", points=10, reason="  ")
