"""Actions on a member group (发送优惠券 / 发送短信息 / messages / tags), measured with a
control group.

group_action_create saves the audience and each member's arm in one INSERT … SELECT before
anything goes out: the control arm is the exact share of the audience with the smallest
md5(action id, member id), a stable draw nobody can move by re-running or re-filtering.
group_action_run (analytics.tasks) then works through the treatment arm's rows that have no
outcome yet, a chunk at a time, through the existing services (coupons_issue_bulk keyed per
action and member, members.messaging.messages_send, members.sms.sms_send, MemberTag), so a
rerun continues where the last one stopped and nobody gets anything twice. SMS rows are
claimed ("sending") and committed before the text goes out: a run that dies mid-send leaves
them marked interrupted, never sent again.

A coupon may carry an SMS notice ({coupon_name}): the coupon is issued whatever the
member's SMS preference, the notice only to those who take marketing SMS, claimed and sent
the same way, its fate kept in the row's `notice`.

Marketing rules: opt-outs (members.marketing) per channel; quiet hours hold SMS and messages
(and coupons with a notice; the job waits for their end, plain coupons and tags do not); a
frequency cap counts coupons, SMS and messages together from these rows (one touch per
action and member), never transactional texts. One run per action at a time (an advisory
lock).
"""

import re
from collections import Counter
from collections.abc import Callable
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from analytics.groups import group_members
from analytics.models import GroupAction, GroupActionRecipient, MemberGroup, MemberTag, Tag
from core.audit import audit_log
from core.exceptions import ServiceError
from core.locks import advisory_lock
from core.masking import mask_name
from coupons.issuing import CouponError, validity_for
from coupons.models import Campaign, CouponTemplate
from loyalty.models import ReceiptLine
from members.marketing import SMS_OPT_OUT_FOOTER
from members.messaging import messages_send
from members.models import MarketingOptOut, Member, Message, WechatIdentity, link_validator
from members.scoping import scoped
from members.sms import SmsError, sms_send

Kind, Status = GroupAction.Kind, GroupAction.Status
Arm, Outcome, Reason, Notice = (
    GroupActionRecipient.Arm,
    GroupActionRecipient.Outcome,
    GroupActionRecipient.Reason,
    GroupActionRecipient.Notice,
)
MARKETING_KINDS = (Kind.COUPON, Kind.SMS, Kind.MESSAGE)  # what the frequency cap counts
QUIET_KINDS = (Kind.SMS, Kind.MESSAGE)  # what quiet hours hold (and a coupon's SMS notice)
KIND_TITLES = {
    Kind.COUPON: _("Send a coupon"),
    Kind.SMS: _("Send an SMS"),
    Kind.MESSAGE: _("Send a message"),
    Kind.TAG: _("Add a tag"),
}
CHUNK = 500
CONTROL_MAX = 50
WINDOW_MAX = 90

# SMS variables and the widest each can render (for the length check)
SMS_VARIABLES = {"name": 6, "card_no_tail": 4, "points": 9, "tier": 8, "coupon_name": 20}
COUPON_ONLY = {"coupon_name"}  # in a coupon's SMS notice only
SMS_MAX_CHARS = 134  # two 67-character segments of a long Chinese SMS, sign and footer included
VARIABLE = re.compile(r"\{([^{}]*)\}")


class ActionError(ServiceError):
    code = "action_error"


# --- Checking and rendering SMS text ------------------------------------------------------


def sms_text_check(text: str, *, coupon: bool = False) -> None:
    """ActionError unless `text` uses only known {variables} ({coupon_name} only in a
    coupon's notice), has no stray braces, and fits in SMS_MAX_CHARS with its variables at
    their widest, the sign and the opt-out footer."""
    if not text.strip():
        raise ActionError(_("Write the text of the SMS."), code="sms_empty")
    known = {n for n in SMS_VARIABLES if coupon or n not in COUPON_ONLY}
    unknown = [name for name in VARIABLE.findall(text) if name not in known]
    if unknown:
        raise ActionError(
            _("Unknown variable {%(name)s}. Use %(known)s."),
            code="sms_variable",
            params={"name": unknown[0], "known": sms_variables_text(coupon=coupon)},
        )
    if "{" in VARIABLE.sub("", text) or "}" in VARIABLE.sub("", text):
        raise ActionError(
            _("A brace is not closed: variables are written like {name}."), code="sms_brace"
        )
    widest = VARIABLE.sub(lambda m: "x" * SMS_VARIABLES[m.group(1)], text)
    length = len(sms_frame(widest))
    if length > SMS_MAX_CHARS:
        raise ActionError(
            _(
                "The SMS would be up to %(length)s characters with its variables, sign and "
                "opt-out note; at most %(max)s are allowed."
            ),
            code="sms_too_long",
            params={"length": length, "max": SMS_MAX_CHARS},
        )


