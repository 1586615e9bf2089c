"""Mining runs: pull (receipt, item) pairs from Postgres as integer codes, build the sparse
basket matrix (mining/baskets.py), mine (mining/engines.py), store items and rules with COPY.

A run is created queued (mining_run_create), then executed by a worker (mining_run_execute);
a run that fails is marked failed with its error and the current run stays current.
"""

import io
import logging
import math
import resource
import time
from collections.abc import Callable
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.dates import local_day_start
from core.exceptions import ServiceError
from loyalty.models import Receipt, ReceiptLine
from mining import baskets as basket_building
from mining import engines
from mining.models import Algorithm, Level, MiningRun, MiningSettings, RunItem
from stores.models import Brand, Category

logger = logging.getLogger(__name__)

EXPORT_HEADER = ["antecedents", "consequents", "support", "confidence", "lift", "count"]

# What an item is at each level: (key, display name) over receipt line `l`. A SKU is its code
# or, without one, its name; brands and categories are the master data's when the line is
# linked to them, else the name the till sent.
_ITEM_SQL = {
    Level.SKU: ("COALESCE(NULLIF(l.sku_code, ''), NULLIF(l.name, ''))", "l.name"),
    Level.BRAND: (
        "COALESCE('#' || l.brand_id::text, NULLIF(l.brand_name, ''))",
        "COALESCE(b.name, l.brand_name)",
    ),
    Level.CATEGORY: (
        "COALESCE('#' || l.category_id::text, NULLIF(l.category_name, ''))",
        "COALESCE(c.name, l.category_name)",
    ),
}


class MiningError(ServiceError):
    code = "mining_error"


def mining_run_create(
    *,
    trigger: str,
    user=None,
    level: str = Level.SKU,
    algorithm: str = Algorithm.FPGROWTH,
    min_support: float = 0.01,
    min_confidence: float = 0.5,
    min_lift: float = 0.0,
    max_len: int | None = None,
    max_basket_items: int | None = None,
    keep_single_item_baskets: bool = False,
    single_consequent: bool = True,
    since=None,
    until=None,
    store=None,
    segment: dict | None = None,
    segment_label: str = "",
) -> MiningRun:
    """A queued run with checked parameters."""
    if level not in Level.values:
        raise MiningError(_("Unknown item level."), code="bad_level")
    if algorithm not in Algorithm.values:
        raise MiningError(_("Unknown algorithm."), code="bad_algorithm")
    if not (0 < min_support <= 1) or not math.isfinite(min_support):
        raise MiningError(_("Minimum support must be above 0 and at most 1."), code="bad_support")
    if not (0 <= min_confidence <= 1) or not math.isfinite(min_confidence):
        raise MiningError(_("Minimum confidence must be between 0 and 1."), code="bad_confidence")
    if min_lift < 0 or not math.isfinite(min_lift):
        raise MiningError(_("Minimum lift cannot be negative."), code="bad_lift")
    if max_len is not None and max_len < 2:
        raise MiningError(_("The longest itemset must hold at least 2 items."), code="bad_len")
    if since and until and since > until:
        raise MiningError(_("The start date is after the end date."), code="bad_dates")
    if segment and user is None:
        raise MiningError(_("A segment needs the staff member it is seen by."), code="bad_segment")
    return MiningRun.objects.create(
        trigger=trigger,
        created_by=user,
        engine=_engine_name(),
        level=level,
        algorithm=algorithm,
        min_support=min_support,
        min_confidence=min_confidence,
        min_lift=min_lift,
        max_len=max_len,
        max_basket_items=max_basket_items,
        keep_single_item_baskets=keep_single_item_baskets,
        single_consequent=single_consequent,
        since=since,
        until=until,
        store=store,
        segment=segment or {},
        segment_label=segment_label,
    )


