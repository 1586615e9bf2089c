"""The statistics page's charts: each selector of analytics/statistics.py turned into an
ECharts option and the tables of the numbers behind it (shown under the chart and exported
as CSV). Presentation only: the figures come from the selectors as they are."""

import functools

from django.core.cache import cache
from django.utils.translation import get_language, gettext_lazy, pgettext
from django.utils.translation import gettext as _

from analytics import statistics as stats
from analytics.abc import ABC_CUT_A, ABC_CUT_B
from analytics.models import LifecycleStage
from core.charts import INT, PCT, TEXT, YUAN, Chart, Table, period_label, pie
from members.models import Member

TOP_ITEMS = 15  # bars drawn in the consumption charts (the table and CSV hold every row)
CACHE_SECONDS = 10 * 60
NO_CHART = ""  # cached for a section that had nothing to show

SECTIONS = [
    ("members", gettext_lazy("Members and growth")),
    ("value", gettext_lazy("Member value")),
    ("purchases", gettext_lazy("Purchases")),
    ("abc", gettext_lazy("ABC analysis")),
    ("more", gettext_lazy("More")),
]
WEEKDAYS = [
    gettext_lazy("Mon"),
    gettext_lazy("Tue"),
    gettext_lazy("Wed"),
    gettext_lazy("Thu"),
    gettext_lazy("Fri"),
    gettext_lazy("Sat"),
    gettext_lazy("Sun"),
]


def _yuan(fen) -> float:
    """Yuan for a chart's axis (drawing only; tables and CSV keep exact fen)."""
    return round(fen / 100, 2)


def _category(names, values, *, name, horizontal=False, percent_labels=None) -> dict:
    """A plain bar chart of one series."""
    axis_names = {"type": "category", "data": names}
    axis_values = {"type": "value", "minInterval": 1}
    series = {"type": "bar", "name": name, "data": values, "barMaxWidth": 36}
    if percent_labels is not None:
        series["label"] = {"show": True, "position": "right" if horizontal else "top"}
        series["data"] = [
            {"value": v, "label": {"formatter": f"{p}%"}}
            for v, p in zip(values, percent_labels, strict=True)
        ]
    option = {
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 8, "right": 40, "bottom": 8, "top": 32, "containLabel": True},
        "xAxis": axis_values if horizontal else {**axis_names, "axisLabel": {"interval": 0}},
        "yAxis": {**axis_names, "inverse": True} if horizontal else axis_values,
        "series": [series],
    }
    if not horizontal and len(names) > 6:
        option["xAxis"]["axisLabel"] = {"interval": 0, "rotate": 30}
    return option


# --- Members --------------------------------------------------------------------------------


def growth(f, grain: str) -> Chart:
    data = stats.members_growth(f, grain=grain)
    labels = [period_label(p["period"], grain) for p in data["points"]]
    new_name, total_name = _("New members"), _("Members (cumulative)")
    option = {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 8, "right": 8, "bottom": 8, "top": 40, "containLabel": True},
        "xAxis": {"type": "category", "data": labels},
        "yAxis": [
            {"type": "value", "name": new_name, "minInterval": 1},
            {"type": "value", "name": total_name, "minInterval": 1, "splitLine": {"show": False}},
        ],
        "series": [
            {"type": "bar", "name": new_name, "data": [p["new"] for p in data["points"]]},
            {
                "type": "line",
                "name": total_name,
                "yAxisIndex": 1,
                "data": [p["cumulative"] for p in data["points"]],
            },
        ],
    }
    table = Table(
        [(_("Period"), TEXT), (new_name, INT), (total_name, INT)],
        [
            [label, p["new"], p["cumulative"]]
            for label, p in zip(labels, data["points"], strict=True)
        ],
    )
    note = _("%(total)s members now; %(before)s joined before the range, %(new)s in it.") % {
        "total": data["total"],
        "before": data["before"],
        "new": data["new"],
    }
    figures = [
        (_("Members now"), f"{data['total']:,}"),
        (_("New members in the range"), f"{data['new']:,}"),
    ]
    return Chart(
        "growth", _("Members and growth"), option, [table], note, figures=figures, section="members"
    )


