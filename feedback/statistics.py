"""Customer-service statistics (反馈统计, 投诉统计, 标签统计): one selector per chart, each
aggregating in Postgres and returning plain data for a FeedbackStatsFilter (the stores of the
user's scope, maybe one of them, and a range of Shanghai dates).

Who counts where:
- Ticket charts count the tickets filed in the range (by created_at), at the filter's stores.
- Times are business minutes of the service desk (feedback/sla.py): the desk's opening spans
  of the days concerned go to Postgres as two arrays, and each ticket's minutes are summed
  from the spans its wait overlaps, so no ticket is looped over in Python. A ticket's time to
  the first response and to its resolution run from its filing; held time is not taken off.
- SLA compliance judges a deadline once it is met or passed: met when the response (the
  resolution) came at or before its due time, missed when it came later or has not come
  and the due time has passed; tickets still within their time are not judged yet. The tier
  is the member's tier when the ticket was filed (its SLA target's tier).
- Ratings count by the day they were given; the handler is the one who resolved the ticket.
- Handlers' workload: open and overdue tickets now, tickets resolved in the range.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Avg, Count, DateField, F, Q
from django.db.models.functions import Trunc
from django.utils import timezone

from feedback.models import Handler, Rating, RatingTag, Ticket
from feedback.selectors import overdue_q, service_calendar
from feedback.workflow import OPEN
from stores.models import Store
from stores.scoping import store_lookups

TOP_BRANDS = 15


@dataclass(frozen=True)
class FeedbackStatsFilter:
    """The stores (None: every store) and Shanghai dates (both included) to count."""

    start: date
    end: date
    store_ids: tuple[int, ...] | None

    @property
    def since(self) -> datetime:
        return _day_start(self.start)

    @property
    def until(self) -> datetime:
        return _day_start(self.end + timedelta(days=1))


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.get_default_timezone())


def stats_filter(*, user, start: date, end: date, store: Store | None = None):
    """The filter for `user`: their store scope always applies; `store` narrows it (a store
    outside the scope gives nothing)."""
    lookups = store_lookups(user)
    if lookups is None:
        return FeedbackStatsFilter(start, end, ())
    if not lookups and store is None:
        return FeedbackStatsFilter(start, end, None)
    stores = Store.objects.filter(**lookups)
    if store is not None:
        stores = stores.filter(pk=store.pk)
    return FeedbackStatsFilter(
        start, end, tuple(stores.order_by("pk").values_list("pk", flat=True))
    )


def grain_auto(start: date, end: date) -> str:
    """Days for up to two months, weeks up to half a year, else months."""
    days = (end - start).days + 1
    return "day" if days <= 62 else "week" if days <= 190 else "month"


def periods(start: date, end: date, grain: str) -> list[date]:
    """The first day of each day, ISO week (Monday) or month that meets [start, end]."""
    if grain == "month":
        current, out = start.replace(day=1), []
        while current <= end:
            out.append(current)
            current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
        return out
    step = 7 if grain == "week" else 1
    current = start - timedelta(days=start.weekday()) if grain == "week" else start
    out = []
    while current <= end:
        out.append(current)
        current += timedelta(days=step)
    return out


def share_percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def _in_stores(queryset, f: FeedbackStatsFilter, field: str = "store_id"):
    if f.store_ids is not None:
        queryset = queryset.filter(**{f"{field}__in": f.store_ids})
    return queryset.order_by()


def tickets(f: FeedbackStatsFilter):
    """Tickets filed in the range at the filter's stores."""
    return _in_stores(Ticket.objects.filter(created_at__gte=f.since, created_at__lt=f.until), f)


def _ratings(f: FeedbackStatsFilter):
    ratings = Rating.objects.filter(created_at__gte=f.since, created_at__lt=f.until)
    return _in_stores(ratings, f, "ticket__store_id")


def user_names(user_ids) -> dict[int, str]:
    """Staff users' names as members see them on the handler card (the full name), else the
    staff profile's name or the login."""
    users = get_user_model().objects.filter(pk__in=[i for i in user_ids if i is not None])
    names = {}
    for user in users.select_related("staff_profile"):
        profile = getattr(user, "staff_profile", None)
        names[user.pk] = (
            user.get_full_name() or (profile.name if profile else "") or user.get_username()
        )
    return names


