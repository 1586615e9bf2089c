"""Actions on a group (analytics/actions.py): the saved audience and arms, each kind's sends
through the existing services, opt-outs, quiet hours, the frequency cap, reruns and crashes,
and each arm's conversion measured the same way."""

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Count
from django.utils import timezone

from analytics import tasks
from analytics.actions import (
    ActionError,
    group_action_create,
    group_action_results,
    group_action_run,
    quiet_hours_end,
    sms_text_check,
)
from analytics.models import (
    GroupAction,
    GroupActionRecipient,
    GroupMember,
    MemberGroup,
    MemberTag,
    Tag,
)
from analytics.tasks import group_action_run_task, group_actions_resume
from analytics.uplift import rate_difference_newcombe
from coupons.models import Coupon
from loyalty.models import Receipt
from members.marketing import marketing_opt_out, sms_reply_receive
from members.models import MarketingOptOut, Member, Message, WechatIdentity
from members.sms import SmsError
from tests.members.factories import MemberFactory, StaffFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
Arm, Outcome, Reason = (
    GroupActionRecipient.Arm,
    GroupActionRecipient.Outcome,
    GroupActionRecipient.Reason,
)
_numbers = itertools.count(1)


@pytest.fixture
def staff(db):
    return StaffFactory(user__role="analyst").user


@pytest.fixture
def daytime(time_machine):
    """Ten in the morning in Shanghai: outside the quiet hours."""
    time_machine.move_to(datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI), tick=False)
    return time_machine


def static_group(members, staff, name="测试组") -> MemberGroup:
    group = MemberGroup.objects.create(name=name, kind=MemberGroup.Kind.STATIC, created_by=staff)
    GroupMember.objects.bulk_create(GroupMember(group=group, member=m) for m in members)
    return group


def create(group, staff, kind="coupon", **fields) -> GroupAction:
    queued = []
    fields.setdefault("name", f"{kind} test")
    action = group_action_create(
        group=group, kind=kind, actor=staff, enqueue=queued.append, **fields
    )
    return action


def outcomes(action) -> dict:
    """(arm, outcome, reason) → members."""
    rows = action.recipients.values("arm", "outcome", "reason").annotate(n=Count("id"))
    return {(r["arm"], r["outcome"], r["reason"]): r["n"] for r in rows}


def arms(action) -> dict[int, str]:
    return dict(action.recipients.values_list("member_id", "arm"))


def receipt(member, when, fen, *, refund=False):
    return Receipt.objects.create(
        store=member.home_store,
        pos_no="P1",
        receipt_no=f"R{next(_numbers)}",
        occurred_at=when,
        member=member,
        kind=Receipt.Kind.REFUND if refund else Receipt.Kind.SALE,
        division="department",
        total_fen=fen,
    )


# --- The audience and the arms ---------------------------------------------------------------


def test_audience_and_arms_are_saved_before_anything_goes_out(
    staff, store, make_template, daytime, django_capture_on_commit_callbacks
):
    members = MemberFactory.create_batch(20, home_store=store)
    group = static_group(members, staff)
    queued = []
    with django_capture_on_commit_callbacks(execute=True):
        action = group_action_create(
            group=group,
            kind="coupon",
            name="唤醒",
            actor=staff,
            enqueue=queued.append,
            coupon_template=make_template(),
        )
    assert queued == [action.pk]
    assert not Coupon.objects.exists()  # nothing sent yet: the job does that
    assert (action.audience, action.treatment, action.control) == (20, 18, 2)
    saved = arms(action)
    assert set(saved) == {m.pk for m in members}
    assert sum(arm == Arm.CONTROL for arm in saved.values()) == 2
    assert action.recipients.filter(outcome=Outcome.PENDING).count() == 20
    assert action.campaign.channel == "group"


