"""The customer-service statistics pages' charts: each selector of feedback/statistics.py
turned into an ECharts option and the table of the numbers behind it (shown under the chart
and exported as CSV). Presentation only: the figures come from the selectors as they are."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.charts import INT, NUM, PCT, TEXT, Chart, Table, period_label, pie
from feedback import statistics as stats

POSITIVE, NEGATIVE = "#3b8b5a", "#c2554d"

PAGES = [
    ("tickets", gettext_lazy("Feedback statistics")),
    ("complaints", gettext_lazy("Complaint statistics")),
    ("tags", gettext_lazy("Tag statistics")),
    ("handlers", gettext_lazy("Handlers")),
]


def _hours(minutes) -> float | None:
    return None if minutes is None else round(minutes / 60, 1)


def _grid(top=32) -> dict:
    return {"left": 8, "right": 32, "bottom": 8, "top": top, "containLabel": True}


def _bars(names, series, *, horizontal=False, stack=None, percent=False) -> dict:
    """Bars of one or more series ([(name, values, colour or None)]) over `names`."""
    category = {"type": "category", "data": names}
    value = {"type": "value", "minInterval": 1}
    if percent:
        value = {"type": "value", "min": 0, "max": 100}
    option = {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "grid": _grid(40 if len(series) > 1 else 16),
        "xAxis": value if horizontal else {**category, "axisLabel": {"interval": 0}},
        "yAxis": {**category, "inverse": True} if horizontal else value,
        "series": [
            {
                "type": "bar",
                "name": name,
                "data": values,
                "barMaxWidth": 28,
                **({"stack": stack} if stack else {}),
                **({"itemStyle": {"color": colour}} if colour else {}),
            }
            for name, values, colour in series
        ],
    }
    if len(series) > 1:
        option["legend"] = {"top": 0, "type": "scroll"}
    if not horizontal and len(names) > 5:
        option["xAxis"]["axisLabel"] = {"interval": 0, "rotate": 30}
    return option


# --- 反馈统计 ----------------------------------------------------------------------------------


def over_time(f, grain: str) -> Chart:
    data = stats.tickets_over_time(f, grain=grain)
    labels = [period_label(p, grain) for p in data["periods"]]
    series = [(t["name"], t["counts"], None) for t in data["types"]]
    option = _bars(labels, series, stack="tickets") if series else None
    if option:
        option["xAxis"]["axisLabel"] = {"rotate": 30} if len(labels) > 8 else {}
        option["legend"] = {"top": 0, "type": "scroll"}
        option["grid"] = _grid(40)
    total = [sum(t["counts"][i] for t in data["types"]) for i in range(len(labels))]
    table = Table(
        [(_("Period"), TEXT)] + [(t["name"], INT) for t in data["types"]] + [(_("Total"), INT)],
        [
            [label] + [t["counts"][i] for t in data["types"]] + [total[i]]
            for i, label in enumerate(labels)
        ],
    )
    return Chart(
        "over_time",
        _("Tickets over time by type"),
        option,
        [table],
        _("Tickets filed in each period, by type."),
        figures=[(_("Tickets filed"), f"{sum(total):,}")],
    )


def by_type(f) -> Chart:
    rows = stats.tickets_by_type(f)
    total = sum(r["tickets"] for r in rows)
    table = Table(
        [(_("Type"), TEXT), (_("Complaint"), TEXT), (_("Tickets"), INT), (_("Share (%)"), PCT)],
        [
            [r["name"], _("Yes") if r["complaint"] else _("No"), r["tickets"]]
            + [stats.share_percent(r["tickets"], total)]
            for r in rows
        ],
    )
    complaints = sum(r["tickets"] for r in rows if r["complaint"])
    return Chart(
        "by_type",
        _("Tickets by type"),
        pie([(r["name"], r["tickets"]) for r in rows], name=_("Tickets")) if total else None,
        [table],
        figures=[(_("Complaints"), f"{complaints:,}")],
    )


def by_status(f) -> Chart:
    rows = stats.tickets_by_status(f)
    names = [r["label"] for r in rows]
    option = _bars(
        names,
        [
            (_("Tickets"), [r["tickets"] for r in rows], None),
            (_("Overdue now"), [r["overdue"] for r in rows], NEGATIVE),
        ],
    )
    table = Table(
        [(_("Status"), TEXT), (_("Tickets"), INT), (_("Overdue now"), INT)],
        [[r["label"], r["tickets"], r["overdue"]] for r in rows],
    )
    overdue = sum(r["overdue"] for r in rows)
    return Chart(
        "by_status",
        _("Tickets by status now"),
        option if any(r["tickets"] for r in rows) else None,
        [table],
        _("Where the tickets filed in the range stand now."),
        figures=[(_("Overdue now"), f"{overdue:,}")],
    )


def by_store(f) -> Chart:
    rows = stats.tickets_by_store(f)
    names = [r["name"] for r in rows]
    option = _bars(
        names,
        [
            (_("Tickets"), [r["tickets"] for r in rows], None),
            (_("Complaints"), [r["complaints"] for r in rows], NEGATIVE),
        ],
    )
    table = Table(
        [(_("Store code"), TEXT), (_("Store"), TEXT), (_("Tickets"), INT), (_("Complaints"), INT)],
        [[r["code"], r["name"], r["tickets"], r["complaints"]] for r in rows],
    )
    return Chart("by_store", _("Tickets by store"), option if rows else None, [table])


def by_brand(f) -> Chart:
    rows = stats.tickets_by_brand(f)
    names = [r["name"] or _("No brand") for r in rows]
    top = rows[: stats.TOP_BRANDS]
    option = _bars(
        names[: stats.TOP_BRANDS],
        [
            (_("Tickets"), [r["tickets"] for r in top], None),
            (_("Complaints"), [r["complaints"] for r in top], NEGATIVE),
        ],
        horizontal=True,
    )
    table = Table(
        [(_("Brand"), TEXT), (_("Tickets"), INT), (_("Complaints"), INT)],
        [[n, r["tickets"], r["complaints"]] for n, r in zip(names, rows, strict=True)],
    )
    note = _("The chart shows the top %(n)s; the table holds every brand.") % {
        "n": stats.TOP_BRANDS
    }
    return Chart("by_brand", _("Tickets by brand"), option if rows else None, [table], note, True)


def times(f) -> Chart:
    rows = stats.response_times(f)
    names = [r["name"] or _("All types") for r in rows]
    option = _bars(
        names,
        [
            (_("First response median"), [_hours(r["first_median"]) for r in rows], None),
            (_("First response P90"), [_hours(r["first_p90"]) for r in rows], None),
            (_("Resolution median"), [_hours(r["resolution_median"]) for r in rows], None),
            (_("Resolution P90"), [_hours(r["resolution_p90"]) for r in rows], None),
        ],
    )
    option["legend"] = {"top": 0}  # wraps on a narrow screen instead of scrolling
    option["grid"] = _grid(64)
    table = Table(
        [
            (_("Type"), TEXT),
            (_("Tickets"), INT),
            (_("Answered"), INT),
            (_("First response median (min)"), NUM),
            (_("First response average (min)"), NUM),
            (_("First response P90 (min)"), NUM),
            (_("Resolved"), INT),
            (_("Resolution median (min)"), NUM),
            (_("Resolution average (min)"), NUM),
            (_("Resolution P90 (min)"), NUM),
        ],
        [
            [
                n,
                r["tickets"],
                r["responded"],
                r["first_median"],
                r["first_avg"],
                r["first_p90"],
                r["resolved"],
                r["resolution_median"],
                r["resolution_avg"],
                r["resolution_p90"],
            ]
            for n, r in zip(names, rows, strict=True)
        ],
    )
    overall = rows[0] if rows else None
    figures = []
    if overall and overall["first_median"] is not None:
        figures.append(
            (_("First response, median (business hours)"), str(_hours(overall["first_median"])))
        )
    if overall and overall["resolution_median"] is not None:
        figures.append(
            (_("Resolution, median (business hours)"), str(_hours(overall["resolution_median"])))
        )
    answered = any(r["responded"] for r in rows)
    return Chart(
        "times",
        _("First-response and resolution times"),
        option if answered else None,
        [table],
        _(
            "Business minutes of the service desk from filing to the first response and to the"
            " resolution; the chart shows business hours."
        ),
        figures=figures,
    )


def sla(f) -> Chart:
    rows = stats.sla_compliance(f)
    by_type = {}
    for r in rows[1:]:
        entry = by_type.setdefault(r["type"], [0, 0, 0, 0])
        entry[0] += r["first_met"]
        entry[1] += r["first_judged"]
        entry[2] += r["resolution_met"]
        entry[3] += r["resolution_judged"]
    names = list(by_type)
    option = _bars(
        names,
        [
            (
                _("First response met (%)"),
                [stats.share_percent(v[0], v[1]) for v in by_type.values()],
                None,
            ),
            (
                _("Resolution met (%)"),
                [stats.share_percent(v[2], v[3]) for v in by_type.values()],
                POSITIVE,
            ),
        ],
        percent=True,
    )
    table = Table(
        [
            (_("Type"), TEXT),
            (_("Tier"), TEXT),
            (_("Tickets"), INT),
            (_("First responses judged"), INT),
            (_("First responses in time"), INT),
            (_("First response met (%)"), PCT),
            (_("Resolutions judged"), INT),
            (_("Resolutions in time"), INT),
            (_("Resolution met (%)"), PCT),
        ],
        [
            [
                r["type"] or _("All types"),
                (r["tier"] or _("No tier")) if r["type"] else _("All tiers"),
                r["tickets"],
                r["first_judged"],
                r["first_met"],
                r["first_share"],
                r["resolution_judged"],
                r["resolution_met"],
                r["resolution_share"],
            ]
            for r in rows
        ],
    )
    figures = []
    if rows and rows[0]["first_share"] is not None:
        figures.append((_("First responses in time"), f"{rows[0]['first_share']}%"))
    if rows and rows[0]["resolution_share"] is not None:
        figures.append((_("Resolutions in time"), f"{rows[0]['resolution_share']}%"))
    judged = rows and (rows[0]["first_judged"] or rows[0]["resolution_judged"])
    return Chart(
        "sla",
        _("SLA compliance"),
        option if judged else None,
        [table],
        _(
            "A deadline counts once met or passed; tickets still within their time are not"
            " counted yet. The tier is the member's tier when the ticket was filed."
        ),
        figures=figures,
    )


# --- 投诉统计 ----------------------------------------------------------------------------------


def _complaint_chart(key, title, column, rows, names) -> Chart:
    top = rows[: stats.TOP_BRANDS]
    option = _bars(
        names[: stats.TOP_BRANDS],
        [
            (_("Complaints"), [r["complaints"] for r in top], NEGATIVE),
            (_("Resolved"), [r["resolved"] for r in top], POSITIVE),
        ],
        horizontal=True,
    )
    table = Table(
        [(column, TEXT), (_("Complaints"), INT), (_("Resolved"), INT)],
        [[n, r["complaints"], r["resolved"]] for n, r in zip(names, rows, strict=True)],
    )
    return Chart(key, title, option if rows else None, [table], tall=len(rows) > 6)


def complaints_brand(f) -> Chart:
    rows = stats.complaints_by_brand(f)
    chart = _complaint_chart(
        "complaints_brand",
        _("Complaints by brand"),
        _("Brand"),
        rows,
        [r["name"] or _("No brand") for r in rows],
    )
    chart.figures = [(_("Complaints"), f"{sum(r['complaints'] for r in rows):,}")]
    return chart


def complaints_department(f) -> Chart:
    rows = stats.complaints_by_department(f)
    return _complaint_chart(
        "complaints_department",
        _("Complaints by department"),
        _("Department"),
        rows,
        [r["name"] or _("Not handled yet") for r in rows],
    )


def complaints_handler(f) -> Chart:
    rows = stats.complaints_by_handler(f)
    return _complaint_chart(
        "complaints_handler",
        _("Complaints by handler"),
        _("Handler"),
        rows,
        [r["name"] or _("Not handled yet") for r in rows],
    )


# --- 标签统计 ----------------------------------------------------------------------------------


def stars(f) -> Chart:
    data = stats.rating_distribution(f)
    names = [_("%(n)s stars") % {"n": s["stars"]} for s in data["stars"]]
    option = _bars(names, [(_("Ratings"), [s["ratings"] for s in data["stars"]], "#d4a017")])
    table = Table(
        [(_("Stars"), TEXT), (_("Ratings"), INT), (_("Share (%)"), PCT)],
        [[n, s["ratings"], s["share"]] for n, s in zip(names, data["stars"], strict=True)],
    )
    figures = [(_("Ratings"), f"{data['ratings']:,}")]
    if data["average"] is not None:
        figures.append((_("Average stars"), str(data["average"])))
    return Chart(
        "stars",
        _("Rating distribution"),
        option if data["ratings"] else None,
        [table],
        _("Ratings given in the range."),
        figures=figures,
    )


def tags(f) -> Chart:
    rows = stats.tag_distribution(f)
    names = [r["name"] for r in rows]
    option = _bars(
        names,
        [
            (
                _("Picked"),
                [
                    {
                        "value": r["picked"],
                        "itemStyle": {"color": POSITIVE if r["positive"] else NEGATIVE},
                    }
                    for r in rows
                ],
                None,
            )
        ],
        horizontal=True,
    )
    table = Table(
        [(_("Tag"), TEXT), (_("Kind"), TEXT), (_("Picked"), INT), (_("Share of ratings (%)"), PCT)],
        [
            [r["name"], _("Positive") if r["positive"] else _("Negative"), r["picked"], r["share"]]
            for r in rows
        ],
    )
    positive = sum(r["picked"] for r in rows if r["positive"])
    negative = sum(r["picked"] for r in rows if not r["positive"])
    return Chart(
        "tags",
        _("Tag distribution"),
        option if positive + negative else None,
        [table],
        _("Green: positive tags; red: negative tags. A rating may carry several tags."),
        figures=[(_("Positive tags"), f"{positive:,}"), (_("Negative tags"), f"{negative:,}")],
    )


def tags_handler(f) -> Chart:
    data = stats.tags_by_handler(f)
    handlers = data["handlers"]
    names = [h["name"] or _("No handler") for h in handlers]
    option = _bars(
        names,
        [
            (_("Positive tags"), [h["positive"] for h in handlers], POSITIVE),
            (_("Negative tags"), [h["negative"] for h in handlers], NEGATIVE),
        ],
        horizontal=True,
        stack="tags",
    )
    table = Table(
        [(_("Handler"), TEXT), (_("Positive tags"), INT), (_("Negative tags"), INT)]
        + [(t["name"], INT) for t in data["tags"]],
        [
            [n, h["positive"], h["negative"], *h["tags"]]
            for n, h in zip(names, handlers, strict=True)
        ],
    )
    return Chart(
        "tags_handler",
        _("Tags by handler"),
        option if handlers else None,
        [table],
        tall=len(handlers) > 6,
    )


# --- Handlers ---------------------------------------------------------------------------------


def workload(f) -> Chart:
    rows = stats.handler_workload(f)
    names = [r["name"] for r in rows]
    option = _bars(
        names,
        [
            (_("Open now"), [r["open"] for r in rows], None),
            (_("Overdue now"), [r["overdue"] for r in rows], NEGATIVE),
            (_("Resolved in the range"), [r["resolved"] for r in rows], POSITIVE),
        ],
        horizontal=True,
    )
    table = Table(
        [
            (_("Handler"), TEXT),
            (_("Department"), TEXT),
            (_("Open now"), INT),
            (_("Overdue now"), INT),
            (_("Resolved in the range"), INT),
            (_("Ratings"), INT),
            (_("Average stars"), NUM),
        ],
        [
            [
                r["name"],
                r["department"] or "",
                r["open"],
                r["overdue"],
                r["resolved"],
                r["ratings"],
                r["average_stars"],
            ]
            for r in rows
        ],
    )
    return Chart(
        "workload",
        _("Workload per handler"),
        option if rows else None,
        [table],
        tall=len(rows) > 4,
    )


def satisfaction(f) -> Chart:
    rows = [r for r in stats.handler_workload(f) if r["ratings"]]
    rows.sort(key=lambda r: (-(r["average_stars"] or 0), r["name"]))
    names = [r["name"] for r in rows]
    option = _bars(names, [(_("Average stars"), [r["average_stars"] for r in rows], "#d4a017")])
    option["yAxis"] = {"type": "value", "min": 0, "max": 5}
    table = Table(
        [(_("Handler"), TEXT), (_("Ratings"), INT), (_("Average stars"), NUM)],
        [[r["name"], r["ratings"], r["average_stars"]] for r in rows],
    )
    return Chart(
        "satisfaction",
        _("Satisfaction per handler"),
        option if rows else None,
        [table],
        _("Ratings given in the range, by the handler who resolved the ticket."),
    )


def chart_builders(page: str, grain: str) -> dict:
    """key → builder(filter) of the page's charts, in page order."""
    pages = {
        "tickets": {
            "over_time": lambda f: over_time(f, grain),
            "by_type": by_type,
            "by_status": by_status,
            "by_store": by_store,
            "by_brand": by_brand,
            "times": times,
            "sla": sla,
        },
        "complaints": {
            "complaints_brand": complaints_brand,
            "complaints_department": complaints_department,
            "complaints_handler": complaints_handler,
        },
        "tags": {"stars": stars, "tags": tags, "tags_handler": tags_handler},
        "handlers": {"workload": workload, "satisfaction": satisfaction},
    }
    return pages[page]


def page_charts(page: str, f, grain: str, keys: list[str] | None = None) -> list[Chart]:
    builders = chart_builders(page, grain)
    return [builders[key](f) for key in (keys or builders)]
