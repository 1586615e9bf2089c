"""The mining staff pages: runs and starting one, the rule browser (names, sorting, filters,
pages), the graph's data, bundles, comparing two runs, the CSV, the nightly settings."""

import csv
import io
from datetime import date

import pytest
from django.urls import reverse

from core.models import AuditLog
from core.roles import Role
from members.models import StaffProfile
from mining.models import MiningRun, MiningSettings, Rule, RunItem
from mining.selectors import rules_browse, runs_compare
from tests.members.factories import MemberFactory, StaffFactory
from tests.mining.test_runs import DRESS, HAT, MILK
from tests.mining.test_runs import receipt as receipt_of
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db


def receipt(store, number, items, *, member=None, **kwargs):
    """tests/mining/test_runs.py's receipt, bought by `member`."""
    made = receipt_of(store, number, items, **kwargs)
    if member is not None:
        made.member = member
        made.save(update_fields=["member"])
    return made


@pytest.fixture
def analyst(client):
    client.force_login(StaffFactory(user__role=Role.ANALYST).user)
    return client


def run_built(items: dict, rules: list, **fields) -> MiningRun:
    """A done run with `items` {name: (key, baskets)} coded in the given order (or in
    `codes`), and `rules` [(antecedent names, consequent names, support, confidence, lift,
    leverage, conviction, count)]."""
    codes = fields.pop("codes", None) or {name: n for n, name in enumerate(items)}
    defaults = {
        "status": "done",
        "trigger": "command",
        "level": "sku",
        "algorithm": "fpgrowth",
        "min_support": 0.01,
        "min_confidence": 0.1,
        "basket_count": 100,
        "rule_count": len(rules),
    }
    run = MiningRun.objects.create(**(defaults | fields))
    RunItem.objects.bulk_create(
        RunItem(run=run, code=codes[name], key=key, name=name, basket_count=count)
        for name, (key, count) in items.items()
    )
    Rule.objects.bulk_create(
        Rule(
            run=run,
            antecedents=[codes[n] for n in a],
            consequents=[codes[n] for n in c],
            support=s,
            confidence=conf,
            lift=lift,
            leverage=lev,
            conviction=conv,
            count=count,
            antecedent_count=count,
            consequent_count=count,
        )
        for a, c, s, conf, lift, lev, conv, count in rules
    )
    return run


ITEMS = {
    "连衣裙": ("SKU-D", 40),
    "遮阳帽": ("SKU-H", 30),
    "牛奶": ("SKU-M", 50),
    "面包": ("SKU-B", 45),
    "=HYPERLINK(1)": ("SKU-X", 20),
}
RULES = [
    (["连衣裙"], ["遮阳帽"], 0.20, 0.50, 3.0, 0.10, 2.0, 20),
    (["遮阳帽"], ["连衣裙"], 0.20, 0.67, 3.0, 0.10, 1.8, 20),
    (["牛奶"], ["面包"], 0.30, 0.60, 1.2, 0.05, None, 30),
    (["面包", "牛奶"], ["遮阳帽"], 0.05, 0.90, 1.5, 0.02, 7.0, 5),
    (["=HYPERLINK(1)"], ["牛奶"], 0.10, 0.40, 0.9, -0.01, 0.8, 10),
]


def test_pages_render_for_analysts_and_hq_and_not_for_customer_service(client):
    run = run_built(ITEMS, RULES)
    pages = [
        reverse("backoffice:mining_runs"),
        reverse("backoffice:mining_run", args=[run.pk]),
        reverse("backoffice:mining_run_status", args=[run.pk]),
        reverse("backoffice:mining_rules_csv", args=[run.pk]),
        reverse("backoffice:mining_bundles", args=[run.pk]),
        reverse("backoffice:mining_compare"),
        reverse("backoffice:mining_settings"),
        reverse("backoffice:mining_behaviour"),
    ]
    for role in (Role.ANALYST, Role.HQ_ADMIN):
        client.force_login(StaffFactory(user__role=role).user)
        for url in pages:
            assert client.get(url).status_code == 200, (role, url)
        menu = client.get(reverse("backoffice:home")).content.decode()
        assert "关联规则" in menu and "消费行为分析" in menu
    client.force_login(StaffFactory(user__role=Role.CUSTOMER_SERVICE).user)
    for url in pages:
        assert client.get(url).status_code == 403, url
    assert "关联规则" not in client.get(reverse("backoffice:home")).content.decode()


