"""End to end on the paper's data: CDNOW's sample as receipts in Postgres, `clv_run` as of the
end of its calibration period prints Fader, Hardie & Lee's parameters."""

import io
import re
from datetime import UTC, datetime, timedelta
from importlib.resources import files

import pytest
from django.core.management import call_command

from analytics.models import ClvRun
from loyalty.models import Receipt
from members.models import Member
from stores.models import Division
from tests.members.factories import MemberFactory
from tests.stores.factories import StoreFactory

pytest.importorskip("lifetimes")


@pytest.mark.django_db
def test_clv_run_on_cdnow_reproduces_the_paper():
    store = StoreFactory()
    rows = []
    for line in (files("lifetimes.datasets") / "CDNOW_sample.txt").read_text().splitlines():
        customer, _, day, _, dollars = line.split()
        rows.append((customer, day, round(float(dollars) * 100)))
    customers = sorted({customer for customer, _, _ in rows})
    members = Member.objects.bulk_create(
        MemberFactory.build(card_no=f"CD{c}", home_store=store, phone=f"1380000{i:04d}")
        for i, c in enumerate(customers)
    )
    by_customer = {m.card_no[2:]: m for m in members}
    Receipt.objects.bulk_create(
        Receipt(
            store=store,
            pos_no="P01",
            receipt_no=f"R{n:05d}",
            # noon in Shanghai on the transaction's date
            occurred_at=datetime.strptime(day, "%Y%m%d").replace(tzinfo=UTC) + timedelta(hours=4),
            member=by_customer[customer],
            division=Division.DEPARTMENT,
            total_fen=fen,
        )
        for n, (customer, day, fen) in enumerate(rows)
    )
    out = io.StringIO()

    call_command("clv_run", "--as-of", "1997-09-30", stdout=out)

    (line,) = re.findall(r"^bgnbd .*$", out.getvalue(), re.MULTILINE)
    values = dict(pair.split("=") for pair in line.split()[1:])
    assert float(values["r"]) == pytest.approx(0.2426, rel=1e-3)
    assert float(values["alpha"]) == pytest.approx(30.895, rel=1e-3)
    assert float(values["a"]) == pytest.approx(0.7929, rel=1e-3)
    assert float(values["b"]) == pytest.approx(2.4259, rel=1e-3)
    run = ClvRun.objects.get(is_current=True)
    # customers whose first purchase falls after the calibration period are left out
    assert run.member_count == 2357 <= len(customers)
