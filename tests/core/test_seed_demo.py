import hashlib
import re
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Q
from django.utils.dateparse import parse_datetime

from loyalty.models import PointsAccount, PointsEntry, Receipt, ReceiptLine, TierChange
from loyalty.tiers import tiers_review
from members.cards import card_no_is_issued_form
from members.models import Member
from stores.models import Brand, Floor, Shop, Store

AS_OF = "2026-11-20T20:00:00+08:00"


def seed(**options):
    call_command("seed_demo", as_of=AS_OF, stdout=open("/dev/null", "w"), **options)  # noqa: SIM115


def fingerprint() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT md5(string_agg(concat_ws('|', s.code, r.pos_no, r.receipt_no, r.occurred_at,"
            " m.card_no, r.kind, r.total_fen), ',' ORDER BY s.code, r.pos_no, r.receipt_no))"
            " FROM loyalty_receipt r JOIN members_store s ON s.id = r.store_id"
            " LEFT JOIN members_member m ON m.id = r.member_id"
        )
        receipts = cursor.fetchone()[0]
        cursor.execute(
            "SELECT md5(string_agg(concat_ws('|', e.key, e.points, e.balance_after, e.created_at,"
            " e.expires_on, t.code), ',' ORDER BY e.id)) FROM loyalty_pointsentry e"
            " JOIN loyalty_pointsaccount a ON a.id = e.account_id"
            " LEFT JOIN loyalty_tier t ON t.id = a.tier_id"
        )
        receipts += cursor.fetchone()[0] or ""
    members = "".join(
        f"{card}{name}{phone}"
        for card, name, phone in Member.objects.order_by("card_no").values_list(
            "card_no", "name", "phone"
        )
    )
    return hashlib.md5((receipts + members).encode()).hexdigest()  # noqa: S324


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """One demo mall for the module's read-only checks."""
    with django_db_blocker.unblock():
        seed(members=400, months=12, seed=7, reset=True)
        yield
        from config.demo.loader import demo_reset

        demo_reset()


@pytest.mark.django_db
def test_stores_floors_and_brands_form_a_believable_mall(demo):
    assert list(Store.objects.values_list("code", flat=True)) == ["S01", "S02"]
    for store in Store.objects.all():
        codes = list(Floor.objects.filter(store=store).values_list("code", flat=True))
        assert codes == ["B1", "1F", "2F", "3F", "4F", "5F", "6F"]
    assert Floor.objects.get(store__code="S01", code="B1").name == "超市"
    assert 110 <= Brand.objects.count() <= 140
    assert (
        Shop.objects.filter(floor__store__code="S01").count()
        > Shop.objects.filter(floor__store__code="S02").count()
    )


@pytest.mark.django_db
def test_members_are_valid_and_varied(demo):
    members = list(Member.objects.all())
    assert len(members) == 400
    assert all(card_no_is_issued_form(m.card_no) for m in members)
    assert len({m.phone for m in members}) == 400
    genders = Counter(m.gender for m in members)
    assert genders["F"] > genders["M"] > 0
    assert len({m.name for m in members}) > 300
    assert Member.objects.filter(receipts__isnull=True).exists()  # some never shop


@pytest.mark.django_db
def test_receipts_add_up_and_follow_the_rules(demo):
    assert Receipt.objects.count() > 4000
    assert Receipt.objects.filter(member__isnull=True).exists()
    refunds = Receipt.objects.filter(kind=Receipt.Kind.REFUND)
    assert refunds.exists() and not refunds.filter(refund_of__isnull=True).exists()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM loyalty_receipt r WHERE r.total_fen <>"
            " (SELECT sum(amount_fen) FROM loyalty_receiptline l WHERE l.receipt_id = r.id)"
        )
        assert cursor.fetchone()[0] == 0
    assert ReceiptLine.objects.filter(non_merchandise=True, category_name="购物袋").exists()


@pytest.mark.django_db
def test_weekends_are_busier_than_weekdays(demo):
    by_weekday = Counter(
        t.isoweekday() for t in Receipt.objects.values_list("occurred_at", flat=True)
    )
    assert by_weekday[6] > 1.4 * by_weekday[2]


@pytest.mark.django_db
def test_planted_associations_stand_out(demo):
    baskets: dict[int, set[str]] = {}
    for receipt_id, category in ReceiptLine.objects.values_list("receipt_id", "category_name"):
        baskets.setdefault(receipt_id, set()).add(category)
    for antecedent, consequent in [
        ("连衣裙", "遮阳帽"),
        ("热水袋", "睡衣"),
        ("电吹风", "浴室用品"),
    ]:
        with_a = [b for b in baskets.values() if antecedent in b]
        confidence = sum(consequent in b for b in with_a) / len(with_a)
        base = sum(consequent in b for b in baskets.values()) / len(baskets)
        assert confidence / base > 3, (antecedent, consequent, confidence, base)


@pytest.mark.django_db
def test_last_nights_jobs_ran_and_mining_finds_the_planted_rules(demo):
    from analytics.models import ClvRun, RfmSnapshot
    from mining.models import MiningRun
    from mining.services import rules_export_rows

    assert RfmSnapshot.objects.get(is_current=True).row_count > 300
    assert ClvRun.objects.get(is_current=True).member_count > 300
    run = MiningRun.objects.get(is_current=True)
    assert (run.trigger, run.level) == ("nightly", "category")
    rules = {(a, c): lift for a, c, _s, _c, lift, _n in rules_export_rows(run)}
    for pair, lift in [
        (("连衣裙", "遮阳帽"), 10),
        (("热水袋", "睡衣"), 10),
        (("电吹风", "浴室用品"), 2),
    ]:
        assert rules[pair] > lift, pair


@pytest.mark.django_db
def test_members_earned_points_for_their_receipts_and_hold_tiers(demo):
    call_command("check_ledger", stdout=open("/dev/null", "w"))  # noqa: SIM115 - raises on a breach
    member_sales = Receipt.objects.filter(member__isnull=False, kind=Receipt.Kind.SALE)
    earned = PointsEntry.objects.filter(kind="earn")
    assert earned.count() > 0.95 * member_sales.count()
    assert not earned.exclude(receipt__in=member_sales).exists()
    entry = earned.select_related("receipt").order_by("id").first()
    assert entry.created_at == entry.receipt.occurred_at  # history, dated at the till
    refunds = PointsEntry.objects.filter(kind="refund").select_related("receipt", "reverses")
    assert refunds.exists()
    assert all(r.reverses.receipt_id == r.receipt.refund_of_id for r in refunds)
    shoppers = Member.objects.filter(receipts__isnull=False).distinct().count()
    assert PointsAccount.objects.filter(balance__gt=0).count() == shoppers
    tiers = Counter(PointsAccount.objects.values_list("tier__code", flat=True))
    assert tiers["regular"] > 0 and tiers["silver"] > 0 and tiers[None] == 0
    assert TierChange.objects.count() == sum(n for code, n in tiers.items() if code != "regular")
    review = tiers_review(as_of=parse_datetime(AS_OF), notify=False)
    assert (review["up"], review["down"]) == (0, 0)  # the seed left every tier where it belongs


@pytest.mark.django_db
def test_seed_refuses_existing_data_and_if_empty_leaves_it(demo):
    before = Receipt.objects.count()
    with pytest.raises(CommandError, match="--reset"):
        seed(members=10, months=1, seed=1)
    seed(members=10, months=1, seed=1, if_empty=True)
    assert Receipt.objects.count() == before


@pytest.mark.django_db(transaction=True)
def test_the_same_seed_builds_the_same_mall_and_another_seed_does_not():
    seed(members=80, months=3, seed=11, reset=True)
    first = fingerprint()
    seed(members=80, months=3, seed=11, reset=True)
    assert fingerprint() == first
    seed(members=80, months=3, seed=12, reset=True)
    assert fingerprint() != first


@pytest.mark.django_db
def test_the_demo_has_welcome10_as_the_contract_fixes_it_and_a_campaign_with_uses(demo):
    from coupons.models import Coupon, CouponTemplate

    welcome = CouponTemplate.objects.get(code="WELCOME10")
    assert (welcome.kind, welcome.face_value_fen, welcome.min_spend_fen, welcome.valid_days) == (
        "cash",
        1000,
        0,
        30,
    )
    dress = Coupon.objects.filter(template__code="DRESS300-50")
    used = dress.filter(status="used")
    assert dress.exists() and used.exists()
    for coupon in used.select_related("used_receipt"):
        assert coupon.used_receipt.member_id == coupon.member_id
        assert coupon.used_receipt.total_fen >= 30000
        womens_wear = coupon.used_receipt.lines.filter(category__parent__code="WOMEN")
        assert sum(womens_wear.values_list("amount_fen", flat=True)) >= 30000
        assert coupon.used_receipt.occurred_at < coupon.valid_until


@pytest.mark.django_db
def test_the_demo_coupons_are_scoped_as_they_read_and_their_floors_match_the_guide(demo):
    from coupons.models import CouponTemplate

    for template in CouponTemplate.objects.prefetch_related("floors", "brands", "categories"):
        scoped = [*template.floors.all(), *template.brands.all(), *template.categories.all()]
        said = set(re.findall(r"\b(B\d|\dF)\b", template.floors_remark))
        if not scoped:
            assert "全" in template.floors_remark and not said, template.code
            continue
        categories = list(template.categories.all())
        shops = Shop.objects.filter(is_active=True).filter(
            Q(brand__category__in=categories) | Q(brand__category__parent__in=categories)
        )
        floors = Floor.objects.filter(shops__in=shops).distinct()
        assert said == set(floors.values_list("code", flat=True)), template.code
        for floor in floors:  # the floor guide lists the trade the remark names
            for category in categories:
                assert category.name in floor.name and category.name in template.floors_remark
    dress = CouponTemplate.objects.get(code="DRESS300-50")
    assert [c.code for c in dress.categories.all()] == ["WOMEN"]
    assert "女装" in dress.name and "特价" not in dress.usage_notes  # no rule it cannot keep


@pytest.mark.django_db
def test_the_womens_wear_coupon_is_refused_on_groceries_and_taken_on_a_dress(demo, client):
    from coupons.issuing import campaign_get_or_create, coupon_issue
    from coupons.models import Campaign, CouponTemplate
    from pos.models import PosTerminal
    from tests.conftest import PosClient

    pos = PosClient(client, PosTerminal.objects.get(terminal_id="pos_demo_s01"))
    member = (
        Member.objects.filter(status="active")
        .exclude(coupons__template__code="DRESS300-50")
        .order_by("pk")
        .first()
    )
    coupon = coupon_issue(
        template=CouponTemplate.objects.get(code="DRESS300-50"),
        member=member,
        campaign=campaign_get_or_create(channel=Campaign.Channel.GROUP, name="女装季满减"),
    )

    def verify(request_id, line):
        return pos.post(
            "/api/pos/v1/coupons/verify",
            {
                "store": "S01",
                "pos_no": "P03",
                "request_id": request_id,
                "code": coupon.code,
                "member": {"card_no": member.card_no},
                "basket_fen": line["amount_fen"],
                "lines": [line],
            },
        )

    oil = {"name": "花生油", "brand": "金龙鱼", "category": "粮油", "qty": 4, "amount_fen": 35960}
    dress = {
        "name": "连衣裙",
        "brand": "歌莉娅",
        "category": "连衣裙",
        "qty": 1,
        "amount_fen": 39900,
    }

    refused = verify("demo-oil-0001", oil)
    taken = verify("demo-dress-0001", dress)

    assert (refused.status_code, refused.json()) == (409, {"error": "out_of_scope"})
    assert (taken.status_code, taken.json()["discount_fen"]) == (200, 5000)


@pytest.mark.django_db
def test_the_demo_has_customer_service_tickets_handled_through_their_story(demo):
    from feedback.models import Compensation, Handler, Rating, Ticket, TicketEvent

    as_of = parse_datetime(AS_OF)
    tickets = Ticket.objects.all()
    assert 60 <= tickets.count() <= 150
    statuses = Counter(tickets.values_list("status", flat=True))
    assert all(statuses[s] > 0 for s in ["waiting", "processing", "resolved", "closed"]), statuses
    assert tickets.filter(on_hold=True).exists() and tickets.filter(reopen_count__gt=0).exists()
    assert tickets.filter(status="processing", resolution_due__lt=as_of, on_hold=False).exists()
    assert (
        tickets.filter(store__code="S02").exists() and tickets.filter(shop__isnull=False).exists()
    )
    assert Rating.objects.filter(tags__is_positive=False).exists()
    assert Rating.objects.filter(tags__is_positive=True).exists()
    assert Compensation.objects.exists()
    service = Handler.objects.get(user__username="service")
    assert service.is_supervisor and service.department.name == "客服部"
    assert service.user.get_full_name() == "赵雨萱"
    assert tickets.filter(handler=service.user).count() > 5
    # every story happened in order before the demo's as-of moment, numbered on its day
    assert not TicketEvent.objects.filter(created_at__gt=as_of).exists()
    for ticket in tickets.prefetch_related("events"):
        moments = [e.created_at for e in ticket.events.all()]
        assert moments == sorted(moments) and moments[0] == ticket.created_at, ticket.number
        assert ticket.number.startswith(f"FK{ticket.created_at.astimezone(as_of.tzinfo):%Y%m%d}")
        if ticket.first_responded_at:
            assert ticket.created_at < ticket.first_responded_at
        if ticket.resolved_at:
            assert ticket.first_responded_at <= ticket.resolved_at
    # the members were told at each step, under the ticket's number, at the step's moment
    from feedback.services import ticket_path
    from members.models import Message

    closed = tickets.filter(status="closed", resolved_at__isnull=False).first()
    told = Message.objects.filter(link=ticket_path(closed)).order_by("pk")
    assert told.count() >= 4 and closed.number in told.first().title
    assert told.first().created_at == closed.created_at
    assert told.last().created_at == closed.closed_at
