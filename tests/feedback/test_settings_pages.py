"""The service desk's settings (系统设置) in the back office: HQ lists, adds, edits,
deactivates and removes; bad input is refused with a form error and never saved; every
change is audited; only those allowed may open them."""

from datetime import date, time

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from core.models import AuditLog
from feedback.models import (
    CompensationCap,
    FeedbackSettings,
    Handler,
    ServiceDay,
    ServiceHours,
    SlaTarget,
    TicketType,
)
from loyalty.models import Tier
from tests.members.factories import StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def hq(client, feedback_defaults):
    user = StaffFactory(user__role="hq_admin").user
    client.force_login(user)
    return user


def url(name, *args):
    return reverse(f"backoffice:feedback_settings_{name}", args=args)


def test_hq_sees_every_settings_list(client, hq):
    index = client.get(url("index"))
    assert index.status_code == 200
    for kind in ["types", "tags", "slas", "hours", "days", "departments", "handlers", "caps"]:
        assert f'data-setting="{kind}"' in index.content.decode()
        assert client.get(url("list", kind)).status_code == 200, kind
        assert client.get(url("add", kind)).status_code == 200, kind
    html = client.get(url("list", "types")).content.decode()
    assert "商品投诉" in html and "人员投诉" in html
    assert client.get(url("list", "nonsense")).status_code == 404


