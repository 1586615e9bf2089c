"""The demo mall's customer service: departments, the demo staff as handlers, and a spread of
tickets over the demo months, handled through feedback's services as staff would (claimed,
call-backs, steps, some resolved and rated with tags, closed, reopened, compensated, on hold,
several overdue now).

The services stamp everything with the present moment, so each ticket's story is played in
order and then dated as planned: its events, deadlines (from the SLA target and the desk's
calendar, as at filing), rating, compensation and the member's messages. Deterministic for a
seed and as-of time."""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.apps import apps
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Case, DateTimeField, Exists, OuterRef, Value, When
from django.utils import timezone

from coupons.models import Coupon, CouponTemplate
from feedback import selectors, services
from feedback.defaults import feedback_defaults_install
from feedback.models import (
    Compensation,
    Department,
    Handler,
    Rating,
    RatingTag,
    Ticket,
    TicketCounter,
    TicketEvent,
    TicketType,
)
from feedback.sla import business_deadline
from loyalty.models import Receipt
from members.models import Member, Message
from stores.models import Shop, Store

DEPARTMENTS = ["客服部", "楼面管理部", "超市部"]
HANDLERS = [
    # username, department, employee no, contact phone, supervisor
    ("service", "客服部", "KF1101", "0571-8701 1101", True),
    ("hq", "客服部", "KF0001", "0571-8701 0001", False),
    ("s01_manager", "楼面管理部", "LM1001", "0571-8701 1001", False),
    ("s02_manager", "超市部", "LM2001", "0574-8702 2001", False),
]
DETAILS = {
    "opinion": [
        "希望周末延长停车场免费时长。",
        "建议在三楼增加母婴室的指示牌。",
        "会员积分兑换的商品种类可以再多一些。",
        "超市收银台高峰期排队太久，建议多开几个窗口。",
        "卫生间洗手液经常用完，希望及时补充。",
    ],
    "goods": [
        "买的牛奶还没到保质期就变质了，请处理。",
        "连衣裙洗了一次就掉色，要求退换。",
        "购买的电吹风使用两天后无法开机。",
        "专柜说有赠品，回家发现没有放进袋子。",
        "标签价格和结账价格不一致，多收了钱。",
    ],
    "staff": [
        "导购态度冷淡，问了几次都不理人。",
        "收银员找零出错，还不承认。",
        "试衣间工作人员催促我快点，体验很差。",
        "保安在停车场说话很不客气。",
    ],
}
REPLIES = ["已联系专柜核实情况。", "已与当班员工沟通。", "正在与供应商确认。", "已查看监控记录。"]
RESOLUTIONS = [
    "已为会员办理退换货，并致歉。",
    "已退还差价，并提醒收银员注意核对。",
    "已对相关员工进行批评教育，并向会员致歉。",
    "感谢您的建议，已转交相关部门落实。",
]
# The last ten days' tickets, in turn: waiting (< 0.15), being processed (< 0.45), on hold
# (< 0.55), or resolved; older ones are drawn at random and are done by now.
RECENT_FATES = [0.1, 0.3, 0.5, 0.7, 0.2, 0.9, 0.4, 0.6, 0.05, 0.35, 0.8, 0.48, 0.25, 0.65]
COMMENTS = ["处理很及时，谢谢！", "态度很好。", "还可以。", "等了太久。", "问题没有真正解决。", ""]


@dataclass
class _Story:
    """A ticket's planned moments, in the order its services write events and messages."""

    events: list[datetime] = field(default_factory=list)
    notices: list[datetime] = field(default_factory=list)
    fields: dict = field(default_factory=dict)
    rated_at: datetime | None = None
    compensated_at: datetime | None = None


