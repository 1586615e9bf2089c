import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.utils import timezone

from loyalty.models import Receipt
from members.models import Member, StaffProfile
from members.scoping import scoped
from tests.members.factories import MemberFactory, StaffFactory
from tests.stores.factories import StoreFactory


@pytest.fixture
def two_regions(db):
    """Region RA with stores A1 and A2, region RB with store B1; two members in each store."""
    a1 = StoreFactory(code="A1", region__code="RA")
    a2 = StoreFactory(code="A2", region__code="RA")
    b1 = StoreFactory(code="B1", region__code="RB")
    members = {
        store.code: MemberFactory.create_batch(2, home_store=store) for store in (a1, a2, b1)
    }
    return {"A1": a1, "A2": a2, "B1": b1, "members": members}


def visible_cards(user):
    members = scoped(Member.objects.all(), user=user, store_field="home_store")
    return set(members.values_list("card_no", flat=True))


def cards(*member_lists):
    return {m.card_no for members in member_lists for m in members}


def test_store_manager_sees_only_own_store_members(two_regions):
    manager = StaffFactory(scope=StaffProfile.Scope.STORE, store=two_regions["A1"]).user
    assert visible_cards(manager) == cards(two_regions["members"]["A1"])


def test_store_manager_of_b_cannot_see_a_members(two_regions):
    manager = StaffFactory(scope=StaffProfile.Scope.STORE, store=two_regions["B1"]).user
    hidden = cards(two_regions["members"]["A1"], two_regions["members"]["A2"])
    assert visible_cards(manager).isdisjoint(hidden)
    other = two_regions["members"]["A1"][0]
    assert (
        not scoped(Member.objects.all(), user=manager, store_field="home_store")
        .filter(pk=other.pk)
        .exists()
    )


def test_region_manager_sees_the_stores_of_the_region(two_regions):
    region = two_regions["A1"].region
    manager = StaffFactory(scope=StaffProfile.Scope.REGION, region=region).user
    m = two_regions["members"]
    assert visible_cards(manager) == cards(m["A1"], m["A2"])


def test_hq_and_superuser_see_everything(two_regions):
    m = two_regions["members"]
    everyone = cards(m["A1"], m["A2"], m["B1"])
    assert visible_cards(StaffFactory(scope=StaffProfile.Scope.ALL).user) == everyone
    root = User.objects.create_superuser("root", "root@mall.example", "x")
    assert visible_cards(root) == everyone


def test_users_without_staff_profile_inactive_or_anonymous_see_nothing(two_regions):
    plain = User.objects.create_user("plain", password="x")
    inactive = StaffFactory(scope=StaffProfile.Scope.ALL, user__is_active=False).user
    assert visible_cards(plain) == set()
    assert visible_cards(inactive) == set()
    assert visible_cards(AnonymousUser()) == set()


def test_scope_follows_a_longer_path_and_the_store_model_itself(two_regions):
    manager = StaffFactory(scope=StaffProfile.Scope.STORE, store=two_regions["A2"]).user
    from stores.models import Store

    stores = scoped(Store.objects.all(), user=manager, store_field="")
    assert list(stores.values_list("code", flat=True)) == ["A2"]
    for store in (two_regions["A2"], two_regions["B1"]):
        Receipt.objects.create(
            store=store,
            pos_no="P01",
            receipt_no=f"{store.code}-1",
            division="supermarket",
            occurred_at=timezone.now(),
            total_fen=100,
        )
    receipts = scoped(Receipt.objects.all(), user=manager, store_field="store")
    assert list(receipts.values_list("receipt_no", flat=True)) == ["A2-1"]


def test_dashboard_counts_stay_in_scope(client, two_regions):
    manager = StaffFactory(scope=StaffProfile.Scope.STORE, store=two_regions["A1"]).user
    client.force_login(manager)
    response = client.get("/backoffice/")
    assert response.status_code == 200
    assert response.context["figures"]["members"] == 2
    client.force_login(StaffFactory(scope=StaffProfile.Scope.ALL).user)
    assert client.get("/backoffice/").context["figures"]["members"] == 6
