"""Points-mall and lottery jobs for the workers: thin wrappers, each safe to run again."""

from celery import shared_task

from mall.lottery import lottery_draws_expire


@shared_task(acks_late=True)
def lottery_draws_expire_nightly() -> int:
    """Physical lottery prizes nobody picked up by their claim date become expired, so the
    member's draws, the desk and the draw list say so (mall/lottery.py); a second run finds
    nothing left to expire."""
    return lottery_draws_expire()
