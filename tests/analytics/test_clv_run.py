"""clv_run and clv_export against DESIGN.md's definitions, on hand-made receipts in Postgres."""

import csv
import importlib
import io
import re
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from analytics import clv
from analytics.models import ClvRun, ClvScore
from analytics.predicted_value import CLV_EXPORT_HEADER, clv_run
from loyalty.models import Receipt
from stores.models import Division
from tests.members.factories import MemberFactory
from tests.stores.factories import StoreFactory

AS_OF = date(2026, 11, 30)
BGNBD_LINE = re.compile(r"^bgnbd r=(\S+) alpha=(\S+) a=(\S+) b=(\S+)$", re.MULTILINE)


def shanghai(*args) -> datetime:
    """A Shanghai wall-clock time as an aware UTC moment (UTC+8, no daylight saving)."""
    return datetime(*args, tzinfo=UTC) - timedelta(hours=8)


class Till:
    def __init__(self):
        self.store = StoreFactory()
        self.receipts = []

    def add(self, member, at, total_fen, kind=Receipt.Kind.SALE):
        self.receipts.append(
            Receipt(
                store=self.store,
                pos_no="P01",
                receipt_no=f"R{len(self.receipts):06d}",
                occurred_at=at,
                member=member,
                kind=kind,
                division=Division.DEPARTMENT,
                total_fen=total_fen,
            )
        )

    def save(self):
        Receipt.objects.bulk_create(self.receipts)


@pytest.fixture
def mall(db):
    """Hand-made members with known summaries, among a background crowd that makes the fit
    well-posed. Returns {card_no: (frequency, recency_days, t_days, monetary_fen)} expected,
    and the card numbers that must be left out."""
    till = Till()
    store = till.store
    expected, left_out = {}, []

    def member(card_no):
        return MemberFactory(card_no=card_no, home_store=store)

    # Three receipts on one day count once; a refund is no purchase day; the last second of
    # the as-of date counts, the first second after it does not.
    a = member("CLV-A")
    for hour in (10, 11, 15):
        till.add(a, shanghai(2026, 1, 10, hour), 5000)
    till.add(a, shanghai(2026, 3, 5, 12), 8000)
    till.add(a, shanghai(2026, 3, 5, 18), 2000)
    till.add(a, shanghai(2026, 6, 1, 12), 3000, kind=Receipt.Kind.REFUND)
    till.add(a, shanghai(2026, 11, 30, 23, 59, 59), 4000)
    till.add(a, shanghai(2026, 12, 1, 0, 0, 0), 99900)
    expected["CLV-A"] = (2, 324, 324, 7000)  # days 01-10, 03-05, 11-30; (10000 + 4000) / 2

    # First purchase at Shanghai midnight of the as-of date (16:00 UTC the day before).
    b = member("CLV-B")
    till.add(b, shanghai(2026, 11, 30, 0, 0, 0), 1500)
    expected["CLV-B"] = (0, 0, 0, 0)

    # 23:00 and 01:00 Shanghai straddle midnight: two days, though the same UTC date.
    g = member("CLV-G")
    till.add(g, shanghai(2026, 4, 30, 23), 1000)
    till.add(g, shanghai(2026, 5, 1, 1), 2500)
    till.add(g, shanghai(2026, 5, 1, 20), 500)
    expected["CLV-G"] = (1, 1, 214, 3000)

    # Left out: only a refund; only purchases after the as-of date; no receipt at all.
    d = member("CLV-D")
    till.add(d, shanghai(2026, 2, 1, 12), 1000, kind=Receipt.Kind.REFUND)
    e = member("CLV-E")
    till.add(e, shanghai(2026, 12, 1, 0, 0, 1), 1000)
    member("CLV-F")
    left_out += ["CLV-D", "CLV-E", "CLV-F"]

    rng = np.random.default_rng(11)
    for i in range(150):
        m = member(f"CLV-X{i:03d}")
        first = date(2025, 12, 1) + timedelta(days=int(rng.integers(0, 360)))
        days = {first}
        alive_until = first + timedelta(days=int(rng.exponential(200)))
        day = first
        rate = rng.gamma(0.5, 1 / 15)
        while True:
            day += timedelta(days=int(rng.exponential(1 / rate)) + 1)
            if day > min(alive_until, AS_OF):
                break
            days.add(day)
        spend = rng.gamma(6, 1500)
        for day in sorted(days):
            till.add(m, shanghai(day.year, day.month, day.day, 14), int(rng.gamma(4, spend / 4)))
    till.save()
    return expected, left_out