def sms_variables_text(*, coupon: bool = False) -> str:
    names = [n for n in SMS_VARIABLES if coupon or n not in COUPON_ONLY]
    return " ".join("{%s}" % name for name in names)  # noqa: UP031 (braces)


def sms_frame(text: str) -> str:
    """The text as the member's phone shows it: the gateway's 【sign】, the opt-out footer."""
    return f"【{settings.SMS_SIGN}】{text}{sms_footer()}"


def sms_footer() -> str:
    from members.messaging import message_render

    return " " + message_render(SMS_OPT_OUT_FOOTER)


def sms_text_render(text: str, values: dict) -> str:
    """`text` with each {variable} replaced by plain substitution (no format(): nothing in a
    template can reach an attribute), and the opt-out footer; the gateway adds the sign."""
    body = VARIABLE.sub(lambda m: str(values.get(m.group(1), "")), text)
    return body + sms_footer()


def sms_values(member: Member, *, coupon_name: str = "") -> dict:
    account = getattr(member, "points_account", None)
    return {
        "name": mask_name(member.name),
        "card_no_tail": member.card_no[-4:],
        "points": account.balance if account else 0,
        "tier": account.tier.name if account and account.tier else "",
        "coupon_name": coupon_name,
    }


# --- Creating an action: checks, the audience and the arms -----------------------------------


# Receipt-line fields a conversion may name (exact matches)
CONVERSION_FIELDS = {"sku_code", "name", "brand_id", "brand_name", "category_id", "category_name"}


def conversion_lines_check(lines: list) -> None:
    """ActionError unless `lines` is a list of {receipt-line field: value} alternatives."""
    if not isinstance(lines, list) or not all(
        isinstance(line, dict) and line and set(line) <= CONVERSION_FIELDS for line in lines
    ):
        raise ActionError(_("The conversion names unknown receipt fields."), code="conversion")


def receipt_lines_q(lines: list) -> Q:
    """Receipt lines matching one of `lines` ({field: value} alternatives; None: empty)."""
    conversion_lines_check(lines)
    condition = Q()
    for line in lines:
        part = Q()
        for field, value in line.items():
            part &= Q(**({f"{field}__isnull": True} if value is None else {field: value}))
        condition |= part
    return condition


def group_action_check(
    *,
    kind: str,
    control_percent: int,
    window_days: int,
    coupon_template: CouponTemplate | None = None,
    sms_text: str = "",
    title: str = "",
    body: str = "",
    link: str = "",
    tag: Tag | None = None,
) -> None:
    """ActionError naming what is wrong with an action's parameters."""
    if not 0 <= control_percent <= CONTROL_MAX:
        raise ActionError(
            _("The control group is between 0 and %(max)s %% of the group."),
            code="control_percent",
            params={"max": CONTROL_MAX},
        )
    if not 1 <= window_days <= WINDOW_MAX:
        raise ActionError(
            _("The conversion window is 1 to %(max)s days."),
            code="window_days",
            params={"max": WINDOW_MAX},
        )
    if kind == Kind.COUPON:
        if coupon_template is None:
            raise ActionError(_("Choose a coupon."), code="coupon_missing")
        if not coupon_template.is_active:
            raise ActionError(_("This coupon is not active."), code="coupon_inactive")
        if validity_for(coupon_template, timezone.now())[1] <= timezone.now():
            raise ActionError(_("This coupon's validity has ended."), code="coupon_ended")
        if sms_text:  # the optional SMS notice of the coupon
            sms_text_check(sms_text, coupon=True)
    elif kind == Kind.SMS:
        sms_text_check(sms_text)
    elif kind == Kind.MESSAGE:
        if not title.strip() or not body.strip():
            raise ActionError(_("A message needs a title and a text."), code="message_empty")
        if link:
            try:
                link_validator(link)
            except ValidationError as exc:
                raise ActionError(exc.messages[0], code="message_link") from exc
    elif kind == Kind.TAG:
        if tag is None:
            raise ActionError(_("Choose a tag."), code="tag_missing")
    else:
        raise ActionError(_("Unknown kind of action."), code="kind")


