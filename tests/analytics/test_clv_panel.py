"""The member's predicted value on the back office's member page (a members/panels.py hook)."""

from datetime import date

import pytest
from django.urls import reverse

from analytics.models import ClvRun, ClvScore
from core.roles import Role
from tests.members.factories import MemberFactory, StaffFactory


@pytest.fixture
def scored(db):
    member, other = MemberFactory(), MemberFactory()
    run = ClvRun.objects.create(as_of=date(2026, 11, 30), status="done", is_current=True)
    ClvScore.objects.create(
        run=run,
        member=member,
        frequency=3,
        recency_days=200,
        t_days=300,
        monetary_fen=12000,
        p_alive=0.734,
        expected_purchases_90d=0.8123,
        expected_value_fen=5432100,
    )
    return member, other


def page(client, member, role):
    client.force_login(StaffFactory(user__role=role).user)
    return client.get(reverse("backoffice:member_detail", args=[member.pk])).content.decode()


def test_an_analyst_sees_the_members_predicted_value(client, scored):
    member, _ = scored

    html = page(client, member, Role.ANALYST)

    assert 'data-panel="predicted-value"' in html
    assert 'data-clv="p_alive">73%' in html
    assert 'data-clv="expected_purchases_90d">0.81' in html
    assert 'data-clv="expected_value">54,321.00' in html
    assert "2026-11-30" in html


def test_a_member_left_out_of_the_run_shows_no_prediction(client, scored):
    _, other = scored

    html = page(client, other, Role.HQ_ADMIN)

    assert 'data-panel="predicted-value"' in html and 'data-clv="p_alive"' not in html


def test_staff_without_the_permission_see_no_panel(client, scored):
    member, _ = scored

    assert 'data-panel="predicted-value"' not in page(client, member, Role.CUSTOMER_SERVICE)


def test_the_list_filters_members_likely_to_lapse(client, scored):
    member, other = scored
    run = ClvRun.objects.get()
    ClvScore.objects.create(
        run=run,
        member=other,
        frequency=5,
        recency_days=20,
        t_days=300,
        monetary_fen=30000,
        p_alive=0.12,
        expected_purchases_90d=0.05,
        expected_value_fen=80000,
    )
    client.force_login(StaffFactory(user__role=Role.ANALYST).user)
    url = reverse("backoffice:clv_list")

    everyone = client.get(url).content.decode()
    lapsing = client.get(url, {"p_alive_below": "0.3", "value_above": "500"}).content.decode()

    assert f'data-member="{member.pk}"' in everyone and f'data-member="{other.pk}"' in everyone
    assert everyone.index(f'data-member="{member.pk}"') < everyone.index(
        f'data-member="{other.pk}"'
    )
    assert f'data-member="{other.pk}"' in lapsing and f'data-member="{member.pk}"' not in lapsing
    too_high = client.get(url, {"p_alive_below": "0.3", "value_above": "800"}).content.decode()
    assert f'data-member="{other.pk}"' not in too_high


def test_the_list_needs_the_permission(client, scored):
    client.force_login(StaffFactory(user__role=Role.CUSTOMER_SERVICE).user)

    assert client.get(reverse("backoffice:clv_list")).status_code == 403
