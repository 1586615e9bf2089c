"""Reads for the mining pages: runs a staff member may see, the rule browser (filters,
sorting, names instead of codes), the rule graph, comparing two runs, bundles, the CSV rows,
and the consumer behaviour aggregates (消费行为分析)."""

import json
import math
from datetime import date, timedelta

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone
from django.utils.translation import gettext

from core.dates import local_day_start
from loyalty.models import Receipt, ReceiptLine
from members.models import Member, MemberProfile
from mining.models import MiningRun, RunItem
from mining.segments import AGE_BANDS, age_band_code, age_band_label, segment_params
from stores.models import Region, Store
from stores.scoping import scoped, store_lookups

SORT_FIELDS = {"lift", "confidence", "support", "leverage", "conviction", "count"}
GRAPH_RULES = 60


# --- Runs -------------------------------------------------------------------------------------


def runs_visible(*, user) -> QuerySet:
    """Runs `user` may open: all for HQ; for a region or a store, runs over its stores."""
    lookups = store_lookups(user)
    runs = MiningRun.objects.select_related("store", "created_by__staff_profile")
    if lookups is None:
        return runs.none()
    if not lookups:
        return runs
    return runs.filter(store__in=Store.objects.filter(**lookups))


def run_status(run: MiningRun) -> dict:
    """The JSON the run page polls while the run is queued or running."""
    return {
        "id": run.pk,
        "status": run.status,
        "status_label": str(run.get_status_display()),
        "progress": run.progress,
        "finished": run.status in (MiningRun.Status.DONE, MiningRun.Status.FAILED),
        "rules": run.rule_count,
        "error": run.error if run.status == MiningRun.Status.FAILED else "",
    }


def run_for_segment(params: dict, *, user) -> MiningRun | None:
    """The newest done run over all stores mined for exactly this segment."""
    return (
        runs_visible(user=user)
        .filter(status=MiningRun.Status.DONE, segment=params, store__isnull=True)
        .order_by("-finished_at", "-id")
        .first()
    )


def runs_for_segments(segments: list[dict], *, user) -> dict[str, MiningRun]:
    """run_for_segment for many segments in one query, by segment_key."""
    if not segments:
        return {}
    runs = (
        runs_visible(user=user)
        .filter(status=MiningRun.Status.DONE, segment__in=segments, store__isnull=True)
        .order_by("segment", "-finished_at", "-id")
        .distinct("segment")
    )
    return {segment_key(run.segment): run for run in runs}


def segment_key(params: dict) -> str:
    return json.dumps(params, sort_keys=True)


# --- The rule browser -------------------------------------------------------------------------


def rules_browse(
    run: MiningRun,
    *,
    item: str = "",
    side: str = "any",
    min_support: float | None = None,
    min_confidence: float | None = None,
    min_lift: float | None = None,
    sort: str = "lift",
    descending: bool = True,
) -> QuerySet:
    """`run`'s rules with an item whose name contains `item` (on `side`), above the
    thresholds, sorted (an infinite conviction counts as the highest)."""
    rules = run.rules.all()
    if item:
        codes = list(
            RunItem.objects.filter(run=run, name__icontains=item).values_list("code", flat=True)
        )
        in_antecedents = Q(antecedents__overlap=codes)
        in_consequents = Q(consequents__overlap=codes)
        if side == "antecedent":
            rules = rules.filter(in_antecedents)
        elif side == "consequent":
            rules = rules.filter(in_consequents)
        else:
            rules = rules.filter(in_antecedents | in_consequents)
    if min_support is not None:
        rules = rules.filter(support__gte=min_support)
    if min_confidence is not None:
        rules = rules.filter(confidence__gte=min_confidence)
    if min_lift is not None:
        rules = rules.filter(lift__gte=min_lift)
    if sort not in SORT_FIELDS:
        sort = "lift"
    key = F(sort).desc(nulls_first=True) if descending else F(sort).asc(nulls_last=True)
    tie = "-id" if descending else "id"
    return rules.order_by(key, tie)


def item_names(run: MiningRun, codes) -> dict[int, str]:
    return dict(RunItem.objects.filter(run=run, code__in=set(codes)).values_list("code", "name"))