def test_the_control_share_is_exact_for_a_large_audience_and_differs_between_actions(
    staff, store, make_template, daytime
):
    from members.cards import card_no_random

    members = Member.objects.bulk_create(
        Member(card_no=card_no_random(), phone=f"137{i:08d}", home_store=store) for i in range(2003)
    )
    group = static_group(members, staff)
    first = create(group, staff, coupon_template=make_template(), control_percent=10)
    second = create(group, staff, coupon_template=make_template("C2"), control_percent=10)
    for action in (first, second):
        assert action.audience == 2003
        assert action.control == 200  # ROUND(200.3)
        assert action.recipients.filter(arm=Arm.CONTROL).count() == 200
    control = [{m for m, a in arms(x).items() if a == Arm.CONTROL} for x in (first, second)]
    # each action draws its own control group: two independent 10 % draws share about 20
    assert len(control[0] & control[1]) < 60
    # the draw is spread over the id range, not the first ids
    ids = sorted(m.pk for m in members)
    assert min(control[0]) < ids[200] and max(control[0]) > ids[-200]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"control_percent": 80}, "control_percent"),
        ({"control_percent": -1}, "control_percent"),
        ({"window_days": 0}, "window_days"),
        ({"kind": "sms", "sms_text": "{name}您好，{balance}"}, "sms_variable"),
        ({"kind": "sms", "sms_text": "您好 {name"}, "sms_brace"),
        ({"kind": "sms", "sms_text": "好" * 120}, "sms_too_long"),
        ({"kind": "sms", "sms_text": "  "}, "sms_empty"),
        ({"kind": "message", "title": "", "body": "x"}, "message_empty"),
        ({"kind": "message", "title": "t", "body": "x", "link": "http://x.cn/"}, "message_link"),
        ({"kind": "tag"}, "tag_missing"),
        ({"kind": "coupon"}, "coupon_missing"),
    ],
)
def test_bad_parameters_are_refused_and_nothing_is_saved(staff, store, daytime, fields, code):
    group = static_group(MemberFactory.create_batch(3, home_store=store), staff)
    fields = {"kind": "coupon", **fields}
    with pytest.raises(ActionError) as caught:
        create(group, staff, **fields)
    assert caught.value.code == code
    assert not GroupAction.objects.exists() and not GroupActionRecipient.objects.exists()


def test_an_inactive_or_ended_coupon_and_an_empty_group_are_refused(
    staff, store, make_template, daytime
):
    group = static_group(MemberFactory.create_batch(3, home_store=store), staff)
    with pytest.raises(ActionError) as caught:
        create(group, staff, coupon_template=make_template(is_active=False))
    assert caught.value.code == "coupon_inactive"
    ended = make_template(
        "OLD",
        valid_days=None,
        valid_from=timezone.now() - timedelta(days=9),
        valid_until=timezone.now() - timedelta(days=1),
    )
    with pytest.raises(ActionError) as caught:
        create(group, staff, coupon_template=ended)
    assert caught.value.code == "coupon_ended"
    Member.objects.update(status=Member.Status.CLOSED)  # the group's members all left
    with pytest.raises(ActionError) as caught:
        create(group, staff, coupon_template=make_template("OK"))
    assert caught.value.code == "empty_group"
    assert not GroupAction.objects.exists()
    assert not Coupon.objects.exists()


def test_sms_text_fits_with_variables_at_their_widest(settings):
    settings.SMS_SIGN = "星河购物中心"  # 【星河购物中心】 8 and " 拒收请回复R" 7: 119 remain
    sms_text_check("好" * 119)
    with pytest.raises(ActionError):
        sms_text_check("好" * 120)
    with pytest.raises(ActionError):
        sms_text_check("好" * 114 + "{name}")  # {name} is counted as 6 wide
    sms_text_check("{name}您好，您的{tier}积分{points}分，卡尾号{card_no_tail}。")


# --- Coupons -----------------------------------------------------------------------------------


def test_a_coupon_goes_to_the_treatment_arm_only_with_exact_counts(
    staff, store, make_template, campaign, daytime
):
    from coupons.issuing import coupon_issue

    members = MemberFactory.create_batch(30, home_store=store)
    template = make_template(per_member_limit=1)
    group = static_group(members, staff)
    action = create(group, staff, coupon_template=template, control_percent=10)
    treatment = [m for m, a in arms(action).items() if a == Arm.TREATMENT]
    control = [m for m, a in arms(action).items() if a == Arm.CONTROL]
    # one treatment member already holds this coupon; another closes their account
    coupon_issue(template=template, member=Member.objects.get(pk=treatment[0]), campaign=campaign)
    Member.objects.filter(pk=treatment[1]).update(status=Member.Status.FROZEN)

    action = group_action_run(action_id=action.pk, chunk_size=7)

    assert action.status == GroupAction.Status.DONE and action.finished_at is not None
    assert (action.sent, action.skipped, action.failed, action.processed) == (25, 2, 0, 30)
    assert outcomes(action) == {
        (Arm.TREATMENT, Outcome.SENT, ""): 25,
        (Arm.TREATMENT, Outcome.SKIPPED, Reason.COUPON_LIMIT): 1,
        (Arm.TREATMENT, Outcome.SKIPPED, Reason.INACTIVE): 1,
        (Arm.CONTROL, Outcome.HELD_BACK, Reason.CONTROL): 3,
    }
    issued = Coupon.objects.filter(campaign=action.campaign)
    assert issued.count() == 25
    assert not issued.filter(member_id__in=control).exists()
    assert set(issued.values_list("member_id", flat=True)) == set(treatment[2:])


