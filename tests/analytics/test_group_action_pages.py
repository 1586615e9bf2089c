"""The staff pages of group actions: the form and its errors, the results page and its log,
the CSV export, the rerun button, the RFM classes' buttons, permissions; and the member's
marketing settings page (退订)."""

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.urls import reverse

from analytics.models import GroupAction, GroupActionRecipient, GroupMember, MemberGroup, Tag
from core.models import AuditLog
from core.roles import Role
from coupons.models import Coupon
from loyalty.models import Receipt
from members.models import MarketingOptOut
from tests.analytics.test_rfm_run import fixture_mall  # noqa: F401 (a fixture)
from tests.conftest import once
from tests.members.factories import MemberFactory, StaffFactory, signed_in_as

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def daytime(time_machine):
    time_machine.move_to(datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI), tick=False)


@pytest.fixture
def marketer(client, db):
    user = StaffFactory(user__role=Role.MARKETING).user
    client.force_login(user)
    return user


@pytest.fixture
def group(marketer, store):
    group = MemberGroup.objects.create(
        name="老客", kind=MemberGroup.Kind.STATIC, created_by=marketer
    )
    members = MemberFactory.create_batch(20, home_store=store)
    GroupMember.objects.bulk_create(GroupMember(group=group, member=m) for m in members)
    return group


def new_url(group, kind):
    return reverse("backoffice:group_action_new", args=[group.pk]) + f"?kind={kind}"


def test_marketing_sends_a_coupon_from_the_form_and_sees_both_arms(
    client, group, store, make_template, daytime, django_capture_on_commit_callbacks
):
    template = make_template(name="满100减10")
    page = client.get(new_url(group, "coupon"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "发优惠券" in html and "对照组（%）" in html and 'value="10"' in html

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            new_url(group, "coupon"),
            {
                **once(),
                "name": "老客唤醒",
                "coupon_template": template.pk,
                "control_percent": 10,
                "window_days": 14,
            },
        )
    action = GroupAction.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("backoffice:group_action", args=[action.pk])
    # eager Celery in tests: the job ran on commit
    action.refresh_from_db()
    assert action.status == "done" and (action.treatment, action.control, action.sent) == (
        18,
        2,
        18,
    )
    assert Coupon.objects.filter(campaign=action.campaign).count() == 18
    control = action.recipients.filter(arm="control").values_list("member_id", flat=True)
    buyer = control[0]
    Receipt.objects.create(
        store=store,
        pos_no="P1",
        receipt_no="R1",
        occurred_at=action.started_at + timedelta(days=1),
        member_id=buyer,
        division="department",
        total_fen=12345,
    )

    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    arms = {a["arm"]: a for a in page.context["results"]["arms"]}
    assert (arms["treatment"]["members"], arms["treatment"]["converted"]) == (18, 0)
    assert (arms["control"]["members"], arms["control"]["converted"]) == (2, 1)
    assert arms["control"]["rate"] == 50.0 and arms["control"]["revenue_per_member_fen"] == 6172
    assert page.context["results"]["uplift"]["estimate"] == -50.0
    assert "实验组" in html and "对照组" in html and "转化率提升" in html
    assert 'http-equiv="refresh"' not in html  # finished: no more reloading
    # the log: masked cards and phones, all 20 rows on one page
    assert len(page.context["rows"]) == 20
    member = GroupMember.objects.filter(group=group).first().member
    assert member.phone not in html and member.card_no not in html


def test_form_errors_are_shown_not_raised(client, group, make_template, daytime):
    inactive = make_template("OFF", is_active=False)
    cases = [
        (
            "coupon",
            {"coupon_template": make_template().pk, "control_percent": 80},
            "control_percent",
        ),
        ("coupon", {"coupon_template": inactive.pk, "control_percent": 10}, "coupon_template"),
        ("sms", {"sms_text": "{name}您好{balance}", "control_percent": 10}, "sms_text"),
        ("sms", {"sms_text": "好" * 130, "control_percent": 10}, "sms_text"),
        ("sms", {"sms_text": "您的{coupon_name}到了", "control_percent": 10}, "sms_text"),
        (
            "coupon",
            {"coupon_template": make_template("N").pk, "sms_text": "{x}", "control_percent": 10},
            "sms_text",
        ),
        ("message", {"title": "双十二", "body": "", "control_percent": 10}, "title"),
        ("tag", {"control_percent": 10}, "tag"),
    ]
    for kind, fields, field in cases:
        response = client.post(
            new_url(group, kind), {**once(), "name": "x", "window_days": 14, **fields}
        )
        assert response.status_code == 400, (kind, fields)
        assert response.context["form"].errors.get(field), (kind, fields)
    assert not GroupAction.objects.exists()


def test_an_empty_group_is_a_form_error(client, marketer, make_template, daytime):
    empty = MemberGroup.objects.create(name="空", kind=MemberGroup.Kind.STATIC, created_by=marketer)
    response = client.post(
        new_url(empty, "coupon"),
        {
            **once(),
            "name": "x",
            "coupon_template": make_template().pk,
            "control_percent": 10,
            "window_days": 14,
        },
    )
    assert response.status_code == 400
    assert "没有您可以发送的有效会员" in response.content.decode()
    assert not GroupAction.objects.exists()


def test_a_tag_action_and_the_list(client, group, daytime, django_capture_on_commit_callbacks):
    tag = Tag.objects.create(name="春季回访")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            new_url(group, "tag"),
            {**once(), "name": "打标签", "tag": tag.pk, "control_percent": 0, "window_days": 7},
        )
    assert response.status_code == 302
    listing = client.get(reverse("backoffice:group_action_list"))
    assert listing.status_code == 200 and "打标签" in listing.content.decode()
    assert tag.member_tags.count() == 20


