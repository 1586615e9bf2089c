"""One purchase, one receipt, one earning: a 拍小票 claim and the till's (or an import's) copy
of the same receipt meet whichever comes first. Matched on the store and the receipt number
in any case, and on the POS when the claim names one.

- claim, then till or import: the claim's receipt takes the till's number, lines and total,
  keeps its member and points; the till's answer is 201 with points_earned 0.
- till or import, then claim: approving links the claim to the recorded receipt; it earns
  nothing more if the receipt had the member's card, the receipt's own points if it had none.
"""

import pytest
from django.utils import timezone

from core.exceptions import ServiceError
from core.roles import Role
from loyalty.ledger import ledger_check, points_balance
from loyalty.models import PointsEntry, Receipt, ReceiptClaim
from loyalty.services import claim_approve
from tests.conftest import once, sale
from tests.loyalty.test_claims import _claim
from tests.loyalty.test_import_receipts import row, run
from tests.members.factories import StaffFactory


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def reviewer(store):
    return StaffFactory(user__role=Role.CUSTOMER_SERVICE, scope="store", store=store).user


def till_sale(member, receipt_no="A-0001", pos_no="P03", amount_fen=49_900):
    body = sale(member, receipt_no=receipt_no, amount_fen=amount_fen)
    body["pos_no"] = pos_no
    return body


def earned(member) -> list[int]:
    return list(PointsEntry.objects.filter(account__member=member).values_list("points", flat=True))


# --- Claim first ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claim_pos", "till_number"), [("", "A-0001"), ("P03", "A-0001"), ("", "a-0001")]
)
def test_claim_then_till_the_till_earns_nothing_and_the_claim_receipt_becomes_the_tills(
    pos, member, store, reviewer, claim_pos, till_number
):
    claim = _claim(member, store, receipt_no="A-0001", amount_fen=50_000)
    claim_approve(claim=claim, actor=reviewer, pos_no=claim_pos)

    response = pos.receipt(till_sale(member, receipt_no=till_number))
    again = pos.receipt(till_sale(member, receipt_no=till_number))

    assert response.status_code == 201, response.content
    assert response.json()["points_earned"] == 0
    assert again.status_code == 200 and again.json()["points_earned"] == 0
    receipt = Receipt.objects.get()  # one purchase, one receipt
    assert (receipt.pos_no, receipt.receipt_no, receipt.total_fen) == ("P03", till_number, 49_900)
    assert list(receipt.lines.values_list("name", flat=True)) == ["连衣裙"]
    assert ReceiptClaim.objects.get().receipt == receipt
    assert earned(member) == [500] and points_balance(member_id=member.pk) == 500
    assert ledger_check() == []


def test_claim_then_till_then_refund_takes_back_the_claims_points(pos, member, store, reviewer):
    claim_approve(claim=_claim(member, store, amount_fen=50_000), actor=reviewer)
    pos.receipt(till_sale(member))

    refund = till_sale(member, receipt_no="R-1")
    refund["refund_of"] = "A-0001"
    response = pos.receipt(refund)

    assert response.status_code == 201, response.content
    assert points_balance(member_id=member.pk) == 0
    assert ledger_check() == []


def test_a_claim_on_another_pos_does_not_swallow_the_till_receipt(pos, member, store, reviewer):
    claim_approve(claim=_claim(member, store), actor=reviewer, pos_no="P01")

    response = pos.receipt(till_sale(member, pos_no="P03"))

    assert response.json()["points_earned"] == 499
    assert Receipt.objects.count() == 2


def test_claim_then_import_the_import_earns_nothing_and_says_so(tmp_path, member, store, reviewer):
    claim_approve(claim=_claim(member, store, amount_fen=50_000), actor=reviewer)
    card = member.card_no

    out, errors, failed = run(
        tmp_path, [row("A-0001", card, amount=49_900), row("A-0002", card, amount=10_000)]
    )

    assert (errors, failed) == ([], False)
    assert "receipts added: 2" in out and "linked to approved claims (no points again): 1" in out
    receipt = Receipt.objects.get(receipt_no="A-0001")
    assert (receipt.pos_no, receipt.total_fen, receipt.member) == ("P03", 49_900, member)
    assert sorted(earned(member)) == [100, 500]
    out, errors, failed = run(tmp_path, [row("A-0001", card, amount=49_900)])
    assert "skipped as already present: 1" in out
    assert Receipt.objects.count() == 2 and ledger_check() == []


# --- Till or import first ---------------------------------------------------------------


def test_till_with_the_card_then_claim_is_refused_and_earns_nothing(pos, member, store):
    pos.receipt(till_sale(member))

    with pytest.raises(ServiceError) as refused:
        _claim(member, store, receipt_no="a-0001")

    assert refused.value.code == "claim_duplicate"
    assert earned(member) == [499]


def test_till_without_a_card_then_claim_links_and_earns_the_receipts_points(
    pos, member, store, reviewer
):
    assert pos.receipt(till_sale(None)).json()["points_earned"] == 0

    claim = claim_approve(claim=_claim(member, store, amount_fen=50_000), actor=reviewer)

    receipt = Receipt.objects.get()
    assert claim.receipt == receipt and receipt.member == member
    assert claim.points == 499  # the till's total, not the amount typed in the claim
    assert earned(member) == [499]
    assert ledger_check() == []


def test_till_arriving_while_the_claim_waits_then_approval_links_without_points(
    pos, member, store, reviewer
):
    claim = _claim(member, store)
    pos.receipt(till_sale(member))

    claim = claim_approve(claim=claim, actor=reviewer)

    assert claim.receipt == Receipt.objects.get() and claim.points == 0
    assert earned(member) == [499]