def rules_named(run: MiningRun, rules) -> list[dict]:
    """Rules as rows for a page: the items' names (sorted), the metrics."""
    rules = list(rules)
    names = item_names(run, {c for r in rules for c in (*r.antecedents, *r.consequents)})
    return [
        {
            "rule": r,
            "antecedents": sorted(names.get(c, "?") for c in r.antecedents),
            "consequents": sorted(names.get(c, "?") for c in r.consequents),
        }
        for r in rules
    ]


def rules_graph(run: MiningRun, *, rules: QuerySet | None = None, top: int = GRAPH_RULES) -> dict:
    """The top `top` rules by lift (of `rules`, default all of the run's) as a graph: items as
    nodes (value: support), one edge per antecedent item and consequent item (value: lift,
    the highest when several rules join the same two items)."""
    chosen = list((rules if rules is not None else run.rules.all()).order_by("-lift", "id")[:top])
    codes = {c for r in chosen for c in (*r.antecedents, *r.consequents)}
    items = {
        code: (name, count)
        for code, name, count in RunItem.objects.filter(run=run, code__in=codes).values_list(
            "code", "name", "basket_count"
        )
    }
    baskets = run.basket_count or 1
    biggest = max((count for _name, count in items.values()), default=1)
    nodes = [
        {
            "id": str(code),
            "name": name,
            "value": round(count / baskets, 6),
            "symbolSize": round(12 + 38 * math.sqrt(count / biggest), 1),
        }
        for code, (name, count) in sorted(items.items())
    ]
    links: dict[tuple[int, int], dict] = {}
    for r in chosen:
        text = " → ".join(
            " + ".join(sorted(items[c][0] for c in side)) for side in (r.antecedents, r.consequents)
        )
        for a in r.antecedents:
            for c in r.consequents:
                if (a, c) not in links or links[(a, c)]["value"] < r.lift:
                    links[(a, c)] = {
                        "source": str(a),
                        "target": str(c),
                        "value": round(r.lift, 4),
                        "rule": text,
                        "confidence": round(r.confidence, 4),
                    }
    return {"nodes": nodes, "links": list(links.values())}


def bundles(
    run: MiningRun, *, min_support: float, min_confidence: float, limit: int = 50
) -> list[dict]:
    """组合推荐: pairs A + B from one-item rules with enough support and confidence, by lift;
    A → B and B → A are one pair, shown with both confidences."""
    rules = (
        run.rules.filter(
            support__gte=min_support,
            antecedents__len=1,
            consequents__len=1,
        )
        .order_by("-lift", "-support", "id")
        .values_list("antecedents", "consequents", "support", "confidence", "lift", "count")
    )
    pairs: dict[frozenset, dict] = {}
    for antecedents, consequents, support, confidence, lift, count in rules.iterator(2000):
        a, b = antecedents[0], consequents[0]
        pair = pairs.setdefault(
            frozenset((a, b)),
            {"a": a, "b": b, "support": support, "lift": lift, "count": count, "conf": {}},
        )
        pair["conf"][(a, b)] = confidence
    chosen = [
        p for p in pairs.values() if max(p["conf"].values()) >= min_confidence
    ]  # either direction is confident enough
    chosen.sort(key=lambda p: (-p["lift"], -p["support"]))
    chosen = chosen[:limit]
    names = item_names(run, {c for p in chosen for c in (p["a"], p["b"])})
    return [
        {
            "a": names.get(p["a"], "?"),
            "b": names.get(p["b"], "?"),
            "support": p["support"],
            "lift": p["lift"],
            "count": p["count"],
            "confidence_ab": p["conf"].get((p["a"], p["b"])),
            "confidence_ba": p["conf"].get((p["b"], p["a"])),
        }
        for p in chosen
    ]


def rules_csv_rows(run: MiningRun, rules: QuerySet | None = None):
    """(if bought, then also, support, confidence, lift, leverage, conviction, baskets with
    both, with A, with B) with item names joined by " + ", in the browser's order."""
    names = dict(RunItem.objects.filter(run=run).values_list("code", "name"))
    rules = rules if rules is not None else rules_browse(run)
    for r in rules.iterator(2000):
        yield (
            " + ".join(sorted(names.get(c, "?") for c in r.antecedents)),
            " + ".join(sorted(names.get(c, "?") for c in r.consequents)),
            r.support,
            r.confidence,
            r.lift,
            r.leverage,
            "inf" if r.conviction is None else r.conviction,
            r.count,
            r.antecedent_count,
            r.consequent_count,
        )


