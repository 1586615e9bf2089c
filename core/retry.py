"""Bounded retry of a whole transaction that Postgres aborted to break a deadlock (SQLSTATE
40P01) or a serialization failure (40001), as its manual asks of applications (§13.5).

Only the outermost call retries: inside a caller's transaction the failed statement has
already doomed that transaction, so the error goes up to the caller's own retry (if any)
rather than being replayed on a broken connection. The wrapped function must be safe to run
again, which our services are: their writes sit in one transaction that was rolled back,
and the retried ones are idempotent on their keys anyway. See docs/LOCKING.md.
"""

import functools
import logging
import secrets
import time

from django.conf import settings
from django.db import OperationalError, connection

from core.exceptions import DatabaseBusy

logger = logging.getLogger(__name__)

RETRIED_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure
BACKOFF_MS = 40  # the n-th retry waits a random 0 .. BACKOFF_MS * 2**n ms


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error (Django wraps the driver's, keeping it as the cause)."""
    while exc is not None:
        code = getattr(exc, "pgcode", None) or getattr(exc, "sqlstate", None)
        if code:
            return code
        exc = exc.__cause__
    return None


def is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError) and sqlstate(exc) in RETRIED_SQLSTATES


def retry_on_deadlock(func=None, *, tries: int | None = None):
    """Decorate a service: a deadlock or serialization failure reruns it, up to `tries` runs in
    all (settings.DB_RETRY_TRIES, default 3) with jittered backoff, then DatabaseBusy. Called
    inside a transaction it runs once and lets the error through to the outer call."""

    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            if connection.in_atomic_block:
                return func(*args, **kwargs)
            runs = max(1, tries or settings.DB_RETRY_TRIES)
            for attempt in range(1, runs + 1):
                try:
                    return func(*args, **kwargs)
                except OperationalError as exc:
                    if not is_retryable(exc):
                        raise
                    logger.warning(
                        "%s: %s (SQLSTATE %s), run %s of %s",
                        func.__qualname__,
                        type(exc.__cause__ or exc).__name__,
                        sqlstate(exc),
                        attempt,
                        runs,
                    )
                    if attempt == runs:
                        raise DatabaseBusy() from exc
                    time.sleep(secrets.randbelow(BACKOFF_MS * 2**attempt + 1) / 1000)
            raise AssertionError("unreachable")

        return wrapper

    return decorate(func) if func is not None else decorate