def test_a_purchase_that_earned_for_another_member_cannot_be_approved(
    pos, member, member_factory, store, reviewer
):
    claim = _claim(member, store)
    other = member_factory(home_store=store)
    pos.receipt(till_sale(other))

    with pytest.raises(ServiceError) as refused:
        claim_approve(claim=claim, actor=reviewer)

    assert refused.value.code == "claim_other_member"
    assert ReceiptClaim.objects.get().status == "pending"
    assert earned(member) == []


def test_import_without_a_card_then_claim_earns_once(tmp_path, member, store, reviewer):
    run(tmp_path, [row("A-0001", "", amount=49_900)])

    claim = claim_approve(claim=_claim(member, store, amount_fen=50_000), actor=reviewer)
    run(tmp_path, [row("A-0001", "", amount=49_900)])  # the same file again

    assert claim.points == 499 and earned(member) == [499]
    assert Receipt.objects.count() == 1 and ledger_check() == []


def test_import_with_the_card_then_claim_is_refused(tmp_path, member, store):
    run(tmp_path, [row("A-0001", member.card_no, amount=49_900)])

    with pytest.raises(ServiceError):
        _claim(member, store)

    assert earned(member) == [499]


def test_several_tills_with_the_number_need_the_pos_number(pos, member, store, reviewer):
    pos.receipt(till_sale(None, pos_no="P01"))
    pos.receipt(till_sale(None, pos_no="P02", amount_fen=20_000))
    claim = _claim(member, store)

    with pytest.raises(ServiceError) as refused:
        claim_approve(claim=claim, actor=reviewer)
    claim = claim_approve(claim=claim, actor=reviewer, pos_no="P02")

    assert refused.value.code == "claim_ambiguous"
    assert (claim.receipt.pos_no, claim.pos_no, claim.points) == ("P02", "P02", 200)


def test_staff_set_the_pos_number_when_approving_on_the_page(client, pos, member, store, reviewer):
    pos.receipt(till_sale(None, pos_no="P01"))
    pos.receipt(till_sale(None, pos_no="P02", amount_fen=20_000))
    claim = _claim(member, store)
    client.force_login(reviewer)
    url = f"/backoffice/loyalty/claims/{claim.pk}/decide/"

    bad = client.post(url, {**once(), "decision": "approve", "pos_no": "P 02"})
    client.post(url, {**once(), "decision": "approve", "pos_no": "P02"})

    assert bad.status_code == 400
    claim.refresh_from_db()
    assert (claim.status, claim.pos_no, claim.points) == ("approved", "P02", 200)
    assert points_balance(member_id=member.pk) == 200


def test_the_member_may_give_the_pos_number(client, member, store):
    from tests.loyalty.test_claims import photo
    from tests.members.factories import signed_in_as

    signed_in_as(client, member)
    client.post(
        "/m/claims/",
        {
            "store": store.pk,
            "shop_name": "某品牌专柜",
            "receipt_no": "B-0002",
            "pos_no": "P03",
            "amount": "299.90",
            "purchased_on": timezone.localdate().isoformat(),
            "photo": photo(),
        },
    )

    assert ReceiptClaim.objects.get().pos_no == "P03"


# --- At the same moment -------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_a_claim_approved_while_the_till_sends_the_receipt_earns_once(
    terminal, member, store, reviewer, round_
):
    from django.test import Client

    from tests.conftest import PosClient
    from tests.loyalty.test_ledger_races import _race

    number = f"RACE-{round_}"
    claim = _claim(member, store, receipt_no=number, amount_fen=50_000)
    body = till_sale(member, receipt_no=number)

    def work(i):
        if i == 0:
            return claim_approve(claim=claim, actor=reviewer)
        return PosClient(Client(), terminal).receipt(body)

    approved, response = _race(2, work)

    assert isinstance(approved, ReceiptClaim), approved
    assert response.status_code == 201, response.content
    assert Receipt.objects.filter(receipt_no=number).count() == 1
    assert points_balance(member_id=member.pk) in (499, 500)  # whichever came first
    assert approved.points + response.json()["points_earned"] == points_balance(member_id=member.pk)
    assert ledger_check() == []


@pytest.mark.django_db(transaction=True)
def test_an_approval_waiting_for_the_tills_purchase_lock_does_not_deadlock_it(
    member, store, reviewer
):
    """The till holds the purchase's lock and then writes rows that reference the member and
    the store; an approval arriving in between must not hold those rows while it waits."""
    import threading
    import time

    from django.db import connection, transaction

    from loyalty.receipts import purchase_lock

    claim = _claim(member, store, receipt_no="LOCK-1", amount_fen=50_000)
    till_has_lock, outcome = threading.Event(), {}

    def till():
        try:
            with transaction.atomic():
                purchase_lock(store_id=store.pk, receipt_no="LOCK-1")
                till_has_lock.set()
                time.sleep(0.5)  # the approval is now waiting for the purchase lock
                with connection.cursor() as cursor:  # what inserting a receipt's row checks
                    for row in (member, store):
                        table = connection.ops.quote_name(row._meta.db_table)
                        sql = f"SELECT 1 FROM {table} WHERE id = %s FOR KEY SHARE"  # noqa: S608
                        cursor.execute(sql, [row.pk])
            outcome["till"] = "committed"
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test checks
            outcome["till"] = exc
        finally:
            connection.close()

    def approval():
        till_has_lock.wait(5)
        try:
            outcome["approval"] = claim_approve(claim=claim, actor=reviewer).status
        except Exception as exc:  # noqa: BLE001
            outcome["approval"] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=till), threading.Thread(target=approval)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert outcome == {"till": "committed", "approval": "approved"}