# --- Comparing two runs -----------------------------------------------------------------------

_COMPARE_SQL = """
WITH a AS ({side}), b AS ({side})
SELECT a.ak, a.ck, a.an, a.cn, a.support, a.confidence, a.lift, a.count,
       b.ak, b.ck, b.an, b.cn, b.support, b.confidence, b.lift, b.count
FROM a FULL OUTER JOIN b ON a.ak = b.ak AND a.ck = b.ck
"""
_SIDE_SQL = """
SELECT r.support, r.confidence, r.lift, r.count,
  (SELECT array_agg(i.key ORDER BY i.key) FROM mining_runitem i
   WHERE i.run_id = r.run_id AND i.code = ANY(r.antecedents)) AS ak,
  (SELECT array_agg(i.key ORDER BY i.key) FROM mining_runitem i
   WHERE i.run_id = r.run_id AND i.code = ANY(r.consequents)) AS ck,
  (SELECT array_agg(i.name ORDER BY i.name) FROM mining_runitem i
   WHERE i.run_id = r.run_id AND i.code = ANY(r.antecedents)) AS an,
  (SELECT array_agg(i.name ORDER BY i.name) FROM mining_runitem i
   WHERE i.run_id = r.run_id AND i.code = ANY(r.consequents)) AS cn
FROM mining_rule r WHERE r.run_id = %s
"""


def runs_compare(a: MiningRun, b: MiningRun) -> dict:
    """Rules of `a` not in `b`, of `b` not in `a`, and in both, matched by their items' keys
    (codes differ between runs); each by lift, highest first."""
    sql = _COMPARE_SQL.format(side=_SIDE_SQL)
    with connection.cursor() as cursor:
        cursor.execute(sql, [a.pk, b.pk])
        rows = cursor.fetchall()

    def metrics(row):
        support, confidence, lift, count = row
        return {"support": support, "confidence": confidence, "lift": lift, "count": count}

    only_a, only_b, both = [], [], []
    for row in rows:
        left, right = row[:8], row[8:]
        if right[0] is None:
            only_a.append({"an": left[2], "cn": left[3], "a": metrics(left[4:8])})
        elif left[0] is None:
            only_b.append({"an": right[2], "cn": right[3], "b": metrics(right[4:8])})
        else:
            both.append(
                {"an": left[2], "cn": left[3], "a": metrics(left[4:8]), "b": metrics(right[4:8])}
            )
    only_a.sort(key=lambda r: -r["a"]["lift"])
    only_b.sort(key=lambda r: -r["b"]["lift"])
    both.sort(key=lambda r: -max(r["a"]["lift"], r["b"]["lift"]))
    return {"only_a": only_a, "only_b": only_b, "both": both}


# --- 消费行为分析 --------------------------------------------------------------------------------

DIMENSIONS = ["age_band", "gender", "education", "occupation", "income_band", "region"]
UNKNOWN = "unknown"
TOP_CATEGORIES = 8


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _segment_expression(dimension: str, prefix: str, today: date):
    """The member's segment code on a row reached through `prefix` ("member__")."""
    if dimension == "age_band":
        birthday = f"{prefix}birthday"
        whens = [When(**{f"{birthday}__isnull": True}, then=Value(UNKNOWN))]
        for band in AGE_BANDS[:-1]:
            # age <= last age of the band: born after the day that many years + 1 ago
            whens.append(
                When(
                    **{f"{birthday}__gt": _years_before(today, band[1] + 1)},
                    then=Value(age_band_code(band)),
                )
            )
        return Case(*whens, default=Value(age_band_code(AGE_BANDS[-1])), output_field=CharField())
    if dimension == "gender":
        return F(f"{prefix}gender")
    if dimension == "region":
        return Coalesce(F(f"{prefix}region_id"), Value(0), output_field=IntegerField())  # 0: none
    field = f"{prefix}profile__{dimension}"
    return Coalesce(NullIf(field, Value("")), Value(UNKNOWN), output_field=CharField())