def demo_feedback(rng: random.Random, *, tickets: int, months: int, as_of: datetime) -> dict:
    """Departments, handlers and `tickets` tickets over the last `months` months."""
    feedback_defaults_install(apps)  # types, tags, SLAs and hours, if a flush removed them
    departments = {
        name: Department.objects.get_or_create(name=name, defaults={"position": i})[0]
        for i, name in enumerate(DEPARTMENTS)
    }
    users = {u.username: u for u in User.objects.filter(username__in=[h[0] for h in HANDLERS])}
    for username, department, employee_no, phone, supervisor in HANDLERS:
        if username in users:
            Handler.objects.get_or_create(
                user=users[username],
                defaults={
                    "department": departments[department],
                    "employee_no": employee_no,
                    "contact_phone": phone,
                    "is_supervisor": supervisor,
                },
            )
    # Members who have bought something: a goods complaint comes from a customer.
    bought = Receipt.objects.filter(member=OuterRef("pk"))
    members = list(
        Member.objects.filter(Exists(bought), status=Member.Status.ACTIVE).order_by("pk")[:2000]
    )
    stores = {s.code: s for s in Store.objects.all()}
    if not tickets or not members or "S01" not in stores or not users:
        return {"tickets": 0}
    types = {t.code: t for t in TicketType.objects.filter(is_active=True)}
    shops = {
        code: list(Shop.objects.filter(floor__store=store, is_active=True).order_by("pk"))
        for code, store in stores.items()
    }
    tags = list(RatingTag.objects.filter(is_active=True))
    welcome = CouponTemplate.objects.filter(code="WELCOME10").first()
    calendar = selectors.service_calendar()
    window = timedelta(days=round(months * 30.44))
    handlers_of = {
        "S01": [(users.get("service"), 65), (users.get("s01_manager"), 25), (users.get("hq"), 10)],
        "S02": [(users.get("s02_manager"), 75), (users.get("hq"), 25)],
    }
    stories: dict[int, _Story] = {}
    for index in range(tickets):
        recent = index >= tickets - max(12, tickets // 5)  # the last ten days' tickets
        if recent:
            created = as_of - timedelta(hours=rng.uniform(1, 240))
        else:
            created = as_of - window + timedelta(seconds=rng.uniform(0, window.total_seconds()))
            created = min(created, as_of - timedelta(days=14))  # its story ends before as_of
        created = created.replace(microsecond=0)
        code = rng.choices(["opinion", "goods", "staff"], weights=[35, 45, 20])[0]
        store_code = "S01" if rng.random() < 0.7 or "S02" not in stores else "S02"
        shop = rng.choice(shops[store_code]) if shops[store_code] and rng.random() < 0.75 else None
        candidates = [(u, w) for u, w in handlers_of.get(store_code, []) if u is not None]
        handler = rng.choices([u for u, _w in candidates], [w for _u, w in candidates])[0]
        member = rng.choice(members)
        story = _Story(events=[created], notices=[created])
        ticket = services.ticket_submit(
            member=member,
            ticket_type=types[code],
            store=stores[store_code],
            details=rng.choice(DETAILS[code]),
            contact_name=member.name or "会员",
            contact_phone=member.phone or "13800000000",
            shop=shop,
        )
        target = selectors.sla_target_for(
            ticket_type=types[code], tier=selectors.member_tier(member)
        )
        story.fields = {
            "created_at": created,
            "first_response_due": business_deadline(
                created, target.first_response_minutes, calendar
            ),
            "resolution_due": business_deadline(created, target.resolution_minutes, calendar),
        }
        stories[ticket.pk] = story
        _play(rng, ticket, story, handler, recent, calendar, target, as_of, tags, welcome, index)
    _redate(stories)
    return {"tickets": len(stories)}


def _later(calendar, start: datetime, low: float, high: float, rng) -> datetime:
    return business_deadline(start, round(rng.uniform(low, high)), calendar)


def _play(rng, ticket, story, handler, recent, calendar, target, as_of, tags, welcome, index):
    """Handle one ticket through the services, noting when each step is meant to happen."""
    created = story.fields["created_at"]
    fate = RECENT_FATES[index % len(RECENT_FATES)] if recent else rng.random()
    if recent and (fate < 0.15 or created > as_of - timedelta(hours=3)):
        return  # still waiting in the queue
    # answered within about the target, now and then late
    slow = 2.2 if rng.random() < 0.2 else 0.9
    claimed = _later(calendar, created, 5, target.first_response_minutes * 0.6, rng)
    responded = _later(calendar, claimed, 5, target.first_response_minutes * slow, rng)
    if responded >= as_of:
        return
    services.ticket_claim(ticket=ticket, actor=handler)
    story.events.append(claimed)
    story.notices.append(claimed)
    if rng.random() < 0.6:
        services.ticket_callback(
            ticket=ticket,
            actor=handler,
            called_at=responded,
            outcome=rng.choices(["reached", "no_answer"], weights=[80, 20])[0],
            text="致电会员了解情况。",
        )
    else:
        services.ticket_step(ticket=ticket, actor=handler, text=rng.choice(REPLIES))
    story.events.append(responded)
    story.fields["first_responded_at"] = responded
    if rng.random() < 0.3:
        services.ticket_note(
            ticket=ticket, actor=handler, text="内部备注：会员为老顾客，注意安抚。"
        )
        story.events.append(responded + timedelta(minutes=2))
    if recent and fate < 0.55:
        held = responded + timedelta(minutes=30)
        if fate > 0.45 and held < as_of:
            services.ticket_hold(ticket=ticket, actor=handler, text="等待会员提供购物小票。")
            story.events.append(held)
            story.fields["held_since"] = held
        return  # still being processed (some past their deadline by now)
    slow = 2.5 if rng.random() < 0.15 else 0.8
    resolved = _later(calendar, responded, 20, target.resolution_minutes * slow, rng)
    if resolved >= as_of - timedelta(hours=2):
        return  # not done yet: still being processed
    if fate < 0.04:  # closed by staff without a resolution (a duplicate)
        services.ticket_close(ticket=ticket, actor=handler)
        story.events.append(resolved)
        story.notices.append(resolved)
        story.fields["closed_at"] = resolved
        return
    services.ticket_resolve(ticket=ticket, actor=handler, text=rng.choice(RESOLUTIONS))
    story.events.append(resolved)
    story.notices.append(resolved)
    story.fields["resolved_at"] = resolved
    if 0.04 <= fate < 0.12 and not recent:  # not satisfied: reopened, then resolved again
        reopened = resolved + timedelta(hours=rng.uniform(3, 40))
        services.ticket_reopen(ticket=ticket, member=ticket.member, reason="问题还没有解决。")
        story.events.append(reopened)
        story.notices.append(reopened)
        story.fields["resolution_due"] = business_deadline(
            reopened, target.resolution_minutes, calendar
        )
        resolved = _later(calendar, reopened, 60, target.resolution_minutes, rng)
        services.ticket_resolve(ticket=ticket, actor=handler, text="已再次处理，会员表示满意。")
        story.events.append(resolved)
        story.notices.append(resolved)
        story.fields["resolved_at"] = resolved
    if (
        welcome is not None
        and ticket.ticket_type.is_complaint
        and rng.random() < 0.15
        and not Coupon.objects.filter(member=ticket.member, template=welcome).exists()
    ):
        services.compensation_grant(
            ticket=ticket,
            actor=handler,
            kind=Compensation.Kind.COUPON,
            template=welcome,
            reason="投诉补偿",
            once=f"demo-ticket-{index}",
        )
        story.compensated_at = resolved + timedelta(minutes=5)
        story.events.append(story.compensated_at)
    if rng.random() < 0.7 and resolved < as_of - timedelta(hours=31):
        stars = rng.choices([5, 4, 3, 2, 1], weights=[45, 25, 12, 8, 10])[0]
        positive = [t for t in tags if t.is_positive]
        negative = [t for t in tags if not t.is_positive]
        pool = positive if stars >= 4 else negative if stars <= 2 else positive + negative
        chosen = rng.sample(pool, k=min(len(pool), rng.randint(1, 2))) if pool else []
        services.ticket_rate(
            ticket=ticket,
            member=ticket.member,
            stars=stars,
            tags=chosen,
            comment=rng.choice(COMMENTS),
        )
        story.rated_at = resolved + timedelta(hours=rng.uniform(0.5, 30))
        story.events.append(story.rated_at)
    closed = story.fields["resolved_at"] + timedelta(days=7)
    if closed < as_of:  # the watch task closes resolved tickets after a week
        services.ticket_close(ticket=ticket)
        story.events.append(closed)
        story.notices.append(closed)
        story.fields["closed_at"] = closed


def _redate(stories: dict[int, _Story]) -> None:
    """Move every ticket's rows to their planned moments (a few bulk updates)."""
    events, notices, tickets = [], [], []
    ids_of: dict[int, list[int]] = {}
    for ticket_id, pk in (
        TicketEvent.objects.filter(ticket_id__in=stories)
        .order_by("ticket_id", "pk")
        .values_list("ticket_id", "pk")
    ):
        ids_of.setdefault(ticket_id, []).append(pk)
    for ticket_id, story in stories.items():
        events += zip(ids_of.get(ticket_id, []), sorted(story.events), strict=False)
        tickets.append(Ticket(pk=ticket_id, updated_at=max(story.events), **_ticket_fields(story)))
    fields = ["created_at", "first_response_due", "resolution_due", "first_responded_at"]
    fields += ["resolved_at", "closed_at", "held_since", "updated_at"]
    Ticket.objects.bulk_update(tickets, fields, batch_size=500)
    with connection.cursor() as cursor:  # one statement for the many events
        cursor.execute(
            "UPDATE feedback_ticketevent e SET created_at = v.at"
            " FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, at) WHERE e.id = v.id",
            [[pk for pk, _at in events], [at for _pk, at in events]],
        )
    _dated(Rating, {tid: s.rated_at for tid, s in stories.items() if s.rated_at})
    compensated = {tid: s.compensated_at for tid, s in stories.items() if s.compensated_at}
    _dated(Compensation, compensated)
    for coupon in Coupon.objects.filter(
        pk__in=Compensation.objects.filter(ticket_id__in=compensated).values("coupon_id")
    ).select_related():
        when = compensated[Compensation.objects.get(coupon=coupon).ticket_id]
        shift = when - coupon.issued_at
        coupon.issued_at, coupon.valid_from = when, coupon.valid_from + shift
        coupon.valid_until += shift
        coupon.save(update_fields=["issued_at", "valid_from", "valid_until"])
    renamed = _renumber(stories)
    links = {services.ticket_path(Ticket(number=old)): tid for tid, (old, _new) in renamed.items()}
    inbox: dict[int, list] = {}
    for row in (
        Message.objects.filter(link__in=links)
        .order_by("pk")
        .values_list("pk", "title", "body", "link")
    ):
        inbox.setdefault(links[row[3]], []).append(row)
    for ticket_id, story in stories.items():  # the member's inbox, in the story's order
        old, new = renamed[ticket_id]
        notices += [
            Message(
                pk=pk,
                created_at=when,
                title=title.replace(old, new),
                body=body.replace(old, new),
                link=link.replace(old, new),
            )
            for (pk, title, body, link), when in zip(
                inbox.get(ticket_id, []), story.notices, strict=False
            )
        ]
    Message.objects.bulk_update(notices, ["created_at", "title", "body", "link"], batch_size=1000)


def _renumber(stories: dict[int, _Story]) -> dict[int, tuple[str, str]]:
    """Number the tickets by the Shanghai day they were filed on, as if filed then; the day
    counters continue from there."""
    old = dict(Ticket.objects.filter(pk__in=stories).values_list("pk", "number"))
    order = sorted(stories, key=lambda pk: (stories[pk].fields["created_at"], pk))
    per_day: dict = {}
    renamed = {}
    for pk in order:
        day = timezone.localdate(stories[pk].fields["created_at"])
        per_day[day] = per_day.get(day, 0) + 1
        renamed[pk] = (old[pk], f"{services.NUMBER_PREFIX}{day:%Y%m%d}{per_day[day]:04d}")
    Ticket.objects.bulk_update([Ticket(pk=pk, number=f"~{pk}") for pk in order], ["number"])
    Ticket.objects.bulk_update([Ticket(pk=pk, number=renamed[pk][1]) for pk in order], ["number"])
    TicketCounter.objects.filter(day__in=[*per_day, timezone.localdate()]).delete()
    TicketCounter.objects.bulk_create(
        [TicketCounter(day=day, last=last) for day, last in per_day.items()]
    )
    return renamed


def _ticket_fields(story: _Story) -> dict:
    return {
        name: story.fields.get(name)
        for name in [
            "created_at",
            "first_response_due",
            "resolution_due",
            "first_responded_at",
            "resolved_at",
            "closed_at",
            "held_since",
        ]
    }


def _dated(model, moments: dict[int, datetime]) -> None:
    if moments:
        model.objects.filter(ticket_id__in=moments).update(
            created_at=Case(
                *[When(ticket_id=tid, then=Value(when)) for tid, when in moments.items()],
                output_field=DateTimeField(),
            )
        )


def demo_ticket_count(members: int) -> int:
    """About one ticket per 25 members, between 60 and 150 (none without members)."""
    return 0 if not members else max(60, min(150, members // 25))
