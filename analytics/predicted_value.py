"""Predicted member value (DESIGN.md's `clv_run`): the per-member summary of purchase days in
one Postgres query, the fits and predictions in the pure analytics/clv.py, the scores written
with COPY into a new run that becomes current only when complete.

Definitions (dates are Asia/Shanghai): a purchase day is a date with at least one SALE
receipt of the member (refunds are not purchases); frequency = purchase days after the first;
recency_days = last purchase day - first; t_days = as-of - first; receipts after the as-of
date are ignored; members without a purchase up to it are left out.

Spend for Gamma-Gamma: a day's spend is the sum of its SALE receipts' totals; the member's
monetary value is the mean over the repeat purchase days (the first day left out, as Fader,
Hardie & Lee do). Refunds are not netted: a refund is not tied to the day it undoes and the
model describes what a purchase day brings; a member whose repeat days total 0 fen does not
enter the Gamma-Gamma fit (its likelihood needs a positive mean).

expected_value_fen = E[purchase days in the next 365 days | history] (BG/NBD, eq. 10)
                     x E[spend per purchase day | history] (Gamma-Gamma), undiscounted,
rounded to whole fen (clv.expected_value; see _expected_spend for a Gamma-Gamma fit with q <= 1).
"""

import csv
import io
import traceback
from datetime import date, timedelta

import numpy as np
from django.db import connection, transaction
from django.db.models.functions import Collate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from analytics import clv
from analytics.models import ClvRun, ClvScore
from core.dates import local_day_start
from core.exceptions import ServiceError
from core.locks import advisory_lock
from loyalty.models import Receipt

HORIZON_PURCHASES_DAYS = 90
WORK_MEM = "256MB"  # Postgres's, for the summary's sort (this transaction only)
HORIZON_VALUE_DAYS = 365

SUMMARY_SQL = """
WITH days AS (
    SELECT member_id,
           (occurred_at AT TIME ZONE 'Asia/Shanghai')::date AS day,
           SUM(total_fen) AS sales_fen
      FROM {receipt}
     WHERE kind = %(sale)s AND member_id IS NOT NULL AND occurred_at < %(end)s
     GROUP BY 1, 2
)
SELECT member_id,
       COUNT(*) - 1 AS frequency,
       MAX(day) - MIN(day) AS recency_days,
       %(as_of)s::date - MIN(day) AS t_days,
       COALESCE(
           (SUM(sales_fen) - (ARRAY_AGG(sales_fen ORDER BY day))[1])::float8
           / NULLIF(COUNT(*) - 1, 0),
           0
       ) AS monetary_fen
  FROM days
 GROUP BY member_id
 ORDER BY member_id
"""


def clv_default_as_of() -> date:
    """Yesterday in Shanghai: the last complete day."""
    return timezone.localdate() - timedelta(days=1)


def clv_summary(*, as_of: date) -> np.ndarray:
    """Per member (member_id, frequency, recency_days, t_days, monetary_fen) as of the end of
    `as_of`, computed in Postgres; one float64 row each (ids stay exact below 2**53)."""
    sql = SUMMARY_SQL.format(receipt=connection.ops.quote_name(Receipt._meta.db_table))
    params = {"sale": Receipt.Kind.SALE, "end": local_day_start(as_of + timedelta(days=1))}
    params["as_of"] = as_of
    with transaction.atomic(), connection.cursor() as cursor:
        # As for RFM (analytics/services.py): Postgres would walk the member index over a
        # table stored in time order (108 s at 10M receipts, bench/rfm_bench.py) where a
        # sequential scan and a sort take 28 s; and the sort gets memory of its own.
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
        cursor.execute(sql, params)
        chunks = []
        while rows := cursor.fetchmany(100_000):
            chunks.append(np.array(rows, dtype=np.float64))
    return np.concatenate(chunks) if chunks else np.empty((0, 5))


class ClvRunError(ServiceError):
    code = "clv_run_running"
    default_message = _("A predicted value run is already running.")