def mining_run_request(*, user, enqueue: Callable[[int], object], **parameters) -> MiningRun:
    """A run a staff member starts from the back office: created queued (checked as
    mining_run_create checks), audited, and after commit `enqueue(run id)` hands it to a
    worker (callers pass mining.tasks.mining_run.delay; this module cannot import it)."""
    from core.audit import audit_log

    with transaction.atomic():
        run = mining_run_create(trigger=MiningRun.Trigger.STAFF, user=user, **parameters)
        audit_log(
            actor=user,
            action="mining.run.started",
            target=run,
            data={
                "level": run.level,
                "min_support": run.min_support,
                "min_confidence": run.min_confidence,
                "segment": run.segment,
                "store": run.store_id,
            },
        )
        transaction.on_commit(lambda: enqueue(run.pk))
    return run


def mining_settings_update(*, actor, **fields) -> MiningSettings:
    """Change the nightly run's parameters, audited with what changed. Locks the row."""
    from core.audit import audit_log

    with transaction.atomic():
        current = MiningSettings.current()
        current = MiningSettings.objects.select_for_update().get(pk=current.pk)
        changed = {k: v for k, v in fields.items() if getattr(current, k) != v}
        for name, value in changed.items():
            setattr(current, name, value)
        if changed:
            current.save(update_fields=list(changed))
            audit_log(actor=actor, action="mining.settings.changed", target=current, data=changed)
    return current


def mining_run_nightly_create(*, today=None) -> MiningRun | None:
    """The nightly run with the settings' parameters over the last window, or None if off."""
    settings = MiningSettings.current()
    if not settings.nightly_enabled:
        return None
    today = today or timezone.localdate()
    return mining_run_create(
        trigger=MiningRun.Trigger.NIGHTLY,
        level=settings.level,
        algorithm=settings.algorithm,
        min_support=settings.min_support,
        min_confidence=settings.min_confidence,
        min_lift=settings.min_lift,
        max_len=settings.max_len,
        max_basket_items=settings.max_basket_items,
        since=today - timedelta(days=settings.window_days),
        until=today - timedelta(days=1),
    )


def _engine_name() -> str:
    engine = settings.MINING_ENGINE
    if engine not in ("mlxtend", "spark"):
        raise MiningError(_("Unknown mining engine."), code="bad_engine")
    return engine


def _lines_sql(run: MiningRun) -> tuple[str, list]:
    """SELECT basket, key, name over the run's sale receipts' merchandise lines."""
    key, name = _ITEM_SQL[run.level]
    where = ["r.kind = 'sale'", "NOT l.non_merchandise", f"{key} IS NOT NULL"]
    params: list = []
    if run.since:
        where.append("r.occurred_at >= %s")
        params.append(local_day_start(run.since))
    if run.until:
        where.append("r.occurred_at < %s")
        params.append(local_day_start(run.until + timedelta(days=1)))
    if run.store_id:
        where.append("r.store_id = %s")
        params.append(run.store_id)
    if run.segment:
        from analytics.segments import members_filtered

        members = members_filtered(run.segment, user=run.created_by).values("pk")
        sql, segment_params = members.query.sql_with_params()
        where.append(f"r.member_id IN ({sql})")
        params.extend(segment_params)
    joins = ""
    if run.level == Level.BRAND:
        joins = f"LEFT JOIN {Brand._meta.db_table} b ON b.id = l.brand_id"
    elif run.level == Level.CATEGORY:
        joins = f"LEFT JOIN {Category._meta.db_table} c ON c.id = l.category_id"
    sql = (
        f"SELECT l.receipt_id AS basket, {key} AS key, {name} AS name "  # noqa: S608
        f"FROM {ReceiptLine._meta.db_table} l JOIN {Receipt._meta.db_table} r "
        f"ON r.id = l.receipt_id {joins} "
        f"WHERE {' AND '.join(where)}"
    )
    return sql, params


