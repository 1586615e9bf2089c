"""Member messages: one service writes inbox rows in bulk and queues the WeChat pushes
(members.tasks.messages_push, which runs members.wechat_push for each)."""

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation

from core.audit import audit_log
from members.models import Member, Message, WechatIdentity, link_validator
from members.scoping import scoped_members
from members.tasks import messages_push

BATCH = 1000


def messages_send(
    *,
    members: QuerySet,
    kind: str,
    title: str,
    body: str,
    link: str = "",
    params: dict | None = None,
) -> int:
    """Write one inbox message per active member of `members`; members who have a WeChat
    identity get a template-message push after commit. Returns the number of messages.

    `title` and `body` may be lazy translations with `%(name)s` placeholders filled from
    `params`: they are rendered here in the members' language (LANGUAGE_CODE), whatever
    language the staff member, request or task that sends them is in."""
    if link:
        link_validator(link)
    title, body = message_render(title, params), message_render(body, params)
    ids = list(
        members.filter(status=Member.Status.ACTIVE).order_by("pk").values_list("pk", flat=True)
    )
    followers = set(
        WechatIdentity.objects.filter(app_id=settings.WECHAT_APP_ID, member_id__in=ids).values_list(
            "member_id", flat=True
        )
    )
    now = timezone.now()
    created = 0
    with transaction.atomic():
        for start in range(0, len(ids), BATCH):
            rows = Message.objects.bulk_create(
                Message(
                    member_id=member_id,
                    kind=kind,
                    title=title,
                    body=body,
                    link=link,
                    created_at=now,
                    push_status=Message.Push.PENDING
                    if member_id in followers
                    else Message.Push.NONE,
                )
                for member_id in ids[start : start + BATCH]
            )
            created += len(rows)
            pending = [m.pk for m in rows if m.push_status == Message.Push.PENDING]
            if pending:
                transaction.on_commit(lambda p=pending: messages_push.delay(p))
    return created


def messages_push_by_staff(
    *, actor, card_nos: list[str] | None, kind: str, title: str, body: str, link: str = ""
) -> int:
    """A staff member's manual push (messages_send) to every member in their data scope, or
    to those of `card_nos` in it, with its audit row in the same transaction. Returns the
    number of messages."""
    members = scoped_members(Member.objects.all(), user=actor)
    if card_nos is not None:
        members = members.filter(card_no__in=card_nos)
    with transaction.atomic():
        count = messages_send(members=members, kind=kind, title=title, body=body, link=link)
        audit_log(
            actor=actor,
            action="members.message.pushed",
            data={
                "title": title,
                "audience": "all" if card_nos is None else "cards",
                "count": count,
            },
        )
    return count


def message_render(text, params: dict | None = None) -> str:
    """`text` (a lazy translation, or staff's own words) as members read it."""
    with translation.override(settings.LANGUAGE_CODE):
        rendered = str(text)
        return rendered % params if params else rendered


def message_read(*, member: Member, message_id: int) -> Message:
    """The member's own message, marked read; Message.DoesNotExist for anyone else's."""
    message = Message.objects.get(pk=message_id, member=member)
    if message.read_at is None:
        message.read_at = timezone.now()
        message.save(update_fields=["read_at"])
    return message


def unread_count(*, member: Member) -> int:
    return Message.objects.filter(member=member, read_at__isnull=True).count()
