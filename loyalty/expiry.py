"""Points expiry. Credits carry the date they expire (loyalty.ledger.credit_expires_on) and
debits consume the oldest first, so what expires by a date is what was credited to expire by
then less everything ever debited (expiries included), if positive. No lot is ever updated:
expiry is an entry like any other, computed under the account's lock, so a rerun expires
nothing twice.
"""

from datetime import date, timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from loyalty.ledger import expire_key, points_post
from loyalty.models import ExpiryReminder, LoyaltySettings, PointsAccount, PointsEntry
from members.models import Member, Message

_DUE_SQL = """
    SELECT account_id,
           SUM(CASE WHEN points > 0 AND expires_on <= %(on)s THEN points ELSE 0 END)
             + SUM(CASE WHEN points < 0 THEN points ELSE 0 END) AS due
    FROM loyalty_pointsentry
    {where}
    GROUP BY account_id
    HAVING SUM(CASE WHEN points > 0 AND expires_on <= %(on)s THEN points ELSE 0 END)
             + SUM(CASE WHEN points < 0 THEN points ELSE 0 END) > 0
"""


def points_due_to_expire(*, on: date, account_ids: list[int] | None = None) -> dict[int, int]:
    """{account id: points that have expired by the end of `on` and are still unspent}."""
    where = "WHERE account_id = ANY(%(ids)s)" if account_ids is not None else ""
    with connection.cursor() as cursor:
        cursor.execute(_DUE_SQL.format(where=where), {"on": on, "ids": account_ids})
        return {account_id: int(due) for account_id, due in cursor.fetchall()}


def points_expire(*, on: date | None = None) -> dict:
    """Expire, for every account, the points whose expiry date is `on` (yesterday by
    default) or earlier and that were not spent. Each account in its own transaction with
    its row locked, so spends running meanwhile are counted; rerunnable after a crash."""
    on = on or timezone.localdate() - timedelta(days=1)
    candidates = points_due_to_expire(on=on)
    expired_accounts = expired_points = 0
    for account_id in sorted(candidates):
        with transaction.atomic():
            account = PointsAccount.objects.select_for_update().get(pk=account_id)
            due = points_due_to_expire(on=on, account_ids=[account_id]).get(account_id, 0)
            if due <= 0:
                continue
            # Normally one expiry per account and date; a credit recorded after that date's
            # run with an earlier expiry (a late or imported old receipt) needs a second one.
            key = expire_key(account_id=account_id, on=on)
            earlier = PointsEntry.objects.filter(account=account, key__startswith=key).count()
            entry, created = points_post(
                member_id=account.member_id,
                kind=PointsEntry.Kind.EXPIRE,
                points=-due,
                key=expire_key(account_id=account_id, on=on, earlier=earlier),
                memo=_("Points earned until %(date)s expired") % {"date": on.isoformat()},
                floor_at_zero=True,
            )
            if created:
                expired_accounts += 1
                expired_points += -entry.points
    return {"accounts": expired_accounts, "points": expired_points, "on": on.isoformat()}


def expiry_reminders_send(*, today: date | None = None) -> int:
    """Tell members whose points expire within the reminder window how many and when; one
    reminder per account and expiry date, however often this runs."""
    from members.messaging import messages_send

    today = today or timezone.localdate()
    policy = LoyaltySettings.current()
    if not policy.expiry_enabled:
        return 0
    window_end = today + timedelta(days=policy.expiry_reminder_days)
    dates = (
        PointsEntry.objects.filter(points__gt=0, expires_on__gte=today, expires_on__lte=window_end)
        .values_list("expires_on", flat=True)
        .distinct()
    )
    sent = 0
    for expires_on in sorted(set(dates)):
        already = set(
            ExpiryReminder.objects.filter(expires_on=expires_on).values_list(
                "account_id", flat=True
            )
        )
        due = points_due_to_expire(on=expires_on)
        accounts = dict(
            PointsAccount.objects.filter(pk__in=[a for a in due if a not in already]).values_list(
                "pk", "member_id"
            )
        )
        for account_id, member_id in accounts.items():
            with transaction.atomic():
                _reminder, created = ExpiryReminder.objects.get_or_create(
                    account_id=account_id,
                    expires_on=expires_on,
                    defaults={"points": due[account_id]},
                )
                if not created:
                    continue
                messages_send(
                    members=Member.objects.filter(pk=member_id),
                    kind=Message.Kind.SYSTEM,
                    title=gettext_lazy("Points about to expire"),
                    body=gettext_lazy(
                        "%(points)s of your points expire after %(date)s. Use them in the"
                        " points mall before then."
                    ),
                    params={"points": due[account_id], "date": expires_on.isoformat()},
                    link="/m/records/?tab=points",
                )
                sent += 1
    return sent