def group_action_create(
    *,
    group: MemberGroup,
    kind: str,
    name: str,
    actor,
    enqueue: Callable[[int], object],
    control_percent: int = 10,
    window_days: int = 14,
    coupon_template: CouponTemplate | None = None,
    sms_text: str = "",
    title: str = "",
    body: str = "",
    link: str = "",
    tag: Tag | None = None,
    conversion_lines: list | None = None,
    conversion_label: str = "",
) -> GroupAction:
    """Check the parameters, save the action with its audience (the group's active members
    in `actor`'s scope, now) and each member's arm, audited; after commit `enqueue(action
    id)` hands it to a worker (callers pass analytics.tasks.group_action_run_task.delay).
    ActionError if the group has nobody to send to. With `conversion_lines`, a member
    converts by a sale with a matching line (conversion_lines_check), not any sale."""
    conversion_lines_check(conversion_lines or [])
    group_action_check(
        kind=kind,
        control_percent=control_percent,
        window_days=window_days,
        coupon_template=coupon_template,
        sms_text=sms_text,
        title=title,
        body=body,
        link=link,
        tag=tag,
    )
    with transaction.atomic():
        campaign = None
        if kind == Kind.COUPON:
            # the coupons' own results (核销, revenue) roll up under this campaign too
            campaign = Campaign.objects.create(
                name=name[:100], channel=Campaign.Channel.GROUP, created_by=actor
            )
        action = GroupAction.objects.create(
            group=group,
            kind=kind,
            name=name,
            coupon_template=coupon_template if kind == Kind.COUPON else None,
            campaign=campaign,
            sms_text=sms_text if kind in (Kind.SMS, Kind.COUPON) else "",
            title=title if kind == Kind.MESSAGE else "",
            body=body if kind == Kind.MESSAGE else "",
            link=link if kind == Kind.MESSAGE else "",
            tag=tag if kind == Kind.TAG else None,
            control_percent=control_percent,
            window_days=window_days,
            conversion_lines=conversion_lines or [],
            conversion_label=conversion_label[:100],
            created_by=actor,
        )
        audience = _audience_save(action, group_members(group, user=actor))
        if not audience:
            raise ActionError(
                _("This group has no active members you may send to."), code="empty_group"
            )
        counts = dict(
            action.recipients.values("arm").annotate(n=Count("id")).values_list("arm", "n")
        )
        action.audience = audience
        action.treatment = counts.get(Arm.TREATMENT, 0)
        action.control = counts.get(Arm.CONTROL, 0)
        action.save(update_fields=["audience", "treatment", "control"])
        audit_log(
            actor=actor,
            action="analytics.action.created",
            target=action,
            data={
                "group": group.pk,
                "kind": kind,
                "audience": audience,
                "control": action.control,
            },
        )
        transaction.on_commit(lambda: enqueue(action.pk))
    return action


