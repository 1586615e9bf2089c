"""The Spark engine gives the same rules as mlxtend's FP-growth and Apriori on the same
baskets (hand-built and Groceries), and a run with MINING_ENGINE=spark stores them.
Skips with a hint where pyspark or Java is missing (CI installs both)."""

import os

import pytest

from mining.baskets import baskets_build
from mining.engines import mine, rules_from_itemsets
from mining.spark_engine import itemsets_spark, spark_available
from tests.mining.test_baskets import pairs
from tests.mining.test_groceries import groceries_pairs

missing = spark_available()
if missing and os.environ.get("REQUIRE_SPARK"):
    raise RuntimeError(f"REQUIRE_SPARK is set but {missing}")
pytestmark = pytest.mark.skipif(missing is not None, reason=missing or "")


@pytest.fixture(scope="module", autouse=True)
def spark_stopped_after():
    """One Spark session for the module, stopped before pytest closes its streams (py4j
    logs from its finalisers)."""
    yield
    from mining import spark_engine

    if spark_engine._session is not None:
        spark_engine._session.stop()
        spark_engine._session = None


def spark_rules(built, *, min_support, min_confidence, max_len=None):
    itemsets = itemsets_spark(built, min_support=min_support, max_len=max_len)
    return itemsets, rules_from_itemsets(
        itemsets, basket_count=built.basket_count, min_confidence=min_confidence
    )


@pytest.mark.parametrize("keep_single", [False, True])
def test_spark_equals_mlxtend_on_hand_built_baskets(keep_single):
    b, i = pairs()
    built = baskets_build(b, i, min_support=0.2, keep_single_item_baskets=keep_single)
    ours = mine(built, min_support=0.2, min_confidence=0.5)
    itemsets, rules = spark_rules(built, min_support=0.2, min_confidence=0.5)
    assert itemsets == ours.itemsets
    assert rules == ours.rules


def test_spark_fpgrowth_and_apriori_give_identical_rules_on_groceries():
    b, i = groceries_pairs()
    built = baskets_build(b, i, min_support=0.001, keep_single_item_baskets=True)
    fp = mine(built, min_support=0.001, min_confidence=0.8, algorithm="fpgrowth")
    ap = mine(built, min_support=0.001, min_confidence=0.8, algorithm="apriori")
    itemsets, rules = spark_rules(built, min_support=0.001, min_confidence=0.8)
    assert len(itemsets) == len(fp.itemsets) == 13492
    assert itemsets == fp.itemsets == ap.itemsets
    assert rules == fp.rules == ap.rules and len(rules) == 410
    # Spark has no longest-itemset limit of its own: the engine drops longer ones
    short, _ = spark_rules(built, min_support=0.001, min_confidence=0.8, max_len=2)
    assert short == {s: c for s, c in fp.itemsets.items() if len(s) <= 2}


@pytest.mark.django_db
def test_a_run_with_the_spark_engine_stores_the_same_rules(settings, tmp_path):
    from tests.mining.test_runs import DRESS, HAT, MILK, export, mine_rules, receipt
    from tests.stores.factories import StoreFactory

    store = StoreFactory(code="S01")
    for n in range(5):
        receipt(store, f"A{n}", [DRESS, HAT] + ([MILK] if n % 2 else []))
    receipt(store, "B", [MILK, HAT])
    local = mine_rules("--min-support", "0.3", "--min-confidence", "0.3")
    settings.MINING_ENGINE = "spark"
    spark = mine_rules("--min-support", "0.3", "--min-confidence", "0.3")
    assert (local.engine, spark.engine) == ("mlxtend", "spark")
    assert spark.rule_count == local.rule_count > 0
    assert export(spark, tmp_path) == export(local, tmp_path)
