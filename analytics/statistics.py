"""Member statistics (会员统计): one selector per chart, each aggregating in Postgres and
returning plain data (lists of dicts) for a StatisticsFilter, the store and date range chosen.

Who counts where:
- Member charts (growth, channels, tiers, gender × age, region) count members by their home
  store, closed (anonymised) members left out. With a store chosen, or for staff of some
  stores, members without a home store are out too.
- Purchase charts (consumption, heatmap, repurchase, monthly active, ABC) count member receipts
  by the store where they were made, inside the date range. A refund counts (negatively) when
  it happens, as in the RFM snapshot; non-merchandise lines (bags, parking) are left out.
- Snapshot charts (RFM classes, lifecycle, predicted value) show the current snapshot or run,
  its members counted by home store; the RFM trend takes the last snapshot of each month
  whose date falls in the range.
Dates are Asia/Shanghai days: the range is [start 00:00, end + 1 day 00:00) in Shanghai.

The points mall (layer 6 beside analytics, so neither imports the other) adds its sections
(top redeemed goods) through `statistics_section_register`, wired by the composition root.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    Avg,
    BigIntegerField,
    Case,
    CharField,
    Count,
    DateField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import (
    ExtractHour,
    ExtractIsoWeekDay,
    Trunc,
    TruncDate,
)
from django.utils import timezone

from analytics.abc import ABC_CUT_A, ABC_CUT_B, abc_classes, abc_summary
from analytics.models import ClvScore, LifecycleStage, RfmClass, RfmRow, RfmSnapshot
from analytics.predicted_value import clv_run_current
from core.dates import local_day_start
from loyalty.models import Receipt, ReceiptLine, Tier
from members.models import Member, RegistrationChannel
from stores.models import Brand, Category, Floor, Shop, Store
from stores.scoping import store_lookups

# Expected value of the next 365 days (current CLV run), bucket lower bounds in fen
VALUE_BUCKETS_FEN = [0, 10_000, 50_000, 100_000, 200_000, 500_000, 1_000_000]
# Age bands (first age, last age or None); members without a birthday are "unknown"
AGE_BANDS = [(0, 17), (18, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, None)]
AGE_UNKNOWN = "unknown"
FIRST_PURCHASE_DAYS = 7
REPURCHASE_DAYS_CAP = 5  # purchase days counted 1, 2, 3, 4, 5 or more
TREND_SNAPSHOTS_MAX = 24


@dataclass(frozen=True)
class StatisticsFilter:
    """The stores (None: every store and members without one) and Shanghai dates to count."""

    start: date
    end: date  # inclusive
    store_ids: tuple[int, ...] | None

    @property
    def since(self) -> datetime:
        return local_day_start(self.start)

    @property
    def until(self) -> datetime:
        return local_day_start(self.end + timedelta(days=1))


def statistics_filter(*, user, start: date, end: date, store: Store | None = None):
    """The filter for `user`: their data scope always applies; `store` narrows it (a store
    outside the scope gives nothing). Resolved once, so the charts repeat no scope query."""
    lookups = store_lookups(user)
    if lookups is None:
        return StatisticsFilter(start, end, ())
    if not lookups and store is None:
        return StatisticsFilter(start, end, None)
    stores = Store.objects.filter(**lookups)
    if store is not None:
        stores = stores.filter(pk=store.pk)
    return StatisticsFilter(start, end, tuple(stores.order_by("pk").values_list("pk", flat=True)))


def grain_auto(start: date, end: date) -> str:
    """Days for up to two months, weeks up to half a year, else months."""
    days = (end - start).days + 1
    return "day" if days <= 62 else "week" if days <= 190 else "month"


def periods(start: date, end: date, grain: str) -> list[date]:
    """The first day of each day, ISO week (Monday) or month that meets [start, end]."""
    if grain == "day":
        first, step = start, None
    elif grain == "week":
        first, step = start - timedelta(days=start.weekday()), None
    else:
        first, step = start.replace(day=1), "month"
    out, current = [], first
    while current <= end:
        out.append(current)
        if step == "month":
            current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
        else:
            current += timedelta(days=7 if grain == "week" else 1)
    return out


def _trunc(field: str, grain: str):
    return Trunc(field, grain, output_field=DateField(), tzinfo=timezone.get_default_timezone())


def _members(f: StatisticsFilter):
    members = Member.objects.exclude(status=Member.Status.CLOSED)
    if f.store_ids is not None:
        members = members.filter(home_store_id__in=f.store_ids)
    return members.order_by()


def _registered(f: StatisticsFilter):
    return _members(f).filter(registered_at__gte=f.since, registered_at__lt=f.until)


def _receipts(f: StatisticsFilter):
    """Member receipts (sales and refunds) in the range, at the filter's stores."""
    receipts = Receipt.objects.filter(
        member__isnull=False, occurred_at__gte=f.since, occurred_at__lt=f.until
    )
    if f.store_ids is not None:
        receipts = receipts.filter(store_id__in=f.store_ids)
    return receipts.order_by()


