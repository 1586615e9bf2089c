"""Mining runs on Postgres: mine_rules and rules_export as DESIGN.md defines them, baskets
from receipts (sales only, merchandise only, window in Shanghai days, store, levels), and a
failed run that leaves the current one current."""

import csv
import io
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from loyalty.models import Receipt, ReceiptLine
from mining import engines
from mining.models import MiningRun
from mining.services import mining_run_create, mining_run_execute
from stores.models import Brand, Category
from tests.stores.factories import StoreFactory

GROCERIES = Path(__file__).resolve().parents[1] / "data" / "groceries.csv"
SHANGHAI = ZoneInfo("Asia/Shanghai")
HEADER = (
    "store,pos_no,receipt_no,occurred_at,card_no,sku,name,spec,brand,category,qty,amount_fen,"
    "non_merchandise,refund_of"
)


def mine_rules(*args) -> MiningRun:
    out, err = io.StringIO(), io.StringIO()
    call_command("mine_rules", *args, stdout=out, stderr=err)
    return MiningRun.objects.get(pk=int(out.getvalue().strip()))


def export(run, tmp_path) -> list[dict]:
    path = tmp_path / f"rules-{run.pk}.csv"
    call_command("rules_export", str(run.pk), str(path), stdout=io.StringIO())
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["antecedents", "consequents", "support", "confidence", "lift", "count"]
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


@pytest.mark.django_db
def test_groceries_imported_as_receipts_gives_the_published_410_rules(tmp_path):
    StoreFactory(code="S01")
    when = "2026-03-01 10:00:00"
    lines = [HEADER]
    for n, basket in enumerate(GROCERIES.read_text().splitlines()):
        for item in basket.split(","):
            lines.append(f"S01,G1,{n:05d},{when},,,{item},,,,1,100,0,")
    path = tmp_path / "groceries.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    call_command("import_receipts", str(path), "--no-points", stdout=io.StringIO())
    assert Receipt.objects.count() == 9835

    run = mine_rules(
        "--keep-single-item-baskets", "--min-support", "0.001", "--min-confidence", "0.8"
    )
    assert (run.status, run.basket_count, run.item_count) == ("done", 9835, 169)
    assert (run.itemset_count, run.rule_count) == (13492, 410)
    assert run.is_current and run.duration_ms > 0 and run.peak_memory_bytes > 0
    rows = export(run, tmp_path)
    assert len(rows) == 410
    top = rows[0]  # the highest lift: {liquor, red/blush wine} → {bottled beer}
    assert (top["antecedents"], top["consequents"]) == ("liquor|red/blush wine", "bottled beer")
    assert top["count"] == "19" and float(top["confidence"]) == pytest.approx(19 / 21)
    assert float(top["lift"]) == pytest.approx(11.2352, abs=1e-4)
    assert all(r["antecedents"].split("|") == sorted(r["antecedents"].split("|")) for r in rows)

    # the default drops the 2,159 single-item baskets: support over the 7,676 left
    default = mine_rules("--min-support", "0.001", "--min-confidence", "0.8")
    assert default.basket_count == 9835 - 2159
    assert default.rule_count != 410
    assert default.is_current and not MiningRun.objects.get(pk=run.pk).is_current

    apriori = mine_rules(
        "--keep-single-item-baskets", "--min-support", "0.001", "--min-confidence", "0.8",
        "--algorithm", "apriori", "--max-len", "3",
    )  # fmt: skip
    assert apriori.rule_count < 410  # rules of up to 3 items only
    assert {tuple(r.values()) for r in export(apriori, tmp_path)} <= {
        tuple(r.values()) for r in rows
    }


def receipt(store, number, items, *, when=None, kind="sale", nm=(), refund_of=None):
    r = Receipt.objects.create(
        store=store,
        pos_no="P1",
        receipt_no=number,
        occurred_at=when or datetime(2026, 11, 1, 12, tzinfo=SHANGHAI),
        kind=kind,
        refund_of=refund_of,
        division="department",
        total_fen=100 * len(items),
    )
    ReceiptLine.objects.bulk_create(
        ReceiptLine(
            receipt=r,
            line_no=n,
            sku_code=f"SKU-{item}",
            name=item,
            brand_name=brand,
            brand=Brand.objects.get_or_create(name=brand)[0] if brand else None,
            category_name=category,
            qty=1,
            amount_fen=100,
            non_merchandise=item in nm,
        )
        for n, (item, brand, category) in enumerate(items, 1)
    )
    return r


