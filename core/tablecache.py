"""Per-process copies of small tables staff edit rarely and the tills read on every request
(earning rules, promotions, tiers, the loyalty policy, stores, categories, brands, terminals).

One version token in the shared cache (Redis in production) stands for all of them. A save or
delete of a registered model (`tables_cached`) replaces the token at once and again when its
transaction commits, so every process reads the tables afresh on its next request, and a
deactivated terminal is refused by the next request whichever worker serves it. While a
transaction that edited one of them is open, its own process reads the database directly and
keeps nothing, so an edit rolled back is never served. Queryset `.update()` and bulk writes
send no signals: code that edits these tables that way calls `tables_changed()` itself.

Within one HTTP request the token is read once (request_started clears the memo); outside a
request it is read on every lookup.
"""

import threading
import uuid
from collections.abc import Callable

from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save

VERSION_KEY = "tablecache:version"

_values: dict[str, tuple[str, object]] = {}
_request = threading.local()  # .version: the token read in this thread's current request


def table_cached(name: str, load: Callable[[], object]):
    """`load()`'s answer, kept in this process until a registered table changes."""
    if _editing():
        return load()
    version = _version()
    hit = _values.get(name)
    if hit is not None and hit[0] == version:
        return hit[1]
    value = load()
    _values[name] = (version, value)
    return value


def tables_changed(**_kwargs) -> None:
    """Staff changed a cached table: every process reloads (now, and after the commit)."""
    _bump()
    if connection.in_atomic_block:
        transaction.on_commit(_bump)


def tables_cached(*models) -> None:
    """Invalidate the cached tables whenever a row of `models` is saved or deleted."""
    for model in models:
        post_save.connect(tables_changed, sender=model, dispatch_uid=f"tablecache:{model}:s")
        post_delete.connect(tables_changed, sender=model, dispatch_uid=f"tablecache:{model}:d")


def _bump() -> None:
    cache.set(VERSION_KEY, uuid.uuid4().hex, None)
    _request.version = None


def _editing() -> bool:
    """Inside a transaction that changed a cached table (its commit hook is pending)."""
    return connection.in_atomic_block and any(hook[1] is _bump for hook in connection.run_on_commit)


def _version() -> str:
    memo = getattr(_request, "version", None)
    if memo:
        return memo
    version = cache.get(VERSION_KEY)
    if version is None:  # first use, or the cache was flushed: everyone reloads
        cache.add(VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(VERSION_KEY)
    if getattr(_request, "active", False):
        _request.version = version
    return version


def _request_start(**_kwargs) -> None:
    _request.active, _request.version = True, None


def _request_end(**_kwargs) -> None:
    _request.active, _request.version = False, None


request_started.connect(_request_start, dispatch_uid="tablecache:start")
request_finished.connect(_request_end, dispatch_uid="tablecache:end")