def test_running_twice_through_the_task_sends_nothing_twice(staff, store, make_template, daytime):
    group = static_group(MemberFactory.create_batch(12, home_store=store), staff)
    action = create(group, staff, coupon_template=make_template(), control_percent=25)
    first = group_action_run_task.delay(action.pk).get()
    second = group_action_run_task.delay(action.pk).get()
    assert first["status"] == second["status"] == "done"
    assert first["sent"] == second["sent"] == 9
    assert Coupon.objects.count() == 9
    # even a finished action forced back to running finds nothing left to send
    GroupAction.objects.filter(pk=action.pk).update(status=GroupAction.Status.RUNNING)
    group_action_run(action_id=action.pk)
    assert Coupon.objects.count() == 9


def test_a_job_that_dies_half_way_continues_on_rerun(
    staff, store, make_template, daytime, monkeypatch
):
    from coupons import issuing

    group = static_group(MemberFactory.create_batch(20, home_store=store), staff)
    action = create(group, staff, coupon_template=make_template(), control_percent=0)
    real, calls = issuing.coupons_issue_bulk, []

    def dies_on_the_third_chunk(**kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise MemoryError("worker killed")
        return real(**kwargs)

    monkeypatch.setattr(issuing, "coupons_issue_bulk", dies_on_the_third_chunk)
    with pytest.raises(MemoryError):
        group_action_run(action_id=action.pk, chunk_size=5)
    action.refresh_from_db()
    assert action.status == GroupAction.Status.RUNNING and action.sent == 10
    assert Coupon.objects.count() == 10  # the dying chunk was rolled back

    monkeypatch.setattr(issuing, "coupons_issue_bulk", real)
    action = group_action_run(action_id=action.pk, chunk_size=5)
    assert action.status == GroupAction.Status.DONE and action.sent == 20
    assert Coupon.objects.count() == 20
    assert Coupon.objects.values("member").distinct().count() == 20


def test_a_coupon_that_stops_issuing_fails_the_job_which_a_rerun_finishes(
    staff, store, make_template, daytime
):
    template = make_template()
    group = static_group(MemberFactory.create_batch(6, home_store=store), staff)
    action = create(group, staff, coupon_template=template, control_percent=0)
    template.is_active = False
    template.save()
    action = group_action_run(action_id=action.pk)
    assert action.status == GroupAction.Status.FAILED and action.error
    assert action.recipients.filter(outcome=Outcome.PENDING).count() == 6
    template.is_active = True
    template.save()
    action = group_action_run(action_id=action.pk)
    assert action.status == GroupAction.Status.DONE and action.sent == 6 and not action.error


# --- SMS: opt-outs, phones, variables, crashes, quiet hours --------------------------------


def test_sms_respects_opt_outs_and_renders_variables_with_the_opt_out_footer(
    staff, store, sms_outbox, daytime, settings
):
    settings.SMS_SIGN = "星河购物中心"
    members = MemberFactory.create_batch(6, home_store=store, name="李娜")
    a, b, c, d = members[:4]
    marketing_opt_out(member=a, channel="sms", source="h5")
    assert sms_reply_receive(phone=b.phone, text=" td ")  # replied TD to an earlier SMS
    assert not sms_reply_receive(phone=c.phone, text="谢谢")
    marketing_opt_out(member=c, channel="wechat", source="h5")  # another channel: SMS still goes
    Member.objects.filter(pk=d.pk).update(phone=None)
    group = static_group(members, staff)
    action = create(
        group,
        staff,
        kind="sms",
        control_percent=0,
        sms_text="{name}您好，卡尾号{card_no_tail}的{tier}会员，积分{points}分。",
    )
    action = group_action_run(action_id=action.pk)
    assert outcomes(action) == {
        (Arm.TREATMENT, Outcome.SENT, ""): 3,
        (Arm.TREATMENT, Outcome.SKIPPED, Reason.OPTED_OUT): 2,
        (Arm.TREATMENT, Outcome.SKIPPED, Reason.NO_PHONE): 1,
    }
    assert sorted(s["phone"] for s in sms_outbox) == sorted(
        m.phone for m in members[2:3] + members[4:]
    )
    text = next(s["text"] for s in sms_outbox if s["phone"] == c.phone)
    assert text == f"李*您好，卡尾号{c.card_no[-4:]}的会员，积分0分。 拒收请回复R"
    assert MarketingOptOut.objects.get(member=b).source == "sms_reply"


def test_verification_codes_still_reach_a_member_who_opted_out(db, sms_outbox):
    from members.otp import sms_code_send

    member = MemberFactory()
    marketing_opt_out(member=member, channel="sms", source="staff")
    sms_code_send(phone=member.phone, purpose="register", ip=None)
    assert [s["phone"] for s in sms_outbox] == [member.phone]


def test_a_gateway_error_is_recorded_and_the_job_goes_on(
    staff, store, sms_outbox, daytime, monkeypatch
):
    from members import sms

    members = MemberFactory.create_batch(4, home_store=store)
    refusing = members[1].phone
    real = sms.ConsoleSmsBackend.send

    def send(self, *, phone, text):
        if phone == refusing:
            raise SmsError("gateway said no")
        real(self, phone=phone, text=text)

    monkeypatch.setattr(sms.ConsoleSmsBackend, "send", send)
    action = create(
        static_group(members, staff), staff, kind="sms", sms_text="您好", control_percent=0
    )
    action = group_action_run(action_id=action.pk)
    assert action.status == GroupAction.Status.DONE
    assert (action.sent, action.failed) == (3, 1)
    failed = action.recipients.get(outcome=Outcome.FAILED)
    assert failed.member_id == members[1].pk and failed.reason == Reason.GATEWAY
    assert len(sms_outbox) == 3


def test_an_sms_job_killed_mid_send_never_resends(staff, store, sms_outbox, daytime, monkeypatch):
    from members import sms

    members = MemberFactory.create_batch(10, home_store=store)
    real = sms.ConsoleSmsBackend.send

    def dies_on_the_fourth(self, *, phone, text):
        if len(sms_outbox) == 3:
            raise SystemExit("worker killed")
        real(self, phone=phone, text=text)

    monkeypatch.setattr(sms.ConsoleSmsBackend, "send", dies_on_the_fourth)
    action = create(
        static_group(members, staff), staff, kind="sms", sms_text="您好", control_percent=0
    )
    with pytest.raises(SystemExit):
        group_action_run(action_id=action.pk, chunk_size=6)
    monkeypatch.setattr(sms.ConsoleSmsBackend, "send", real)
    action = group_action_run(action_id=action.pk, chunk_size=6)
    phones = [s["phone"] for s in sms_outbox]
    assert len(phones) == len(set(phones)) == 7  # 3 before, none of the claimed 6 again, 4 after
    assert outcomes(action) == {
        (Arm.TREATMENT, Outcome.SENT, ""): 7,
        (Arm.TREATMENT, Outcome.FAILED, Reason.INTERRUPTED): 3,
    }
    group_action_run(action_id=action.pk)
    assert len(sms_outbox) == 7


def test_a_second_run_while_one_is_sending_returns_without_touching_anything(
    staff, store, sms_outbox, daytime
):
    import zlib

    import psycopg2
    from django.db import connection

    members = MemberFactory.create_batch(4, home_store=store)
    action = create(
        static_group(members, staff), staff, kind="sms", sms_text="您好", control_percent=0
    )
    # a first run, in another session, is mid-send: it holds the action's lock and has
    # claimed two rows
    action.recipients.filter(member__in=members[:2]).update(outcome=Outcome.SENDING)
    db = connection.settings_dict
    other = psycopg2.connect(
        dbname=db["NAME"],
        user=db["USER"],
        host=db["HOST"],
        port=db["PORT"] or 5432,
        password=db["PASSWORD"] or None,
    )
    try:
        with other.cursor() as cursor:
            key = zlib.crc32(f"analytics.group_action:{action.pk}".encode())
            cursor.execute("SELECT pg_advisory_lock(%s)", [key])
        second = group_action_run(action_id=action.pk)
        assert second.status == GroupAction.Status.QUEUED and sms_outbox == []
        assert action.recipients.filter(outcome=Outcome.SENDING).count() == 2  # left alone
    finally:
        # the first run's worker dies: its lock goes with its session (released here at
        # once, as the server's clean-up of a dropped connection takes a moment)
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock_all()")
        other.close()
    action = group_action_run(action_id=action.pk)
    assert outcomes(action) == {
        (Arm.TREATMENT, Outcome.SENT, ""): 2,
        (Arm.TREATMENT, Outcome.FAILED, Reason.INTERRUPTED): 2,
    }
    assert len(sms_outbox) == 2


def test_quiet_hours_defer_sms_until_they_end(staff, store, sms_outbox, time_machine, monkeypatch):
    time_machine.move_to(datetime(2026, 11, 24, 22, 30, tzinfo=SHANGHAI), tick=False)
    scheduled = []
    monkeypatch.setattr(tasks, "group_action_run_later", lambda **kwargs: scheduled.append(kwargs))
    members = MemberFactory.create_batch(5, home_store=store)
    action = create(
        static_group(members, staff), staff, kind="sms", sms_text="您好", control_percent=20
    )
    result = group_action_run_task.delay(action.pk).get()
    nine = datetime(2026, 11, 25, 9, 0, tzinfo=SHANGHAI)
    assert scheduled == [{"action_id": action.pk, "eta": nine, "queue": None}]
    assert result["status"] == "running" and result["deferred_until"] == nine.isoformat()
    assert sms_outbox == []
    assert action.recipients.filter(outcome=Outcome.PENDING).count() == 4  # waiting, not skipped
    assert action.recipients.filter(outcome=Outcome.HELD_BACK).count() == 1

    # the scheduled restart; the nightly-style safety net finds nothing due before nine
    time_machine.move_to(nine - timedelta(minutes=1), tick=False)
    assert group_actions_resume() == []
    time_machine.move_to(nine, tick=False)
    result = group_action_run_task.delay(action.pk).get()
    assert result["status"] == "done" and result["sent"] == 4 and result["deferred_until"] is None
    assert len(sms_outbox) == 4 and len(scheduled) == 1
    held_back = Member.objects.get(pk=action.recipients.get(arm=Arm.CONTROL).member_id)
    assert held_back.phone not in [s["phone"] for s in sms_outbox]
    assert group_actions_resume() == []  # done: nothing to resume


def test_the_safety_net_resumes_a_deferred_action_whose_restart_was_lost(
    staff, store, sms_outbox, time_machine, monkeypatch
):
    time_machine.move_to(datetime(2026, 11, 24, 23, 0, tzinfo=SHANGHAI), tick=False)
    monkeypatch.setattr(tasks, "group_action_run_later", lambda **kwargs: None)  # lost
    members = MemberFactory.create_batch(3, home_store=store)
    action = create(
        static_group(members, staff), staff, kind="sms", sms_text="您好", control_percent=0
    )
    group_action_run_task.delay(action.pk).get()
    time_machine.move_to(datetime(2026, 11, 25, 9, 5, tzinfo=SHANGHAI), tick=False)
    assert group_actions_resume() == [action.pk]
    action.refresh_from_db()
    assert action.status == GroupAction.Status.DONE and len(sms_outbox) == 3


def test_quiet_hours_do_not_hold_coupons_or_tags(staff, store, make_template, time_machine):
    time_machine.move_to(datetime(2026, 11, 24, 23, 59, tzinfo=SHANGHAI), tick=False)
    group = static_group(MemberFactory.create_batch(3, home_store=store), staff)
    coupon = group_action_run(
        action_id=create(group, staff, coupon_template=make_template(), control_percent=0).pk
    )
    tag = Tag.objects.create(name="夜猫子")
    tagged = group_action_run(
        action_id=create(group, staff, kind="tag", tag=tag, control_percent=0).pk
    )
    assert coupon.status == tagged.status == GroupAction.Status.DONE
    assert Coupon.objects.count() == 3 and MemberTag.objects.filter(tag=tag).count() == 3


@pytest.mark.parametrize(
    ("clock", "resume"),
    [
        ("20:59", None),
        ("21:00", "2026-11-25 09:00"),
        ("23:30", "2026-11-25 09:00"),
        ("00:10", "2026-11-24 09:00"),
        ("08:59", "2026-11-24 09:00"),
        ("09:00", None),
    ],
)
def test_quiet_hours_end(clock, resume, settings):
    settings.MARKETING_QUIET_HOURS = ("21:00", "09:00")
    now = datetime.fromisoformat(f"2026-11-24 {clock}").replace(tzinfo=SHANGHAI)
    expected = datetime.fromisoformat(resume).replace(tzinfo=SHANGHAI) if resume else None
    assert quiet_hours_end(now) == expected


# --- The frequency cap, across channels ------------------------------------------------------


def test_the_frequency_cap_counts_coupons_sms_and_messages_together(
    staff, store, make_template, sms_outbox, time_machine, settings
):
    settings.MARKETING_FREQUENCY_CAP, settings.MARKETING_FREQUENCY_DAYS = 2, 7
    time_machine.move_to(datetime(2026, 11, 10, 10, 0, tzinfo=SHANGHAI), tick=False)
    a, b, c = MemberFactory.create_batch(3, home_store=store)
    tag = Tag.objects.create(name="春季回访")
    # a: a coupon 8 days ago (outside the 7 days) and a message 2 days ago → one touch counts
    group_action_run(
        action_id=create(
            static_group([a], staff), staff, coupon_template=make_template(), control_percent=0
        ).pk
    )
    time_machine.move_to(datetime(2026, 11, 16, 10, 0, tzinfo=SHANGHAI), tick=False)
    group_action_run(
        action_id=create(
            static_group([a, b], staff),
            staff,
            kind="message",
            title="双十二",
            body="来逛逛",
            control_percent=0,
        ).pk
    )
    # b: a coupon as well → two touches; tags are no touch at all
    group_action_run(
        action_id=create(
            static_group([b], staff), staff, coupon_template=make_template("C2"), control_percent=0
        ).pk
    )
    for _ in range(3):
        group_action_run(
            action_id=create(
                static_group([c], staff), staff, kind="tag", tag=tag, control_percent=0
            ).pk
        )
    time_machine.move_to(datetime(2026, 11, 18, 10, 0, tzinfo=SHANGHAI), tick=False)

    action = create(
        static_group([a, b, c], staff), staff, kind="sms", sms_text="您好", control_percent=0
    )
    action = group_action_run(action_id=action.pk)
    skipped = action.recipients.get(outcome=Outcome.SKIPPED)
    assert (skipped.member_id, skipped.reason) == (b.pk, Reason.FREQUENCY_CAP)
    assert sorted(s["phone"] for s in sms_outbox) == sorted([a.phone, c.phone])


@pytest.mark.django_db(transaction=True)
def test_two_campaigns_at_once_cannot_both_pass_a_member_at_the_cap(
    staff, store, make_template, daytime, settings, monkeypatch
):
    """The second job waits for the first one's chunk to commit, then counts its touches."""
    import threading

    import coupons.issuing

    settings.MARKETING_FREQUENCY_CAP, settings.MARKETING_FREQUENCY_DAYS = 1, 7
    members = MemberFactory.create_batch(3, home_store=store)
    first_template, second_template = make_template("FIRST"), make_template("SECOND")
    first = create(
        static_group(members, staff, "甲"),
        staff,
        coupon_template=first_template,
        control_percent=0,
    )
    second = create(
        static_group(members, staff, "乙"),
        staff,
        coupon_template=second_template,
        control_percent=0,
    )
    issue, inside, go = coupons.issuing.coupons_issue_bulk, threading.Event(), threading.Event()

    def issue_slowly(*, template, **kwargs):
        if template.pk == first_template.pk:  # the first job stops half-way through its chunk
            inside.set()
            assert go.wait(10)
        return issue(template=template, **kwargs)

    monkeypatch.setattr(coupons.issuing, "coupons_issue_bulk", issue_slowly)
    done = {}

    def run(action):
        from django.db import connection

        try:
            done[action.pk] = group_action_run(action_id=action.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(a,)) for a in (first, second)]
    threads[0].start()
    assert inside.wait(10)
    threads[1].start()
    threads[1].join(1.5)
    assert threads[1].is_alive()  # waiting on the members the first job holds
    go.set()
    for thread in threads:
        thread.join(20)
    assert not any(t.is_alive() for t in threads)
    assert outcomes(done[first.pk]) == {(Arm.TREATMENT, Outcome.SENT, ""): 3}
    assert outcomes(done[second.pk]) == {(Arm.TREATMENT, Outcome.SKIPPED, Reason.FREQUENCY_CAP): 3}
    assert Coupon.objects.filter(member__in=members).count() == 3


