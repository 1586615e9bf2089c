"""Member tags: manual on the member page and in bulk (list or group), rule tags recomputed
(adds and removes) by the nightly task, the seeded 高复购, the staff's tag pages."""

import importlib
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.groups import group_create
from analytics.models import MemberTag, Tag
from analytics.tags import TagError, member_tag_add, rule_tag_recompute
from analytics.tasks import rule_tags_recompute_nightly
from core.models import AuditLog
from core.roles import Role
from stores.models import Category
from tests.analytics.list_helpers import receipt, snapshot
from tests.conftest import once
from tests.members.factories import MemberFactory, StaffFactory
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst():
    return StaffFactory(user__role=Role.ANALYST).user


def tagged(tag) -> set[int]:
    return set(MemberTag.objects.filter(tag=tag).values_list("member_id", flat=True))


def frequent_buyers() -> Tag:
    """The migration's 高复购 (seeded again: a transactional test's flush empties it)."""
    from django.apps import apps

    importlib.import_module("analytics.migrations.0009_rule_tags").seed(apps, None)
    return Tag.objects.get(name="高复购")


def test_the_migration_seeds_the_frequent_buyer_rule_and_its_schedule():
    from django.apps import apps
    from django_celery_beat.models import PeriodicTask

    importlib.import_module("analytics.migrations.0009_rule_tags").schedule(apps, None)
    tag = frequent_buyers()
    assert tag.kind == Tag.Kind.RULE and tag.rule == {"rfm_f_high": True}
    assert PeriodicTask.objects.get(task="analytics.tasks.rule_tags_recompute_nightly").enabled


def test_a_rule_tag_recompute_adds_and_removes():
    tag = frequent_buyers()
    a, b, c = MemberFactory(), MemberFactory(), MemberFactory()
    snapshot({a: {"f_high": True}, b: {"f_high": True}, c: {"f_high": False}})
    assert rule_tag_recompute(tag=tag) == {"tag": "高复购", "added": 2, "removed": 0}
    assert tagged(tag) == {a.pk, b.pk}
    snapshot({a: {"f_high": False}, c: {"f_high": True}})  # the next night's snapshot
    result = rule_tags_recompute_nightly.delay().get()
    assert {"tag": "高复购", "added": 1, "removed": 2} in result
    assert tagged(tag) == {c.pk}
    tag.refresh_from_db()
    assert tag.recomputed_at is not None


def test_a_mother_and_baby_rule_from_a_category(analyst):
    kids = Category.objects.create(code="KIDS", name="童装", division="department")
    store = StoreFactory()
    a, b = MemberFactory(), MemberFactory()
    receipt(
        a,
        store=store,
        day=timezone.localdate() - timedelta(3),
        lines=[{"name": "童装", "category": kids}],
    )
    receipt(
        b,
        store=store,
        day=timezone.localdate() - timedelta(400),
        lines=[{"name": "童装", "category": kids}],
    )
    from analytics.tags import tag_save

    tag = tag_save(
        name="母婴",
        kind=Tag.Kind.RULE,
        rule={"bought_category": kids.pk, "bought_days": 365},
        actor=analyst,
    )
    rule_tag_recompute(tag=tag)
    assert tagged(tag) == {a.pk}


def test_a_rule_tag_is_not_put_on_by_hand(analyst):
    with pytest.raises(TagError):
        member_tag_add(tag=frequent_buyers(), member=MemberFactory(), actor=analyst)


def test_tag_and_untag_from_the_member_page(client, analyst):
    member = MemberFactory()
    vip = Tag.objects.create(name="VIP")
    client.force_login(analyst)
    page = client.get(reverse("backoffice:member_detail", args=[member.pk]))
    assert 'data-panel="tags"' in page.content.decode()
    client.post(reverse("backoffice:member_tag_add", args=[member.pk]), {"tag": vip.pk})
    assert tagged(vip) == {member.pk}
    assert (
        'data-tag="VIP"'
        in client.get(reverse("backoffice:member_detail", args=[member.pk])).content.decode()
    )
    client.post(reverse("backoffice:member_tag_remove", args=[member.pk, vip.pk]))
    assert tagged(vip) == set()
    actions = set(AuditLog.objects.values_list("action", flat=True))
    assert {"analytics.tag.added", "analytics.tag.removed"} <= actions


def test_a_member_out_of_scope_cannot_be_tagged(client):
    s1, s2 = StoreFactory(code="T1"), StoreFactory(code="T2")
    other = MemberFactory(home_store=s2)
    vip = Tag.objects.create(name="VIP")
    staff = StaffFactory(user__role=Role.ANALYST, scope="store", store=s1).user
    client.force_login(staff)
    response = client.post(reverse("backoffice:member_tag_add", args=[other.pk]), {"tag": vip.pk})
    assert response.status_code == 404 and tagged(vip) == set()


def test_bulk_tag_the_filtered_list_and_a_group(client, analyst):
    women = [MemberFactory(gender="F") for _ in range(3)]
    man = MemberFactory(gender="M")
    vip = Tag.objects.create(name="VIP")
    client.force_login(analyst)
    client.post(reverse("backoffice:tag_bulk"), {"tag": vip.pk, "gender": "F", **once()})
    assert tagged(vip) == {m.pk for m in women}
    log = AuditLog.objects.get(action="analytics.tag.bulk_added")
    assert log.data["added"] == 3 and log.data["params"] == {"gender": "F"}
    group = group_create(name="男", kind="static", params={"gender": "M"}, actor=analyst)
    client.post(reverse("backoffice:tag_bulk"), {"tag": vip.pk, "group_id": group.pk, **once()})
    assert tagged(vip) == {m.pk for m in women} | {man.pk}
    # again: nothing twice
    client.post(reverse("backoffice:tag_bulk"), {"tag": vip.pk, "gender": "F", **once()})
    assert MemberTag.objects.filter(tag=vip).count() == 4


def test_bulk_tagging_a_bad_filter_tags_nobody(client, analyst):
    MemberFactory()
    vip = Tag.objects.create(name="VIP")
    client.force_login(analyst)
    response = client.post(
        reverse("backoffice:tag_bulk"), {"tag": vip.pk, "points_min": "-3", **once()}
    )
    assert response.status_code == 302 and tagged(vip) == set()


def test_staff_create_a_rule_tag_with_the_filter_form(client, analyst):
    a = MemberFactory(gender="M")
    MemberFactory(gender="F")
    client.force_login(analyst)
    assert client.get(reverse("backoffice:tag_create")).status_code == 200
    response = client.post(
        reverse("backoffice:tag_create"),
        {"name": "男士", "kind": "rule", "description": "", "gender": "M", **once()},
    )
    assert response.status_code == 302
    tag = Tag.objects.get(name="男士")
    assert tag.rule == {"gender": "M"} and tagged(tag) == {a.pk}
    listing = client.get(reverse("backoffice:tag_list")).content.decode()
    assert "男士" in listing
    # a rule tag without a rule, and a taken name, are refused
    bad = client.post(reverse("backoffice:tag_create"), {"name": "空", "kind": "rule", **once()})
    assert bad.status_code == 400 and not Tag.objects.filter(name="空").exists()
    taken = client.post(
        reverse("backoffice:tag_create"), {"name": "男士", "kind": "manual", **once()}
    )
    assert taken.status_code == 400


def test_tag_pages_need_permissions(client):
    client.force_login(StaffFactory(user__role=Role.STORE_MANAGER).user)
    assert client.get(reverse("backoffice:tag_list")).status_code == 403
    assert client.post(reverse("backoffice:tag_bulk"), {"tag": 1, **once()}).status_code == 403