# --- Tickets ----------------------------------------------------------------------------------


def tickets_over_time(f: FeedbackStatsFilter, *, grain: str) -> dict:
    """Tickets filed per period and type: {"periods": [...], "types": [{"name", "counts"}]}."""
    rows = (
        tickets(f)
        .annotate(
            period=Trunc(
                "created_at",
                grain,
                output_field=DateField(),
                tzinfo=timezone.get_default_timezone(),
            )
        )
        .values("period", "ticket_type_id", "ticket_type__name", "ticket_type__position")
        .annotate(n=Count("id"))
    )
    days = periods(f.start, f.end, grain)
    index = {day: i for i, day in enumerate(days)}
    types: dict[int, dict] = {}
    for row in sorted(rows, key=lambda r: (r["ticket_type__position"], r["ticket_type_id"])):
        entry = types.setdefault(
            row["ticket_type_id"], {"name": row["ticket_type__name"], "counts": [0] * len(days)}
        )
        if row["period"] in index:
            entry["counts"][index[row["period"]]] += row["n"]
    return {"periods": days, "types": list(types.values())}


def tickets_by_type(f: FeedbackStatsFilter) -> list[dict]:
    rows = (
        tickets(f)
        .values("ticket_type__name", "ticket_type__is_complaint", "ticket_type__position")
        .annotate(tickets=Count("id"))
        .order_by("ticket_type__position", "ticket_type__name")
    )
    return [
        {
            "name": r["ticket_type__name"],
            "complaint": r["ticket_type__is_complaint"],
            "tickets": r["tickets"],
        }
        for r in rows
    ]


def tickets_by_status(f: FeedbackStatsFilter, *, now: datetime | None = None) -> list[dict]:
    """Tickets filed in the range by where they stand now, with how many are overdue."""
    late = overdue_q(now or timezone.now())
    counts = dict(tickets(f).values_list("status").annotate(n=Count("id")))
    overdue = dict(tickets(f).filter(late).values_list("status").annotate(n=Count("id")))
    return [
        {
            "status": status.value,
            "label": str(status.label),
            "tickets": counts.get(status.value, 0),
            "overdue": overdue.get(status.value, 0),
        }
        for status in Ticket.Status
    ]


def tickets_by_store(f: FeedbackStatsFilter) -> list[dict]:
    rows = (
        tickets(f)
        .values("store__code", "store__name")
        .annotate(
            tickets=Count("id"),
            complaints=Count("id", filter=Q(ticket_type__is_complaint=True)),
        )
        .order_by("-tickets", "store__code")
    )
    return [
        {
            "code": r["store__code"],
            "name": r["store__name"],
            "tickets": r["tickets"],
            "complaints": r["complaints"],
        }
        for r in rows
    ]


def tickets_by_brand(f: FeedbackStatsFilter) -> list[dict]:
    """Tickets naming a brand (or a shop of it), most first; tickets of no brand last."""
    rows = (
        tickets(f)
        .values("brand__name")
        .annotate(
            tickets=Count("id"),
            complaints=Count("id", filter=Q(ticket_type__is_complaint=True)),
        )
        .order_by("-tickets", "brand__name")
    )
    named = [r for r in rows if r["brand__name"] is not None]
    unnamed = [r for r in rows if r["brand__name"] is None]
    return [
        {"name": r["brand__name"], "tickets": r["tickets"], "complaints": r["complaints"]}
        for r in named + unnamed
    ]


# --- Times and SLAs ---------------------------------------------------------------------------


def _spans(f: FeedbackStatsFilter, now: datetime) -> tuple[list[datetime], list[datetime]]:
    """The desk's opening spans from the range's first day to today (or the range's end)."""
    calendar = service_calendar()
    opens, closes = [], []
    day, last = f.start, max(f.end, timezone.localdate(now)) + timedelta(days=1)
    while day <= last:
        span = calendar.span(day)
        if span is not None:
            opens.append(span[0])
            closes.append(span[1])
        day += timedelta(days=1)
    return opens, closes


