"""A rule made a campaign (连衣裙 → 遮阳帽): members who bought the dress but not the hat in
the last N days get the hat's coupon, a control group gets nothing, and conversion is buying
the hat, measured the same way for both arms."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from analytics.actions import group_action_results
from analytics.models import GroupAction, GroupMember, MemberGroup
from core.roles import Role
from coupons.models import Coupon
from loyalty.models import Receipt, ReceiptLine
from members.models import Member
from mining.campaigns import item_line_lookups, rule_audience, rule_campaign_create
from mining.models import MiningRun, RuleCampaign
from mining.services import mining_run_create, mining_run_execute
from stores.models import Category
from tests.conftest import once
from tests.members.factories import MemberFactory, StaffFactory
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def now(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def mall(now):
    store = StoreFactory(code="S01")
    dress = Category.objects.create(code="DP05", name="连衣裙", division="department")
    hat = Category.objects.create(code="DP08", name="遮阳帽", division="department")
    return store, dress, hat


counter = iter(range(10**6))


def buy(store, member, categories, *, days_ago=1, kind="sale", refund_of=None):
    receipt = Receipt.objects.create(
        store=store,
        pos_no="P1",
        receipt_no=f"R{next(counter)}",
        occurred_at=NOW - timedelta(days=days_ago),
        member=member,
        kind=kind,
        refund_of=refund_of,
        division="department",
        total_fen=10_000 * len(categories),
    )
    ReceiptLine.objects.bulk_create(
        ReceiptLine(
            receipt=receipt,
            line_no=n,
            name=c.name if isinstance(c, Category) else c,
            category=c if isinstance(c, Category) else None,
            category_name=c.name if isinstance(c, Category) else c,
            qty=1,
            amount_fen=10_000,
        )
        for n, c in enumerate(categories, 1)
    )
    return receipt


def dress_hat_rule(store, dress, hat):
    """A category-level run over 10 anonymous dress+hat baskets; its 连衣裙 → 遮阳帽 rule."""
    for _ in range(10):
        buy(store, None, [dress, hat], days_ago=60)
    run = mining_run_execute(
        run_id=mining_run_create(
            trigger="command", level="category", min_support=0.5, min_confidence=0.5
        ).pk
    )
    names = dict(run.items.values_list("code", "name"))
    rule = next(r for r in run.rules.all() if [names[c] for c in r.consequents] == ["遮阳帽"])
    return run, rule


def test_the_audience_bought_a_but_not_b_in_the_window(mall):
    store, dress, hat = mall
    run, rule = dress_hat_rule(store, dress, hat)
    wanted = MemberFactory(home_store=store)
    buy(store, wanted, [dress], days_ago=29)
    both = MemberFactory(home_store=store)
    buy(store, both, [dress], days_ago=5)
    buy(store, both, [hat], days_ago=2)
    too_long_ago = MemberFactory(home_store=store)
    buy(store, too_long_ago, [dress], days_ago=31)
    hat_only = MemberFactory(home_store=store)
    buy(store, hat_only, [hat])
    refunded = MemberFactory(home_store=store)  # a refund is not a purchase
    original = buy(store, MemberFactory(home_store=store), [hat], days_ago=40)
    buy(store, refunded, [dress], kind="refund", refund_of=original)
    closed = MemberFactory(home_store=store, status=Member.Status.CLOSED)
    buy(store, closed, [dress])
    by_name = MemberFactory(home_store=store)  # a till that sent the category's name only
    buy(store, by_name, ["连衣裙"], days_ago=3)

    audience = set(rule_audience(run, rule, lookback_days=30).values_list("pk", flat=True))
    assert audience == {wanted.pk}  # by_name bought an unlinked "连衣裙": another item
    # 32 days: today and the 31 before it
    assert set(rule_audience(run, rule, lookback_days=32).values_list("pk", flat=True)) == {
        wanted.pk,
        too_long_ago.pk,
    }
    assert item_line_lookups("category", "连衣裙") == [
        {"category_id": None, "category_name": "连衣裙"}
    ]
    assert item_line_lookups("sku", "690123") == [
        {"sku_code": "690123"},
        {"sku_code": "", "name": "690123"},
    ]


def test_a_campaign_sends_b_coupons_holds_back_a_control_group_and_measures_buying_b(
    mall, make_template, django_capture_on_commit_callbacks
):
    store, dress, hat = mall
    run, rule = dress_hat_rule(store, dress, hat)
    buyers = MemberFactory.create_batch(40, home_store=store)
    for member in buyers:
        buy(store, member, [dress], days_ago=10)
    staff = StaffFactory(user__role=Role.MARKETING).user
    template = make_template("HAT20", name="遮阳帽 20 元券")

    with django_capture_on_commit_callbacks(execute=True):
        campaign = rule_campaign_create(
            run=run,
            rule=rule,
            actor=staff,
            enqueue=lambda action_id: __import__(
                "analytics.actions", fromlist=["group_action_run"]
            ).group_action_run(action_id=action_id),
            coupon_template=template,
            lookback_days=30,
            control_percent=10,
        )
    action = GroupAction.objects.get(pk=campaign.action_id)
    assert (action.audience, action.treatment, action.control) == (40, 36, 4)
    assert action.conversion_label == "遮阳帽"
    assert action.conversion_lines == [{"category_id": hat.pk}]
    group = MemberGroup.objects.get(pk=action.group_id)
    assert group.kind == "static" and GroupMember.objects.filter(group=group).count() == 40
    control = set(action.recipients.filter(arm="control").values_list("member_id", flat=True))
    treated = set(action.recipients.filter(arm="treatment").values_list("member_id", flat=True))
    coupons = set(Coupon.objects.filter(template=template).values_list("member_id", flat=True))
    assert coupons == treated and not coupons & control

    # after the start: 9 treated members buy the hat, 3 buy only a dress; one control buys it
    action.refresh_from_db()
    later = (action.started_at - NOW).total_seconds() / 86400 - 1  # a day after the start
    for member_id in sorted(treated)[:9]:
        buy(store, Member.objects.get(pk=member_id), [hat], days_ago=-later - 1)
    for member_id in sorted(treated)[9:12]:
        buy(store, Member.objects.get(pk=member_id), [dress], days_ago=-later - 1)
    buy(store, Member.objects.get(pk=sorted(control)[0]), [hat, dress], days_ago=-later - 1)
    results = group_action_results(action, now=NOW + timedelta(days=30))
    arms = {arm["arm"]: arm for arm in results["arms"]}
    assert (arms["treatment"]["members"], arms["treatment"]["converted"]) == (36, 9)
    assert (arms["control"]["members"], arms["control"]["converted"]) == (4, 1)
    assert results["uplift"] is not None


def test_the_page_makes_the_campaign_and_refuses_bad_input(
    client, mall, make_template, django_capture_on_commit_callbacks
):
    store, dress, hat = mall
    run, rule = dress_hat_rule(store, dress, hat)
    for member in MemberFactory.create_batch(5, home_store=store):
        buy(store, member, [dress])
    template = make_template("HAT20")
    client.force_login(StaffFactory(user__role=Role.MARKETING).user)
    url = reverse("backoffice:mining_rule_campaign", args=[run.pk, rule.pk])

    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "连衣裙 → 遮阳帽" in text and "5" in text

    fields = {"name": "夏季交叉营销", "coupon_template": template.pk, "control_percent": 10,
              "window_days": 14}  # fmt: skip
    bad = client.post(url, {**once(), **fields, "lookback_days": 0})
    assert bad.status_code == 400
    inactive = make_template("OLD", is_active=False)
    bad = client.post(
        url, {**once(), **fields, "coupon_template": inactive.pk, "lookback_days": 30}
    )
    assert bad.status_code == 400
    made = client.post(url, {**once(), **fields, "lookback_days": 2})  # today and yesterday
    assert made.status_code == 302
    assert made.url == reverse("backoffice:group_action", args=[GroupAction.objects.get().pk])
    assert not client.post(url, {**once(), **fields, "lookback_days": "x"}).status_code == 500
    assert RuleCampaign.objects.count() == 1

    # a rule of another run: not found
    other, _rule = MiningRun.objects.create(
        status="done", trigger="command", level="category", algorithm="fpgrowth",
        min_support=0.1, min_confidence=0.1,
    ), None  # fmt: skip
    assert (
        client.get(reverse("backoffice:mining_rule_campaign", args=[other.pk, rule.pk])).status_code
        == 404
    )

    # customer service may not send
    client.force_login(StaffFactory(user__role=Role.CUSTOMER_SERVICE).user)
    assert client.get(url).status_code == 403


def test_an_empty_audience_saves_nothing(client, mall, make_template):
    store, dress, hat = mall
    run, rule = dress_hat_rule(store, dress, hat)
    client.force_login(StaffFactory(user__role=Role.MARKETING).user)
    url = reverse("backoffice:mining_rule_campaign", args=[run.pk, rule.pk])
    response = client.post(
        url,
        {**once(), "name": "x", "coupon_template": make_template("HAT20").pk,
         "control_percent": 10, "window_days": 14, "lookback_days": 30},
    )  # fmt: skip
    assert response.status_code == 400
    assert not GroupAction.objects.exists() and not MemberGroup.objects.exists()
