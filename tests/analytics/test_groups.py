"""Member groups (建立分组): saved from the list, static frozen and dynamic re-evaluated, counts
per scope, one-click groups from the RFM and predicted value pages, archive, audit."""

import pytest
from django.urls import reverse

from analytics.groups import (
    group_count,
    group_create,
    group_member_ids,
    group_members,
)
from analytics.models import GroupMember, MemberGroup
from analytics.segments import FilterInvalid
from core.models import AuditLog
from core.roles import Role
from members.models import Member
from tests.analytics.list_helpers import clv, snapshot
from tests.conftest import once
from tests.members.factories import MemberFactory, StaffFactory
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst():
    return StaffFactory(user__role=Role.ANALYST).user


def test_a_static_group_is_frozen_and_a_dynamic_one_re_evaluated(analyst):
    a = MemberFactory(gender="F")
    MemberFactory(gender="M")
    static = group_create(name="女 静态", kind="static", params={"gender": "F"}, actor=analyst)
    dynamic = group_create(name="女 动态", kind="dynamic", params={"gender": "F"}, actor=analyst)
    assert static.member_count == 1
    assert set(GroupMember.objects.filter(group=static).values_list("member_id", flat=True)) == {
        a.pk
    }
    later = MemberFactory(gender="F")
    assert group_member_ids(static, user=analyst) == [a.pk]
    assert group_member_ids(dynamic, user=analyst) == sorted([a.pk, later.pk])
    # a static member who leaves (account closed) drops out; the snapshot is not re-run
    Member.objects.filter(pk=a.pk).update(status=Member.Status.CLOSED)
    assert group_member_ids(static, user=analyst) == []
    assert AuditLog.objects.filter(action="analytics.group.created").count() == 2


def test_a_group_is_evaluated_in_the_viewers_scope(analyst):
    s1, s2 = StoreFactory(code="G1"), StoreFactory(code="G2")
    mine = MemberFactory(home_store=s1)
    MemberFactory(home_store=s2)
    group = group_create(name="全部", kind="static", params={}, actor=analyst)
    assert group.member_count == 2
    manager = StaffFactory(user__role=Role.STORE_MANAGER, scope="store", store=s1).user
    assert list(group_members(group, user=manager)) == [mine]
    # the stored count was taken in HQ's scope: the manager gets their own
    assert group_count(group, user=manager) == 1
    assert group_count(group, user=analyst) == 2


def test_the_dynamic_count_is_kept_and_refreshed(client, analyst):
    MemberFactory(gender="F")
    group = group_create(name="女", kind="dynamic", params={"gender": "F"}, actor=analyst)
    assert group_count(group, user=analyst) == 1
    MemberFactory(gender="F")
    assert group_count(group, user=analyst) == 1  # fresh: not counted again
    client.force_login(analyst)
    client.post(reverse("backoffice:group_refresh", args=[group.pk]))
    group.refresh_from_db()
    assert group.member_count == 2 and group.counted_at is not None


def test_saving_a_group_from_the_list(client, analyst):
    MemberFactory(gender="F")
    MemberFactory(gender="M")
    client.force_login(analyst)
    page = client.get(reverse("backoffice:group_create"), {"gender": "F"})
    assert page.status_code == 200 and "女" in page.content.decode()
    response = client.post(
        reverse("backoffice:group_create"),
        {"gender": "F", "name": "女性会员", "kind": "static", **once()},
    )
    group = MemberGroup.objects.get(name="女性会员")
    assert response.status_code == 302
    assert response["Location"] == reverse("backoffice:group_detail", args=[group.pk])
    assert group.params == {"gender": "F"} and group.member_count == 1
    detail = client.get(response["Location"])
    html = detail.content.decode()
    assert detail.status_code == 200 and "女性会员" in html
    assert detail.context["count"] == 1
    # opened in the list: the group's members
    listed = client.get(reverse("backoffice:member_list") + "?" + detail.context["list_query"])
    assert [m.pk for m in listed.context["page"].rows] == group_member_ids(group, user=analyst)