def _inner_sql(queryset) -> tuple[str, tuple] | None:
    try:
        return queryset.query.sql_with_params()
    except EmptyResultSet:
        return None


def _business_minutes_sql(end_column: str) -> str:
    """Whole business minutes from t.created_at to t.<end_column> over the spans table."""
    sql = (
        "(SELECT floor(COALESCE(sum(extract(epoch FROM"
        " LEAST(s.closes, t.{end}) - GREATEST(s.opens, t.created_at))), 0) / 60)"
        " FROM spans s WHERE s.opens < t.{end} AND s.closes > t.created_at)"
    )
    return sql.format(end=end_column)


def response_times(f: FeedbackStatsFilter, *, now: datetime | None = None) -> list[dict]:
    """Business minutes to the first response and to the resolution per ticket type, and over
    all types (the row with type None, first): count, median, average and 90th percentile."""
    now = now or timezone.now()
    inner = _inner_sql(
        tickets(f).values("id", "ticket_type_id", "created_at", "first_responded_at", "resolved_at")
    )
    if inner is None:
        return []
    sql, params = inner
    opens, closes = _spans(f, now)
    first, resolution = (
        _business_minutes_sql("first_responded_at"),
        _business_minutes_sql("resolved_at"),
    )
    query = f"""
        WITH spans(opens, closes) AS (
            SELECT * FROM unnest(%s::timestamptz[], %s::timestamptz[])
        ),
        t AS ({sql}),
        m AS (
            SELECT t.ticket_type_id AS type_id,
                   CASE WHEN t.first_responded_at IS NOT NULL THEN {first} END AS first_min,
                   CASE WHEN t.resolved_at IS NOT NULL THEN {resolution} END AS resolution_min
            FROM t
        )
        SELECT m.type_id, count(*),
               count(first_min), percentile_cont(0.5) WITHIN GROUP (ORDER BY first_min),
               avg(first_min), percentile_cont(0.9) WITHIN GROUP (ORDER BY first_min),
               count(resolution_min),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY resolution_min),
               avg(resolution_min), percentile_cont(0.9) WITHIN GROUP (ORDER BY resolution_min)
        FROM m GROUP BY ROLLUP (m.type_id)
    """  # noqa: S608 - the inner SQL is the ORM's, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(query, [opens, closes, *params])
        rows = cursor.fetchall()
    names = dict(
        Ticket.ticket_type.field.related_model.objects.values_list("pk", "name")
    )  # a handful of types
    positions = dict(Ticket.ticket_type.field.related_model.objects.values_list("pk", "position"))

    def number(value):
        return None if value is None else round(float(value), 1)

    out = [
        {
            "type_id": type_id,
            "name": names.get(type_id) if type_id is not None else None,
            "tickets": total,
            "responded": responded,
            "first_median": number(f_med),
            "first_avg": number(f_avg),
            "first_p90": number(f_p90),
            "resolved": resolved,
            "resolution_median": number(r_med),
            "resolution_avg": number(r_avg),
            "resolution_p90": number(r_p90),
        }
        for (
            type_id,
            total,
            responded,
            f_med,
            f_avg,
            f_p90,
            resolved,
            r_med,
            r_avg,
            r_p90,
        ) in rows
    ]
    return sorted(
        out, key=lambda r: (r["type_id"] is not None, positions.get(r["type_id"], 0), r["type_id"])
    )