def channels(f) -> Chart:
    rows = stats.new_members_by_channel(f)
    total = sum(r["members"] for r in rows)
    names = [r["name"] or r["channel"] or _("No channel (direct)") for r in rows]
    option = pie(
        list(zip(names, [r["members"] for r in rows], strict=True)),
        name=_("New members"),
        label_overflow="none",
    )
    table = Table(
        [
            (_("Channel code"), TEXT),
            (_("Channel"), TEXT),
            (_("New members"), INT),
            (_("Share (%)"), PCT),
        ],
        [
            [r["channel"], name, r["members"], stats.share_percent(r["members"], total)]
            for r, name in zip(rows, names, strict=True)
        ],
    )
    return Chart(
        "channels",
        _("New members by registration channel"),
        option if rows else None,
        [table],
        section="members",
    )


def tiers(f) -> Chart:
    rows = stats.members_by_tier(f)
    total = sum(r["members"] for r in rows)
    names = [r["name"] or _("No tier") for r in rows]
    shares = [stats.share_percent(r["members"], total) for r in rows]
    option = _category(
        names, [r["members"] for r in rows], name=_("Members"), percent_labels=shares
    )
    table = Table(
        [(_("Tier"), TEXT), (_("Members"), INT), (_("Share (%)"), PCT)],
        [[n, r["members"], s] for n, r, s in zip(names, rows, shares, strict=True)],
    )
    note = _("Members without a points account or tier yet count in the entry tier.")
    return Chart(
        "tiers", _("Members by tier"), option if total else None, [table], note, section="members"
    )


def pyramid(f) -> Chart:
    rows = stats.gender_age_pyramid(f)
    band_names = [_("Unknown age") if r["band"] == stats.AGE_UNKNOWN else r["band"] for r in rows]
    male, female = str(Member.Gender.MALE.label), str(Member.Gender.FEMALE.label)
    widest = max([r["M"] for r in rows] + [r["F"] for r in rows] + [1])
    option = {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"top": 0},
        "grid": {"left": 8, "right": 16, "bottom": 8, "top": 32, "containLabel": True},
        # symmetric, so the two sides of the pyramid compare at a glance
        "xAxis": {"type": "value", "minInterval": 1, "min": -widest, "max": widest},
        "yAxis": {"type": "category", "data": band_names, "axisTick": {"show": False}},
        "series": [
            {"type": "bar", "name": male, "stack": "all", "data": [-r["M"] for r in rows]},
            {"type": "bar", "name": female, "stack": "all", "data": [r["F"] for r in rows]},
        ],
        "absValues": True,  # statistics.js: axis labels and tooltips without the minus sign
    }
    table = Table(
        [
            (_("Age band"), TEXT),
            (male, INT),
            (female, INT),
            (str(Member.Gender.UNKNOWN.label), INT),
        ],
        [[name, r["M"], r["F"], r["U"]] for name, r in zip(band_names, rows, strict=True)],
    )
    total = sum(r["M"] + r["F"] + r["U"] for r in rows)
    note = _("Age today; members of unknown gender are in the table only.")
    return Chart(
        "pyramid", _("Gender and age"), option if total else None, [table], note, section="members"
    )


def regions(f) -> Chart:
    rows = stats.members_by_region(f)
    total = sum(r["members"] for r in rows)
    names = [r["name"] or _("No home store") for r in rows]
    shares = [stats.share_percent(r["members"], total) for r in rows]
    option = _category(
        names,
        [r["members"] for r in rows],
        name=_("Members"),
        horizontal=True,
        percent_labels=shares,
    )
    table = Table(
        [(_("Region code"), TEXT), (_("Region"), TEXT), (_("Members"), INT), (_("Share (%)"), PCT)],
        [[r["code"], n, r["members"], s] for r, n, s in zip(rows, names, shares, strict=True)],
    )
    return Chart(
        "regions",
        _("Members by region (home store)"),
        option if total else None,
        [table],
        section="members",
    )


# --- Member value -----------------------------------------------------------------------------