def _audience_save(action: GroupAction, members: QuerySet) -> int:
    """INSERT … SELECT the audience; the control arm is the ROUND(n × p) members with the
    smallest md5(action id:member id), so its size is exact for any audience."""
    sql, params = members.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO analytics_groupactionrecipient
                (action_id, member_id, arm, outcome, reason, detail, notice, kind, at)
            SELECT %s, ranked.id,
                   CASE WHEN ranked.draw <= ROUND(ranked.total * %s / 100.0)
                        THEN 'control' ELSE 'treatment' END,
                   '', '', '', '', %s, NULL
            FROM (
                SELECT m.id,
                       ROW_NUMBER() OVER (ORDER BY md5(%s || ':' || m.id::text), m.id) AS draw,
                       COUNT(*) OVER () AS total
                FROM ({sql}) AS m (id)
            ) AS ranked
            ON CONFLICT (action_id, member_id) DO NOTHING
            """,  # noqa: S608 (the inner SQL is Django's, its values are parameters)
            [action.pk, action.control_percent, action.kind, str(action.pk), *params],
        )
        return cursor.rowcount


def actions_visible(*, user) -> QuerySet:
    """The actions `user` may see: their own, and those of staff bound to a store in their
    data scope; HQ sees every action."""
    actions = GroupAction.objects.all()
    in_scope = scoped(actions, user=user, store_field="created_by__staff_profile__store")
    return actions.filter(Q(created_by_id=user.pk) | Q(pk__in=in_scope.values("pk")))


# --- Running an action ---------------------------------------------------------------------


def quiet_hours_end(now: datetime) -> datetime | None:
    """If `now` falls in the quiet hours (settings.MARKETING_QUIET_HOURS, Shanghai time),
    the moment they end; else None."""
    start, end = (time.fromisoformat(t) for t in settings.MARKETING_QUIET_HOURS)
    local = timezone.localtime(now)
    today = local.date()
    clock = local.time()
    if start == end:
        return None
    if start < end:
        quiet = start <= clock < end
        resume_day = today
    else:  # across midnight, e.g. 21:00–09:00
        quiet = clock >= start or clock < end
        resume_day = today if clock < end else today + timedelta(days=1)
    if not quiet:
        return None
    return timezone.make_aware(datetime.combine(resume_day, end))


def group_action_rerun(*, action: GroupAction, actor, enqueue: Callable[[int], object]) -> None:
    """Staff restart a failed or stalled action: it continues from its saved audience."""
    if action.status == Status.DONE:
        raise ActionError(_("This action has finished."), code="done")
    with transaction.atomic():
        audit_log(actor=actor, action="analytics.action.rerun", target=action)
        transaction.on_commit(lambda: enqueue(action.pk))


def group_action_run(*, action_id: int, chunk_size: int = CHUNK) -> GroupAction:
    """Work through the action's treatment rows without an outcome, a chunk per committed
    transaction (the action row locked), recording each member's outcome; returns the action,
    RUNNING with `deferred_until` set while quiet hours hold it. Safe to run again at any
    point: done rows are never touched twice. One run per action at a time (a session
    advisory lock, released when a killed worker's connection drops); a second returns at
    once."""
    with advisory_lock(f"analytics.group_action:{action_id}") as acquired:
        if not acquired:
            return GroupAction.objects.get(pk=action_id)
        return _run(action_id, chunk_size)


def _run(action_id: int, chunk_size: int) -> GroupAction:
    now = timezone.now()
    with transaction.atomic():
        action = GroupAction.objects.select_for_update().get(pk=action_id)
        if action.status == Status.DONE:
            return action
        action.status, action.error = Status.RUNNING, ""
        action.started_at = action.started_at or now
        action.save(update_fields=["status", "error", "started_at"])
        action.recipients.filter(arm=Arm.CONTROL, outcome=Outcome.PENDING).update(
            outcome=Outcome.HELD_BACK, reason=Reason.CONTROL, at=now
        )
        # A run that died between claiming and recording (no other run is alive: the lock):
        # the text may have gone out, so it is never sent again.
        action.recipients.filter(outcome=Outcome.SENDING).update(
            outcome=Outcome.FAILED, reason=Reason.INTERRUPTED, at=now
        )
        action.recipients.filter(notice=Notice.SENDING).update(notice=Notice.INTERRUPTED)
        _counts_refresh(action)
    while True:
        claimed: list[int] = []
        with transaction.atomic():
            action = (
                GroupAction.objects.select_for_update(of=("self",))
                .select_related("coupon_template", "campaign", "tag")
                .get(pk=action_id)
            )
            if action.status != Status.RUNNING:
                return action
            now = timezone.now()
            resume = quiet_hours_end(now) if _quiet_hours_hold(action) else None
            if resume is not None:
                action.deferred_until = resume
                action.save(update_fields=["deferred_until"])
                return action
            ids = list(
                action.recipients.filter(arm=Arm.TREATMENT, outcome=Outcome.PENDING)
                .order_by("member_id")
                .values_list("member_id", flat=True)[:chunk_size]
            )
            if not ids:
                action.status, action.finished_at = Status.DONE, now
                action.deferred_until = None
                action.save(update_fields=["status", "finished_at", "deferred_until"])
                _counts_refresh(action)
                return action
            if action.deferred_until:
                action.deferred_until = None
                action.save(update_fields=["deferred_until"])
            eligible = _screen(action, ids, now)
            try:
                claimed = _deliver(action, eligible, now)
            except CouponError as exc:
                # Nothing of this chunk was written; the rest waits for a rerun
                action = GroupAction.objects.get(pk=action_id)
                action.status, action.error = Status.FAILED, str(exc.message)[:200]
                action.save(update_fields=["status", "error"])
                return action
            _counts_refresh(action)
        if claimed:
            _sms_send(action, claimed)
            _counts_refresh(action)


def _quiet_hours_hold(action: GroupAction) -> bool:
    return action.kind in QUIET_KINDS or (action.kind == Kind.COUPON and bool(action.sms_text))


def _mark(action: GroupAction, member_ids, *, outcome: str, reason: str = "", detail="", now):
    if member_ids:
        action.recipients.filter(member_id__in=list(member_ids)).update(
            outcome=outcome, reason=reason, detail=str(detail)[:200], at=now
        )


def _screen(action: GroupAction, ids: list[int], now: datetime) -> list[int]:
    """Mark who is skipped (inactive, opted out, no phone, over the cap); the rest.

    For the kinds the cap counts, the chunk's members are row-locked (in id order, so two
    jobs cannot deadlock) until the chunk commits: a second job touching the same members
    waits, then counts this one's touches, so two campaigns at once cannot both pass a
    member at the cap."""
    members = Member.objects.filter(pk__in=ids).order_by("pk")
    if action.kind in MARKETING_KINDS:
        members = members.select_for_update(no_key=True)
    rows = {
        pk: (status, phone) for pk, status, phone in members.values_list("pk", "status", "phone")
    }
    skip: dict[int, str] = {
        m: Reason.INACTIVE for m in ids if rows.get(m, ("",))[0] != Member.Status.ACTIVE
    }
    channel = {Kind.SMS: MarketingOptOut.Channel.SMS, Kind.MESSAGE: MarketingOptOut.Channel.WECHAT}
    if action.kind in channel:
        for member_id in MarketingOptOut.objects.filter(
            member_id__in=ids, channel=channel[action.kind]
        ).values_list("member_id", flat=True):
            skip.setdefault(member_id, Reason.OPTED_OUT)
    if action.kind == Kind.SMS:
        for member_id in ids:
            if not rows.get(member_id, ("", ""))[1]:
                skip.setdefault(member_id, Reason.NO_PHONE)
    if action.kind in MARKETING_KINDS:
        since = now - timedelta(days=settings.MARKETING_FREQUENCY_DAYS)
        touches = (
            GroupActionRecipient.objects.filter(
                member_id__in=ids,
                # a text claimed by another job and not yet confirmed counts as a touch
                outcome__in=(Outcome.SENT, Outcome.SENDING),
                kind__in=MARKETING_KINDS,
                at__gte=since,
            )
            .values("member_id")
            .annotate(n=Count("id"))
            .filter(n__gte=settings.MARKETING_FREQUENCY_CAP)
        )
        for row in touches:
            skip.setdefault(row["member_id"], Reason.FREQUENCY_CAP)
    by_reason: dict[str, list[int]] = {}
    for member_id, reason in skip.items():
        by_reason.setdefault(reason, []).append(member_id)
    for reason, member_ids in by_reason.items():
        _mark(action, member_ids, outcome=Outcome.SKIPPED, reason=reason, now=now)
    return [m for m in ids if m not in skip]


def _deliver(action: GroupAction, ids: list[int], now: datetime) -> list[int]:
    """Coupons, messages and tags are written in the chunk's transaction; SMS rows are only
    claimed here (returned), and sent after the claim commits."""
    if not ids:
        return []
    if action.kind == Kind.COUPON:
        from coupons.issuing import coupons_issue_bulk
        from coupons.models import Coupon

        coupons_issue_bulk(
            template=action.coupon_template,
            member_ids=ids,
            campaign=action.campaign,
            key_prefix=f"action:{action.pk}",
            now=now,
        )
        # held under this action's key: issued now, or by a run whose bookkeeping was lost
        keys = {f"action:{action.pk}:{m}": m for m in ids}
        held = {
            keys[k]
            for k in Coupon.objects.filter(issue_key__in=list(keys)).values_list(
                "issue_key", flat=True
            )
        }
        _mark(action, held, outcome=Outcome.SENT, detail=action.coupon_template.name, now=now)
        _mark(
            action,
            [m for m in ids if m not in held],
            outcome=Outcome.SKIPPED,
            reason=Reason.COUPON_LIMIT,
            now=now,
        )
        if action.sms_text and held:
            return _notice_claim(action, held)
    elif action.kind == Kind.MESSAGE:
        messages_send(
            members=Member.objects.filter(pk__in=ids),
            kind=Message.Kind.CAMPAIGN,
            title=action.title,
            body=action.body,
            link=action.link,
        )
        followers = set(
            WechatIdentity.objects.filter(
                app_id=settings.WECHAT_APP_ID, member_id__in=ids
            ).values_list("member_id", flat=True)
        )
        _mark(action, followers, outcome=Outcome.SENT, detail=action.title, now=now)
        _mark(
            action,
            [m for m in ids if m not in followers],
            outcome=Outcome.SENT,
            reason=Reason.NO_WECHAT,
            detail=action.title,
            now=now,
        )
    elif action.kind == Kind.TAG:
        MemberTag.objects.bulk_create(
            [MemberTag(tag=action.tag, member_id=m, added_by=action.created_by) for m in ids],
            ignore_conflicts=True,
        )
        _mark(action, ids, outcome=Outcome.SENT, detail=action.tag.name, now=now)
    elif action.kind == Kind.SMS:
        _mark(action, ids, outcome=Outcome.SENDING, now=now)
        return ids
    return []


def _notice_claim(action: GroupAction, held: set[int]) -> list[int]:
    """A coupon's SMS notice: skipped for members who opted out of marketing SMS or have no
    phone (they keep the coupon); the others' notices are claimed, to be sent after commit."""
    opted_out = set(
        MarketingOptOut.objects.filter(
            member_id__in=held, channel=MarketingOptOut.Channel.SMS
        ).values_list("member_id", flat=True)
    )
    phones = dict(Member.objects.filter(pk__in=held).values_list("pk", "phone"))
    skipped = {m for m in held if m in opted_out or not phones.get(m)}
    action.recipients.filter(member_id__in=skipped).update(notice=Notice.SKIPPED)
    claimed = sorted(held - skipped)
    action.recipients.filter(member_id__in=claimed).update(notice=Notice.SENDING)
    return claimed


