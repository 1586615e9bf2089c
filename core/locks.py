"""A job that must not run twice at once (a duplicate beat entry, a redelivered task)."""

import zlib
from contextlib import contextmanager

from django.db import connection


@contextmanager
def advisory_lock(name: str):
    """Yield True holding a Postgres session advisory lock named `name`, or False at once if
    another session holds it."""
    key = zlib.crc32(name.encode())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
