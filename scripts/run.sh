#!/usr/bin/env bash
# `make run`: migrate, load the demo mall if empty, serve with the fake WeChat beside it. On
# any exit (Ctrl-C, SIGTERM, an error) it stops what it started, the embedded PostgreSQL
# included, which would otherwise outlive it (it is shared by every process on .pgdata/).
set -uo pipefail
parent=$PPID
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
PORT=${PORT:-8000}
children=()

stop_all() {
  trap - EXIT INT TERM
  set +e  # clean up all the way, whatever has already ended
  for pid in ${children[@]+"${children[@]}"}; do kill "$pid" 2>/dev/null; done
  wait
  if [ -z "${DATABASE_URL:-}" ]; then
    "$BIN/python" -m config.embedded_postgres.control stop "${EMBEDDED_PGDATA:-.pgdata}"
  fi
}
trap stop_all EXIT
# A trapped signal interrupts `wait` at once; the EXIT trap then cleans up.
trap 'exit 130' INT
trap 'exit 143' TERM
set -e

"$BIN/python" manage.py migrate --noinput
"$BIN/python" manage.py seed_demo --if-empty
cat <<BANNER

  Back office:  http://localhost:$PORT/backoffice/   login: hq / demo-2026
                (also s01_manager, s02_manager, marketing, service, analyst)
  Member pages: http://localhost:$PORT/m/   (a phone-sized window works best)
                sign in through the fake WeChat on :8011; SMS codes print below
  Admin:        http://localhost:$PORT/admin/        Health: /healthz
  POS API:      docs/examples/pos_receipt.sh (or .py) uses the demo till printed above

BANNER
# Started in the background so that a signal reaches this shell while they run.
"$BIN/python" manage.py fake_wechat --port 8011 &
children+=($!)
"$BIN/python" manage.py runserver "0.0.0.0:$PORT" &
web=$!
children+=("$web")
# make dies of a SIGTERM without passing it on, so also end when the parent is gone.
while kill -0 "$web" 2>/dev/null && kill -0 "$parent" 2>/dev/null; do
  sleep 1 &
  wait $! || true
done
if ! kill -0 "$web" 2>/dev/null; then
  wait "$web"  # the server's own exit status is the run's
fi