def clv_run(*, as_of: date | None = None) -> ClvRun:
    """Fit and score every member as of `as_of` (default yesterday) into a new run, then make
    it current in one transaction. Holds an advisory lock: a second run at once is refused. A
    failure is recorded on its run and re-raised; the previous current run stays current."""
    as_of = as_of or clv_default_as_of()
    with advisory_lock("analytics.clv_run") as acquired:
        if not acquired:
            raise ClvRunError()
        run = ClvRun.objects.create(as_of=as_of)
        try:
            _fit_and_store(run)
        except Exception as error:
            run.status = ClvRun.Status.FAILED
            run.error = "".join(traceback.format_exception_only(error)).strip()
            run.finished_at = timezone.now()
            run.save(update_fields=["status", "error", "finished_at"])
            raise
    return run


def _fit_and_store(run: ClvRun) -> None:
    summary = clv_summary(as_of=run.as_of)
    member_id, x, tx, T, monetary = summary.T
    bgnbd = clv.bgnbd_fit(x, tx, T)
    gg = clv.gamma_gamma_fit(x, monetary)
    alive = clv.p_alive(bgnbd, x, tx, T)
    purchases_90 = clv.expected_purchases(bgnbd, HORIZON_PURCHASES_DAYS, x, tx, T)
    purchases_365 = clv.expected_purchases(bgnbd, HORIZON_VALUE_DAYS, x, tx, T)
    value = purchases_365 * _expected_spend(gg, x, monetary)
    finite = np.isfinite(alive) & np.isfinite(purchases_90) & np.isfinite(value)
    if not finite.all():
        # a wrong number stored quietly is worse than a failed night (the previous run stays)
        raise clv.FitError(f"non-finite predictions for {int((~finite).sum())} members")

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in zip(
        member_id.astype(np.int64),
        x.astype(np.int64),
        tx.astype(np.int64),
        T.astype(np.int64),
        np.rint(monetary).astype(np.int64),
        alive,
        purchases_90,
        np.rint(value).astype(np.int64),
        strict=True,
    ):
        writer.writerow([run.pk, *(repr(v.item()) for v in row)])
    buffer.seek(0)

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.copy_expert(
                f"COPY {ClvScore._meta.db_table} (run_id, member_id, frequency, recency_days,"
                " t_days, monetary_fen, p_alive, expected_purchases_90d, expected_value_fen)"
                " FROM STDIN WITH (FORMAT csv)",
                buffer,
            )
        # Lock the current run so two switches cannot interleave.
        list(ClvRun.objects.select_for_update().filter(is_current=True))
        ClvRun.objects.filter(is_current=True).update(is_current=False)
        run.r, run.alpha, run.a, run.b = bgnbd.r, bgnbd.alpha, bgnbd.a, bgnbd.b
        run.p, run.q, run.v = gg.p, gg.q, gg.v
        run.member_count = len(member_id)
        run.status = ClvRun.Status.DONE
        run.finished_at = timezone.now()
        run.is_current = True
        run.save()


def _expected_spend(gg: clv.GammaGammaParams, x, monetary):
    """Gamma-Gamma's expected spend per purchase day. With q <= 1 its population mean does not
    exist; then a member's own mean is taken, and for members without a repeat day the mean
    over those with one, rather than failing the whole run."""
    if gg.q > 1:
        return clv.expected_average_spend(gg, x, monetary)
    repeat = (x > 0) & (monetary > 0)
    return np.where(repeat, monetary, monetary[repeat].mean())


def clv_run_current() -> ClvRun | None:
    return ClvRun.objects.filter(is_current=True).first()


CLV_EXPORT_HEADER = [
    "card_no",
    "frequency",
    "recency_days",
    "t_days",
    "p_alive",
    "expected_purchases_90d",
    "expected_value_fen",
]


def clv_export_rows(run: ClvRun):
    """`run`'s rows for `clv_export`, sorted by card number in byte order (COLLATE "C",
    independent of the database's locale), streamed."""
    scores = (
        ClvScore.objects.filter(run=run)
        .annotate(card_no_c=Collate("member__card_no", "C"))
        .order_by("card_no_c")
        .values_list(
            "member__card_no",
            "frequency",
            "recency_days",
            "t_days",
            "p_alive",
            "expected_purchases_90d",
            "expected_value_fen",
        )
    )
    for card_no, frequency, recency, t, alive, purchases, value in scores.iterator(5000):
        yield [card_no, frequency, recency, t, f"{alive:.10f}", f"{purchases:.10f}", value]