def rfm_classes(f) -> Chart:
    data = stats.rfm_class_counts(f)
    title = _("RFM classes")
    if data is None:
        return Chart("rfm", title, None, [], _("No RFM snapshot yet."), section="value")
    names = [c["label"] for c in data["classes"]]
    option = _category(
        names,
        [c["members"] for c in data["classes"]],
        name=_("Members"),
        horizontal=True,
        percent_labels=[c["share"] for c in data["classes"]],
    )
    table = Table(
        [(_("Class"), TEXT), (_("Members"), INT), (_("Share (%)"), PCT)],
        [[c["label"], c["members"], c["share"]] for c in data["classes"]],
    )
    note = _("Current snapshot as of %(date)s.") % {"date": data["as_of"].isoformat()}
    return Chart("rfm", title, option if data["total"] else None, [table], note, section="value")


def rfm_trend(f) -> Chart:
    data = stats.rfm_class_trend(f)
    dates = [d.isoformat() for d in data["dates"]]
    option = {
        "tooltip": {"trigger": "axis"},
        "legend": {"type": "scroll", "top": 0},
        "grid": {"left": 8, "right": 16, "bottom": 8, "top": 40, "containLabel": True},
        "xAxis": {"type": "category", "data": dates},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [
            {"type": "line", "name": s["label"], "data": s["counts"]} for s in data["series"]
        ],
    }
    table = Table(
        [(_("Snapshot date"), TEXT)] + [(s["label"], INT) for s in data["series"]],
        [[d] + [s["counts"][i] for s in data["series"]] for i, d in enumerate(dates)],
    )
    note = _("The last snapshot of each month in the range.")
    return Chart(
        "rfm_trend",
        _("RFM classes over time"),
        option if dates else None,
        [table],
        note,
        section="value",
    )


def lifecycle(f) -> Chart:
    data = stats.lifecycle_shares(f)
    title = _("Lifecycle stages")
    if data is None:
        return Chart("lifecycle", title, None, [], _("No RFM snapshot yet."), section="value")
    labels = {s.value: str(s.label) for s in LifecycleStage} | {"": _("No stage")}
    names = [labels[s["code"]] for s in data["stages"]]
    option = pie(
        list(zip(names, [s["members"] for s in data["stages"]], strict=True)),
        name=title,
        label_overflow="none",
    )
    table = Table(
        [(_("Stage"), TEXT), (_("Members"), INT), (_("Share (%)"), PCT)],
        [[n, s["members"], s["share"]] for n, s in zip(names, data["stages"], strict=True)],
    )
    note = _("Current snapshot as of %(date)s.") % {"date": data["as_of"].isoformat()}
    return Chart(
        "lifecycle", title, option if data["total"] else None, [table], note, section="value"
    )


def predicted_value(f) -> Chart:
    data = stats.predicted_value_distribution(f)
    title = _("Predicted value (next 365 days)")
    if data is None:
        return Chart("clv", title, None, [], _("No predicted value run yet."), section="value")
    names = [
        (
            f"¥{b['low_fen'] // 100:,}–{b['high_fen'] // 100:,}"
            if b["high_fen"] is not None
            else f"≥ ¥{b['low_fen'] // 100:,}"
        )
        for b in data["buckets"]
    ]
    option = _category(
        names,
        [b["members"] for b in data["buckets"]],
        name=_("Members"),
        percent_labels=[b["share"] for b in data["buckets"]],
    )
    table = Table(
        [
            (_("Expected value"), TEXT),
            (_("Members"), INT),
            (_("Share (%)"), PCT),
            (_("Expected value (yuan)"), YUAN),
            (_("Average chance still active (%)"), PCT),
        ],
        [
            [n, b["members"], b["share"], b["value_fen"], b["p_alive"]]
            for n, b in zip(names, data["buckets"], strict=True)
        ],
    )
    note = _("Current run as of %(date)s.") % {"date": data["as_of"].isoformat()}
    return Chart("clv", title, option if data["members"] else None, [table], note, section="value")


# --- Purchases --------------------------------------------------------------------------------


