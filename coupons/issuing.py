"""Issuing coupons: codes, validity, the one bulk issue every path goes through (single,
welcome, birthday, staff sends, issue jobs) and campaigns. Every issuance locks its template
row first, so total quantity and per-member limits hold however many issuers run at once."""

import calendar
import io
import secrets
import unicodedata
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.dates import local_day_start
from core.exceptions import ServiceError
from coupons.models import Campaign, Coupon, CouponTemplate, IssueJob, IssueRule
from members.models import Member

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # 32 symbols: no 0/O, no 1/I
CODE_LENGTH = 16  # 80 random bits: guessing one is hopeless
COPY_FROM = 500  # above this many coupons, COPY instead of INSERTs
NULL = "\\N"  # COPY text format


class CouponError(ServiceError):
    code = "coupon_error"


class CouponsAlreadySent(CouponError):
    code = "already_sent"
    default_message = _("These coupons were already sent.")


def coupon_code_new() -> str:
    """16 symbols of 5 bits from one draw of 80 random bits."""
    bits = int.from_bytes(secrets.token_bytes(CODE_LENGTH * 5 // 8))
    return "".join(CODE_ALPHABET[(bits >> (5 * i)) & 31] for i in range(CODE_LENGTH))


def coupon_code_normalise(raw: str) -> str:
    """What a person or scanner typed: full-width, spaces, dashes and case forgiven."""
    text = unicodedata.normalize("NFKC", raw or "").upper()
    return "".join(ch for ch in text if ch.isalnum())[:32]


def validity_for(template: CouponTemplate, issued_at: datetime) -> tuple[datetime, datetime]:
    """A coupon's validity: the template's dates, or from issue until the end of the Nth
    day after the day of issue (Shanghai days)."""
    if template.valid_days is not None:
        last_day = timezone.localdate(issued_at) + timedelta(days=template.valid_days)
        return issued_at, local_day_start(last_day + timedelta(days=1))
    return template.valid_from, template.valid_until


def coupons_issue_bulk(
    *,
    template: CouponTemplate,
    member_ids: list[int],
    campaign: Campaign,
    key_prefix: str | None = None,
    now: datetime | None = None,
) -> list[tuple[int, str]]:
    """Issue one coupon of `template` to each active member of `member_ids` that the
    per-member limit still allows, up to the template's remaining quantity (in the order
    given). With `key_prefix`, a member already issued under "<prefix>:<member id>" is
    skipped, so a rerun issues nothing twice. Returns (member id, code) of those issued.
    Locks the template row."""
    now = now or timezone.now()
    with transaction.atomic():
        template = CouponTemplate.objects.select_for_update().get(pk=template.pk)
        if not template.is_active:
            raise CouponError(_("This coupon is not active."), code="template_inactive")
        valid_from, valid_until = validity_for(template, now)
        if valid_until <= now:
            raise CouponError(_("This coupon's validity has ended."), code="template_ended")
        wanted = list(dict.fromkeys(member_ids))
        active = set(
            Member.objects.filter(pk__in=wanted, status=Member.Status.ACTIVE).values_list(
                "pk", flat=True
            )
        )
        wanted = [m for m in wanted if m in active]
        if key_prefix:
            keys = {f"{key_prefix}:{m}": m for m in wanted}
            done = set(
                Coupon.objects.filter(issue_key__in=list(keys)).values_list("issue_key", flat=True)
            )
            wanted = [m for m in wanted if f"{key_prefix}:{m}" not in done]
        if template.per_member_limit:
            held = dict(
                Coupon.objects.filter(template=template, member_id__in=wanted)
                .values_list("member_id")
                .annotate(n=Count("id"))
            )
            wanted = [m for m in wanted if held.get(m, 0) < template.per_member_limit]
        if template.total_quantity is not None:
            wanted = wanted[: max(0, template.total_quantity - template.issued_count)]
        issued = [(member_id, coupon_code_new()) for member_id in wanted]
        rows = [
            (code, member_id, f"{key_prefix}:{member_id}" if key_prefix else None)
            for member_id, code in issued
        ]
        _insert(
            rows, template=template, campaign=campaign, valid=(valid_from, valid_until), now=now
        )
        CouponTemplate.objects.filter(pk=template.pk).update(
            issued_count=template.issued_count + len(issued)
        )
    return issued


def _insert(rows, *, template, campaign, valid, now) -> None:
    if len(rows) < COPY_FROM:
        Coupon.objects.bulk_create(
            Coupon(
                code=code,
                member_id=member_id,
                issue_key=key,
                template=template,
                campaign=campaign,
                valid_from=valid[0],
                valid_until=valid[1],
                issued_at=now,
            )
            for code, member_id, key in rows
        )
        return
    fixed = f"{template.pk}\t{campaign.pk}\tunused\t{valid[0].isoformat()}\t{valid[1].isoformat()}"
    fixed += f"\t{now.isoformat()}\t\t\t0\t"
    buffer = io.StringIO()
    for code, member_id, key in rows:
        buffer.write(f"{code}\t{member_id}\t{key or NULL}\t{fixed}\n")
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.copy_expert(
            "COPY coupons_coupon (code, member_id, issue_key, template_id, campaign_id, status,"
            " valid_from, valid_until, issued_at, used_pos_no, used_cashier, discount_fen,"
            " void_reason) FROM STDIN",
            buffer,
        )


def coupon_issue(
    *, template: CouponTemplate, member: Member, campaign: Campaign, key: str | None = None
) -> Coupon:
    """One coupon for one member (a prize, a points-mall good, a welcome); CouponError if
    the member's limit is reached or the coupons are gone."""
    prefix = key.rsplit(":", 1)[0] if key and key.endswith(f":{member.pk}") else None
    issued = coupons_issue_bulk(
        template=template, member_ids=[member.pk], campaign=campaign, key_prefix=prefix
    )
    if not issued:
        if key and Coupon.objects.filter(issue_key=key).exists():
            return Coupon.objects.get(issue_key=key)
        raise CouponError(
            _("No coupon could be issued: the limit is reached or none are left."),
            code="not_issued",
        )
    return Coupon.objects.get(code=issued[0][1])


def campaign_get_or_create(*, channel: str, name: str, actor=None) -> Campaign:
    """The campaign of this channel and name, created (by `actor`) if there is none yet."""
    campaign, _created = Campaign.objects.get_or_create(
        channel=channel, name=name, defaults={"created_by": actor}
    )
    return campaign


def welcome_coupons_issue(*, member: Member, channel: str = "") -> list[Coupon]:
    """Coupons of the active registration rules (those for any channel and those for the
    member's channel code), once per rule and member; a rule that cannot issue is skipped."""
    issued = []
    for rule in IssueRule.objects.filter(
        trigger=IssueRule.Trigger.REGISTRATION, is_active=True
    ).select_related("template", "campaign"):
        if rule.channel and rule.channel != (channel or member.channel):
            continue
        campaign = rule.campaign or campaign_get_or_create(
            channel=Campaign.Channel.WELCOME, name=str(_("Welcome coupons"))
        )
        try:
            with transaction.atomic():
                issued.append(
                    coupon_issue(
                        template=rule.template,
                        member=member,
                        campaign=campaign,
                        key=f"welcome:{rule.pk}:{member.pk}",
                    )
                )
        except CouponError:
            continue
    return issued


def birthday_coupons_issue(*, today=None) -> int:
    """Nightly: members whose birthday is the rule's N days away get its coupon, once a year
    (29 February birthdays are celebrated on 28 February in other years)."""
    today = today or timezone.localdate()
    count = 0
    for rule in IssueRule.objects.filter(trigger=IssueRule.Trigger.BIRTHDAY, is_active=True):
        day = today + timedelta(days=rule.days_before)
        members = Member.objects.filter(
            status=Member.Status.ACTIVE, birthday__month=day.month, birthday__day=day.day
        )
        if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
            members = Member.objects.filter(
                status=Member.Status.ACTIVE,
                birthday__month=2,
                birthday__day__in=[28, 29],
            )
        campaign = rule.campaign or campaign_get_or_create(
            channel=Campaign.Channel.BIRTHDAY, name=str(_("Birthday coupons"))
        )
        try:
            count += len(
                coupons_issue_bulk(
                    template=rule.template,
                    member_ids=list(members.order_by("pk").values_list("pk", flat=True)),
                    campaign=campaign,
                    key_prefix=f"birthday:{rule.pk}:{day.year}",
                )
            )
        except CouponError:
            continue
    return count


# --- Sending from the back office: at once to listed members, or as a job ------------------

JOB_CHUNK = 5000  # members per committed step of a job: progress moves, a rerun resumes


def coupons_send(
    *,
    template: CouponTemplate,
    campaign: Campaign,
    member_ids: list[int],
    actor,
    key_prefix: str | None = None,
) -> list[tuple[int, str]]:
    """Issue now to the listed members (staff sending to card numbers), audited; with
    `key_prefix` (one per form) a resubmitted form issues nothing twice: CouponsAlreadySent
    if anything was issued under it. Locks the template."""
    from core.audit import audit_log

    with transaction.atomic():
        # Locked first, so two submissions of one form cannot both pass the check.
        CouponTemplate.objects.select_for_update().get(pk=template.pk)
        if key_prefix and Coupon.objects.filter(issue_key__startswith=f"{key_prefix}:").exists():
            raise CouponsAlreadySent()
        issued = coupons_issue_bulk(
            template=template, member_ids=member_ids, campaign=campaign, key_prefix=key_prefix
        )
        audit_log(
            actor=actor,
            action="coupons.coupons.sent",
            target=campaign,
            data={"template": template.code, "members": len(member_ids), "issued": len(issued)},
        )
    return issued


def issue_job_create(
    *,
    template: CouponTemplate,
    campaign: Campaign,
    member_ids: list[int],
    actor,
    enqueue: Callable[[int], object],
) -> IssueJob:
    """A bulk issue to `member_ids` (a group's members, in order), audited; after commit
    `enqueue(job id)` hands it to a worker: callers pass coupons.tasks.issue_job_run_task.delay
    (the task runs issue_job_run from this module, so this module cannot import it)."""
    from core.audit import audit_log

    ids = list(dict.fromkeys(int(m) for m in member_ids))
    with transaction.atomic():
        job = IssueJob.objects.create(
            template=template, campaign=campaign, member_ids=ids, total=len(ids), created_by=actor
        )
        audit_log(
            actor=actor,
            action="coupons.job.created",
            target=job,
            data={"template": template.code, "campaign": campaign.pk, "members": len(ids)},
        )
        transaction.on_commit(lambda: enqueue(job.pk))
    return job


def issue_job_run(*, job_id: int, chunk_size: int = JOB_CHUNK) -> IssueJob:
    """Work through a job in chunks, each chunk committed with the job's progress, so a
    rerun (a redelivered task, a second worker) resumes after the last commit; the keys
    "job:<id>:<member id>" keep any member from getting two. A template that can no longer
    issue fails the job with the reason. Locks the job row, then the template, per chunk."""
    IssueJob.objects.filter(pk=job_id, status=IssueJob.Status.QUEUED).update(
        status=IssueJob.Status.RUNNING
    )
    while True:
        with transaction.atomic():
            job = IssueJob.objects.select_for_update().select_related("template").get(pk=job_id)
            if job.status != IssueJob.Status.RUNNING:
                return job
            chunk = job.member_ids[job.processed : job.processed + chunk_size]
            if not chunk:
                job.status, job.finished_at = IssueJob.Status.DONE, timezone.now()
                job.save(update_fields=["status", "finished_at"])
                return job
            try:
                issued = coupons_issue_bulk(
                    template=job.template,
                    member_ids=chunk,
                    campaign=job.campaign,
                    key_prefix=f"job:{job.pk}",
                )
            except CouponError as exc:
                job.status, job.finished_at = IssueJob.Status.FAILED, timezone.now()
                job.error = str(exc.message)[:200]
                job.save(update_fields=["status", "finished_at", "error"])
                return job
            job.processed += len(chunk)
            job.issued += len(issued)
            job.skipped += len(chunk) - len(issued)
            job.save(update_fields=["processed", "issued", "skipped"])
