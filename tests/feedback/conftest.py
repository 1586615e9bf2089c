import pytest
from django.utils import timezone

from feedback.models import TicketType
from feedback.services import ticket_submit
from tests.members.factories import StaffFactory


@pytest.fixture
def feedback_defaults(request, loyalty_defaults):
    """The seeded types, tags, SLA targets, hours and caps (a flush after a transactional
    test empties them)."""
    if "db" not in request.fixturenames and "transactional_db" not in request.fixturenames:
        if request.node.get_closest_marker("django_db") is None:
            return
    from django.apps import apps

    from feedback.defaults import feedback_defaults_install

    feedback_defaults_install(apps)


@pytest.fixture
def goods_complaint(feedback_defaults):
    return TicketType.objects.get(code="goods")


@pytest.fixture
def opinion(feedback_defaults):
    return TicketType.objects.get(code="opinion")


@pytest.fixture
def submit(member, store, goods_complaint):
    """File a ticket for `member` (or another) at `store` (or another)."""

    def make(member_=None, store_=None, ticket_type=None, **fields):
        return ticket_submit(
            member=member_ or member,
            ticket_type=ticket_type or goods_complaint,
            store=store_ or store,
            details=fields.pop("details", "买的牛奶过期了"),
            contact_name=fields.pop("contact_name", "李娜"),
            contact_phone=fields.pop("contact_phone", "13900001111"),
            **fields,
        )

    return make


@pytest.fixture
def agent(db, feedback_defaults):
    """A customer-service user of every store (HQ scope)."""
    return StaffFactory(user__role="customer_service", user__first_name="王芳").user


@pytest.fixture
def now():
    return timezone.now()