def _sms_send(action: GroupAction, ids: list[int]) -> None:
    """Send each claimed member's text (an SMS action's, or a coupon's notice), recording
    each outcome as it happens."""
    members = Member.objects.filter(pk__in=ids).select_related("points_account__tier")
    notice = action.kind == Kind.COUPON
    coupon_name = action.coupon_template.name if notice else ""
    for member in members.order_by("pk"):
        text = sms_text_render(action.sms_text, sms_values(member, coupon_name=coupon_name))
        try:
            sms_send(phone=member.phone, text=text)
        except SmsError as exc:
            outcome, reason, detail = Outcome.FAILED, Reason.GATEWAY, str(exc.message)
        else:
            outcome, reason, detail = Outcome.SENT, Reason.NONE, ""
        rows = action.recipients.filter(member_id=member.pk)
        if notice:
            rows.filter(notice=Notice.SENDING).update(
                notice=Notice.SENT if outcome == Outcome.SENT else Notice.FAILED
            )
            continue
        rows.filter(outcome=Outcome.SENDING).update(
            outcome=outcome, reason=reason, detail=detail[:200], at=timezone.now()
        )


def _counts_refresh(action: GroupAction) -> None:
    counts = Counter(
        dict(
            action.recipients.values("outcome").annotate(n=Count("id")).values_list("outcome", "n")
        )
    )
    action.sent = counts[Outcome.SENT]
    action.failed = counts[Outcome.FAILED]
    action.skipped = counts[Outcome.SKIPPED]
    action.processed = action.sent + action.failed + action.skipped + counts[Outcome.HELD_BACK]
    GroupAction.objects.filter(pk=action.pk).update(
        sent=action.sent, failed=action.failed, skipped=action.skipped, processed=action.processed
    )