def _pairs_pull(cursor, run: MiningRun) -> tuple[np.ndarray, np.ndarray, dict]:
    """Number the items in Postgres (a temporary table), then COPY the (basket, item code)
    pairs out in binary and read them straight into numpy: no Python object per line. Also
    returns {item code: (key, name)}."""
    lines, params = _lines_sql(run)
    cursor.execute("DROP TABLE IF EXISTS mining_items")
    cursor.execute(
        "CREATE TEMPORARY TABLE mining_items AS "  # noqa: S608
        'SELECT (row_number() OVER (ORDER BY key COLLATE "C") - 1)::int AS code, key, '
        "min(name) AS name FROM (" + lines + ") lines GROUP BY key",
        params,
    )
    cursor.execute("CREATE UNIQUE INDEX ON mining_items (key)")
    cursor.execute("ANALYZE mining_items")
    copy = cursor.mogrify(
        "COPY (SELECT lines.basket::int8, i.code::int4 FROM ("  # noqa: S608
        + lines
        + ") lines JOIN mining_items i ON i.key = lines.key) TO STDOUT WITH (FORMAT binary)",
        params,
    ).decode()
    buffer = io.BytesIO()
    cursor.copy_expert(copy, buffer)
    cursor.execute("SELECT code, key, name FROM mining_items")
    labels = {code: (key, name) for code, key, name in cursor.fetchall()}
    cursor.execute("DROP TABLE mining_items")
    return (*_binary_pairs(buffer.getbuffer()), labels)


_PAIR = np.dtype([("n", ">i2"), ("l1", ">i4"), ("basket", ">i8"), ("l2", ">i4"), ("item", ">i4")])
_HEADER = 19  # "PGCOPY\n\377\r\n\0", flags, header extension length
_TRAILER = 2


def _binary_pairs(data) -> tuple[np.ndarray, np.ndarray]:
    """Postgres's binary COPY of (int8, int4) rows as two numpy arrays."""
    body = np.frombuffer(
        data, dtype=_PAIR, offset=_HEADER, count=(len(data) - _HEADER - _TRAILER) // _PAIR.itemsize
    )
    return body["basket"].astype(np.int64), body["item"].astype(np.int64)


def _peak_reset() -> None:
    try:  # Linux: reset the peak resident set size so this run's peak can be read
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def _peak_bytes() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _progress(run: MiningRun, percent: int) -> None:
    MiningRun.objects.filter(pk=run.pk).update(progress=percent)


def mining_run_execute(*, run_id: int) -> MiningRun:
    """Run a queued run to done or failed. Returns it."""
    claimed = MiningRun.objects.filter(pk=run_id, status=MiningRun.Status.QUEUED).update(
        status=MiningRun.Status.RUNNING, started_at=timezone.now(), progress=1
    )
    run = MiningRun.objects.get(pk=run_id)
    if not claimed:
        return run  # already running or finished: a redelivered task does nothing
    _peak_reset()
    started = time.monotonic()
    try:
        with transaction.atomic(), connection.cursor() as cursor:  # rolled back on failure
            baskets, items, labels = _pairs_pull(cursor, run)
        _progress(run, 30)
        built = basket_building.baskets_build(
            baskets,
            items,
            min_support=run.min_support,
            keep_single_item_baskets=run.keep_single_item_baskets,
            max_basket_items=run.max_basket_items,
        )
        del baskets, items
        _progress(run, 40)
        mined = _mine(run, built)
        _progress(run, 80)
        with transaction.atomic(), connection.cursor() as cursor:
            _store(cursor, run, mined, labels)
            fields = {
                "status": MiningRun.Status.DONE,
                "finished_at": timezone.now(),
                "duration_ms": int((time.monotonic() - started) * 1000),
                "peak_memory_bytes": _peak_bytes(),
                "basket_count": built.basket_count,
                "item_count": built.item_count,
                "frequent_item_count": int(built.items.size),
                "itemset_count": len(mined.itemsets),
                "rule_count": len(mined.rules),
                "progress": 100,
            }
            if not run.segment and run.store_id is None:
                MiningRun.objects.filter(is_current=True).update(is_current=False)
                fields["is_current"] = True
            MiningRun.objects.filter(pk=run.pk).update(**fields)
    except Exception as exc:
        logger.exception("mining run %s failed", run.pk)
        MiningRun.objects.filter(pk=run.pk).update(
            status=MiningRun.Status.FAILED,
            finished_at=timezone.now(),
            duration_ms=int((time.monotonic() - started) * 1000),
            peak_memory_bytes=_peak_bytes(),
            error=f"{type(exc).__name__}: {exc}"[:2000],
        )
    run.refresh_from_db()
    return run


