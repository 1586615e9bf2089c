"""Submitting a ticket: bad input is refused with a reason and leaves nothing behind; only
staff who may handle tickets of the ticket's store act on it; two claiming at once, one
wins; deleting the account erases what the member wrote and sent."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from core.exceptions import PermissionDenied, ServiceError
from feedback.models import FeedbackSettings, Ticket, TicketPhoto, TicketType
from feedback.services import (
    member_tickets_erase,
    ticket_assign,
    ticket_claim,
    ticket_note,
)
from feedback.workflow import TransitionRefused
from members.models import StaffProfile
from stores.models import Brand, Floor, Shop
from tests.feedback.test_photos import jpeg_bytes
from tests.members.factories import StaffFactory
from tests.stores.factories import StoreFactory


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"details": "  "}, "details_missing"),
        ({"details": "长" * 1001}, "too_long"),
        ({"contact_phone": ""}, "contact_missing"),
        ({"contact_name": " "}, "contact_missing"),
        ({"photos": [b"x"] * 7}, "too_many_photos"),
    ],
)
def test_bad_input_is_refused_with_a_reason(submit, fields, code):
    with pytest.raises(ServiceError) as refused:
        submit(**fields)
    assert refused.value.code == code
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_an_inactive_type_and_a_shop_of_another_store_are_refused(submit, store, opinion):
    TicketType.objects.filter(pk=opinion.pk).update(is_active=False)
    opinion.refresh_from_db()
    with pytest.raises(ServiceError):
        submit(ticket_type=opinion)
    brand, other_brand = Brand.objects.create(name="某女装"), Brand.objects.create(name="某鞋")
    here = Floor.objects.create(store=store, code="2F", name="女装", order=2)
    there = Floor.objects.create(store=StoreFactory(code="S09"), code="2F", name="女装", order=2)
    shop_here = Shop.objects.create(floor=here, brand=brand, unit_no="2F-01")
    shop_there = Shop.objects.create(floor=there, brand=brand, unit_no="2F-01")
    for fields in ({"shop": shop_there}, {"shop": shop_here, "brand": other_brand}):
        with pytest.raises(ServiceError) as refused:
            submit(**fields)
        assert refused.value.code == "shop_elsewhere"
    assert not Ticket.objects.exists()

    assert submit(shop=shop_here).brand == brand  # the shop names its brand


@pytest.mark.django_db
def test_the_photo_limit_is_the_policys(submit, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    FeedbackSettings.objects.filter(pk=1).update(max_photos=2)
    with pytest.raises(ServiceError):
        submit(photos=[jpeg_bytes()] * 3)
    ticket = submit(photos=[jpeg_bytes()] * 2)
    assert ticket.photos.count() == 2


@pytest.mark.django_db
def test_only_staff_who_handle_the_tickets_store_act_on_it(submit, store, feedback_defaults):
    ticket = submit()
    other_desk = StaffFactory(
        user__role="customer_service",
        scope=StaffProfile.Scope.STORE,
        store=StoreFactory(code="S09"),
    ).user
    analyst = StaffFactory(user__role="analyst").user
    own_desk = StaffFactory(
        user__role="customer_service", scope=StaffProfile.Scope.STORE, store=store
    ).user

    for outsider in (other_desk, analyst):
        with pytest.raises(PermissionDenied):
            ticket_claim(ticket=ticket, actor=outsider)
        with pytest.raises(PermissionDenied):
            ticket_note(ticket=ticket, actor=outsider, text="看看")
    with pytest.raises(ServiceError):
        ticket_assign(ticket=ticket, actor=own_desk, handler_user=other_desk)
    ticket_claim(ticket=ticket, actor=own_desk)
    assert Ticket.objects.get(pk=ticket.pk).handler == own_desk


@pytest.mark.django_db
def test_deleting_the_account_erases_what_the_member_wrote_and_sent(
    submit, member, settings, tmp_path
):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    ticket = submit(details="我住在某某小区 3 栋", photos=[jpeg_bytes()])
    path = tmp_path / ticket.photos.get().image.name
    assert path.is_file()

    counts = member_tickets_erase(member_id=member.pk)

    ticket.refresh_from_db()
    assert counts == {"tickets": 1, "ticket_photos": 1}
    assert (ticket.details, ticket.contact_name, ticket.contact_phone) == ("", "", "")
    assert not path.exists() and not TicketPhoto.objects.exists()
    assert ticket.status == Ticket.Status.WAITING  # the ticket stays for the statistics


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_of_ten_staff_claiming_at_once_exactly_one_wins(feedback_defaults, submit):
    ticket = submit()
    agents = [StaffFactory(user__role="customer_service").user for _ in range(10)]
    barrier = threading.Barrier(len(agents))

    def run(agent):
        try:
            barrier.wait()
            return ticket_claim(ticket=ticket, actor=agent)
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test counts
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(len(agents)) as pool:
        results = list(pool.map(run, agents))

    winners = [r for r in results if isinstance(r, Ticket)]
    assert len(winners) == 1
    assert all(isinstance(r, TransitionRefused) for r in results if r not in winners)
    ticket.refresh_from_db()
    assert ticket.handler == winners[0].handler
    assert ticket.events.filter(kind="claimed").count() == 1