# --- Messages and tags -----------------------------------------------------------------------


def test_a_message_goes_to_the_inbox_and_wechat_and_honours_opt_outs(
    staff, store, daytime, fake_wechat, settings, django_capture_on_commit_callbacks
):
    members = MemberFactory.create_batch(4, home_store=store)
    follower, plain, opted, _other = members
    from members.wechat_fake import FakeUser

    fake_wechat.state.users["o_follow"] = FakeUser(openid="o_follow", nickname="李娜")
    WechatIdentity.objects.create(app_id=settings.WECHAT_APP_ID, openid="o_follow", member=follower)
    marketing_opt_out(member=opted, channel="wechat", source="h5")
    action = create(
        static_group(members, staff),
        staff,
        kind="message",
        control_percent=0,
        title="双十二",
        body="满 300 减 50",
        link="/m/coupons/",
    )
    with django_capture_on_commit_callbacks(execute=True):  # the WeChat pushes follow commits
        action = group_action_run(action_id=action.pk)
    assert outcomes(action) == {
        (Arm.TREATMENT, Outcome.SENT, ""): 1,
        (Arm.TREATMENT, Outcome.SENT, Reason.NO_WECHAT): 2,
        (Arm.TREATMENT, Outcome.SKIPPED, Reason.OPTED_OUT): 1,
    }
    inbox = Message.objects.filter(title="双十二")
    assert set(inbox.values_list("member_id", flat=True)) == {follower.pk, plain.pk, _other.pk}
    assert inbox.get(member=follower).push_status == Message.Push.SENT
    assert inbox.get(member=plain).push_status == Message.Push.NONE
    assert [m["touser"] for m in fake_wechat.state.messages] == ["o_follow"]