def _segments_of(dimension: str) -> list[tuple[str, str]]:
    """(code, label) of the dimension's segments in display order, "unknown" last."""
    if dimension == "age_band":
        values = [(age_band_code(b), age_band_label(b)) for b in AGE_BANDS]
    elif dimension == "gender":
        return [(code, str(label)) for code, label in Member.Gender.choices]
    elif dimension == "region":
        values = [(pk, name) for pk, name in Region.objects.values_list("pk", "name")]
        return [*values, (0, gettext("Unknown"))]
    else:
        choices = {
            "education": MemberProfile.Education.choices,
            "occupation": MemberProfile.Occupation.choices,
            "income_band": MemberProfile.IncomeBand.choices,
        }[dimension]
        values = [(code, str(label)) for code, label in choices]
    return [*values, (UNKNOWN, gettext("Unknown"))]


def _segment_params(dimension: str, code) -> dict | None:
    """The run segment of a behaviour segment, or None when runs cannot be mined for it."""
    if code in (UNKNOWN, 0, Member.Gender.UNKNOWN):
        return None
    if dimension == "gender":
        return segment_params(gender=code)
    if dimension == "age_band":
        return segment_params(age_band=code)
    if dimension == "region":
        return {"region": code}
    return None  # education, occupation, income: not member filter keys


def consumer_behaviour(*, user, dimension: str, since: date, until: date) -> dict:
    """Per segment of `dimension` (members' age band today, gender, profile fields, region):
    buyers, sale receipts, net spend (sales minus refunds in the period, fen), spend per
    buyer, average receipt, and the spend share of the top categories; within `user`'s
    stores. Two GROUP BYs in Postgres."""
    today = timezone.localdate()
    start, end = local_day_start(since), local_day_start(until + timedelta(days=1))
    receipts = scoped(
        Receipt.objects.filter(member__isnull=False, occurred_at__gte=start, occurred_at__lt=end),
        user=user,
        store_field="store",
    )
    per_segment = {
        row["segment"]: row
        for row in receipts.annotate(segment=_segment_expression(dimension, "member__", today))
        .values("segment")
        .annotate(
            buyers=Count("member_id", distinct=True, filter=Q(kind=Receipt.Kind.SALE)),
            receipts=Count("id", filter=Q(kind=Receipt.Kind.SALE)),
            sales=Coalesce(Sum("total_fen", filter=Q(kind=Receipt.Kind.SALE)), 0),
            refunds=Coalesce(Sum("total_fen", filter=Q(kind=Receipt.Kind.REFUND)), 0),
        )
    }
    category = Coalesce(
        F("category__name"), NullIf("category_name", Value("")), Value(""), output_field=CharField()
    )
    lines = (
        ReceiptLine.objects.filter(
            receipt__in=receipts.filter(kind=Receipt.Kind.SALE).values("pk"),
            non_merchandise=False,
        )
        .annotate(
            segment=_segment_expression(dimension, "receipt__member__", today), category_=category
        )
        .values("segment", "category_")
        .annotate(spend=Sum("amount_fen"))
    )
    spend_by: dict = {}
    totals: dict[str, int] = {}
    for row in lines:
        name = row["category_"] or gettext("Uncategorised")
        spend_by.setdefault(row["segment"], {}).setdefault(name, 0)
        spend_by[row["segment"]][name] += row["spend"]
        totals[name] = totals.get(name, 0) + row["spend"]
    top = [name for name, _spend in sorted(totals.items(), key=lambda t: (-t[1], t[0]))]
    top = top[:TOP_CATEGORIES]
    segments = []
    for code, label in _segments_of(dimension):
        row = per_segment.get(code)
        if row is None or not row["receipts"]:
            continue
        net = row["sales"] - row["refunds"]
        spend = spend_by.get(code, {})
        line_total = sum(spend.values())
        shares = [
            round(100 * spend.get(name, 0) / line_total, 1) if line_total else 0 for name in top
        ]
        other = round(100 - sum(shares), 1) if line_total else 0
        favourite = max(spend.items(), key=lambda t: (t[1], t[0]))[0] if spend else ""
        segments.append(
            {
                "code": code,
                "label": label,
                "buyers": row["buyers"],
                "receipts": row["receipts"],
                "spend_fen": net,
                "per_buyer_fen": net // row["buyers"] if row["buyers"] else 0,
                "per_receipt_fen": row["sales"] // row["receipts"],
                "shares": shares,
                "other_share": max(other, 0),
                "favourite": favourite,
                "params": _segment_params(dimension, code),
            }
        )
    return {"dimension": dimension, "categories": top, "segments": segments}