def _mine(run: MiningRun, built) -> engines.Mined:
    if run.engine == "spark":
        from mining import spark_engine

        itemsets = spark_engine.itemsets_spark(
            built, min_support=run.min_support, max_len=run.max_len
        )
        rules = engines.rules_from_itemsets(
            itemsets,
            basket_count=built.basket_count,
            min_confidence=run.min_confidence,
            min_lift=run.min_lift,
            single_consequent=run.single_consequent,
        )
        return engines.Mined(itemsets=itemsets, rules=rules)
    return engines.mine(
        built,
        min_support=run.min_support,
        min_confidence=run.min_confidence,
        min_lift=run.min_lift,
        max_len=run.max_len,
        algorithm=run.algorithm,
        single_consequent=run.single_consequent,
    )


def _copy_text(value) -> str:
    if value is None:
        return "\\N"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _store(cursor, run: MiningRun, mined: engines.Mined, labels: dict) -> None:
    """The run's frequent items (with key, name and count) and its rules, by COPY."""
    singles = {next(iter(s)): c for s, c in mined.itemsets.items() if len(s) == 1}
    rows = io.StringIO()
    for code, count in singles.items():
        key, name = labels[code]
        rows.write(
            f"{run.pk}\t{code}\t{_copy_text(key[:128])}\t{_copy_text(name[:128])}\t{count}\n"
        )
    rows.seek(0)
    cursor.copy_expert(
        "COPY mining_runitem (run_id, code, key, name, basket_count) FROM STDIN", rows
    )
    rows = io.StringIO()
    for rule in mined.rules:
        conviction = None if math.isinf(rule.conviction) else repr(rule.conviction)
        fields = (
            run.pk,
            "{" + ",".join(map(str, rule.antecedents)) + "}",
            "{" + ",".join(map(str, rule.consequents)) + "}",
            rule.count,
            rule.antecedent_count,
            rule.consequent_count,
            repr(rule.support),
            repr(rule.confidence),
            repr(rule.lift),
            repr(rule.leverage),
            conviction,
        )
        rows.write("\t".join(_copy_text(f) for f in fields) + "\n")
    rows.seek(0)
    cursor.copy_expert(
        "COPY mining_rule (run_id, antecedents, consequents, count, antecedent_count, "
        "consequent_count, support, confidence, lift, leverage, conviction) FROM STDIN",
        rows,
    )


def rules_export_rows(run: MiningRun):
    """(antecedents, consequents, support, confidence, lift, count) of `run`'s rules, items
    by their key at SKU level and by name at brand and category level, joined by "|" in
    sorted order; rules by lift, confidence and support descending."""
    label_field = "key" if run.level == Level.SKU else "name"
    labels = dict(RunItem.objects.filter(run=run).values_list("code", label_field))
    rules = run.rules.order_by("-lift", "-confidence", "-support", "id").values_list(
        "antecedents", "consequents", "support", "confidence", "lift", "count"
    )
    for antecedents, consequents, support, confidence, lift, count in rules.iterator(2000):
        yield (
            "|".join(sorted(labels[c] for c in antecedents)),
            "|".join(sorted(labels[c] for c in consequents)),
            support,
            confidence,
            lift,
            count,
        )