def _consumption(key: str, title: str, column: str, rows: list[dict], names: list[str]) -> Chart:
    top = rows[:TOP_ITEMS]
    option = _category(
        names[:TOP_ITEMS],
        [_yuan(r["net_fen"]) for r in top],
        name=_("Net sales (yuan)"),
        horizontal=True,
    )
    table = Table(
        [
            (column, TEXT),
            (_("Sales (yuan)"), YUAN),
            (_("Refunds (yuan)"), YUAN),
            (_("Net sales (yuan)"), YUAN),
            (_("Buyers"), INT),
        ],
        [
            [n, r["sales_fen"], r["refunds_fen"], r["net_fen"], r["buyers"]]
            for n, r in zip(names, rows, strict=True)
        ],
    )
    note = _(
        "Member purchases in the range, refunds deducted when they happen; bags, parking and other"
        " non-merchandise left out. The chart shows the top %(n)s."
    ) % {"n": TOP_ITEMS}
    return Chart(
        key, title, option if rows else None, [table], note, tall=True, section="purchases"
    )


def by_category(f, cube) -> Chart:
    rows = cube(f)["category"]
    names = [r["label"] or _("Uncategorised") for r in rows]
    return _consumption("category", _("Consumption by category"), _("Category"), rows, names)


def by_brand(f, cube) -> Chart:
    rows = cube(f)["brand"]
    names = [r["label"] or _("No brand") for r in rows]
    return _consumption("brand", _("Consumption by brand"), _("Brand"), rows, names)


def by_floor(f, cube) -> Chart:
    rows = cube(f)["floor"]
    several = len({r["store"] for r in rows if r["store"]}) > 1
    names = [
        (f"{r['store']} " if several else "") + f"{r['floor']} {r['name']}".strip()
        if r["floor"]
        else _("No shop on the floor plan")
        for r in rows
    ]
    return _consumption("floor", _("Consumption by floor"), _("Floor"), rows, names)


def heatmap(f) -> Chart:
    cells = stats.purchase_heatmap(f)
    days = [str(d) for d in WEEKDAYS]
    hours = [str(h) for h in range(24)]
    peak = max(c["receipts"] for c in cells)
    option = {
        "tooltip": {"position": "top"},
        "grid": {"left": 8, "right": 8, "bottom": 64, "top": 8, "containLabel": True},
        "xAxis": {"type": "category", "data": hours, "splitArea": {"show": True}},
        "yAxis": {"type": "category", "data": days, "inverse": True, "splitArea": {"show": True}},
        "visualMap": {
            "min": 0,
            "max": max(peak, 1),
            "calculable": True,
            "orient": "horizontal",
            "left": "center",
            "bottom": 0,
            "inRange": {"color": ["#f7f1e3", "#e3c98a", "#b8860b", "#7a4f00"]},
        },
        "series": [
            {
                "type": "heatmap",
                "name": _("Receipts"),
                "data": [[c["hour"], c["weekday"] - 1, c["receipts"]] for c in cells],
            }
        ],
    }
    table = Table(
        [(_("Weekday"), TEXT)] + [(h, INT) for h in hours],
        [[days[d]] + [c["receipts"] for c in cells[d * 24 : d * 24 + 24]] for d in range(7)],
    )
    note = _("Member sale receipts per weekday and hour, Shanghai time.")
    return Chart(
        "heatmap",
        _("Purchases by weekday and hour"),
        option if peak else None,
        [table],
        note,
        section="purchases",
    )


def first_purchase(f, grain: str) -> Chart:
    data = stats.first_purchase_within_days(f, grain=grain)
    labels = [period_label(p["period"], grain) for p in data["points"]]
    new_name, bought_name, share_name = (
        _("New members"),
        _("Bought within 7 days"),
        _("Share (%)"),
    )
    option = {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 8, "right": 8, "bottom": 8, "top": 40, "containLabel": True},
        "xAxis": {"type": "category", "data": labels},
        "yAxis": [
            {"type": "value", "minInterval": 1},
            {"type": "value", "max": 100, "splitLine": {"show": False}},
        ],
        "series": [
            {"type": "bar", "name": new_name, "data": [p["new"] for p in data["points"]]},
            {"type": "bar", "name": bought_name, "data": [p["converted"] for p in data["points"]]},
            {
                "type": "line",
                "name": share_name,
                "yAxisIndex": 1,
                "data": [p["share"] for p in data["points"]],
            },
        ],
    }
    table = Table(
        [(_("Period joined"), TEXT), (new_name, INT), (bought_name, INT), (share_name, PCT)],
        [
            [label, p["new"], p["converted"], p["share"]]
            for label, p in zip(labels, data["points"], strict=True)
        ],
    )
    note = (
        _(
            "%(converted)s of %(new)s new members (%(share)s%%) bought within 7 days of joining;"
            " the last week's joiners may still buy."
        )
        % data
    )
    return Chart(
        "first_purchase",
        _("First purchase within 7 days of joining"),
        option if data["new"] else None,
        [table],
        note,
        figures=[(_("Bought within 7 days of joining"), f"{data['share']}%")],
        section="purchases",
    )


