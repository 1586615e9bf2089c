"""What the statistics pages (会员统计, 反馈统计) draw and tabulate, without their figures: a
chart's ECharts option with the tables of the numbers behind it (shown under the chart and
exported as CSV), how a cell is shown and exported, and the option shapes both pages use.
Each app's builders turn its own selectors into these."""

from dataclasses import dataclass, field

from core.money import fen_to_yuan

# Column kinds: how a cell is shown and exported
TEXT, INT, NUM, YUAN, PCT = "text", "int", "num", "yuan", "pct"


@dataclass
class Table:
    columns: list[tuple[str, str]]  # (heading, kind)
    rows: list[list]
    caption: str = ""

    def headings(self) -> list[dict]:
        return [{"text": heading, "number": kind != TEXT} for heading, kind in self.columns]

    def display_rows(self) -> list[list[dict]]:
        return [
            [
                {"text": display_cell(value, kind), "number": kind != TEXT}
                for value, (_h, kind) in zip(row, self.columns, strict=True)
            ]
            for row in self.rows
        ]

    def csv_rows(self) -> list[list]:
        return [
            [csv_cell(value, kind) for value, (_h, kind) in zip(row, self.columns, strict=True)]
            for row in self.rows
        ]


@dataclass
class Chart:
    key: str
    title: str
    option: dict | None  # None: nothing to draw (no snapshot yet, no data)
    tables: list[Table] = field(default_factory=list)
    note: str = ""
    tall: bool = False
    figures: list[tuple[str, str]] = field(default_factory=list)  # headline cards: (label, value)
    section: str = ""  # the page section it belongs to, where a page has sections

    @property
    def option_id(self) -> str:
        return f"chart-{self.key}-option"

    def csv_tables(self) -> list[tuple[str, list, list]]:
        return [
            (
                f"{self.title} · {t.caption}" if t.caption else self.title,
                [heading for heading, _kind in t.columns],
                t.csv_rows(),
            )
            for t in self.tables
        ]


def display_cell(value, kind) -> str:
    if value is None:
        return "—"
    if kind == YUAN:
        return fen_to_yuan(value)
    if kind == INT:
        return f"{value:,}"
    return str(value)


def csv_cell(value, kind):
    if value is None:
        return ""
    if kind == YUAN:
        return fen_to_yuan(value, grouping=False)
    return value


def pie(items, *, name, label_overflow: str | None = None) -> dict:
    """A ring of (name, value) items with their shares as labels."""
    label = {"formatter": "{d}%"}
    if label_overflow is not None:
        label["overflow"] = label_overflow
    return {
        "tooltip": {"trigger": "item", "formatter": "{b}: {c} ({d}%)"},
        "legend": {"type": "scroll", "bottom": 0},
        "series": [
            {
                "type": "pie",
                "name": name,
                "radius": ["32%", "56%"],
                "center": ["50%", "45%"],
                "label": label,
                "data": [{"name": n, "value": v} for n, v in items],
            }
        ],
    }


def period_label(period, grain: str) -> str:
    """A time chart's period as its axis shows it: 2026-11 for a month, else the first day."""
    return period.strftime("%Y-%m") if grain == "month" else period.isoformat()