def scores_by_card(run):
    return {s.member.card_no: s for s in ClvScore.objects.filter(run=run).select_related("member")}


def test_clv_run_summarises_purchase_days_exactly(mall):
    expected, left_out = mall

    run = clv_run(as_of=AS_OF)

    scores = scores_by_card(run)
    for card_no, (frequency, recency, t, monetary) in expected.items():
        score = scores[card_no]
        assert (score.frequency, score.recency_days, score.t_days, score.monetary_fen) == (
            frequency,
            recency,
            t,
            monetary,
        ), card_no
    assert not set(left_out) & set(scores)
    assert run.member_count == len(scores) == 153
    assert run.status == ClvRun.Status.DONE
    assert run.is_current


def test_clv_run_stores_the_pure_module_fit_and_predictions(mall):
    run = clv_run(as_of=AS_OF)

    scores = list(ClvScore.objects.filter(run=run).order_by("member_id"))
    x = np.array([s.frequency for s in scores])
    tx = np.array([s.recency_days for s in scores])
    T = np.array([s.t_days for s in scores])
    bgnbd = clv.bgnbd_fit(x, tx, T)
    assert (run.r, run.alpha, run.a, run.b) == pytest.approx(
        (bgnbd.r, bgnbd.alpha, bgnbd.a, bgnbd.b), rel=1e-9
    )
    np.testing.assert_allclose([s.p_alive for s in scores], clv.p_alive(bgnbd, x, tx, T))
    np.testing.assert_allclose(
        [s.expected_purchases_90d for s in scores], clv.expected_purchases(bgnbd, 90, x, tx, T)
    )
    gg = clv.GammaGammaParams(p=run.p, q=run.q, v=run.v)
    value = clv.expected_purchases(bgnbd, 365, x, tx, T) * clv.expected_average_spend(
        gg, x, [s.monetary_fen for s in scores]
    )
    # monetary_fen is stored rounded; the value was computed from the unrounded mean
    np.testing.assert_allclose([s.expected_value_fen for s in scores], value, rtol=1e-3, atol=1)
    # A frequent buyer silent for months is almost surely gone: value 0 is right there.
    assert all(0 < s.p_alive <= 1 and s.expected_value_fen >= 0 for s in scores)


def test_clv_run_command_prints_the_bgnbd_line(mall):
    out = io.StringIO()

    call_command("clv_run", "--as-of", AS_OF.isoformat(), stdout=out)

    run = ClvRun.objects.get(is_current=True)
    assert run.as_of == AS_OF
    (match,) = BGNBD_LINE.findall(out.getvalue())
    assert tuple(float(v) for v in match) == pytest.approx((run.r, run.alpha, run.a, run.b), 1e-5)


def test_clv_run_defaults_to_yesterday_in_shanghai(mall, time_machine):
    # 2026-12-01 00:30 in Shanghai is still 2026-11-30 in UTC: yesterday is 11-30.
    time_machine.move_to(shanghai(2026, 12, 1, 0, 30), tick=False)

    call_command("clv_run", stdout=io.StringIO())

    assert ClvRun.objects.get(is_current=True).as_of == AS_OF


def test_a_failed_run_leaves_the_previous_one_current(mall):
    good = clv_run(as_of=AS_OF)

    with pytest.raises(CommandError):
        call_command("clv_run", "--as-of", "2020-01-01", stdout=io.StringIO())

    failed = ClvRun.objects.exclude(pk=good.pk).get()
    assert failed.status == ClvRun.Status.FAILED and failed.error and not failed.is_current
    assert not ClvScore.objects.filter(run=failed).exists()
    good.refresh_from_db()
    assert good.is_current

    newer = clv_run(as_of=AS_OF)
    good.refresh_from_db()
    assert newer.is_current and not good.is_current


