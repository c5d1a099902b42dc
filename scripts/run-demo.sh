#!/usr/bin/env bash
# Set everything up, load the demonstration data into SQLite and serve the app on
# http://127.0.0.1:5000 (sign in as coordinator@demo.test, password "demo").
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/tracker db upgrade
.venv/bin/tracker demo
exec .venv/bin/tracker run --host "${HOST:-127.0.0.1}" --port "${PORT:-5000}" "$@"