def test_a_tag_goes_on_the_treatment_arm_only(staff, store, daytime):
    members = MemberFactory.create_batch(10, home_store=store)
    tag = Tag.objects.create(name="母婴")
    action = create(static_group(members, staff), staff, kind="tag", tag=tag, control_percent=30)
    action = group_action_run(action_id=action.pk)
    treatment = {m for m, a in arms(action).items() if a == Arm.TREATMENT}
    assert len(treatment) == 7
    assert set(MemberTag.objects.filter(tag=tag).values_list("member_id", flat=True)) == treatment


# --- Conversion per arm ------------------------------------------------------------------------


def test_each_arm_converts_by_the_same_rule_from_the_same_start(
    staff, store, make_template, time_machine
):
    start = datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)
    time_machine.move_to(start, tick=False)
    members = MemberFactory.create_batch(20, home_store=store)
    action = create(
        static_group(members, staff),
        staff,
        coupon_template=make_template(),
        control_percent=25,
        window_days=7,
    )
    action = group_action_run(action_id=action.pk)
    assert action.started_at == start
    by_id = {m.pk: m for m in members}
    treatment = [by_id[m] for m, a in sorted(arms(action).items()) if a == Arm.TREATMENT]
    control = [by_id[m] for m, a in sorted(arms(action).items()) if a == Arm.CONTROL]
    assert (len(treatment), len(control)) == (15, 5)
    # treatment: 6 buyers in the window (one of them twice, one with a partial refund)
    for member in treatment[:6]:
        receipt(member, start + timedelta(days=1), 10000)
    receipt(treatment[0], start + timedelta(days=2), 5000)
    receipt(treatment[1], start + timedelta(days=3), 4000, refund=True)
    # outside the window, either side: do not count
    receipt(treatment[6], start - timedelta(seconds=1), 99900)
    receipt(treatment[7], start + timedelta(days=7), 99900)
    # a refund alone is no purchase
    receipt(treatment[8], start + timedelta(days=1), 3000, refund=True)
    # control: 1 buyer, on the last second of the window
    receipt(control[0], start + timedelta(days=7, seconds=-1), 20000)

    results = group_action_results(action, now=start + timedelta(days=8))
    t, c = results["arms"]
    assert (t["members"], t["converted"], t["revenue_fen"]) == (15, 6, 60000 + 5000 - 4000 - 3000)
    assert (c["members"], c["converted"], c["revenue_fen"]) == (5, 1, 20000)
    assert t["rate"] == 40 and c["rate"] == 20
    assert t["revenue_per_member_fen"] == round(58000 / 15) and c["revenue_per_member_fen"] == 4000
    assert results["uplift"] == rate_difference_newcombe(6, 15, 1, 5)
    assert results["revenue_uplift"].estimate == pytest.approx(58000 / 15 - 4000)
    assert results["complete"]


