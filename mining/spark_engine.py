"""The second engine: Spark MLlib's FPGrowth, for chains whose baskets outgrow one machine
(`MINING_ENGINE=spark`, the `spark` extra: pyspark and pyarrow, and Java).

The baskets reach Spark as (basket, item) pairs in a Parquet file: the same pairs, after the
same preprocessing (mining/baskets.py), that the mlxtend engine mines, so both give the same
frequent itemsets with the same counts, and the rules are derived from those counts by the
same code (mining/engines.py). No Django imports.

Spark counts support over the baskets it is given; baskets left with no frequent item are
not sent, so the minimum count is passed as a fraction of the baskets sent. Spark's
FPGrowth has no longest-itemset limit: longer itemsets are dropped from its answer.

Pointing at a cluster: SPARK_MASTER (default `local[*]`), e.g. `spark://host:7077` or
`yarn`, and MINING_SPARK_STAGING, a directory every executor can read (HDFS, S3 or a shared
mount) for the pairs file; see docs/MINING.md.
"""

import os
import tempfile
import uuid

import numpy as np

from mining.baskets import Baskets, min_support_count

_session = None


def spark_available() -> str | None:
    """None if the engine can run here, else why not (for skips and the settings check)."""
    try:
        import pyarrow  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark and pyarrow are not installed: pip install -e '.[spark]'"
    from shutil import which

    if not (os.environ.get("JAVA_HOME") or which("java")):
        return "Spark needs Java: apt-get install default-jre-headless"
    return None


def spark_session():
    """One Spark session per process (starting one takes seconds)."""
    global _session
    if _session is None:
        import logging

        from pyspark.sql import SparkSession

        # py4j logs every connection it closes at INFO, even from finalisers at exit
        logging.getLogger("py4j").setLevel(logging.WARNING)

        _session = (
            SparkSession.builder.master(os.environ.get("SPARK_MASTER", "local[*]"))
            .appName("mall-basket-mining")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", os.environ.get("SPARK_PARTITIONS", "8"))
            .config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", "2g"))
            .getOrCreate()
        )
        _session.sparkContext.setLogLevel("ERROR")
    return _session


def _pairs_parquet(baskets: Baskets, path: str) -> int:
    """Write (basket, item code) of the matrix's non-empty rows; the number of rows written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    matrix = baskets.matrix.tocsr()
    rows = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr))
    items = baskets.items[matrix.indices].astype(np.int64)
    pq.write_table(pa.table({"basket": rows, "item": items}), path)
    return int(np.count_nonzero(np.diff(matrix.indptr)))


def itemsets_spark(
    baskets: Baskets, *, min_support: float, max_len: int | None
) -> dict[frozenset, int]:
    """Frequent itemsets (item codes → basket count) by Spark's FPGrowth."""
    if baskets.basket_count == 0 or baskets.matrix.nnz == 0:
        return {}
    from pyspark.ml.fpm import FPGrowth
    from pyspark.sql import functions as F

    spark = spark_session()
    staging = os.environ.get("MINING_SPARK_STAGING") or tempfile.gettempdir()
    path = os.path.join(staging, f"mining-pairs-{uuid.uuid4().hex}.parquet")
    try:
        sent = _pairs_parquet(baskets, path)
        grouped = (
            spark.read.parquet(path)
            .groupBy("basket")
            .agg(F.array_distinct(F.collect_list("item")).alias("items"))
        )
        needed = min_support_count(min_support, baskets.basket_count)
        if needed > sent:
            return {}
        # ceil(fraction × sent) must give `needed` exactly: aim half a basket below it
        model = FPGrowth(itemsCol="items", minSupport=(needed - 0.5) / sent, minConfidence=1.0).fit(
            grouped
        )
        found = model.freqItemsets.collect()
    finally:
        if os.path.exists(path):
            import shutil

            shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) else os.remove(path)
    return {
        frozenset(int(i) for i in row["items"]): int(row["freq"])
        for row in found
        if max_len is None or len(row["items"]) <= max_len
    }
