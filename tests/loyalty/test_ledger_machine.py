"""A state machine drives the public loyalty services in random orders (sales, retries,
partial refunds, spends, adjustments, expiry after clock jumps, a crash mid-spend) against
real Postgres, and checks the ledger's invariants after every step (RELIABILITY L2)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from core.exceptions import ServiceError
from loyalty.bulk_earning import receipts_earn
from loyalty.expiry import points_expire
from loyalty.ledger import InsufficientPoints, ledger_check, points_balance, points_spend
from loyalty.models import PointsEntry, Receipt
from loyalty.receipts import LineIn, ReceiptIn, ReceiptInvalid, receipt_record
from loyalty.services import points_adjust
from tests.members.factories import MemberFactory, StaffFactory
from tests.stores.factories import StoreFactory


class LedgerMachine(RuleBasedStateMachine):
    checks = 0  # invariant checks run, across examples

    @initialize()
    def setup(self):
        # Each example runs in a savepoint rolled back at its end: examples start alike.
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.store = StoreFactory(code="SM1")
        self.members = [MemberFactory(home_store=self.store) for _ in range(2)]
        self.staff = StaffFactory().user
        self.sales: list[tuple[Receipt, int]] = []  # receipt, fen left to refund
        self.counter = 0
        self.day = timezone.localdate() - timedelta(days=800)

    def _next_no(self) -> str:
        self.counter += 1
        return f"M{self.counter:05d}"

    def _receipt(self, member, amount, refund_of=None, receipt_no=None):
        return ReceiptIn(
            store=self.store,
            pos_no="P1",
            receipt_no=receipt_no or self._next_no(),
            occurred_at=timezone.now(),
            member=member,
            lines=[LineIn(name="商品", qty=Decimal(1), amount_fen=amount)],
            total_fen=amount,
            refund_of=refund_of,
        )

    @rule(who=st.integers(0, 1), amount=st.integers(1, 200_000))
    def sale(self, who, amount):
        data = self._receipt(self.members[who], amount)
        receipt, created = receipt_record(data=data, payload_hash=data.receipt_no)
        assert created
        self.sales.append((receipt, amount))

    @rule()
    def retry_a_sale(self):
        if not self.sales:
            return
        receipt, _left = self.sales[-1]
        before = PointsEntry.objects.count()
        data = self._receipt(receipt.member, receipt.total_fen, receipt_no=receipt.receipt_no)
        again, created = receipt_record(data=data, payload_hash=receipt.receipt_no)
        assert (again.pk, created) == (receipt.pk, False)
        assert PointsEntry.objects.count() == before

    @rule()
    def bulk_path_on_recorded_receipts(self):
        """The import's bulk earning over receipts the API already earned adds nothing."""
        if not self.sales:
            return
        before = PointsEntry.objects.count()
        receipts_earn(receipt_ids=[receipt.pk for receipt, _left in self.sales])
        assert PointsEntry.objects.count() == before

    @rule(index=st.integers(0, 50), share=st.integers(1, 100))
    def refund(self, index, share):
        if not self.sales:
            return
        i = index % len(self.sales)
        sale, left = self.sales[i]
        amount = max(1, sale.total_fen * share // 100)
        data = self._receipt(None, amount, refund_of=sale.receipt_no)
        try:
            receipt_record(data=data, payload_hash=data.receipt_no)
        except ReceiptInvalid:
            assert amount > left  # refused only when more than is left
            return
        assert amount <= left
        self.sales[i] = (sale, left - amount)

    @rule(who=st.integers(0, 1), points=st.integers(1, 3000))
    def spend(self, who, points):
        member = self.members[who]
        before = points_balance(member_id=member.pk)
        try:
            points_spend(member_id=member.pk, points=points, kind="redeem", key=self._next_no())
        except InsufficientPoints:
            assert points > before
            assert points_balance(member_id=member.pk) == before

    @rule(who=st.integers(0, 1), points=st.integers(1, 500))
    def spend_then_crash(self, who, points):
        member = self.members[who]
        before = points_balance(member_id=member.pk)
        try:
            with transaction.atomic():
                points_spend(member_id=member.pk, points=points, kind="redeem", key=self._next_no())
                raise RuntimeError("the stock update failed")
        except (RuntimeError, InsufficientPoints):
            pass
        assert points_balance(member_id=member.pk) == before

    @rule(who=st.integers(0, 1), points=st.integers(-500, 500).filter(bool))
    def adjust(self, who, points):
        member = self.members[who]
        try:
            points_adjust(member=member, points=points, reason="状态机", actor=self.staff)
        except ServiceError:
            assert points < 0

    @rule(years=st.integers(0, 3))
    def expire(self, years):
        on = date(timezone.localdate().year + years, 12, 31)
        points_expire(on=on)
        assert points_expire(on=on)["points"] == 0  # a rerun expires nothing more

    def teardown(self):
        if hasattr(self, "atomic"):
            transaction.set_rollback(True)
            self.atomic.__exit__(None, None, None)

    @invariant()
    def ledger_holds(self):
        if hasattr(self, "members"):
            LedgerMachine.checks += 1
            assert ledger_check() == []
            for member in self.members:
                assert points_balance(member_id=member.pk) >= 0


LedgerMachine.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.slow
def test_the_ledger_holds_under_random_operations(db):
    from django.apps import apps

    from loyalty.defaults import loyalty_defaults_install

    loyalty_defaults_install(apps)
    LedgerMachine.checks = 0
    LedgerMachine.TestCase("runTest").runTest()
    assert LedgerMachine.checks > 200  # the machine really ran its steps