def test_members_who_left_the_group_still_count_in_their_arm(staff, store, make_template, daytime):
    members = MemberFactory.create_batch(10, home_store=store)
    group = static_group(members, staff)
    action = group_action_run(
        action_id=create(group, staff, coupon_template=make_template(), control_percent=20).pk
    )
    GroupMember.objects.filter(group=group).delete()
    buyer = next(m for m, a in arms(action).items() if a == Arm.CONTROL)
    receipt(Member.objects.get(pk=buyer), timezone.now() + timedelta(hours=1), 100)
    t, c = group_action_results(action)["arms"]
    assert (t["members"], c["members"], c["converted"]) == (8, 2, 1)


# --- On a real worker through Redis: quiet hours end, the rescheduled task sends -----------


@pytest.fixture
def quiet_for_a_few_seconds(monkeypatch):
    """Quiet hours (for the worker, through its environment) from a minute ago until 15
    seconds from now, Shanghai time; set before the worker starts."""
    now = timezone.localtime()
    start, end = now - timedelta(minutes=1), now + timedelta(seconds=15)
    monkeypatch.setenv("MARKETING_QUIET_START", start.strftime("%H:%M:%S"))
    monkeypatch.setenv("MARKETING_QUIET_END", end.strftime("%H:%M:%S"))
    return end


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not __import__("django.conf").conf.settings.REDIS_URL, reason="needs REDIS_URL")
def test_on_a_real_worker_an_sms_waits_for_the_end_of_quiet_hours(
    quiet_for_a_few_seconds, worker, store
):
    import time

    staff = StaffFactory(user__role="analyst").user
    members = MemberFactory.create_batch(3, home_store=store)
    action = create(
        static_group(members, staff), staff, kind="sms", sms_text="您好", control_percent=0
    )
    first = group_action_run_task.apply_async(args=[action.pk], queue=worker["queue"])
    try:
        answer = first.get(timeout=60)
    except Exception:
        worker["process"].terminate()
        print(worker["process"].communicate(timeout=10)[0])
        raise
    assert answer["status"] == "running"
    assert answer["deferred_until"] == quiet_for_a_few_seconds.replace(microsecond=0).isoformat()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        action.refresh_from_db()
        if action.status == GroupAction.Status.DONE:
            break
        time.sleep(0.5)
    assert action.status == GroupAction.Status.DONE and action.sent == 3
    sent_at = min(action.recipients.values_list("at", flat=True))
    assert sent_at >= quiet_for_a_few_seconds.replace(microsecond=0)


