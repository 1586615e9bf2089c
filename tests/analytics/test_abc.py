"""analytics/abc.py, the ABC rule, by hand; and Postgres' version of it (members) agreeing."""

from analytics.abc import abc_classes
from analytics.statistics import abc_members
from tests.analytics.test_statistics import at, hq_filter, mall, receipt  # noqa: F401 (a fixture)


def classes(result):
    return [(c["class"], c["items"], c["value_fen"]) for c in result["classes"]]


def test_nothing_to_rank():
    assert abc_classes([]) == {
        "items": 0,
        "total_fen": 0,
        "classes": [
            {"class": label, "items": 0, "items_share": 0.0, "value_fen": 0, "value_share": 0.0}
            for label in "ABC"
        ],
        "curve": [(0.0, 0.0)],
    }


def test_the_top_item_is_always_a_and_the_cuts_are_strict():
    assert classes(abc_classes([("x", 5)])) == [("A", 1, 5), ("B", 0, 0), ("C", 0, 0)]
    # above 甲: 0 (A); above 乙: 70 % exactly (B); above 丙: 90 % exactly (C)
    result = abc_classes([("丙", 10), ("甲", 70), ("乙", 20)])
    assert classes(result) == [("A", 1, 70), ("B", 1, 20), ("C", 1, 10)]
    assert result["curve"] == [(0.0, 0.0), (33.33, 70.0), (66.67, 90.0), (100.0, 100.0)]


def test_ties_rank_by_key_and_nothing_or_less_is_left_out():
    result = abc_classes([("b", 30), ("a", 30), ("c", 40), ("d", 0), ("e", -5), (None, 99)])
    # c 40 (A, 0 above), a 30 (A, 40 % above), b 30 (B, 70 % above)
    assert classes(result) == [("A", 2, 70), ("B", 1, 30), ("C", 0, 0)]
    assert result["items"] == 3 and result["total_fen"] == 100


def test_the_curve_has_at_most_a_hundred_points():
    result = abc_classes([(i, 1000 - i) for i in range(1000)])
    assert len(result["curve"]) == 101
    assert result["curve"][1][0] == 1.0 and result["curve"][-1] == (100.0, 100.0)
    assert sum(c["items"] for c in result["classes"]) == 1000


def test_postgres_classes_members_as_the_rule_does(mall):  # noqa: F811
    m1, m2, m3, m4, m5, _m6 = mall["members"]
    values = [(m1.pk, 30_000), (m3.pk, 8_000), (m2.pk, 3_050), (m4.pk, 3_000), (m5.pk, 1_000)]
    assert abc_members(hq_filter(mall)) == abc_classes(values)
    # m4 spends 50 more and ties with m2
    receipt(mall["a"], m4, at("2026-05-05"), [(mall["yi"], mall["women"], 50)])
    values[3] = (m4.pk, 3_050)
    assert abc_members(hq_filter(mall)) == abc_classes(values)