def test_the_log_exports_as_formula_safe_csv(
    client, marketer, store, daytime, django_capture_on_commit_callbacks
):
    member = MemberFactory(home_store=store)
    group = MemberGroup.objects.create(name="g", kind=MemberGroup.Kind.STATIC, created_by=marketer)
    GroupMember.objects.create(group=group, member=member)
    tag = Tag.objects.create(name='=HYPERLINK("x")')
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            new_url(group, "tag"),
            {**once(), "name": "x", "tag": tag.pk, "control_percent": 0, "window_days": 14},
        )
    action = GroupAction.objects.get()
    response = client.get(reverse("backoffice:group_action_log_csv", args=[action.pk]))
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert len(rows) == 2
    card, phone, _arm, outcome, _reason, detail, _at, notice = rows[1]
    assert member.card_no not in card and member.phone not in phone and "****" in phone
    assert outcome == "已发送"
    assert detail == '\'=HYPERLINK("x")'
    assert AuditLog.objects.filter(action="analytics.action.log_exported").exists()


def test_a_failed_action_is_rerun_from_its_page(
    client, group, make_template, daytime, django_capture_on_commit_callbacks
):
    template = make_template()
    client.post(
        new_url(group, "coupon"),
        {
            **once(),
            "name": "x",
            "coupon_template": template.pk,
            "control_percent": 10,
            "window_days": 14,
        },
    )
    action = GroupAction.objects.get()
    # pretend the worker died before doing anything
    action.recipients.update(outcome="", reason="", at=None)
    Coupon.objects.all().delete()
    GroupAction.objects.filter(pk=action.pk).update(status="failed", error="worker lost")
    page = client.get(reverse("backoffice:group_action", args=[action.pk]))
    assert "data-rerun" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("backoffice:group_action_rerun", args=[action.pk]))
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.status == "done" and action.sent == 18 and Coupon.objects.count() == 18
    # a finished one refuses politely
    response = client.post(reverse("backoffice:group_action_rerun", args=[action.pk]), follow=True)
    assert "该动作已完成" in response.content.decode()


def test_a_running_action_page_reloads_itself(client, group, marketer, make_template):
    action = GroupAction.objects.create(
        group=group,
        kind="coupon",
        name="x",
        coupon_template=make_template(),
        created_by=marketer,
        status="running",
    )
    page = client.get(reverse("backoffice:group_action", args=[action.pk]))
    assert 'http-equiv="refresh"' in page.content.decode()
    assert page.context["results"] is None  # conversions wait until the sending stops


