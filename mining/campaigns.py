"""From a rule to a measured campaign (the deck's 连衣裙 → 遮阳帽: a sun-hat coupon pushed to
dress buyers): the members who bought every item of A but not B in the last N days become a
static group, and B's coupon goes to it as an analytics group action with a control group,
converting by buying B."""

from datetime import timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.actions import group_action_create, receipt_lines_q
from analytics.groups import group_static_create
from analytics.models import GroupAction
from core.dates import local_day_start
from core.exceptions import ServiceError
from loyalty.models import Receipt, ReceiptLine
from members.models import Member
from mining.models import Level, MiningRun, Rule, RuleCampaign, RunItem

LOOKBACK_MAX = 365


class RuleCampaignError(ServiceError):
    code = "rule_campaign"


def item_line_lookups(level: str, key: str) -> list[dict]:
    """Receipt-line lookups (alternatives) of one mined item, as mining/services.py keys it:
    a SKU by its code, or by its name on a line without one; a brand or category by the
    master data's id ("#12"), or by the till's name on a line not linked to one."""
    if level == Level.SKU:
        return [{"sku_code": key}, {"sku_code": "", "name": key}]
    id_field, name_field = (
        ("brand_id", "brand_name") if level == Level.BRAND else ("category_id", "category_name")
    )
    if key.startswith("#") and key[1:].isdigit():
        return [{id_field: int(key[1:])}]
    return [{id_field: None, name_field: key}]


def rule_audience(run: MiningRun, rule: Rule, *, lookback_days: int, now=None) -> QuerySet:
    """Active members with a sale holding each item of A, and none holding B, in the last
    `lookback_days` Shanghai days up to now."""
    now = now or timezone.now()
    since = local_day_start(timezone.localdate(now) - timedelta(days=lookback_days - 1))
    keys = dict(RunItem.objects.filter(run=run).values_list("code", "key"))
    members = Member.objects.filter(status=Member.Status.ACTIVE)

    def bought(code: int):
        lines = ReceiptLine.objects.filter(
            receipt_lines_q(item_line_lookups(run.level, keys[code])),
            non_merchandise=False,
            receipt__member_id=OuterRef("pk"),
            receipt__kind=Receipt.Kind.SALE,
            receipt__occurred_at__gte=since,
            receipt__occurred_at__lt=now,
        )
        return Exists(lines)

    for code in rule.antecedents:
        members = members.filter(bought(code))
    for code in rule.consequents:
        members = members.exclude(bought(code))
    return members


def rule_campaign_create(
    *,
    run: MiningRun,
    rule: Rule,
    actor,
    enqueue,
    coupon_template,
    lookback_days: int = 30,
    window_days: int = 14,
    control_percent: int = 10,
    name: str = "",
    sms_text: str = "",
) -> RuleCampaign:
    """The rule's audience as a static group (in the actor's scope) and B's coupon sent to it
    as a group action measured on buying B; `enqueue(action id)` after commit."""
    if rule.run_id != run.pk:
        raise RuleCampaignError(_("This rule is not of this run."), code="rule_run")
    if not 1 <= lookback_days <= LOOKBACK_MAX:
        raise RuleCampaignError(
            _("Look back 1 to %(max)s days.") % {"max": LOOKBACK_MAX}, code="lookback"
        )
    names = dict(RunItem.objects.filter(run=run).values_list("code", "name"))
    keys = dict(RunItem.objects.filter(run=run).values_list("code", "key"))
    a = "、".join(names[c] for c in rule.antecedents)
    b = "、".join(names[c] for c in rule.consequents)
    conversion = [
        lookup for code in rule.consequents for lookup in item_line_lookups(run.level, keys[code])
    ]
    with transaction.atomic():
        group = group_static_create(
            name=_("Bought %(a)s, not %(b)s (%(days)s days)")
            % {"a": a, "b": b, "days": lookback_days},
            members=rule_audience(run, rule, lookback_days=lookback_days),
            actor=actor,
            description=_(
                "From association rule %(a)s → %(b)s of mining run #%(run)s: members who bought "
                "%(a)s but not %(b)s in the last %(days)s days."
            )
            % {"a": a, "b": b, "run": run.pk, "days": lookback_days},
        )
        action = group_action_create(
            group=group,
            kind=GroupAction.Kind.COUPON,
            name=name or _("%(a)s → %(b)s cross-sell") % {"a": a, "b": b},
            actor=actor,
            enqueue=enqueue,
            control_percent=control_percent,
            window_days=window_days,
            coupon_template=coupon_template,
            sms_text=sms_text,
            conversion_lines=conversion,
            conversion_label=b,
        )
        return RuleCampaign.objects.create(
            run=run, rule=rule, action=action, lookback_days=lookback_days
        )