# --- Results: each arm's conversion, revenue, the uplift -----------------------------------


def _converts(lines: list) -> tuple[str, list]:
    """SQL over a loyalty_receipt row: TRUE for any sale, else a merchandise line of it
    matches one of `lines` (receipt_lines_q)."""
    if not lines:
        return "TRUE", []
    matching = ReceiptLine.objects.filter(receipt_lines_q(lines), non_merchandise=False)
    sql, params = matching.values("receipt_id").query.sql_with_params()
    return f"loyalty_receipt.id IN ({sql})", list(params)


def group_action_results(action: GroupAction, *, now: datetime | None = None) -> dict:
    """Per arm: members, members with a sale in [started_at, started_at + window) (both arms
    from the same moment, every member of the arm whatever happened to their send), net
    revenue (sales minus refunds in the window); the uplift of the conversion rate with
    Newcombe's 95 % interval and of revenue per member. One GROUP BY over the saved
    audience, so members who left the group since still count."""
    from analytics.uplift import mean_difference, rate_difference_newcombe, rate_difference_wald

    now = now or timezone.now()
    start = action.started_at or action.created_at
    end = start + timedelta(days=action.window_days)
    converts_sql, converts_params = _converts(action.conversion_lines)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT r.arm, COUNT(*),
                   COUNT(*) FILTER (WHERE s.sales > 0),
                   COALESCE(SUM(s.revenue), 0),
                   COALESCE(SUM(s.revenue::numeric * s.revenue), 0)
            FROM analytics_groupactionrecipient r
            LEFT JOIN (
                SELECT member_id,
                       COUNT(*) FILTER (WHERE kind = 'sale' AND {converts_sql}) AS sales,
                       SUM(CASE WHEN kind = 'sale' THEN total_fen ELSE -total_fen END) AS revenue
                FROM loyalty_receipt
                WHERE member_id IN (
                        SELECT member_id FROM analytics_groupactionrecipient WHERE action_id = %s)
                  AND occurred_at >= %s AND occurred_at < %s
                GROUP BY member_id
            ) s ON s.member_id = r.member_id
            WHERE r.action_id = %s
            GROUP BY r.arm
            """,  # noqa: S608 - built from vetted field names
            [*converts_params, action.pk, start, end, action.pk],
        )
        rows = {arm: (n, x, int(rev), float(sq)) for arm, n, x, rev, sq in cursor.fetchall()}
    arms = []
    for arm in (Arm.TREATMENT, Arm.CONTROL):
        n, x, revenue, _squares = rows.get(arm, (0, 0, 0, 0.0))
        arms.append(
            {
                "arm": arm,
                "label": arm.label,
                "members": n,
                "converted": x,
                "rate": 100 * x / n if n else None,
                "revenue_fen": revenue,
                "revenue_per_member_fen": round(revenue / n) if n else None,
            }
        )
    t, c = (rows.get(arm, (0, 0, 0, 0.0)) for arm in (Arm.TREATMENT, Arm.CONTROL))
    measurable = t[0] > 0 and c[0] > 0
    outcomes = list(
        action.recipients.values("arm", "outcome", "reason")
        .annotate(n=Count("id"))
        .order_by("arm", "outcome", "reason")
    )
    for row in outcomes:
        row["outcome_label"] = Outcome(row["outcome"]).label
        shown = row["reason"] and row["reason"] != Reason.CONTROL
        row["reason_label"] = Reason(row["reason"]).label if shown else ""
    notices = {
        Notice(row["notice"]).label: row["n"]
        for row in action.recipients.exclude(notice="").values("notice").annotate(n=Count("id"))
    }
    return {
        "notices": notices,
        "start": start,
        "end": end,
        "complete": now >= end,
        "arms": arms,
        "measurable": measurable,
        "uplift": rate_difference_newcombe(t[1], t[0], c[1], c[0]) if measurable else None,
        "uplift_wald": rate_difference_wald(t[1], t[0], c[1], c[0]) if measurable else None,
        "revenue_uplift": mean_difference(t[0], t[2], t[3], c[0], c[2], c[3])
        if measurable
        else None,
        "outcomes": outcomes,
    }


# --- From an RFM class to its recommended action -----------------------------------------------


def rfm_action_kind(action_text: str) -> str:
    """The kind of send a class's recommended action calls for: the deck's are all offers
    (优惠, 满就送), so a coupon; any other advice is a message."""
    return Kind.COUPON if re.search(r"优惠|券|送|coupon|offer", action_text, re.I) else Kind.MESSAGE


def rfm_class_group(*, label: str, actor) -> MemberGroup:
    """Today's dynamic group of the current snapshot's members of RFM class `label`, made by
    `actor` (reused when it exists: one click a day does not pile up groups)."""
    from core.dates import local_day_start

    today = timezone.localdate()
    params = {"rfm_class": label}
    group = MemberGroup.objects.filter(
        kind=MemberGroup.Kind.DYNAMIC,
        params=params,
        created_by=actor,
        archived=False,
        created_at__gte=local_day_start(today),
    ).first()
    if group is None:
        group = MemberGroup.objects.create(
            name=f"RFM {label} {today:%Y-%m-%d}",
            kind=MemberGroup.Kind.DYNAMIC,
            params=params,
            created_by=actor,
        )
    return group
