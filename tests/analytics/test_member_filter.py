"""The member filter (analytics/segments.py): each key against hand-built members, the form's
round trip to JSON parameters and back, bad parameters refused, the description in words."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from analytics.models import LifecycleStage, MemberTag, Tag
from analytics.segments import (
    FilterInvalid,
    MemberFilterForm,
    members_filtered,
    params_clean,
    params_describe,
)
from core.roles import Role
from loyalty.models import Tier
from members.models import Member, RegistrationChannel
from stores.models import Brand, Category
from tests.analytics.list_helpers import clv, points, receipt, snapshot
from tests.members.factories import MemberFactory, StaffFactory
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def hq():
    return StaffFactory(user__role=Role.HQ_ADMIN).user


def cards(params, user):
    return {m.card_no for m in members_filtered(params, user=user)}


def make(card, **fields):
    return MemberFactory(card_no=card, **fields)


def test_no_filter_lists_every_active_member(hq):
    make("A1")
    make("A2", status=Member.Status.FROZEN)
    assert cards({}, hq) == {"A1"}


def test_tier_and_points(hq):
    gold, _new = Tier.objects.get_or_create(
        code="t-gold", defaults={"name": "金卡", "threshold": 987_654_321}
    )
    a, b, c = make("A"), make("B"), make("C")
    points(a, 500, gold)
    points(b, 20)
    # c has no account: a balance of 0
    assert cards({"tier": gold.pk}, hq) == {"A"}
    assert cards({"points_min": 100}, hq) == {"A"}
    assert cards({"points_max": 20}, hq) == {"B", "C"}
    assert cards({"points_min": 10, "points_max": 100}, hq) == {"B"}
    assert c.pk  # used


def test_rfm_class_stage_and_frequency_flag(hq):
    a, b, c = make("A"), make("B"), make("C")
    snapshot(
        {
            a: {"rfm_class": "重要保持", "lifecycle_stage": "active", "f_high": True},
            b: {"rfm_class": "无价值", "lifecycle_stage": "lost"},
        }
    )
    assert cards({"rfm_class": "重要保持"}, hq) == {"A"}
    assert cards({"lifecycle_stage": LifecycleStage.LOST}, hq) == {"B"}
    assert cards({"rfm_f_high": True}, hq) == {"A"}
    assert c.pk and cards({"rfm_class": "一般客户"}, hq) == set()


def test_only_the_current_snapshot_counts(hq):
    a = make("A")
    snapshot({a: {"rfm_class": "重要保持"}})
    snapshot({a: {"rfm_class": "无价值"}})
    assert cards({"rfm_class": "重要保持"}, hq) == set()
    assert cards({"rfm_class": "无价值"}, hq) == {"A"}


def test_predicted_value_band_and_chance_active(hq):
    a, b, c = make("A"), make("B"), make("C")
    clv({a: (0.2, 80_000), b: (0.9, 80_000), c: (0.1, 20_000)})
    likely_to_lapse = {"clv_p_alive_below": 0.3, "clv_value_min_fen": 50_001}
    assert cards(likely_to_lapse, hq) == {"A"}
    assert cards({"clv_value_max_fen": 20_000}, hq) == {"C"}


def test_gender_and_age_band(hq):
    today = timezone.localdate()
    make("F30", gender="F", birthday=today.replace(year=today.year - 30))
    make("M25", gender="M", birthday=today.replace(year=today.year - 25) + timedelta(1))
    make("NOBDAY", gender="F")
    assert cards({"gender": "M"}, hq) == {"M25"}
    # M25 turns 25 tomorrow: still 24
    assert cards({"age_min": 25, "age_max": 34}, hq) == {"F30"}
    assert cards({"age_max": 24}, hq) == {"M25"}


def test_region_home_store_registration_and_channel(hq):
    s1 = StoreFactory(code="X1", region__code="RX")
    s2 = StoreFactory(code="X2", region__code="RY")
    RegistrationChannel.objects.create(code="poster", name="海报")
    make("A", home_store=s1, registered_at=timezone.make_aware(timezone.datetime(2026, 3, 1, 9)))
    make(
        "B",
        home_store=s2,
        channel="poster",
        registered_at=timezone.make_aware(timezone.datetime(2026, 3, 31, 23, 30)),
    )
    assert cards({"region": s1.region_id}, hq) == {"A"}
    assert cards({"home_store": s2.pk}, hq) == {"B"}
    assert cards({"channel": "poster"}, hq) == {"B"}
    # both ends inclusive, Shanghai dates (23:30 on the 31st is in March)
    assert cards({"registered_from": "2026-03-02", "registered_to": "2026-03-31"}, hq) == {"B"}
    assert cards({"registered_to": "2026-03-01"}, hq) == {"A"}


def test_last_purchase_is_the_latest_sale(hq):
    store = StoreFactory()
    today = timezone.localdate()
    a, b, c = make("A"), make("B"), make("C")
    receipt(a, store=store, day=today - timedelta(40))
    receipt(b, store=store, day=today - timedelta(40))
    receipt(b, store=store, day=today - timedelta(2))  # B's last purchase is recent
    receipt(c, store=store, day=today - timedelta(3), kind="refund")  # a refund is no purchase
    window = {
        "last_purchase_from": (today - timedelta(60)).isoformat(),
        "last_purchase_to": (today - timedelta(30)).isoformat(),
    }
    assert cards(window, hq) == {"A"}
    assert cards({"last_purchase_from": (today - timedelta(7)).isoformat()}, hq) == {"B"}


def test_spend_over_a_period_nets_refunds(hq):
    store = StoreFactory()
    today = timezone.localdate()
    a, b, c = make("A"), make("B"), make("C")
    receipt(a, store=store, day=today - timedelta(5), total_fen=60_000)
    receipt(b, store=store, day=today - timedelta(5), total_fen=60_000)
    receipt(b, store=store, day=today - timedelta(4), total_fen=30_000, kind="refund")
    receipt(c, store=store, day=today - timedelta(100), total_fen=90_000)  # before the period
    assert cards({"spend_min_fen": 50_000, "spend_days": 30}, hq) == {"A"}
    assert cards({"spend_min_fen": 20_000, "spend_max_fen": 40_000, "spend_days": 30}, hq) == {"B"}
    # nothing in the period is a spend of 0
    assert cards({"spend_max_fen": 0, "spend_days": 30}, hq) == {"C"}


def test_spend_without_a_period_is_the_rfm_window(hq):
    a, b = make("A"), make("B")
    make("C")
    snapshot({a: {"monetary_fen": 100_000}, b: {"monetary_fen": 5_000}})
    assert cards({"spend_min_fen": 50_000}, hq) == {"A"}
    assert cards({"spend_max_fen": 10_000}, hq) == {"B", "C"}


def test_tags_any_of(hq):
    a, b, c = make("A"), make("B"), make("C")
    vip, mom = Tag.objects.create(name="VIP"), Tag.objects.create(name="宝妈")
    MemberTag.objects.create(tag=vip, member=a)
    MemberTag.objects.create(tag=mom, member=b)
    assert cards({"tags": [vip.pk, mom.pk]}, hq) == {"A", "B"}
    assert cards({"tag": mom.pk}, hq) == {"B"}
    assert c.pk


def test_bought_sku_brand_or_category_in_the_last_days(hq):
    store = StoreFactory()
    today = timezone.localdate()
    kids = Category.objects.create(code="KIDS", name="童装", division="department")
    toys = Category.objects.create(code="TOYS", name="玩具", division="department", parent=kids)
    lego = Brand.objects.create(name="乐高")
    a, b, c = make("A"), make("B"), make("C")
    receipt(
        a,
        store=store,
        day=today - timedelta(10),
        lines=[{"name": "积木", "sku_code": "690001", "brand": lego, "category": toys}],
    )
    receipt(
        b,
        store=store,
        day=today - timedelta(200),
        lines=[{"name": "积木", "sku_code": "690001", "brand": lego, "category": toys}],
    )
    receipt(c, store=store, day=today - timedelta(1), lines=[{"name": "牛奶", "sku_code": "1"}])
    assert cards({"bought_sku": "690001", "bought_days": 30}, hq) == {"A"}
    assert cards({"bought_brand": lego.pk}, hq) == {"A", "B"}  # default 365 days
    # a department matches its sub-categories' lines
    assert cards({"bought_category": kids.pk, "bought_days": 100}, hq) == {"A"}


def test_filters_combine(hq):
    a, b = make("A", gender="F"), make("B", gender="M")
    snapshot({a: {"rfm_class": "重要保持"}, b: {"rfm_class": "重要保持"}})
    assert cards({"rfm_class": "重要保持", "gender": "F"}, hq) == {"A"}


def test_the_form_round_trips_through_json_params(db):
    tag = Tag.objects.create(name="VIP")
    store = StoreFactory()
    form = MemberFilterForm(
        {
            "spend_min": "500.50",
            "spend_days": "90",
            "tags": [str(tag.pk)],
            "registered_from": "2026-01-01",
            "home_store": str(store.pk),
            "clv_p_alive_below": "0.3",
            "rfm_f_high": "on",
        }
    )
    assert form.is_valid(), form.errors
    params = form.params()
    assert params == {
        "spend_min_fen": 50050,
        "spend_days": 90,
        "tags": [tag.pk],
        "registered_from": "2026-01-01",
        "home_store": store.pk,
        "clv_p_alive_below": 0.3,
        "rfm_f_high": True,
    }
    again = MemberFilterForm.from_params(params)
    assert again.is_valid() and again.params() == params


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"tier": 999999}, "tier"),
        ({"tags": [999999]}, "tags"),
        ({"age_min": 40, "age_max": 30}, "age_max"),
        ({"registered_from": "2026-05-01", "registered_to": "2026-04-01"}, "registered_to"),
        ({"registered_from": "not a date"}, "registered_from"),
        ({"points_min": -5}, "points_min"),
        ({"clv_p_alive_below": 3}, "clv_p_alive_below"),
        ({"bought_days": 30}, "bought_days"),
        ({"spend_days": 30}, "spend_days"),
        ({"gender": "X"}, "gender"),
        ({"rfm_class": "不存在"}, "rfm_class"),
    ],
)
def test_bad_params_are_refused_with_the_field(params, field, hq):
    with pytest.raises(FilterInvalid) as caught:
        members_filtered(params, user=hq)
    assert field in caught.value.errors


def test_unknown_keys_are_dropped(db):
    assert params_clean({"gender": "F", "evil": "DROP TABLE"}) == {"gender": "F"}


def test_the_description_is_in_words(db):
    store = StoreFactory(name="武林店")
    lines = params_describe(
        {
            "home_store": store.pk,
            "spend_min_fen": 50_000,
            "spend_days": 90,
            "bought_category": 424242,
            "age_min": 25,
            "age_max": 34,
        }
    )
    text = " | ".join(lines)
    assert "武林店" in text and "500.00" in text and "90" in text
    assert "424242" in text  # a category that is gone is named by its id
    assert "25" in text and "34" in text
    assert params_describe({}) != []


def test_staff_scope_always_applies(db):
    s1, s2 = StoreFactory(code="Y1"), StoreFactory(code="Y2")
    make("MINE", home_store=s1)
    make("THEIRS", home_store=s2)
    manager = StaffFactory(user__role=Role.STORE_MANAGER, scope="store", store=s1).user
    assert cards({}, manager) == {"MINE"}
    assert cards({"home_store": s2.pk}, manager) == set()


def test_birthday_on_29_february(hq):
    make("LEAP", birthday=date(2004, 2, 29))
    assert isinstance(cards({"age_min": 1}, hq), set)