def test_the_runs_list_shows_parameters_counts_timing_and_errors(analyst):
    good = run_built(
        ITEMS,
        RULES,
        is_current=True,
        duration_ms=2500,
        peak_memory_bytes=300 * 1048576,
        itemset_count=12,
        item_count=9,
        frequent_item_count=5,
        segment={"gender": "F"},
        segment_label="女",
    )
    MiningRun.objects.create(
        status="failed",
        trigger="staff",
        level="brand",
        algorithm="apriori",
        min_support=0.001,
        min_confidence=0.5,
        error="MemoryError: out of memory in fpgrowth",
    )
    page = analyst.get(reverse("backoffice:mining_runs"))
    html = page.content.decode()
    assert "MemoryError: out of memory" in html and "失败" in html
    row = html[html.index(f'data-run="{good.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "当前" in row and "2.5" in row and "300" in row and "5 / 9" in row and "女" in row
    assert "支持度 ≥ 1.00%" in row


def test_starting_a_run_from_the_page_mines_it_and_shows_its_rules(
    analyst, django_capture_on_commit_callbacks
):
    store = StoreFactory(code="S01")
    woman = MemberFactory(gender="F", birthday=date(1996, 5, 1), home_store=store)
    man = MemberFactory(gender="M", birthday=date(1980, 5, 1), home_store=store)
    for n in range(4):
        receipt(store, f"A{n}", [DRESS, HAT], member=woman)
    receipt(store, "B1", [DRESS, MILK], member=woman)
    receipt(store, "C1", [MILK, HAT], member=man)
    form = {
        "level": "sku",
        "algorithm": "fpgrowth",
        "min_support": "0.5",
        "min_confidence": "0.5",
        "min_lift": "0",
        "max_len": "3",
        "gender": "F",
        "age_band": "25-34",
        "once_token": "t" * 40,
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = analyst.post(reverse("backoffice:mining_runs"), form)
    run = MiningRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("backoffice:mining_run", args=[run.pk])
    assert (run.trigger, run.status, run.min_support) == ("staff", "done", 0.5)
    assert run.segment == {"gender": "F", "age_min": 25, "age_max": 34}
    assert run.segment_label == "女 · 25–34岁"
    assert run.created_by is not None and run.store is None
    assert AuditLog.objects.filter(action="mining.run.started", target_id=str(run.pk)).exists()

    status = analyst.get(reverse("backoffice:mining_run_status", args=[run.pk])).json()
    assert status["finished"] and status["status"] == "done" and status["progress"] == 100
    page = analyst.get(response["Location"])
    rows = [(r["antecedents"], r["consequents"]) for r in page.context["rows"]]
    assert (["连衣裙"], ["遮阳帽"]) in rows
    html = page.content.decode()
    assert "SKU-连衣裙" not in html  # names, not keys or codes
    assert {n["name"] for n in page.context["graph"]["nodes"]} >= {"连衣裙", "遮阳帽"}
    assert run.single_consequent  # by default, one item after the arrow

    # rules may end in several items on request: 牛奶 → {连衣裙, 遮阳帽}
    for n in range(3):
        receipt(store, f"T{n}", [DRESS, HAT, MILK], member=woman)
    with django_capture_on_commit_callbacks(execute=True):
        analyst.post(
            reverse("backoffice:mining_runs"),
            form | {"min_support": "0.3", "several_consequents": "on", "once_token": "u" * 40},
        )
    several = MiningRun.objects.latest("pk")
    assert not several.single_consequent and several.status == "done"
    assert any(len(rule.consequents) > 1 for rule in several.rules.all())


def test_a_queued_run_page_shows_progress_and_polls(analyst):
    run = MiningRun.objects.create(
        status="running", trigger="staff", level="sku", algorithm="fpgrowth",
        min_support=0.1, min_confidence=0.1, progress=40,
    )  # fmt: skip
    html = analyst.get(reverse("backoffice:mining_run", args=[run.pk])).content.decode()
    assert 'value="40"' in html and "mining_run.js" in html and "进行中" in html
    assert analyst.get(reverse("backoffice:mining_run_status", args=[run.pk])).json() == {
        "id": run.pk,
        "status": "running",
        "status_label": "进行中",
        "progress": 40,
        "finished": False,
        "rules": None,
        "error": "",
    }
    csv_response = analyst.get(reverse("backoffice:mining_rules_csv", args=[run.pk]))
    assert csv_response.status_code == 409


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("min_support", "0", "确保该值大于或等于"),
        ("min_support", "1.5", "确保该值小于或等于"),
        ("min_confidence", "abc", "输入一个数字"),
        ("max_len", "1", "确保该值大于或等于"),
        ("until", "2026-01-01", "范围的结束不能早于开始"),
        ("level", "aisle", "选择一个有效的选项"),
    ],
)
def test_bad_run_parameters_are_form_errors_not_runs(analyst, field, value, message):
    form = {
        "level": "sku",
        "algorithm": "fpgrowth",
        "min_support": "0.1",
        "min_confidence": "0.5",
        "min_lift": "1",
        "since": "2026-02-01",
        "once_token": "u" * 40,
    }
    response = analyst.post(reverse("backoffice:mining_runs"), form | {field: value})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not MiningRun.objects.exists()


def test_a_service_refusal_is_shown_on_the_form(analyst, settings):
    settings.MINING_ENGINE = "hadoop"
    form = {
        "level": "sku",
        "algorithm": "fpgrowth",
        "min_support": "0.1",
        "min_confidence": "0.5",
        "min_lift": "1",
        "once_token": "v" * 40,
    }
    response = analyst.post(reverse("backoffice:mining_runs"), form)
    assert response.status_code == 400
    assert "未知的挖掘引擎" in response.content.decode()
    assert not MiningRun.objects.exists()


def test_a_store_manager_scope_sees_its_stores_runs_only(client):
    mine, other = StoreFactory(code="S01"), StoreFactory(code="S02")
    own = run_built(ITEMS, RULES, store=mine)
    theirs = run_built(ITEMS, RULES, store=other)
    everyone = run_built(ITEMS, RULES)
    staff = StaffFactory(
        user__role=Role.ANALYST, scope=StaffProfile.Scope.STORE, store=mine, region=None
    )
    client.force_login(staff.user)
    listed = {r.pk for r in client.get(reverse("backoffice:mining_runs")).context["page"]}
    assert listed == {own.pk}
    assert client.get(reverse("backoffice:mining_run", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("backoffice:mining_run", args=[everyone.pk])).status_code == 404
    # their runs stay within their store: the store is required, and only theirs offered
    form = client.get(reverse("backoffice:mining_runs")).context["form"]
    assert list(form.fields["store"].queryset) == [mine]


# --- The rule browser -------------------------------------------------------------------------


def browse(client, run, **query):
    page = client.get(reverse("backoffice:mining_run", args=[run.pk]), query)
    assert page.status_code == 200, page.content.decode()[:2000]
    return [(tuple(r["antecedents"]), tuple(r["consequents"])) for r in page.context["rows"]]


def test_rules_sort_by_each_metric_both_ways(analyst):
    run = run_built(ITEMS, RULES)
    by_lift = browse(analyst, run)
    assert by_lift[0][1] in {("遮阳帽",), ("连衣裙",)} and by_lift[-1] == (
        ("=HYPERLINK(1)",),
        ("牛奶",),
    )
    assert browse(analyst, run, sort="confidence", order="asc")[:2] == [
        (("=HYPERLINK(1)",), ("牛奶",)),
        (("连衣裙",), ("遮阳帽",)),
    ]
    assert browse(analyst, run, sort="support")[0] == (("牛奶",), ("面包",))
    assert browse(analyst, run, sort="count", order="asc")[0] == (("牛奶", "面包"), ("遮阳帽",))
    assert browse(analyst, run, sort="leverage", order="asc")[0] == (("=HYPERLINK(1)",), ("牛奶",))
    # an infinite conviction (stored empty) is the highest, either way round
    assert browse(analyst, run, sort="conviction")[:2] == [
        (("牛奶",), ("面包",)),
        (("牛奶", "面包"), ("遮阳帽",)),
    ]
    assert browse(analyst, run, sort="conviction", order="asc")[-1] == (("牛奶",), ("面包",))
    bad = analyst.get(reverse("backoffice:mining_run", args=[run.pk]), {"sort": "id"})
    assert bad.status_code == 400
    html = analyst.get(reverse("backoffice:mining_run", args=[run.pk])).content.decode()
    assert "∞" in html


def test_rules_filter_by_item_name_and_thresholds(analyst):
    run = run_built(ITEMS, RULES)
    hat = set(browse(analyst, run, item="帽"))
    assert hat == {
        (("连衣裙",), ("遮阳帽",)),
        (("遮阳帽",), ("连衣裙",)),
        (("牛奶", "面包"), ("遮阳帽",)),
    }
    assert set(browse(analyst, run, item="遮阳帽", side="consequent")) == {
        (("连衣裙",), ("遮阳帽",)),
        (("牛奶", "面包"), ("遮阳帽",)),
    }
    assert set(browse(analyst, run, item="牛奶", side="antecedent")) == {
        (("牛奶",), ("面包",)),
        (("牛奶", "面包"), ("遮阳帽",)),
    }
    assert browse(analyst, run, item="咖啡") == []
    assert set(browse(analyst, run, min_lift="1.5", min_confidence="0.6")) == {
        (("遮阳帽",), ("连衣裙",)),
        (("牛奶", "面包"), ("遮阳帽",)),
    }
    assert set(browse(analyst, run, min_support="0.2", item="裙")) == {
        (("连衣裙",), ("遮阳帽",)),
        (("遮阳帽",), ("连衣裙",)),
    }
    # the graph draws what is filtered
    page = analyst.get(reverse("backoffice:mining_run", args=[run.pk]), {"item": "牛奶"})
    names = {n["name"] for n in page.context["graph"]["nodes"]}
    assert names == {"牛奶", "面包", "遮阳帽", "=HYPERLINK(1)"}
    links = {(lk["source"], lk["target"]): lk["value"] for lk in page.context["graph"]["links"]}
    code = dict(RunItem.objects.filter(run=run).values_list("name", "code"))
    assert links[(str(code["面包"]), str(code["遮阳帽"]))] == 1.5
    assert links[(str(code["牛奶"]), str(code["面包"]))] == 1.2


def test_bad_filters_are_form_errors(analyst):
    run = run_built(ITEMS, RULES)
    response = analyst.get(reverse("backoffice:mining_run", args=[run.pk]), {"min_lift": "-1"})
    assert response.status_code == 400 and "确保该值大于或等于" in response.content.decode()
    response = analyst.get(reverse("backoffice:mining_run", args=[run.pk]), {"min_support": "x"})
    assert response.status_code == 400


def test_rules_come_in_pages_of_fifty(analyst):
    items = {f"商品{n:02d}": (f"K{n:02d}", 10) for n in range(12)}
    rules = [
        ([f"商品{a:02d}"], [f"商品{b:02d}"], 0.1, 0.5, 1 + (a * 12 + b) / 1000, 0.01, 2.0, 10)
        for a in range(12)
        for b in range(12)
        if a != b
    ]
    run = run_built(items, rules)
    first = analyst.get(reverse("backoffice:mining_run", args=[run.pk]))
    assert len(first.context["rows"]) == 50 and first.context["page"].paginator.count == 132
    last = analyst.get(reverse("backoffice:mining_run", args=[run.pk]), {"page": 3})
    assert len(last.context["rows"]) == 32
    assert last.context["rows"][-1]["antecedents"] == ["商品00"]
    assert len(first.context["graph"]["links"]) == 60  # the top rules only


def test_the_csv_has_names_and_defused_formulas(analyst):
    run = run_built(ITEMS, RULES)
    response = analyst.get(reverse("backoffice:mining_rules_csv", args=[run.pk]))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:5] == ["如果购买", "那么也买", "支持度", "置信度", "提升度"]
    assert len(rows) == 6
    assert rows[1][:2] in (["连衣裙", "遮阳帽"], ["遮阳帽", "连衣裙"])
    assert ["'=HYPERLINK(1)", "牛奶"] == rows[-1][:2]
    assert ["牛奶 + 面包", "遮阳帽"] == next(r[:2] for r in rows if "+" in r[0])
    assert next(r for r in rows if r[:2] == ["牛奶", "面包"])[6] == "inf"
    assert "SKU-D" not in text
    filtered = analyst.get(
        reverse("backoffice:mining_rules_csv", args=[run.pk]), {"item": "帽", "side": "consequent"}
    )
    assert len(list(csv.reader(io.StringIO(filtered.content.decode().lstrip("\ufeff"))))) == 3


def test_bundles_are_pairs_by_lift_with_enough_support_and_confidence(analyst):
    run = run_built(ITEMS, RULES)
    page = analyst.get(reverse("backoffice:mining_bundles", args=[run.pk]))
    rows = page.context["rows"]
    # dress + hat once (both directions), milk + bread; the 3-item rule is no pair; the
    # formula item's pair is below the default support (1%)? no: 10%, but lift 0.9 comes last
    assert [(r["a"], r["b"]) for r in rows][:2] == [("连衣裙", "遮阳帽"), ("牛奶", "面包")]
    assert rows[0]["confidence_ab"] == 0.5 and rows[0]["confidence_ba"] == 0.67
    assert rows[1]["confidence_ba"] is None
    strict = analyst.get(
        reverse("backoffice:mining_bundles", args=[run.pk]),
        {"min_support": "0.25", "min_confidence": "0.5"},
    )
    assert [(r["a"], r["b"]) for r in strict.context["rows"]] == [("牛奶", "面包")]
    bad = analyst.get(reverse("backoffice:mining_bundles", args=[run.pk]), {"min_support": "2"})
    assert bad.status_code == 400


def test_comparing_two_runs_matches_rules_by_item_keys(analyst):
    women = run_built(
        ITEMS, RULES, segment={"gender": "F", "age_min": 25, "age_max": 34}, segment_label="女"
    )
    men_items = {"遮阳帽": ("SKU-H", 5), "连衣裙": ("SKU-D", 3), "牛奶": ("SKU-M", 60)}
    men_items |= {"面包": ("SKU-B", 50), "啤酒": ("SKU-BEER", 40)}
    men = run_built(
        men_items,
        [
            (["牛奶"], ["面包"], 0.35, 0.7, 1.4, 0.06, 3.0, 35),
            (["啤酒"], ["牛奶"], 0.2, 0.5, 1.1, 0.02, 1.2, 20),
            (["连衣裙"], ["遮阳帽"], 0.01, 0.3, 2.0, 0.005, 1.3, 1),
        ],
        codes={"啤酒": 0, "面包": 1, "牛奶": 2, "连衣裙": 3, "遮阳帽": 4},
        segment={"gender": "M", "age_min": 35, "age_max": 44},
        segment_label="男",
    )
    result = runs_compare(women, men)
    only_a = {(tuple(r["an"]), tuple(r["cn"])) for r in result["only_a"]}
    assert only_a == {
        (("遮阳帽",), ("连衣裙",)),
        (("牛奶", "面包"), ("遮阳帽",)),
        (("=HYPERLINK(1)",), ("牛奶",)),
    }
    assert [(r["an"], r["cn"]) for r in result["only_b"]] == [(["啤酒"], ["牛奶"])]
    both = {(tuple(r["an"]), tuple(r["cn"])): r for r in result["both"]}
    assert set(both) == {(("牛奶",), ("面包",)), (("连衣裙",), ("遮阳帽",))}
    assert both[(("牛奶",), ("面包",))]["a"]["lift"] == 1.2
    assert both[(("牛奶",), ("面包",))]["b"]["lift"] == 1.4

    page = analyst.get(reverse("backoffice:mining_compare"), {"a": women.pk, "b": men.pk})
    html = page.content.decode()
    assert page.status_code == 200 and "啤酒" in html
    assert "data-only-a>3<" in html and "data-only-b>1<" in html and "data-both>2<" in html


def test_comparing_needs_two_runs_of_one_level(analyst):
    a = run_built(ITEMS, RULES)
    b = run_built(ITEMS, RULES, level="brand")
    same = analyst.get(reverse("backoffice:mining_compare"), {"a": a.pk, "b": a.pk})
    assert same.status_code == 400 and "两次不同的运行" in same.content.decode()
    levels = analyst.get(reverse("backoffice:mining_compare"), {"a": a.pk, "b": b.pk})
    assert levels.status_code == 400 and "同一商品层级" in levels.content.decode()
    missing = analyst.get(reverse("backoffice:mining_compare"), {"a": a.pk, "b": 999999})
    assert missing.status_code == 400


def test_rules_browse_ignores_an_unknown_sort():
    run = run_built(ITEMS, RULES)
    assert list(rules_browse(run, sort="id; DROP TABLE")) == list(rules_browse(run))


# --- Settings ---------------------------------------------------------------------------------


def test_analysts_edit_the_nightly_settings(analyst):
    form = {
        "level": "brand",
        "algorithm": "apriori",
        "window_days": "30",
        "min_support": "0.002",
        "min_confidence": "0.3",
        "min_lift": "1.2",
        "max_len": "3",
        "max_basket_items": "40",
        "once_token": "w" * 40,
    }  # nightly_enabled unticked: off
    response = analyst.post(reverse("backoffice:mining_settings"), form)
    assert response.status_code == 302
    saved = MiningSettings.current()
    assert (saved.level, saved.algorithm, saved.window_days) == ("brand", "apriori", 30)
    assert saved.min_support == 0.002 and not saved.nightly_enabled
    log = AuditLog.objects.get(action="mining.settings.changed")
    assert log.data["nightly_enabled"] is False and log.data["level"] == "brand"

    bad = analyst.post(
        reverse("backoffice:mining_settings"),
        form
        | {"min_support": "0", "max_len": "1", "max_basket_items": "1", "once_token": "x" * 40},
    )
    assert bad.status_code == 400
    assert "最小支持度须大于 0" in bad.content.decode()
    assert "少于 2 件商品的购物篮不含任何规则" in bad.content.decode()
    assert MiningSettings.current().min_support == 0.002


def test_the_form_is_prefilled_from_a_segment_link(analyst):
    page = analyst.get(
        reverse("backoffice:mining_runs"), {"gender": "M", "age_min": "35", "age_max": "44"}
    )
    form = page.context["form"]
    assert form.initial["gender"] == "M" and form.initial["age_band"] == "35-44"
    assert 'value="M" selected' in page.content.decode()


def test_the_run_form_defaults_to_the_last_90_days():
    from django.utils import timezone

    from mining.forms import RunStartForm

    staff = StaffFactory(user__role=Role.ANALYST)
    form = RunStartForm(user=staff.user)
    today = timezone.localdate()
    assert form.initial["until"] == today and (today - form.initial["since"]).days == 90
    assert isinstance(form.initial["since"], date)


def test_a_failed_run_shows_its_error(analyst):
    failed = MiningRun.objects.create(
        status="failed", trigger="staff", level="sku", algorithm="fpgrowth",
        min_support=0.0001, min_confidence=0.1, error="MemoryError: out of memory",
    )  # fmt: skip
    page = analyst.get(reverse("backoffice:mining_run", args=[failed.pk]))
    assert page.status_code == 200 and "MemoryError: out of memory" in page.content.decode()
    assert "mining_run.js" not in page.content.decode()
    status = analyst.get(reverse("backoffice:mining_run_status", args=[failed.pk])).json()
    assert status["finished"] and status["error"] == "MemoryError: out of memory"


def test_runs_and_rules_are_read_only_in_the_admin(admin_client):
    run = run_built(ITEMS, RULES)
    assert admin_client.get("/admin/mining/miningrun/").status_code == 200
    assert admin_client.get(f"/admin/mining/miningrun/{run.pk}/change/").status_code == 200
    assert admin_client.get("/admin/mining/miningrun/add/").status_code == 403
    assert admin_client.get("/admin/mining/rule/").status_code == 200
    assert admin_client.post(f"/admin/mining/miningrun/{run.pk}/delete/").status_code == 403
    MiningSettings.current()
    assert admin_client.get("/admin/mining/miningsettings/1/change/").status_code == 200


def test_viewing_runs_without_the_add_permission_cannot_start_one(client):
    from django.contrib.auth.models import Permission

    staff = StaffFactory()
    staff.user.user_permissions.add(Permission.objects.get(codename="view_miningrun"))
    client.force_login(staff.user)
    page = client.get(reverse("backoffice:mining_runs"))
    assert page.status_code == 200 and 'id="run-start"' not in page.content.decode()
    form = {"level": "sku", "algorithm": "fpgrowth", "min_support": "0.1"}
    form |= {"min_confidence": "0.5", "min_lift": "1", "once_token": "y" * 40}
    assert client.post(reverse("backoffice:mining_runs"), form).status_code == 403
    assert not MiningRun.objects.exists()