def repurchase(f) -> Chart:
    data = stats.repurchase_rate(f)
    names = [
        _("%(n)s days") % {"n": d["days"]}
        if d["days"] < stats.REPURCHASE_DAYS_CAP
        else _("%(n)s days or more") % {"n": d["days"]}
        for d in data["distribution"]
    ]
    names[0] = _("1 day")
    shares = [stats.share_percent(d["members"], data["buyers"]) for d in data["distribution"]]
    option = _category(
        names, [d["members"] for d in data["distribution"]], name=_("Buyers"), percent_labels=shares
    )
    table = Table(
        [(_("Purchase days"), TEXT), (_("Buyers"), INT), (_("Share (%)"), PCT)],
        [[n, d["members"], s] for n, d, s in zip(names, data["distribution"], shares, strict=True)],
    )
    note = (
        _(
            "Repurchase rate %(rate)s%%: %(repeat)s of %(buyers)s buyers in the range bought on two"
            " days or more."
        )
        % data
    )
    return Chart(
        "repurchase",
        _("Repurchase rate"),
        option if data["buyers"] else None,
        [table],
        note,
        figures=[
            (_("Buyers in the range"), f"{data['buyers']:,}"),
            (_("Repurchase rate"), f"{data['rate']}%"),
        ],
        section="purchases",
    )


def monthly_active(f) -> Chart:
    rows = stats.monthly_active_members(f)
    months = [r["month"].strftime("%Y-%m") for r in rows]
    option = _category(months, [r["members"] for r in rows], name=_("Active members"))
    option["series"][0]["type"] = "line"
    option["series"][0]["areaStyle"] = {}
    table = Table(
        [(_("Month"), TEXT), (_("Active members"), INT), (_("Receipts"), INT)],
        [[m, r["members"], r["receipts"]] for m, r in zip(months, rows, strict=True)],
    )
    note = _("Members with at least one purchase in the month.")
    any_active = any(r["members"] for r in rows)
    return Chart(
        "mau",
        _("Monthly active members"),
        option if any_active else None,
        [table],
        note,
        section="purchases",
    )


# --- ABC --------------------------------------------------------------------------------------


def _abc(key: str, title: str, data: dict, item_name: str) -> Chart:
    items_axis = _("Share of %(items)s (%%)") % {"items": item_name}
    option = {
        "title": {
            "text": "  ".join(
                f"{c['class']} {c['items']:,} ({c['items_share']}%)" for c in data["classes"]
            ),
            "textStyle": {"fontSize": 12, "fontWeight": "normal"},
            "right": 8,
            "bottom": 48,
        },
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 8, "right": 24, "bottom": 28, "top": 32, "containLabel": True},
        "xAxis": {
            "type": "value",
            "min": 0,
            "max": 100,
            "name": items_axis,
            "nameLocation": "middle",
            "nameGap": 26,
        },
        "yAxis": {"type": "value", "min": 0, "max": 100, "name": _("Share of value (%)")},
        "series": [
            {
                "type": "line",
                "name": _("Cumulative share of value (%)"),
                "showSymbol": False,
                "data": [list(point) for point in data["curve"]],
                "markLine": {
                    "symbol": "none",
                    "lineStyle": {"type": "dashed"},
                    "data": [
                        {"yAxis": ABC_CUT_A, "label": {"formatter": "A/B"}},
                        {"yAxis": ABC_CUT_B, "label": {"formatter": "B/C"}},
                    ],
                },
            }
        ],
    }
    classes = Table(
        [
            (_("Class"), TEXT),
            (item_name, INT),
            (items_axis, PCT),
            (_("Net sales (yuan)"), YUAN),
            (_("Share of value (%)"), PCT),
        ],
        [
            [c["class"], c["items"], c["items_share"], c["value_fen"], c["value_share"]]
            for c in data["classes"]
        ],
    )
    curve = Table(
        [(items_axis, PCT), (_("Cumulative share of value (%)"), PCT)],
        [list(point) for point in data["curve"]],
        caption=_("Pareto curve"),
    )
    note = _(
        "Ranked by net sales in the range: A while the value ranked above is under %(a)s%% of the"
        " total, B under %(b)s%%, then C."
    ) % {"a": ABC_CUT_A, "b": ABC_CUT_B}
    return Chart(
        key, title, option if data["items"] else None, [classes, curve], note, section="abc"
    )