DRESS = ("连衣裙", "衣品", "女装")
HAT = ("遮阳帽", "帽匠", "配饰")
BAG = ("购物袋", "", "")
MILK = ("牛奶", "光明", "乳品")


@pytest.mark.django_db
def test_baskets_are_sales_of_merchandise_in_the_window_and_store(tmp_path):
    s1, s2 = StoreFactory(code="S01"), StoreFactory(code="S02")
    sold = [receipt(s1, f"A{n}", [DRESS, HAT, BAG], nm=("购物袋",)) for n in range(3)]
    receipt(s1, "B1", [DRESS, MILK])
    receipt(s1, "R1", [DRESS, HAT], kind="refund", refund_of=sold[0])  # not a basket
    # 2026-10-31 23:30 in Shanghai is still October: outside a window from 11-01
    receipt(s1, "OLD", [MILK, HAT], when=datetime(2026, 10, 31, 23, 30, tzinfo=SHANGHAI))
    receipt(s2, "C1", [MILK, HAT])

    run = mine_rules("--min-support", "0.3", "--min-confidence", "0.5", "--since", "2026-11-01")
    # S01's four sales and S02's one; the bag never counts; the refund is no basket
    assert run.basket_count == 5
    rows = {(r["antecedents"], r["consequents"]): r for r in export(run, tmp_path)}
    assert rows[("SKU-连衣裙", "SKU-遮阳帽")]["count"] == "3"
    assert float(rows[("SKU-遮阳帽", "SKU-连衣裙")]["confidence"]) == pytest.approx(3 / 4)
    assert not any("购物袋" in a + c for a, c in rows)

    only_s1 = mining_run_execute(
        run_id=mining_run_create(
            trigger="command", min_support=0.3, min_confidence=0.5, store=s1,
            since=date(2026, 11, 1), level="brand",
        ).pk
    )  # fmt: skip
    assert only_s1.basket_count == 4 and not only_s1.is_current  # a store's run is not current
    brand_rows = {(r["antecedents"], r["consequents"]) for r in export(only_s1, tmp_path)}
    assert ("衣品", "帽匠") in brand_rows  # brands by name

    Category.objects.create(code="DP01", name="女装", division="department")
    by_category = mine_rules("--level", "category", "--min-support", "0.3", "--until", "2026-10-31")
    assert by_category.basket_count == 1  # only the October receipt
    cats = {(r["antecedents"], r["consequents"]) for r in export(by_category, tmp_path)}
    assert cats == {("乳品", "配饰"), ("配饰", "乳品")}


@pytest.mark.django_db
def test_a_failed_run_is_marked_with_its_error_and_the_last_good_run_stays_current(
    monkeypatch, tmp_path
):
    store = StoreFactory(code="S01")
    for n in range(4):
        receipt(store, f"A{n}", [DRESS, HAT])
    good = mine_rules("--min-support", "0.5")
    assert good.is_current and good.rule_count == 2

    def explode(*args, **kwargs):
        raise MemoryError("out of memory in fpgrowth")

    monkeypatch.setattr(engines, "mine", explode)
    failed = mining_run_execute(
        run_id=mining_run_create(trigger="staff", min_support=0.5, min_confidence=0.5).pk
    )
    assert failed.status == "failed" and "out of memory" in failed.error
    assert failed.finished_at and not failed.rules.exists()
    assert MiningRun.objects.get(is_current=True) == good
    # a redelivered task for a finished run does nothing
    assert mining_run_execute(run_id=failed.pk).status == "failed"
    with pytest.raises(CommandError):
        call_command("rules_export", str(failed.pk), str(tmp_path / "x.csv"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args",
    [
        ["--min-support", "0"],
        ["--min-support", "1.5"],
        ["--min-confidence", "2"],
        ["--min-lift", "-1"],
        ["--max-len", "1"],
        ["--since", "2026-11-02", "--until", "2026-11-01"],
        ["--min-support", "nan"],
    ],
)
def test_bad_parameters_are_refused_before_a_run_is_stored(args):
    with pytest.raises(CommandError):
        mine_rules(*args)
    assert not MiningRun.objects.exists()


@pytest.mark.django_db
def test_no_receipts_gives_an_empty_done_run(tmp_path):
    run = mine_rules("--since", (timezone.localdate() + timedelta(days=1)).isoformat())
    assert (run.status, run.basket_count, run.rule_count) == ("done", 0, 0)
    assert export(run, tmp_path) == []
