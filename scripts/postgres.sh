#!/usr/bin/env bash
# Start a throwaway PostgreSQL server with the sample warehouse loaded, print its URL, and
# keep it up until Ctrl-C (then its data is deleted). For trying the dashboard or the CLI
# against PostgreSQL by hand; the tests start their own server and do not need this.
#
#   bash scripts/postgres.sh [--appeals N]
#   python -m metrics report --warehouse postgresql+psycopg://postgres@127.0.0.1:PORT/appeals --by queue --out -
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh dev
exec .venv/bin/python -m tests.pg "$@"