def test_clv_export_writes_the_current_run_exactly(mall, tmp_path):
    clv_run(as_of=date(2026, 6, 30))
    run = clv_run(as_of=AS_OF)
    path = tmp_path / "clv.csv"

    call_command("clv_export", str(path), stdout=io.StringIO())

    text = path.read_bytes().decode("utf-8")
    lines = text.split("\n")
    assert lines[0] == (
        "card_no,frequency,recency_days,t_days,p_alive,expected_purchases_90d,expected_value_fen"
    )
    assert lines[0].split(",") == CLV_EXPORT_HEADER
    assert lines[-1] == ""
    rows = list(csv.reader(io.StringIO(text)))[1:]
    cards = [row[0] for row in rows]
    assert cards == sorted(cards)
    scores = scores_by_card(run)
    assert set(cards) == set(scores)
    for card_no, frequency, recency, t, alive, purchases, value in rows:
        score = scores[card_no]
        assert (int(frequency), int(recency), int(t), int(value)) == (
            score.frequency,
            score.recency_days,
            score.t_days,
            score.expected_value_fen,
        )
        assert re.fullmatch(r"\d\.\d{10}", alive) and re.fullmatch(r"\d+\.\d{10}", purchases)
        assert float(alive) == pytest.approx(score.p_alive, abs=1e-10)
        assert float(purchases) == pytest.approx(score.expected_purchases_90d, abs=1e-10)
    assert rows[cards.index("CLV-A")][1:4] == ["2", "324", "324"]


def test_clv_export_without_a_run_fails(db, tmp_path):
    with pytest.raises(CommandError):
        call_command("clv_export", str(tmp_path / "clv.csv"))


def test_the_nightly_task_runs_as_of_yesterday_and_is_scheduled(mall, time_machine):
    from django.apps import apps as django_apps
    from django_celery_beat.models import PeriodicTask

    from analytics.tasks import clv_run_nightly

    time_machine.move_to(shanghai(2026, 12, 1, 4, 30), tick=False)

    result = clv_run_nightly.delay().get()

    run = ClvRun.objects.get(is_current=True)
    assert result == {"run": run.pk, "as_of": "2026-11-30", "members": 153}
    # The data migration's function (a transactional test elsewhere may have flushed its row).
    schedule_module = importlib.import_module("analytics.migrations.0003_clv_schedule")
    schedule_module.schedule(django_apps, None)
    entry = PeriodicTask.objects.get(task="analytics.tasks.clv_run_nightly")
    assert entry.enabled and entry.crontab.timezone.key == "Asia/Shanghai"


@pytest.mark.django_db(transaction=True)
def test_a_second_run_while_one_holds_the_lock_is_refused():
    import threading

    from django.db import connection

    from analytics.tasks import clv_run_nightly
    from core.locks import advisory_lock

    held, release = threading.Event(), threading.Event()

    def first_run():
        try:
            with advisory_lock("analytics.clv_run") as acquired:
                assert acquired
                held.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=first_run)
    thread.start()
    held.wait(10)
    try:
        assert clv_run_nightly.delay().get() == {"skipped": "running elsewhere"}
        with pytest.raises(CommandError):
            call_command("clv_run", "--as-of", AS_OF.isoformat(), stdout=io.StringIO())
    finally:
        release.set()
        thread.join()
    assert not ClvRun.objects.exists()


def test_spend_without_a_population_mean_falls_back_to_observed_means():
    from analytics.predicted_value import _expected_spend

    x = np.array([0, 2, 3, 1])
    monetary = np.array([0.0, 1000.0, 3000.0, 0.0])
    spend = _expected_spend(clv.GammaGammaParams(p=2.0, q=0.8, v=10.0), x, monetary)

    np.testing.assert_allclose(spend, [2000.0, 1000.0, 3000.0, 2000.0])