def sla_compliance(f: FeedbackStatsFilter, *, now: datetime | None = None) -> list[dict]:
    """Per ticket type and the member's tier when the ticket was filed: first responses and
    resolutions judged, met, and the share met (None when none judged). The first row (type
    None) is the total."""
    now = now or timezone.now()
    first_judged = Q(first_responded_at__isnull=False) | Q(first_response_due__lt=now)
    first_met = Q(first_responded_at__isnull=False, first_responded_at__lte=F("first_response_due"))
    resolution_judged = Q(resolved_at__isnull=False) | Q(
        status__in=OPEN, on_hold=False, resolution_due__lt=now
    )
    resolution_met = Q(resolved_at__isnull=False, resolved_at__lte=F("resolution_due"))
    measures = {
        "tickets": Count("id"),
        "first_judged": Count("id", filter=first_judged),
        "first_met": Count("id", filter=first_met),
        "resolution_judged": Count("id", filter=resolution_judged),
        "resolution_met": Count("id", filter=resolution_met),
    }
    rows = (
        tickets(f)
        .values(
            "ticket_type__name",
            "ticket_type__position",
            "tier__name",
            "tier__threshold",
        )
        .annotate(**measures)
        .order_by(
            "ticket_type__position",
            "ticket_type__name",
            "-tier__threshold",
        )
    )
    total = tickets(f).aggregate(**measures)

    def shaped(row, type_name, tier_name):
        return {
            "type": type_name,
            "tier": tier_name,
            "tickets": row["tickets"],
            "first_judged": row["first_judged"],
            "first_met": row["first_met"],
            "first_share": share_percent(row["first_met"], row["first_judged"])
            if row["first_judged"]
            else None,
            "resolution_judged": row["resolution_judged"],
            "resolution_met": row["resolution_met"],
            "resolution_share": share_percent(row["resolution_met"], row["resolution_judged"])
            if row["resolution_judged"]
            else None,
        }

    if not total["tickets"]:
        return []
    return [shaped(total, None, None)] + [
        shaped(r, r["ticket_type__name"], r["tier__name"]) for r in rows
    ]


# --- Complaints -------------------------------------------------------------------------------


def _complaints(f: FeedbackStatsFilter):
    return tickets(f).filter(ticket_type__is_complaint=True)


def complaints_by_brand(f: FeedbackStatsFilter) -> list[dict]:
    rows = (
        _complaints(f)
        .values("brand__name")
        .annotate(complaints=Count("id"), resolved=Count("id", filter=Q(resolved_at__isnull=False)))
        .order_by("-complaints", "brand__name")
    )
    return sorted(
        [
            {"name": r["brand__name"], "complaints": r["complaints"], "resolved": r["resolved"]}
            for r in rows
        ],
        key=lambda r: r["name"] is None,  # "no brand" last, the order otherwise kept
    )


def complaints_by_department(f: FeedbackStatsFilter) -> list[dict]:
    """Complaints by the department of their handler; not yet handled ones last."""
    rows = (
        _complaints(f)
        .values("handler__feedback_handler__department__name")
        .annotate(complaints=Count("id"), resolved=Count("id", filter=Q(resolved_at__isnull=False)))
        .order_by("-complaints", "handler__feedback_handler__department__name")
    )
    out = [
        {
            "name": r["handler__feedback_handler__department__name"],
            "complaints": r["complaints"],
            "resolved": r["resolved"],
        }
        for r in rows
    ]
    return sorted(out, key=lambda r: r["name"] is None)


def complaints_by_handler(f: FeedbackStatsFilter) -> list[dict]:
    rows = list(
        _complaints(f)
        .values("handler_id")
        .annotate(complaints=Count("id"), resolved=Count("id", filter=Q(resolved_at__isnull=False)))
        .order_by("-complaints", "handler_id")
    )
    names = user_names(r["handler_id"] for r in rows)
    out = [
        {
            "user_id": r["handler_id"],
            "name": names.get(r["handler_id"]),
            "complaints": r["complaints"],
            "resolved": r["resolved"],
        }
        for r in rows
    ]
    return sorted(out, key=lambda r: r["user_id"] is None)


# --- Ratings and tags -------------------------------------------------------------------------


def rating_distribution(f: FeedbackStatsFilter) -> dict:
    """Ratings per star (1–5), their number and average."""
    counts = dict(_ratings(f).values_list("stars").annotate(n=Count("id")))
    total = sum(counts.values())
    average = _ratings(f).aggregate(a=Avg("stars"))["a"]
    return {
        "stars": [
            {
                "stars": s,
                "ratings": counts.get(s, 0),
                "share": share_percent(counts.get(s, 0), total),
            }
            for s in range(5, 0, -1)
        ],
        "ratings": total,
        "average": None if average is None else round(float(average), 2),
    }


