"""The dataset the query budgets are measured on: the demo mall (stores, floors, brands, goods,
lottery, activities, feedback tickets, last night's analyses) and one member with a year of
history in every part of the site, written through the services."""

import io
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone
from PIL import Image

from analytics.actions import group_action_create, group_action_run
from analytics.models import GroupAction, GroupMember, MemberGroup
from coupons.issuing import (
    campaign_get_or_create,
    coupons_issue_bulk,
    issue_job_create,
    issue_job_run,
)
from coupons.models import Campaign, Coupon, CouponTemplate
from coupons.redeeming import coupon_void
from feedback.models import TicketType
from feedback.services import ticket_submit
from loyalty.models import Receipt
from loyalty.receipts import LineIn, ReceiptIn
from loyalty.services import claim_submit
from mall.lottery import lottery_draw
from mall.lottery_selectors import campaigns_for_member
from mall.models import Goods
from mall.redeeming import goods_redeem
from members.messaging import message_read, messages_send
from members.models import Member, Message, WechatIdentity
from members.profile import address_create
from pos.models import PosTerminal
from pos.services import pos_receipt_record

RECEIPTS = 150  # the member's year of receipts


@dataclass
class BudgetData:
    member: Member
    identity: WechatIdentity
    hq: User  # 总部管理员: every back-office page
    kwargs: dict | None = None  # each route's arguments (test_query_budgets fills them)


def photo() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 120), "white").save(buffer, "JPEG")
    return SimpleUploadedFile("receipt.jpg", buffer.getvalue(), content_type="image/jpeg")


def receipts_add(member: Member, *, count: int, start: int = 0) -> None:
    """`count` department-store sales for `member` through the till's service, a few days
    apart going back from now."""
    terminal = PosTerminal.objects.select_related("store").filter(is_active=True).first()
    now = timezone.now()
    for n in range(start, start + count):
        amount = 10_000 + 1_700 * (n % 9)
        pos_receipt_record(
            data=ReceiptIn(
                store=terminal.store,
                pos_no="P09",
                receipt_no=f"B{member.pk}-{n:05d}",
                occurred_at=now - timedelta(days=(n * 2) % 360, hours=1),
                member=member,
                lines=[
                    LineIn(name="连衣裙", qty=Decimal(1), amount_fen=amount, brand="某品牌"),
                ],
                total_fen=amount,
                payments=[("wechat", amount)],
            ),
            coupons=[],
            payload_hash=f"budget-{member.pk}-{n}",
            terminal=terminal,
        )


def messages_add(member: Member, *, count: int) -> None:
    for n in range(count):
        messages_send(
            members=Member.objects.filter(pk=member.pk),
            kind=Message.Kind.CAMPAIGN,
            title=f"会员日活动 {n}",
            body="本周六会员日，全场积分翻倍。",
            link="/m/mall/",
        )


def group_action_add(*, actor) -> GroupAction:
    """A static group of every member and a message sent to it, run (its log filled)."""
    group = MemberGroup.objects.create(
        name=f"预算 {MemberGroup.objects.count()}", kind=MemberGroup.Kind.STATIC, created_by=actor
    )
    GroupMember.objects.bulk_create(
        GroupMember(group=group, member_id=pk) for pk in Member.objects.values_list("pk", flat=True)
    )
    action = group_action_create(
        group=group,
        kind="message",
        name="会员日",
        actor=actor,
        enqueue=lambda _pk: None,
        title="会员日",
        body="本周六会员日",
    )
    return group_action_run(action_id=action.pk)


def budget_data_build() -> BudgetData:
    """Seed the demo mall and give its busiest member the rest of a year's history."""
    call_command(
        "seed_demo",
        members=12,
        months=12,
        seed=15,
        reset=True,  # whatever an earlier test left (the truncation is rolled back too)
        as_of=(timezone.now() - timedelta(hours=1)).isoformat(),
        stdout=io.StringIO(),
    )
    member = Member.objects.annotate(n=Count("receipts")).order_by("-n", "pk").first()
    identity, _ = WechatIdentity.objects.update_or_create(
        app_id=settings.WECHAT_APP_ID,
        member=member,
        defaults={"openid": "o_budget", "profile_fetched_at": timezone.now(), "nickname": "小李"},
    )
    receipts_add(member, count=max(0, RECEIPTS - Receipt.objects.filter(member=member).count()))

    # Coupons in several states: valid, used (the demo's), voided and expired.
    hq = User.objects.get(username="hq")
    template = CouponTemplate.objects.order_by("pk").first()
    campaign = campaign_get_or_create(channel=Campaign.Channel.MANUAL, name="预算测试")
    for _ in range(3):
        coupons_issue_bulk(template=template, member_ids=[member.pk], campaign=campaign)
    coupons_issue_bulk(
        template=template,
        member_ids=[member.pk],
        campaign=campaign,
        now=timezone.now() - timedelta(days=400),
    )
    job = issue_job_create(
        template=template,
        campaign=campaign,
        member_ids=list(Member.objects.values_list("pk", flat=True)),
        actor=hq,
        enqueue=lambda _pk: None,
    )
    issue_job_run(job_id=job.pk)
    coupon_void(
        coupon=Coupon.objects.filter(member=member, status=Coupon.Status.UNUSED).first(),
        reason="测试作废",
        actor=hq,
    )

    for n in range(2):
        address_create(
            member_id=member.pk,
            recipient="李娜",
            phone="13900001111",
            region="浙江省 杭州市 西湖区",
            detail=f"文三路 {n} 号",
            is_default=False,
        )
    messages_add(member, count=6)
    message_read(member=member, message_id=Message.objects.filter(member=member).first().pk)

    for n in range(2):
        claim_submit(
            member=member,
            store=member.home_store or PosTerminal.objects.first().store,
            receipt_no=f"CLAIM-{n}",
            amount_fen=30_000,
            purchased_on=timezone.localdate() - timedelta(days=n + 1),
            shop_name="某品牌专柜",
            photo=photo(),
        )

    ticket_submit(
        member=member,
        ticket_type=TicketType.objects.order_by("pk").first(),
        store=member.home_store or PosTerminal.objects.first().store,
        details="试衣间的灯坏了",
        photos=[photo().read()],
        contact_name="李娜",
        contact_phone="13900001111",
    )

    for campaign in campaigns_for_member(member=member).filter(starts_at__lte=timezone.now()):
        for n in range(2):
            try:
                lottery_draw(member=member, campaign=campaign, idempotency_key=f"budget-{n}")
            except Exception:  # noqa: BLE001,S112 - a daily cap or points may stop a draw
                continue

    for goods in Goods.objects.filter(kind=Goods.Kind.COUPON)[:2]:
        try:
            goods_redeem(
                member=member, goods=goods, delivery="coupon", idempotency_key=f"b-{goods.pk}"
            )
        except Exception:  # noqa: BLE001,S112
            continue

    group_action_add(actor=hq)
    return BudgetData(member=member, identity=identity, hq=hq)
