"""The back office's RFM page: the analyst's, in Chinese, from the current snapshot."""

from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from core.roles import Role
from tests.analytics.test_rfm_run import fixture_mall  # noqa: F401 (a fixture)
from tests.members.factories import StaffFactory


def test_the_analyst_sees_the_classes_stages_and_actions(client, fixture_mall):  # noqa: F811
    call_command("rfm_run", "--as-of", "2026-06-30", "--window-days", "10")
    client.force_login(StaffFactory(user__role=Role.ANALYST).user)
    with translation.override("zh-hans"):
        page = client.get(reverse("backoffice:rfm"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    html = page.content.decode()
    assert "RFM 模型" in html and "生命周期阶段" in html
    classes = {c["label"]: c for c in page.context["overview"]["classes"]}
    assert len(classes) == 8
    assert classes["一般客户"]["members"] == 2 and classes["一般客户"]["share"] == 40.0
    assert classes["重要挽留"]["recency"] == 5 and classes["重要挽留"]["monetary_fen"] == 2500
    assert classes["重要保持"]["members"] == 0 and classes["重要保持"]["action"]
    stages = {s["code"]: s["members"] for s in page.context["overview"]["stages"]}
    assert stages == {"active": 3, "silent": 0, "dormant": 0, "lost": 2}


def test_roles_without_analytics_are_refused(client, db):
    client.force_login(StaffFactory(user__role=Role.CUSTOMER_SERVICE).user)
    assert client.get(reverse("backoffice:rfm")).status_code == 403


def test_before_the_first_snapshot_the_page_says_so(client, db):
    client.force_login(StaffFactory(user__role=Role.ANALYST).user)
    page = client.get(reverse("backoffice:rfm"))
    assert page.status_code == 200 and page.context["overview"] is None


def test_each_class_shows_its_members_predicted_value(client, fixture_mall):  # noqa: F811
    """The current CLV run beside the classes: averages over the class's members that the run
    scored; a class none of whose members the run scored shows none."""
    from datetime import date

    from analytics.models import ClvRun, ClvScore, RfmRow

    call_command("rfm_run", "--as-of", "2026-06-30", "--window-days", "10")
    run = ClvRun.objects.create(as_of=date(2026, 6, 30), status="done", is_current=True)
    common = list(RfmRow.objects.filter(rfm_class="一般客户").select_related("member"))
    assert len(common) == 2
    for row, (p_alive, value_fen) in zip(common, [(0.9, 10_000), (0.5, 20_001)], strict=True):
        ClvScore.objects.create(
            run=run,
            member=row.member,
            frequency=1,
            recency_days=1,
            t_days=2,
            monetary_fen=100,
            p_alive=p_alive,
            expected_purchases_90d=1.0,
            expected_value_fen=value_fen,
        )
    client.force_login(StaffFactory(user__role=Role.ANALYST).user)

    page = client.get(reverse("backoffice:rfm"))

    classes = {c["label"]: c for c in page.context["overview"]["classes"]}
    assert (classes["一般客户"]["p_alive"], classes["一般客户"]["expected_value_fen"]) == (
        70,
        15_000,
    )
    assert (
        classes["重要挽留"]["p_alive"] is None and classes["重要挽留"]["expected_value_fen"] is None
    )
    assert "150.00" in page.content.decode()