def abc_members(f) -> Chart:
    return _abc(
        "abc_members",
        _("ABC of members by spend"),
        stats.abc_members(f),
        pgettext("ABC items", "Members"),
    )


def abc_brands(f, cube) -> Chart:
    return _abc(
        "abc_brands",
        _("ABC of brands by sales"),
        stats.abc_brands(f, cube=cube(f)),
        pgettext("ABC items", "Brands"),
    )


def abc_categories(f, cube) -> Chart:
    return _abc(
        "abc_categories",
        _("ABC of categories by sales"),
        stats.abc_categories(f, cube=cube(f)),
        pgettext("ABC items", "Categories"),
    )


# --- The page ---------------------------------------------------------------------------------


def _registered(key: str, section):
    def build(f) -> Chart | None:
        data = section(f)
        if data is None:
            return None
        names = [row[0] for row in data["rows"]]
        values = [row[1] for row in data["rows"]]
        columns = [(str(c), TEXT if i == 0 else INT) for i, c in enumerate(data["columns"])]
        return Chart(
            key,
            str(data["title"]),
            _category(names, values, name=str(data["columns"][1]), horizontal=True)
            if names
            else None,
            [Table(columns, [list(r) for r in data["rows"]])],
            section="more",
        )

    return build


def chart_builders(grain: str) -> dict:
    """key → builder(filter) of every chart, in page order; registered sections last. The
    five charts of receipt lines share one consumption cube (one query) per filter."""
    cube = functools.cache(stats.consumption_cube)
    builders = {
        "growth": lambda f: growth(f, grain),
        "channels": channels,
        "tiers": tiers,
        "pyramid": pyramid,
        "regions": regions,
        "rfm": rfm_classes,
        "rfm_trend": rfm_trend,
        "lifecycle": lifecycle,
        "clv": predicted_value,
        "category": lambda f: by_category(f, cube),
        "floor": lambda f: by_floor(f, cube),
        "brand": lambda f: by_brand(f, cube),
        "heatmap": heatmap,
        "first_purchase": lambda f: first_purchase(f, grain),
        "repurchase": repurchase,
        "mau": monthly_active,
        "abc_members": abc_members,
        "abc_brands": lambda f: abc_brands(f, cube),
        "abc_categories": lambda f: abc_categories(f, cube),
    }
    for index, section in enumerate(stats.statistics_sections()):
        builders[f"more_{index}"] = _registered(f"more_{index}", section)
    return builders


def statistics_charts(f, grain: str, keys: list[str] | None = None) -> list[Chart]:
    """The charts `keys` (default: all) for the filter, each kept in the cache for
    CACHE_SECONDS: a year of receipts takes seconds to aggregate, and the figures need not be
    newer than that. Keyed by the resolved stores, so no one reads another scope's figures."""
    builders = chart_builders(grain)
    keys = list(builders) if keys is None else keys
    stores = "all" if f.store_ids is None else ",".join(map(str, f.store_ids))
    prefix = f"statistics:v1:{get_language()}:{grain}:{f.start}:{f.end}:{stores}:"
    cached = cache.get_many([prefix + key for key in keys])
    fresh = {}
    charts = []
    for key in keys:
        if prefix + key in cached:
            chart = cached[prefix + key]
        else:
            chart = fresh[prefix + key] = builders[key](f) or NO_CHART
        if chart != NO_CHART:
            charts.append(chart)
    if fresh:
        cache.set_many(fresh, CACHE_SECONDS)
    return charts