def test_a_type_is_added_edited_deactivated_and_audited(client, hq):
    response = client.post(
        url("add", "types"),
        {
            "name": "停车投诉",
            "code": "parking",
            "is_complaint": "on",
            "position": 5,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    parking = TicketType.objects.get(code="parking")
    assert parking.is_complaint and parking.is_active
    log = AuditLog.objects.get(action="feedback.settings.tickettype.created")
    assert log.actor == hq and log.data["changed"]["name"] == "停车投诉"

    client.post(
        url("edit", "types", parking.pk),
        {"name": "停车场投诉", "code": "parking", "position": 5, "is_active": "on"},
    )
    parking.refresh_from_db()
    assert (parking.name, parking.is_complaint) == ("停车场投诉", False)
    assert AuditLog.objects.filter(action="feedback.settings.tickettype.changed").exists()

    assert client.post(url("deactivate", "types", parking.pk)).status_code == 302
    parking.refresh_from_db()
    assert not parking.is_active
    assert AuditLog.objects.filter(action="feedback.settings.tickettype.deactivated").exists()
    duplicate = client.post(url("add", "types"), {"name": "重复", "code": "parking", "position": 1})
    assert duplicate.status_code == 400


def test_invalid_hours_are_refused_with_a_form_error_and_never_saved(client, hq):
    ServiceHours.objects.filter(weekday=6).delete()
    response = client.post(url("add", "hours"), {"weekday": 6, "opens": "21:00", "closes": "09:00"})
    assert response.status_code == 400
    assert "开门时间须早于关门时间" in response.content.decode()
    assert not ServiceHours.objects.filter(weekday=6).exists()

    monday = ServiceHours.objects.get(weekday=0)
    response = client.post(
        url("edit", "hours", monday.pk), {"weekday": 0, "opens": "10:00", "closes": "10:00"}
    )
    assert response.status_code == 400
    monday.refresh_from_db()
    assert (monday.opens, monday.closes) == (time(9), time(21))
    client.post(
        url("edit", "hours", monday.pk), {"weekday": 0, "opens": "10:00", "closes": "18:00"}
    )
    monday.refresh_from_db()
    assert (monday.opens, monday.closes) == (time(10), time(18))


def test_dated_days_closed_or_with_their_own_hours(client, hq):
    assert (
        client.post(
            url("add", "days"), {"date": "2027-01-01", "closed": "on", "note": "元旦"}
        ).status_code
        == 302
    )
    holiday = ServiceDay.objects.get(date=date(2027, 1, 1))
    assert holiday.opens is None and holiday.closes is None
    bad = client.post(
        url("add", "days"), {"date": "2027-02-05", "opens": "18:00", "closes": "10:00"}
    )
    assert bad.status_code == 400 and "开门时间须早于关门时间" in bad.content.decode()
    half = client.post(url("add", "days"), {"date": "2027-02-05", "opens": "10:00"})
    assert half.status_code == 400
    assert not ServiceDay.objects.filter(date=date(2027, 2, 5)).exists()
    client.post(
        url("add", "days"),
        {"date": "2027-02-05", "opens": "10:00", "closes": "16:00", "note": "除夕"},
    )
    assert ServiceDay.objects.get(date=date(2027, 2, 5)).closes == time(16)
    assert client.post(url("delete", "days", holiday.pk)).status_code == 302
    assert not ServiceDay.objects.filter(pk=holiday.pk).exists()
    assert AuditLog.objects.filter(action="feedback.settings.serviceday.deleted").exists()


def test_sla_targets_are_positive_resolution_after_first_response_and_one_per_type_and_tier(
    client, hq
):
    goods = TicketType.objects.get(code="goods")
    diamond = Tier.objects.get(code="diamond")
    before = SlaTarget.objects.count()
    shorter = client.post(
        url("add", "slas"),
        {
            "ticket_type": goods.pk,
            "tier": "",
            "first_response_minutes": 60,
            "resolution_minutes": 30,
            "priority": 1,
        },
    )
    assert shorter.status_code == 400
    assert "解决时限不能短于首次响应时限" in shorter.content.decode()
    zero = client.post(
        url("add", "slas"),
        {
            "ticket_type": goods.pk,
            "first_response_minutes": 0,
            "resolution_minutes": 30,
            "priority": 1,
        },
    )
    assert zero.status_code == 400
    for tier in [diamond.pk, ""]:  # the every-tier target is one too
        twice = client.post(
            url("add", "slas"),
            {
                "ticket_type": goods.pk,
                "tier": tier,
                "first_response_minutes": 10,
                "resolution_minutes": 60,
                "priority": 1,
            },
        )
        assert twice.status_code == 400
        assert "该类型已有此等级的时限" in twice.content.decode()
    assert SlaTarget.objects.count() == before
    target = SlaTarget.objects.get(ticket_type=goods, tier=diamond)
    client.post(
        url("edit", "slas", target.pk),
        {
            "ticket_type": goods.pk,
            "tier": diamond.pk,
            "first_response_minutes": 15,
            "resolution_minutes": 240,
            "priority": 50,
        },
    )
    target.refresh_from_db()
    assert (target.first_response_minutes, target.resolution_minutes) == (15, 240)


def test_handlers_departments_caps_and_the_policy(client, hq):
    client.post(url("add", "departments"), {"name": "客服部", "position": 1, "is_active": "on"})
    from feedback.models import Department

    desk = Department.objects.get(name="客服部")
    agent = StaffFactory(user__role="customer_service", name="赵雨萱").user
    response = client.post(
        url("add", "handlers"),
        {
            "user": agent.pk,
            "department": desk.pk,
            "employee_no": "KF001",
            "contact_phone": "0571-1",
            "is_supervisor": "on",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    handler = Handler.objects.get(user=agent)
    assert handler.is_supervisor and handler.employee_no == "KF001"
    assert "赵雨萱" in client.get(url("list", "handlers")).content.decode()

    cap = CompensationCap.objects.get(role="customer_service")
    client.post(
        url("edit", "caps", cap.pk),
        {"role": "customer_service", "max_points_per_ticket": 300, "coupon_yuan": "30.50"},
    )
    cap.refresh_from_db()
    assert (cap.max_points_per_ticket, cap.max_coupon_value_fen_per_ticket) == (300, 3050)

    policy = {
        "remind_before_minutes": 20,
        "escalate_after_minutes": 10,
        "max_photos": 4,
        "photo_max_mb": "2",
        "reopen_days": 5,
        "auto_close_days": 3,
        "tickets_per_day": 2,
    }
    assert client.post(url("policy"), policy).status_code == 302
    current = FeedbackSettings.current()
    assert (
        current.max_photos,
        current.photo_max_bytes,
        current.auto_close_days,
        current.tickets_per_day,
    ) == (4, 2 * 1024 * 1024, 3, 2)
    assert client.post(url("policy"), {**policy, "max_photos": 0}).status_code == 400
    assert FeedbackSettings.current().max_photos == 4
    assert AuditLog.objects.filter(action="feedback.settings.feedbacksettings.changed").exists()


def test_analysts_and_customer_service_cannot_open_the_settings(client, feedback_defaults):
    analyst = StaffFactory(user__role="analyst").user
    client.force_login(analyst)
    assert client.get(url("index")).status_code == 403
    assert client.get(url("list", "types")).status_code == 403
    service = StaffFactory(user__role="customer_service").user
    client.force_login(service)
    for address in [url("index"), url("list", "types"), url("policy"), url("add", "hours")]:
        assert client.get(address).status_code == 403, address
    goods = TicketType.objects.get(code="goods")
    assert client.post(url("deactivate", "types", goods.pk)).status_code == 403
    goods.refresh_from_db()
    assert goods.is_active
    # given the permission, the same user edits the types (and only them)
    service.user_permissions.add(Permission.objects.get(codename="change_tickettype"))
    service = type(service).objects.get(pk=service.pk)
    client.force_login(service)
    assert client.get(url("list", "types")).status_code == 200
    assert client.get(url("index")).status_code == 200
    assert client.get(url("list", "slas")).status_code == 403
