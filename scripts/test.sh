#!/usr/bin/env bash
# Set everything up, lint, and run the whole test suite. Extra arguments go to pytest.
# With TRACKER_TEST_POSTGRES_URL set, every database test also runs on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/ruff check tracker tests migrations scripts
.venv/bin/ruff format --check tracker tests migrations scripts
# The layers (docs/architecture.md): fails on an import from a lower layer to a higher one.
.venv/bin/lint-imports
.venv/bin/python -m pytest "$@"