def _picks(f: FeedbackStatsFilter):
    """One row per tag picked in a rating of the range (the ratings' tag table)."""
    return Rating.tags.through.objects.filter(rating__in=_ratings(f)).order_by()


def tag_distribution(f: FeedbackStatsFilter) -> list[dict]:
    """How often each tag was picked in the range's ratings (every tag, positive first)."""
    counts = dict(_picks(f).values_list("ratingtag_id").annotate(n=Count("id")))
    rated = _ratings(f).count()
    return [
        {
            "name": tag.name,
            "positive": tag.is_positive,
            "active": tag.is_active,
            "picked": counts.get(tag.pk, 0),
            "share": share_percent(counts.get(tag.pk, 0), rated),
        }
        for tag in RatingTag.objects.all()
        if tag.is_active or counts.get(tag.pk)
    ]


def tags_by_handler(f: FeedbackStatsFilter) -> dict:
    """Per handler: positive and negative tags picked, and each tag's count."""
    rows = list(
        _picks(f)
        .values("rating__handler_id", "ratingtag_id", "ratingtag__is_positive")
        .annotate(n=Count("id"))
    )
    handler_ids = sorted({r["rating__handler_id"] for r in rows}, key=lambda i: (i is None, i or 0))
    names = user_names(handler_ids)
    picked = {r["ratingtag_id"] for r in rows}
    tags = [t for t in RatingTag.objects.all() if t.is_active or t.pk in picked]
    handlers = []
    for user_id in handler_ids:
        mine = [r for r in rows if r["rating__handler_id"] == user_id]
        counts = {r["ratingtag_id"]: r["n"] for r in mine}
        handlers.append(
            {
                "user_id": user_id,
                "name": names.get(user_id),
                "positive": sum(r["n"] for r in mine if r["ratingtag__is_positive"]),
                "negative": sum(r["n"] for r in mine if not r["ratingtag__is_positive"]),
                "tags": [counts.get(t.pk, 0) for t in tags],
            }
        )
    handlers.sort(key=lambda h: (-(h["positive"] + h["negative"]), h["user_id"] is None))
    return {
        "tags": [{"name": t.name, "positive": t.is_positive} for t in tags],
        "handlers": handlers,
    }


# --- Handlers ---------------------------------------------------------------------------------


def handler_workload(f: FeedbackStatsFilter, *, now: datetime | None = None) -> list[dict]:
    """Per handler (staff holding tickets or ratings at the filter's stores): open and overdue
    tickets now, tickets resolved in the range, the range's ratings (count, average stars)."""
    now = now or timezone.now()
    current = _in_stores(Ticket.objects.filter(handler__isnull=False), f)
    open_now = dict(
        current.filter(status__in=OPEN).values_list("handler_id").annotate(n=Count("id"))
    )
    overdue = dict(current.filter(overdue_q(now)).values_list("handler_id").annotate(n=Count("id")))
    resolved = dict(
        current.filter(resolved_at__gte=f.since, resolved_at__lt=f.until)
        .values_list("handler_id")
        .annotate(n=Count("id"))
    )
    ratings = {
        r["handler_id"]: r
        for r in _ratings(f)
        .filter(handler__isnull=False)
        .values("handler_id")
        .annotate(n=Count("id"), avg=Avg("stars"))
    }
    ids = set(open_now) | set(overdue) | set(resolved) | set(ratings)
    names = user_names(ids)
    departments = dict(
        Handler.objects.filter(user_id__in=ids).values_list("user_id", "department__name")
    )
    rows = [
        {
            "user_id": user_id,
            "name": names.get(user_id, ""),
            "department": departments.get(user_id),
            "open": open_now.get(user_id, 0),
            "overdue": overdue.get(user_id, 0),
            "resolved": resolved.get(user_id, 0),
            "ratings": ratings[user_id]["n"] if user_id in ratings else 0,
            "average_stars": round(float(ratings[user_id]["avg"]), 2)
            if user_id in ratings
            else None,
        }
        for user_id in ids
    ]
    return sorted(rows, key=lambda r: (-r["resolved"], -r["open"], r["name"]))
