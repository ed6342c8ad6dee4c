#!/usr/bin/env bash
# Set up and start the dashboard on the bundled sample warehouse.
#
#   bash scripts/dashboard.sh [streamlit run options...]
#   e.g. bash scripts/dashboard.sh --server.port 8502 --server.headless true
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh runtime

# the sample DuckDB file is built from the committed Parquet files (not committed itself)
if [ ! -f data/sample/warehouse.duckdb ]; then
  echo "dashboard: building data/sample/warehouse.duckdb from data/sample/*.parquet"
  .venv/bin/python -c "from metrics.bundled_sample import ensure_sample_duckdb; ensure_sample_duckdb()"
fi

# ui.server: `streamlit run app.py` with the app's modules imported before the server listens
exec .venv/bin/python -m ui.server "$@"
