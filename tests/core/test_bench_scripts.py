"""The benchmark scripts import and parse their options (they are run by hand, not here).

Nothing is served or loaded: the benches themselves take minutes (docs/BENCHMARKS.md).
"""

import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from pos.signing import pos_signature

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture
def bench(monkeypatch):
    """Import a script of bench/ as its own directory would (they import `common`)."""
    monkeypatch.syspath_prepend(str(BENCH))
    return importlib.import_module


def test_pos_api_bench_options(bench):
    args = bench("pos_api_bench").arguments([])
    assert (args.receipts, args.workers, args.clients, args.no_preload) == (3000, 3, 8, False)
    args = bench("pos_api_bench").arguments(["--receipts", "10", "--no-preload", "--healthz", "0"])
    assert (args.receipts, args.no_preload, args.healthz) == (10, True, 0)


def test_card_page_bench_options(bench, capsys):
    module = bench("card_page_bench")
    args = module.arguments([])
    assert (args.members, args.think, args.duration) == (50, [1.0, 3.0], 60)
    assert module.arguments(["--members", "5", "--think", "0", "0"]).think == [0.0, 0.0]
    with pytest.raises(SystemExit):
        module.arguments(["--think", "3", "1"])
    assert "concurrent members" in module.__doc__


def test_load_scenario_options(bench, capsys):
    module = bench("load_scenario")
    args = module.arguments([])
    assert (args.users, args.tills, args.spawn_rate, args.duration) == (44, 4, 10, 60)
    with pytest.raises(SystemExit):
        module.arguments(["--users", "4", "--tills", "4"])


def test_gunicorn_command_uses_the_production_config_unless_preload_is_off(bench):
    common = bench("common")
    env = {"DATABASE_URL": "postgres://x@127.0.0.1/none", "REDIS_URL": "redis://127.0.0.1/0"}
    preloaded = common.Gunicorn(env).command()
    assert preloaded[1:3] == ["-c", str(BENCH.parent / "config" / "gunicorn.py")]
    assert "-w" not in preloaded and preloaded[-1] == "config.wsgi:application"
    plain = common.Gunicorn(env, workers=2, preload=False).command()
    assert "-c" not in plain and plain[plain.index("-w") + 1] == "2"
    server = common.Gunicorn(env)
    assert server.env["DJANGO_ENV"] == "production" and server.url.startswith("http://127.0.0.1:")


def test_pos_headers_sign_as_the_server_checks(bench):
    body = b'{"store": "S01"}'
    headers = bench("common").pos_headers("pos_x", "secret", "POST", "/api/pos/v1/receipts", body)
    assert headers["X-Pos-Signature"] == pos_signature(
        secret="secret",
        method="POST",
        path="/api/pos/v1/receipts",
        timestamp=headers["X-Pos-Timestamp"],
        nonce=headers["X-Pos-Nonce"],
        body=body,
    )


@pytest.mark.skipif(importlib.util.find_spec("locust") is None, reason="locust: make loadtest")
def test_the_locustfile_loads():
    """In a child process: importing locust monkey-patches the process with gevent."""
    listed = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(BENCH / "locustfile.py"), "--list"],
        cwd=BENCH.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    assert "MemberUser" in listed.stdout and "TillUser" in listed.stdout
