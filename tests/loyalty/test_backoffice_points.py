"""Staff see a member's ledger and receipts; HQ adjusts points with a reason, audited."""

import pytest

from core.models import AuditLog
from core.roles import Role
from loyalty.ledger import ledger_check, points_balance
from loyalty.models import PointsEntry
from tests.conftest import once, sale
from tests.members.factories import MemberFactory, StaffFactory
from tests.stores.factories import StoreFactory


@pytest.fixture
def hq(db):
    return StaffFactory(user__role=Role.HQ_ADMIN).user


def test_hq_adjusts_points_with_a_reason_and_it_is_audited(client, hq, member, pos):
    pos.receipt(sale(member))
    client.force_login(hq)
    url = f"/backoffice/loyalty/members/{member.pk}/points/"

    no_reason = client.post(url, {**once(), "points": "50", "reason": ""})
    too_much = client.post(url, {**once(), "points": "-1000", "reason": "退货补扣"})
    done = client.post(url, {**once(), "points": "-99", "reason": "重复积分冲正"})

    assert no_reason.status_code == 400 and too_much.status_code == 400
    assert done.status_code == 302
    assert points_balance(member_id=member.pk) == 200
    entry = PointsEntry.objects.get(kind="adjust")
    assert (entry.points, entry.memo, entry.actor) == (-99, "重复积分冲正", hq)
    log = AuditLog.objects.get(action="loyalty.points.adjusted")
    assert log.data["points"] == -99 and log.actor == hq
    html = client.get(url).content.decode()
    assert html.count("data-entry") == 2 and "连衣裙" in html
    assert ledger_check() == []


def test_a_store_manager_reads_but_cannot_adjust(client, member, store):
    manager = StaffFactory(user__role=Role.STORE_MANAGER, scope="store", store=store).user
    client.force_login(manager)
    url = f"/backoffice/loyalty/members/{member.pk}/points/"

    assert client.get(url).status_code == 200
    assert client.post(url, {**once(), "points": "100", "reason": "x"}).status_code == 403
    assert points_balance(member_id=member.pk) == 0


def test_members_outside_the_staff_scope_are_not_found(client, store):
    outsider = MemberFactory(home_store=StoreFactory(code="S09"))
    manager = StaffFactory(user__role=Role.STORE_MANAGER, scope="store", store=store).user
    client.force_login(manager)

    assert client.get(f"/backoffice/loyalty/members/{outsider.pk}/points/").status_code == 404
    lookup = client.get(f"/backoffice/loyalty/points/?q={outsider.card_no}")
    assert lookup.status_code == 200  # not redirected to the member


def test_lookup_by_card_or_phone_leads_to_the_member(client, hq, member):
    client.force_login(hq)
    for query in (member.card_no, member.phone):
        response = client.get(f"/backoffice/loyalty/points/?q={query}")
        assert response["Location"] == f"/backoffice/loyalty/members/{member.pk}/points/"


def test_analysts_see_no_individual_ledger(client, member):
    client.force_login(StaffFactory(user__role=Role.ANALYST).user)
    assert client.get(f"/backoffice/loyalty/members/{member.pk}/points/").status_code == 403