# --- A coupon with an SMS notice ({coupon_name}) ----------------------------------------------


def test_a_coupon_with_an_sms_notice_names_the_coupon_and_honours_sms_opt_outs(
    staff, store, make_template, sms_outbox, daytime, settings
):
    members = MemberFactory.create_batch(10, home_store=store)
    opted, phoneless = members[0], members[1]
    marketing_opt_out(member=opted, channel="sms", source="sms_reply")
    Member.objects.filter(pk=phoneless.pk).update(phone=None)
    template = make_template(name="满300减50")
    action = create(
        static_group(members, staff),
        staff,
        coupon_template=template,
        control_percent=20,
        sms_text="您的{coupon_name}已到账，卡尾号{card_no_tail}。",
    )
    control = {m for m, a in arms(action).items() if a == Arm.CONTROL}
    assert len(control) == 2
    action = group_action_run(action_id=action.pk)
    treatment = [m for m in members if m.pk not in control]
    # every treatment member has the coupon, whatever their SMS preference
    assert set(Coupon.objects.values_list("member_id", flat=True)) == {m.pk for m in treatment}
    notices = dict(action.recipients.values_list("member_id", "notice"))
    expected_sent = [m for m in treatment if m not in (opted, phoneless)]
    assert sorted(s["phone"] for s in sms_outbox) == sorted(m.phone for m in expected_sent)
    for m in treatment:
        skipped = m in (opted, phoneless)
        assert notices[m.pk] == ("skipped" if skipped else "sent")
    assert all(notices[m] == "" for m in control)
    text = next(s["text"] for s in sms_outbox if s["phone"] == expected_sent[0].phone)
    assert text == f"您的满300减50已到账，卡尾号{expected_sent[0].card_no[-4:]}。 拒收请回复R"
    assert action.sent == len(treatment)  # one touch each: the coupon