def test_permissions(client, group, db):
    client.force_login(StaffFactory(user__role=Role.STORE_MANAGER).user)
    assert client.get(reverse("backoffice:group_action_list")).status_code == 403
    assert client.get(new_url(group, "coupon")).status_code == 403
    client.force_login(StaffFactory(user__role=Role.ANALYST).user)
    assert client.get(new_url(group, "coupon")).status_code == 200
    assert client.get(reverse("backoffice:group_action_list")).status_code == 200


def test_another_stores_manager_does_not_see_an_action(
    client, group, make_template, daytime, store_b
):
    client.post(
        new_url(group, "coupon"),
        {
            **once(),
            "name": "x",
            "coupon_template": make_template().pk,
            "control_percent": 10,
            "window_days": 14,
        },
    )
    action = GroupAction.objects.get()
    from members.models import StaffProfile

    analyst = StaffFactory(
        user__role=Role.ANALYST, scope=StaffProfile.Scope.STORE, store=store_b
    ).user
    client.force_login(analyst)
    assert client.get(reverse("backoffice:group_action", args=[action.pk])).status_code == 404


def test_each_rfm_class_offers_its_recommended_action(client, fixture_mall, daytime):  # noqa: F811
    call_command("rfm_run", "--as-of", "2026-06-30", "--window-days", "10")
    analyst = StaffFactory(user__role=Role.ANALYST).user
    client.force_login(analyst)
    page = client.get(reverse("backoffice:rfm"))
    html = page.content.decode()
    assert 'data-act="重要挽留"' in html and 'data-act="无价值"' not in html  # no advice, no button
    assert ">发优惠券</button>" in html
    classes = {c["label"]: c for c in page.context["overview"]["classes"]}
    url = reverse("backoffice:rfm_class_act", args=[classes["重要挽留"]["id"]])
    response = client.post(url)
    group = MemberGroup.objects.get()
    assert group.kind == "dynamic" and group.params == {"rfm_class": "重要挽留"}
    assert response["Location"].endswith(f"?kind=coupon&rfm_class={classes['重要挽留']['id']}")
    form = client.get(response["Location"])
    assert "有截止日期的定向唤醒优惠" in form.content.decode()
    assert form.context["form"].initial["name"].startswith("重要挽留")
    # the same click again today reuses the group
    client.post(url)
    assert MemberGroup.objects.count() == 1


# --- The member's side: 退订 on the settings page ---------------------------------------------


def test_a_member_turns_marketing_sms_off_and_on(client, member):
    signed_in_as(client, member)
    profile = client.get(reverse("h5:member_profile"))
    assert reverse("h5:marketing_settings") in profile.content.decode()
    page = client.get(reverse("h5:marketing_settings"))
    assert page.status_code == 200 and page.context["sms_on"] and page.context["wechat_on"]
    client.post(reverse("h5:marketing_settings"), {"wechat": "on"})
    opt_out = MarketingOptOut.objects.get(member=member)
    assert (opt_out.channel, opt_out.source) == ("sms", "h5")
    page = client.get(reverse("h5:marketing_settings"))
    assert not page.context["sms_on"] and page.context["wechat_on"]
    data = client.get(reverse("h5:member_data_download")).json()
    assert [(o["channel"], o["source"]) for o in data["marketing_opt_outs"]] == [("sms", "h5")]
    client.post(reverse("h5:marketing_settings"), {"sms": "on", "wechat": "on"})
    assert not MarketingOptOut.objects.exists()


def test_the_settings_page_needs_a_member(client, db):
    response = client.get(reverse("h5:marketing_settings"))
    assert response.status_code == 302


def test_recipient_rows_are_unique_per_action_and_member(group, marketer, make_template):
    from django.db import IntegrityError, transaction

    action = GroupAction.objects.create(
        group=group, kind="coupon", name="x", coupon_template=make_template(), created_by=marketer
    )
    member = GroupMember.objects.filter(group=group).first().member
    GroupActionRecipient.objects.create(
        action=action, member=member, arm="treatment", kind="coupon"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        GroupActionRecipient.objects.create(
            action=action, member=member, arm="control", kind="coupon"
        )
