"""Pushing one inbox message to the member's WeChat as a template message, recording how it
went; members.tasks.messages_push runs it for the messages members.messaging queued."""

from django.conf import settings
from django.db import transaction

from members import wechat
from members.models import Message, WechatIdentity


def message_push(*, message_id: int) -> Message:
    """Push one pending message to the member's WeChat and record how it went (idempotent)."""
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message_id)
        if message.push_status != Message.Push.PENDING:
            return message  # pushed already, or a redelivered task
        identity = (
            WechatIdentity.objects.filter(
                app_id=settings.WECHAT_APP_ID, member_id=message.member_id
            )
            .order_by("-last_login_at")
            .first()
        )
        if identity is None:
            message.push_status = Message.Push.NONE
        else:
            try:
                wechat.template_message_send(
                    openid=identity.openid,
                    title=message.title,
                    body=message.body,
                    url=message.link if message.link.startswith("https://") else "",
                )
                message.push_status = Message.Push.SENT
            except wechat.WeChatError as exc:
                message.push_status = (
                    Message.Push.NOT_FOLLOWING
                    if exc.errcode == wechat.NOT_FOLLOWING
                    else Message.Push.FAILED
                )
                message.push_error = f"errcode {exc.errcode}" if exc.errcode else "unreachable"
        message.save(update_fields=["push_status", "push_error"])
    return message
