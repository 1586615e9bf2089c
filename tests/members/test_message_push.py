import pytest

from core.models import AuditLog
from core.roles import Role
from members.models import Message, StaffProfile
from tests.conftest import once
from tests.members.factories import MemberFactory, StaffFactory

pytestmark = pytest.mark.django_db


def post(client, **data):
    form = {
        "kind": "campaign",
        "title": "周末特惠",
        "body": "满 300 减 50",
        "link": "",
        "audience": "cards",
        "cards": "",
    } | data
    return client.post("/backoffice/members/messages/push/", form | once())


def test_marketing_pushes_to_listed_cards_and_it_is_audited(client):
    a, b, c = MemberFactory(), MemberFactory(), MemberFactory()
    client.force_login(StaffFactory(user__role=Role.MARKETING).user)
    response = post(client, cards=f"{a.card_no}\n {b.card_no_display} \n")
    assert response.status_code == 302
    assert set(Message.objects.values_list("member_id", flat=True)) == {a.pk, b.pk}
    log = AuditLog.objects.get(action="members.message.pushed")
    assert log.data["count"] == 2 and c.pk not in Message.objects.values_list(
        "member_id", flat=True
    )


def test_the_push_and_its_audit_row_are_one_transaction(client, monkeypatch):
    from members import messaging

    def audit_down(**kwargs):
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(messaging, "audit_log", audit_down)
    client.force_login(StaffFactory(user__role=Role.MARKETING).user)
    with pytest.raises(RuntimeError):
        post(client, cards=MemberFactory().card_no)
    assert not Message.objects.exists()  # no message goes out unaudited


def test_the_push_service_scopes_and_audits_without_a_view(store_a, store_b):
    from members.messaging import messages_push_by_staff

    mine, other = MemberFactory(home_store=store_a), MemberFactory(home_store=store_b)
    staff = StaffFactory(user__role=Role.MARKETING, scope=StaffProfile.Scope.STORE, store=store_a)
    count = messages_push_by_staff(
        actor=staff.user,
        card_nos=[mine.card_no, other.card_no],
        kind="campaign",
        title="周末特惠",
        body="满 300 减 50",
    )
    assert count == 1 and list(Message.objects.values_list("member_id", flat=True)) == [mine.pk]
    log = AuditLog.objects.get(action="members.message.pushed")
    assert log.actor_id == staff.user.pk
    assert log.data == {"title": "周末特惠", "audience": "cards", "count": 1}


def test_all_means_all_within_the_staff_scope(client, store_a, store_b):
    mine = MemberFactory.create_batch(2, home_store=store_a)
    MemberFactory(home_store=store_b)
    staff = StaffFactory(user__role=Role.MARKETING, scope=StaffProfile.Scope.STORE, store=store_a)
    client.force_login(staff.user)
    post(client, audience="all")
    assert set(Message.objects.values_list("member_id", flat=True)) == {m.pk for m in mine}


def test_bad_input_is_a_form_error_and_sends_nothing(client):
    client.force_login(StaffFactory(user__role=Role.MARKETING).user)
    for data in [
        {"cards": ""},
        {"cards": "123456789012"},
        {"title": ""},
        {"cards": MemberFactory().card_no, "link": "javascript:alert(1)"},
    ]:
        response = post(client, **data)
        assert response.status_code == 200 and response.context["form"].errors
    assert not Message.objects.exists()


def test_roles_without_the_permission_are_refused(client):
    client.force_login(StaffFactory(user__role=Role.STORE_MANAGER).user)
    assert client.get("/backoffice/members/messages/push/").status_code == 403
    client.force_login(StaffFactory(user__role=Role.MARKETING).user)
    assert client.get("/backoffice/members/messages/push/").status_code == 200