def test_a_bad_filter_is_a_form_error_and_saves_nothing(client, analyst):
    client.force_login(analyst)
    response = client.post(
        reverse("backoffice:group_create"),
        {"age_min": "50", "age_max": "20", "name": "x", "kind": "dynamic", **once()},
    )
    assert response.status_code == 400 and not MemberGroup.objects.exists()
    with pytest.raises(FilterInvalid):
        group_create(name="x", kind="static", params={"tier": 999999}, actor=analyst)
    assert not MemberGroup.objects.exists()


def test_a_group_whose_filter_broke_shows_the_reason(client, analyst):
    group = MemberGroup.objects.create(
        name="旧", kind="dynamic", params={"tags": [424242]}, created_by=analyst
    )
    client.force_login(analyst)
    page = client.get(reverse("backoffice:group_detail", args=[group.pk]))
    assert page.status_code == 200 and page.context["error"]
    assert client.get(reverse("backoffice:group_list")).status_code == 200


def test_one_click_groups_from_the_rfm_and_predicted_value_pages(client, analyst):
    a, b = MemberFactory(), MemberFactory()
    snapshot({a: {"rfm_class": "重要保持", "lifecycle_stage": "active"}, b: {}})
    clv({a: (0.1, 90_000), b: (0.9, 90_000)})
    client.force_login(analyst)
    rfm = client.get(reverse("backoffice:rfm")).content.decode()
    assert 'data-quick-group="重要保持"' in rfm and 'data-quick-group="active"' in rfm
    client.post(
        reverse("backoffice:group_create"),
        {"rfm_class": "重要保持", "name": "重要保持", "kind": "dynamic", **once()},
    )
    assert group_member_ids(MemberGroup.objects.get(name="重要保持"), user=analyst) == [a.pk]
    page = client.get(
        reverse("backoffice:clv_list"), {"p_alive_below": "0.3", "value_above": "500"}
    )
    band = page.context["band"]
    assert band["value"] == "500.01" and band["value2"] == "0.3"
    client.post(
        reverse("backoffice:group_create"),
        {
            band["field"]: band["value"],
            band["field2"]: band["value2"],
            "name": band["name"],
            "kind": "dynamic",
            **once(),
        },
    )
    group = MemberGroup.objects.get(name=band["name"])
    assert group.params == {"clv_value_min_fen": 50001, "clv_p_alive_below": 0.3}
    assert group_member_ids(group, user=analyst) == [a.pk]


def test_archive_and_restore(client, analyst):
    group = group_create(name="g", kind="dynamic", params={}, actor=analyst)
    client.force_login(analyst)
    client.post(reverse("backoffice:group_archive", args=[group.pk]), {"archived": "1"})
    group.refresh_from_db()
    assert group.archived
    assert group not in client.get(reverse("backoffice:group_list")).context["groups"]
    client.post(reverse("backoffice:group_archive", args=[group.pk]), {"archived": "0"})
    group.refresh_from_db()
    assert not group.archived


def test_the_detail_page_leaves_a_place_for_group_actions(client, analyst):
    group = group_create(name="g", kind="dynamic", params={}, actor=analyst)
    client.force_login(analyst)
    page = client.get(reverse("backoffice:group_detail", args=[group.pk]))
    names = [t.name for t in page.templates]
    assert "backoffice/analytics/includes/_group_actions.html" in names


def test_groups_need_analytics_permissions(client):
    client.force_login(StaffFactory(user__role=Role.STORE_MANAGER).user)
    assert client.get(reverse("backoffice:group_list")).status_code == 403
    response = client.post(
        reverse("backoffice:group_create"), {"name": "x", "kind": "static", **once()}
    )
    assert response.status_code == 403 and not MemberGroup.objects.exists()


def test_a_broken_group_opened_in_the_list_or_exported_is_a_form_error(client, analyst):
    group = MemberGroup.objects.create(
        name="旧", kind="dynamic", params={"tags": [424242]}, created_by=analyst
    )
    client.force_login(analyst)
    page = client.get(reverse("backoffice:member_list"), {"group": group.pk})
    assert page.status_code == 400 and page.context["form"].non_field_errors()
    export = client.get(reverse("backoffice:member_export"), {"group": group.pk})
    assert export.status_code == 400
    saved = client.post(
        reverse("backoffice:group_create"),
        {"group": group.pk, "name": "再分组", "kind": "static", **once()},
    )
    assert saved.status_code == 400 and not MemberGroup.objects.filter(name="再分组").exists()
