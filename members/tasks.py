from celery import shared_task

from members.wechat_push import message_push


@shared_task(acks_late=True)
def messages_push(message_ids: list[int]) -> int:
    """Push a batch of inbox messages to WeChat; each push is idempotent, and one WeChat
    refuses is recorded as failed (message_push), not retried."""
    for message_id in message_ids:
        message_push(message_id=message_id)
    return len(message_ids)


@shared_task(acks_late=True)
def personal_data_prune_nightly() -> dict:
    """Nightly: personal data past its purpose is deleted (members.retention)."""
    from members.retention import personal_data_prune

    return personal_data_prune()