def test_a_coupon_with_a_notice_waits_for_quiet_hours_but_one_without_does_not(
    staff, store, make_template, sms_outbox, time_machine
):
    time_machine.move_to(datetime(2026, 11, 24, 22, 0, tzinfo=SHANGHAI), tick=False)
    group = static_group(MemberFactory.create_batch(3, home_store=store), staff)
    with_notice = create(
        group,
        staff,
        coupon_template=make_template(),
        control_percent=0,
        sms_text="{coupon_name}已到账",
    )
    assert group_action_run(action_id=with_notice.pk).deferred_until is not None
    assert not Coupon.objects.exists() and sms_outbox == []
    without = create(group, staff, coupon_template=make_template("C2"), control_percent=0)
    assert group_action_run(action_id=without.pk).status == GroupAction.Status.DONE


def test_a_notice_killed_mid_send_is_not_resent_and_the_coupons_stay(
    staff, store, make_template, sms_outbox, daytime, monkeypatch
):
    from members import sms

    members = MemberFactory.create_batch(5, home_store=store)
    real = sms.ConsoleSmsBackend.send

    def dies_on_the_third(self, *, phone, text):
        if len(sms_outbox) == 2:
            raise SystemExit("worker killed")
        real(self, phone=phone, text=text)

    monkeypatch.setattr(sms.ConsoleSmsBackend, "send", dies_on_the_third)
    action = create(
        static_group(members, staff),
        staff,
        coupon_template=make_template(),
        control_percent=0,
        sms_text="{coupon_name}已到账",
    )
    with pytest.raises(SystemExit):
        group_action_run(action_id=action.pk)
    monkeypatch.setattr(sms.ConsoleSmsBackend, "send", real)
    action = group_action_run(action_id=action.pk)
    assert action.status == GroupAction.Status.DONE and Coupon.objects.count() == 5
    assert len(sms_outbox) == 2
    assert sorted(action.recipients.values_list("notice", flat=True)) == [
        "interrupted",
        "interrupted",
        "interrupted",
        "sent",
        "sent",
    ]


def test_coupon_name_is_for_a_coupons_notice_only():
    with pytest.raises(ActionError) as caught:
        sms_text_check("您的{coupon_name}到了")
    assert caught.value.code == "sms_variable"
    sms_text_check("您的{coupon_name}到了", coupon=True)