def _lines(f: StatisticsFilter):
    """Merchandise lines of member receipts in the range, at the filter's stores."""
    lines = ReceiptLine.objects.filter(
        receipt__member__isnull=False,
        receipt__occurred_at__gte=f.since,
        receipt__occurred_at__lt=f.until,
        non_merchandise=False,
    )
    if f.store_ids is not None:
        lines = lines.filter(receipt__store_id__in=f.store_ids)
    return lines.order_by()


def _snapshot_rows(queryset, f: StatisticsFilter):
    if f.store_ids is not None:
        queryset = queryset.filter(member__home_store_id__in=f.store_ids)
    return queryset.order_by()


def share_percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def _fetch(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _inner_sql(queryset) -> tuple[str, tuple] | None:
    """A queryset's SQL to nest in a raw query; None when it can match nothing."""
    try:
        return queryset.query.sql_with_params()
    except EmptyResultSet:
        return None


# --- Members ------------------------------------------------------------------------------


def members_growth(f: StatisticsFilter, *, grain: str) -> dict:
    """Members now, before the range, new in it, and per period new and cumulative."""
    counts = _members(f).aggregate(
        total=Count("id"),
        before=Count("id", filter=Q(registered_at__lt=f.since)),
        new=Count("id", filter=Q(registered_at__gte=f.since, registered_at__lt=f.until)),
    )
    per_period = dict(
        _registered(f)
        .annotate(period=_trunc("registered_at", grain))
        .values("period")
        .annotate(n=Count("id"))
        .values_list("period", "n")
    )
    running, points = counts["before"], []
    for period in periods(f.start, f.end, grain):
        new = per_period.get(period, 0)
        running += new
        points.append({"period": period, "new": new, "cumulative": running})
    return {**counts, "points": points}


def new_members_by_channel(f: StatisticsFilter) -> list[dict]:
    """New members of the range per registration channel (code, its name), most first."""
    names = RegistrationChannel.objects.filter(code=OuterRef("channel")).values("name")[:1]
    rows = (
        _registered(f)
        .values("channel")
        .annotate(members=Count("id"), name=Subquery(names))
        .order_by("-members", "channel")
    )
    return [
        {"channel": r["channel"], "name": r["name"] or "", "members": r["members"]} for r in rows
    ]


def members_by_tier(f: StatisticsFilter) -> list[dict]:
    """Members per tier, lowest tier first; those without an account or a tier yet count as
    the entry tier (as coupons' group sending and the member's card do)."""
    counts = dict(
        _members(f)
        .values("points_account__tier_id")
        .annotate(n=Count("id"))
        .values_list("points_account__tier_id", "n")
    )
    tiers = list(Tier.objects.order_by("threshold").values("id", "code", "name"))
    if tiers:
        counts[tiers[0]["id"]] = counts.get(tiers[0]["id"], 0) + counts.pop(None, 0)
    rows = [
        {"tier": t["code"], "name": t["name"], "members": counts.get(t["id"], 0)} for t in tiers
    ]
    if counts.get(None):  # no tiers configured at all
        rows.append({"tier": "", "name": "", "members": counts[None]})
    return rows


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def age_band_label(band: tuple[int, int | None]) -> str:
    first, last = band
    return f"{first}+" if last is None else f"{first}-{last}"


def gender_age_pyramid(f: StatisticsFilter, *, today: date | None = None) -> list[dict]:
    """Members per age band (age today) and gender: [{band, M, F, U}], youngest first, the
    unknown band (no birthday) last."""
    today = today or timezone.localdate()
    whens = [When(birthday__isnull=True, then=Value(AGE_UNKNOWN))]
    for band in AGE_BANDS[:-1]:
        # younger than last + 1: born after the day `last + 1` years ago
        whens.append(
            When(birthday__gt=_years_before(today, band[1] + 1), then=Value(age_band_label(band)))
        )
    band = Case(*whens, default=Value(age_band_label(AGE_BANDS[-1])), output_field=CharField())
    counts = defaultdict(dict)
    for row in _members(f).annotate(band=band).values("band", "gender").annotate(n=Count("id")):
        counts[row["band"]][row["gender"]] = row["n"]
    labels = [age_band_label(b) for b in AGE_BANDS] + [AGE_UNKNOWN]
    return [
        {"band": label, **{g: counts[label].get(g, 0) for g in Member.Gender.values}}
        for label in labels
    ]


def members_by_region(f: StatisticsFilter) -> list[dict]:
    """Members per region of their home store, most first; no home store: code "" last."""
    rows = (
        _members(f)
        .values("home_store__region__code", "home_store__region__name")
        .annotate(members=Count("id"))
    )
    out = [
        {
            "code": r["home_store__region__code"] or "",
            "name": r["home_store__region__name"] or "",
            "members": r["members"],
        }
        for r in rows
    ]
    return sorted(out, key=lambda r: (r["code"] == "", -r["members"], r["code"]))


# --- Snapshots: RFM classes and their trend, lifecycle, predicted value ----------------------


def rfm_class_counts(f: StatisticsFilter) -> dict | None:
    """The current snapshot's eight classes (in the naming's order) with members and share;
    None before the first snapshot."""
    snapshot = RfmSnapshot.objects.filter(is_current=True).first()
    if snapshot is None:
        return None
    counts = dict(
        _snapshot_rows(RfmRow.objects.filter(snapshot=snapshot), f)
        .values("rfm_class")
        .annotate(n=Count("id"))
        .values_list("rfm_class", "n")
    )
    total = sum(counts.values())
    labels = list(
        RfmClass.objects.filter(preset_id=snapshot.preset_id).values_list("label", flat=True)
    )
    labels += sorted(set(counts) - set(labels))  # labels of a naming edited since
    classes = [
        {
            "label": label,
            "members": counts.get(label, 0),
            "share": share_percent(counts.get(label, 0), total),
        }
        for label in labels
    ]
    return {"as_of": snapshot.as_of, "snapshot_id": snapshot.pk, "total": total, "classes": classes}


def rfm_class_trend(f: StatisticsFilter) -> dict:
    """Members per class in the last finished snapshot of each month of the range (at most
    the last 24 months): {"dates": [as_of…], "series": [{label, counts: [...]}]}."""
    snapshots = (
        RfmSnapshot.objects.filter(
            status=RfmSnapshot.Status.DONE, as_of__gte=f.start, as_of__lte=f.end
        )
        .order_by("-as_of", "-id")
        .values_list("id", "as_of")
    )
    last_of_month: dict[tuple[int, int], tuple[int, date]] = {}
    for pk, as_of in snapshots:  # snapshot headers only: one a night at most
        last_of_month.setdefault((as_of.year, as_of.month), (pk, as_of))
    chosen = sorted(last_of_month.values(), key=lambda s: s[1])[-TREND_SNAPSHOTS_MAX:]
    if not chosen:
        return {"dates": [], "series": []}
    counts = defaultdict(dict)
    rows = (
        _snapshot_rows(RfmRow.objects.filter(snapshot_id__in=[pk for pk, _ in chosen]), f)
        .values("snapshot_id", "rfm_class")
        .annotate(n=Count("id"))
    )
    for row in rows:
        counts[row["rfm_class"]][row["snapshot_id"]] = row["n"]
    return {
        "dates": [as_of for _, as_of in chosen],
        "series": [
            {"label": label, "counts": [counts[label].get(pk, 0) for pk, _ in chosen]}
            for label in sorted(counts)
        ],
    }


def lifecycle_shares(f: StatisticsFilter) -> dict | None:
    """The current snapshot's members per lifecycle stage with shares; None before one."""
    snapshot = RfmSnapshot.objects.filter(is_current=True).only("pk", "as_of").first()
    if snapshot is None:
        return None
    counts = dict(
        _snapshot_rows(RfmRow.objects.filter(snapshot=snapshot), f)
        .values("lifecycle_stage")
        .annotate(n=Count("id"))
        .values_list("lifecycle_stage", "n")
    )
    total = sum(counts.values())
    stages = [
        {
            "code": s.value,
            "members": counts.get(s.value, 0),
            "share": share_percent(counts.get(s.value, 0), total),
        }
        for s in LifecycleStage
    ]
    if counts.get(""):
        stages.append(
            {"code": "", "members": counts[""], "share": share_percent(counts[""], total)}
        )
    return {"as_of": snapshot.as_of, "total": total, "stages": stages}


def predicted_value_distribution(f: StatisticsFilter) -> dict | None:
    """Members of the current CLV run per band of expected value (next 365 days), with the
    band's total expected value and average chance of being active (%); None before a run."""
    run = clv_run_current()
    if run is None:
        return None
    bucket = Case(
        *[
            When(expected_value_fen__gte=low, then=Value(i))
            for i, low in reversed(list(enumerate(VALUE_BUCKETS_FEN)))
        ],
        default=Value(0),
        output_field=IntegerField(),
    )
    rows = {
        r["bucket"]: r
        for r in _snapshot_rows(ClvScore.objects.filter(run=run), f)
        .annotate(bucket=bucket)
        .values("bucket")
        .annotate(members=Count("id"), value_fen=Sum("expected_value_fen"), p_alive=Avg("p_alive"))
    }
    total = sum(r["members"] for r in rows.values())
    buckets = []
    for i, low in enumerate(VALUE_BUCKETS_FEN):
        row = rows.get(i, {})
        members = row.get("members", 0)
        buckets.append(
            {
                "low_fen": low,
                "high_fen": VALUE_BUCKETS_FEN[i + 1] if i + 1 < len(VALUE_BUCKETS_FEN) else None,
                "members": members,
                "share": share_percent(members, total),
                "value_fen": int(row.get("value_fen") or 0),
                "p_alive": None if not members else round(100 * row["p_alive"], 1),
            }
        )
    return {"as_of": run.as_of, "members": total, "buckets": buckets}


# --- Purchases ------------------------------------------------------------------------------


_CUBE_SQL = """
WITH place AS (
    SELECT DISTINCT ON (s.brand_id, f.store_id) s.brand_id, f.store_id, f.id AS floor_id
    FROM {shop} s JOIN {floor} f ON f.id = s.floor_id
    ORDER BY s.brand_id, f.store_id, f."order", s.id
),
l AS (
    -- bytewise ("C") names: the grouping sorts them, and a Chinese collation sorts slowly
    SELECT coalesce(c.name, nullif(x.category_name, '')) COLLATE "C" AS category,
           coalesce(b.name, nullif(x.brand_name, '')) COLLATE "C" AS brand,
           p.floor_id, x.kind, x.member_id, x.amount_fen
    FROM ({lines}) AS x (category_id, category_name, brand_id, brand_name, store_id, kind,
                         member_id, amount_fen)
    LEFT JOIN {category} c ON c.id = x.category_id
    LEFT JOIN {brand} b ON b.id = x.brand_id
    LEFT JOIN place p ON p.brand_id = x.brand_id AND p.store_id = x.store_id
)
SELECT GROUPING(category, brand, floor_id), category, brand, floor_id,
       coalesce(sum(amount_fen) FILTER (WHERE kind = %s), 0),
       coalesce(sum(amount_fen) FILTER (WHERE kind = %s), 0),
       count(DISTINCT member_id) FILTER (WHERE kind = %s)
FROM l
GROUP BY GROUPING SETS ((category), (brand), (floor_id))
"""
# GROUPING(category, brand, floor_id) is a bit mask of the columns a row is NOT grouped by
_CUBE_SETS = {0b011: "category", 0b101: "brand", 0b110: "floor"}


def consumption_cube(f: StatisticsFilter) -> dict[str, list[dict]]:
    """Member purchases of the range per category, per brand and per floor, from one pass over
    the lines (grouping sets). Each row: sales, refunds and net (fen, a refund counted when it
    happens), distinct buyers; highest net first. Categories and brands by the master data's
    name, else the till's (label None: none given). A line's floor is that of its brand's shop
    in the receipt's store, the lowest if several (store "": no such shop, e.g. no brand)."""
    out = {"category": [], "brand": [], "floor": []}
    lines = _inner_sql(
        _lines(f).values_list(
            "category_id",
            "category_name",
            "brand_id",
            "brand_name",
            "receipt__store_id",
            "receipt__kind",
            "receipt__member_id",
            "amount_fen",
        )
    )
    if lines is None:
        return out
    sql, params = lines
    tables = {
        "shop": Shop._meta.db_table,
        "floor": Floor._meta.db_table,
        "category": Category._meta.db_table,
        "brand": Brand._meta.db_table,
    }
    kinds = (Receipt.Kind.SALE.value, Receipt.Kind.REFUND.value, Receipt.Kind.SALE.value)
    rows = _fetch(_CUBE_SQL.format(lines=sql, **tables), (*params, *kinds))
    floor_ids = {r[3] for r in rows if r[0] == 0b110 and r[3] is not None}
    floors = {fl.pk: fl for fl in Floor.objects.filter(pk__in=floor_ids).select_related("store")}
    for grouping, category, brand, floor_id, sales, refunds, buyers in rows:
        figures = {
            "sales_fen": int(sales),
            "refunds_fen": int(refunds),
            "net_fen": int(sales) - int(refunds),
            "buyers": buyers,
        }
        dimension = _CUBE_SETS[grouping]
        if dimension == "floor":
            fl = floors.get(floor_id)
            place = {
                "store": fl.store.code if fl else "",
                "floor": fl.code if fl else "",
                "name": fl.name if fl else "",
                "order": fl.order if fl else None,
            }
            out["floor"].append({**place, **figures, "floor_id": floor_id})
        else:
            out[dimension].append(
                {"label": category if dimension == "category" else brand, **figures}
            )
    for dimension, key in (("category", "label"), ("brand", "label"), ("floor", "floor_id")):
        # highest net first; ties by name (or floor id), the unnamed last
        out[dimension].sort(key=lambda r, k=key: (-r["net_fen"], r[k] is None, r[k] or ""))
    return out


def consumption_by_category(f: StatisticsFilter) -> list[dict]:
    return consumption_cube(f)["category"]


def consumption_by_brand(f: StatisticsFilter) -> list[dict]:
    return consumption_cube(f)["brand"]


def consumption_by_floor(f: StatisticsFilter) -> list[dict]:
    return consumption_cube(f)["floor"]


def purchase_heatmap(f: StatisticsFilter) -> list[dict]:
    """Member sale receipts per ISO weekday (1 = Monday) and hour, Shanghai time: all 168
    cells, Monday 0:00 first."""
    tz = timezone.get_default_timezone()
    counts = {
        (r["weekday"], r["hour"]): r["receipts"]
        for r in _receipts(f)
        .filter(kind=Receipt.Kind.SALE)
        .annotate(
            weekday=ExtractIsoWeekDay("occurred_at", tzinfo=tz),
            hour=ExtractHour("occurred_at", tzinfo=tz),
        )
        .values("weekday", "hour")
        .annotate(receipts=Count("id"))
    }
    return [
        {"weekday": d, "hour": h, "receipts": counts.get((d, h), 0)}
        for d in range(1, 8)
        for h in range(24)
    ]


def first_purchase_within_days(f: StatisticsFilter, *, grain: str) -> dict:
    """New members of the range who bought (a sale at the filter's stores) within 7 days of
    joining, per period of joining; recent joiners' 7 days may not be over yet."""
    bought = Receipt.objects.filter(
        member_id=OuterRef("pk"),
        kind=Receipt.Kind.SALE,
        occurred_at__gte=OuterRef("registered_at"),
        occurred_at__lt=OuterRef("registered_at") + timedelta(days=FIRST_PURCHASE_DAYS),
    )
    if f.store_ids is not None:
        bought = bought.filter(store_id__in=f.store_ids)
    per_period = {
        r["period"]: r
        for r in _registered(f)
        .annotate(period=_trunc("registered_at", grain), bought=Exists(bought))
        .values("period")
        .annotate(new=Count("id"), converted=Count("id", filter=Q(bought=True)))
    }
    points = []
    for period in periods(f.start, f.end, grain):
        row = per_period.get(period, {})
        new, converted = row.get("new", 0), row.get("converted", 0)
        points.append(
            {
                "period": period,
                "new": new,
                "converted": converted,
                "share": share_percent(converted, new) if new else None,
            }
        )
    new = sum(p["new"] for p in points)
    converted = sum(p["converted"] for p in points)
    return {
        "new": new,
        "converted": converted,
        "share": share_percent(converted, new),
        "points": points,
    }


def repurchase_rate(f: StatisticsFilter) -> dict:
    """Buyers of the range (a member sale receipt), those with two or more purchase days
    (Shanghai dates), the rate, and buyers per number of purchase days (5: five or more)."""
    days = (
        _receipts(f)
        .filter(kind=Receipt.Kind.SALE)
        .annotate(day=TruncDate("occurred_at", tzinfo=timezone.get_default_timezone()))
        .values_list("member_id", "day")
        .distinct()
    )
    inner = _inner_sql(days)
    counts = {}
    if inner is not None:
        sql, params = inner
        # distinct (member, day) pairs hash; COUNT(DISTINCT …) per member would sort them all
        counts = dict(
            _fetch(
                "SELECT least(n, %s), count(*) FROM (SELECT member_id, count(*) AS n"  # noqa: S608
                f" FROM ({sql}) AS d (member_id, day) GROUP BY member_id) AS s GROUP BY 1",
                (REPURCHASE_DAYS_CAP, *params),
            )
        )
    buyers = sum(counts.values())
    repeat = buyers - counts.get(1, 0)
    return {
        "buyers": buyers,
        "repeat": repeat,
        "rate": share_percent(repeat, buyers),
        "distribution": [
            {"days": d, "members": counts.get(d, 0)} for d in range(1, REPURCHASE_DAYS_CAP + 1)
        ],
    }


def monthly_active_members(f: StatisticsFilter) -> list[dict]:
    """Distinct members with a sale receipt per Shanghai month of the range, and receipts."""
    rows = {
        r["month"]: r
        for r in _receipts(f)
        .filter(kind=Receipt.Kind.SALE)
        .annotate(month=_trunc("occurred_at", "month"))
        .values("month")
        .annotate(members=Count("member_id", distinct=True), receipts=Count("id"))
    }
    return [
        {
            "month": month,
            "members": rows.get(month, {}).get("members", 0),
            "receipts": rows.get(month, {}).get("receipts", 0),
        }
        for month in periods(f.start, f.end, "month")
    ]


# --- ABC (Pareto) ---------------------------------------------------------------------------

_ABC_SQL = """
WITH v AS (SELECT k, v FROM ({inner}) AS s (k, v) WHERE k IS NOT NULL AND v > 0),
c AS (
    SELECT v,
           sum(v) OVER (ORDER BY v DESC, k ROWS UNBOUNDED PRECEDING) AS running,
           row_number() OVER (ORDER BY v DESC, k) AS rank,
           count(*) OVER () AS n,
           sum(v) OVER () AS total
    FROM v
)
SELECT 'class',
       CASE WHEN (running - v) * 100 < %s * total THEN 'A'
            WHEN (running - v) * 100 < %s * total THEN 'B' ELSE 'C' END,
       count(*), sum(v), max(n), max(total)
FROM c GROUP BY 2
UNION ALL
SELECT 'curve', ceil(rank * 100.0 / n)::int::text, max(rank), max(running), max(n), max(total)
FROM c GROUP BY 2
"""


def abc_members(f: StatisticsFilter) -> dict:
    """ABC of members by net spend in the range (receipt totals, sales less refunds), in
    Postgres by analytics/abc.py's rule."""
    inner = _inner_sql(
        _receipts(f).values("member_id").annotate(v=_signed_total()).values_list("member_id", "v")
    )
    rows = []
    if inner is not None:
        sql, params = inner
        rows = _fetch(_ABC_SQL.format(inner=sql), (*params, ABC_CUT_A, ABC_CUT_B))
    n = int(rows[0][4]) if rows else 0
    total = int(rows[0][5]) if rows else 0
    per_class = {r[1]: (int(r[2]), int(r[3])) for r in rows if r[0] == "class"}
    curve = [(int(r[2]), int(r[3])) for r in rows if r[0] == "curve"]
    return abc_summary(n, total, per_class, curve)


def abc_brands(f: StatisticsFilter, *, cube: dict | None = None) -> dict:
    """ABC of brands by net member sales in the range (lines without a brand left out)."""
    cube = cube or consumption_cube(f)
    return abc_classes((r["label"], r["net_fen"]) for r in cube["brand"])


def abc_categories(f: StatisticsFilter, *, cube: dict | None = None) -> dict:
    """ABC of categories by net member sales in the range (uncategorised lines left out)."""
    cube = cube or consumption_cube(f)
    return abc_classes((r["label"], r["net_fen"]) for r in cube["category"])


def _signed_total():
    return Sum(
        Case(
            When(kind=Receipt.Kind.REFUND, then=-F("total_fen")),
            default=F("total_fen"),
            output_field=BigIntegerField(),
        )
    )


# --- Sections other apps add (the points mall's top redeemed goods) ------------------------

# A section is a callable(filter: StatisticsFilter) -> dict | None with plain data only:
# {"title": str, "columns": [str, ...], "rows": [[label, number, ...], ...]}; the page draws a
# bar chart of the first column against the second, with the table and a CSV download. It
# reads only the filter's fields (start, end, store_ids, since, until), so the mall needs
# nothing of analytics: e.g. config registers `mall.selectors.top_redeemed_goods` once the
# points mall exists (mall and analytics may not import each other).
_sections: list[Callable[[StatisticsFilter], dict | None]] = []


def statistics_section_register(section: Callable[[StatisticsFilter], dict | None]) -> None:
    """Add `section` to the statistics page (e.g. the points mall's top redeemed goods)."""
    if section not in _sections:
        _sections.append(section)


def statistics_sections() -> list[Callable[[StatisticsFilter], dict | None]]:
    return list(_sections)
