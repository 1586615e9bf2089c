"""The admin's customer-service pages open, and tickets there stay within the store scope."""

import pytest
from django.contrib.auth.models import User

from feedback.services import ticket_claim, ticket_rate, ticket_resolve

pytestmark = pytest.mark.django_db

PAGES = [
    "department",
    "handler",
    "tickettype",
    "ratingtag",
    "slatarget",
    "servicehours",
    "serviceday",
    "feedbacksettings",
    "compensationcap",
    "ticket",
    "rating",
    "compensation",
]


@pytest.mark.parametrize("model", PAGES)
def test_each_list_opens_for_a_superuser(client, submit, agent, member, model):
    ticket = submit()
    ticket_claim(ticket=ticket, actor=agent)
    ticket_resolve(ticket=ticket, actor=agent, text="已处理")
    ticket_rate(ticket=ticket, member=member, stars=4, tags=[])
    client.force_login(User.objects.create_superuser("root", "root@mall.example", "x"))

    response = client.get(f"/admin/feedback/{model}/")

    assert response.status_code == 200
    if model == "ticket":
        assert ticket.number in response.content.decode()
        detail = client.get(f"/admin/feedback/ticket/{ticket.pk}/change/")
        assert detail.status_code == 200 and "已处理" in detail.content.decode()
