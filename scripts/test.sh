#!/usr/bin/env bash
# Set up and run the whole test suite: .venv with requirements-dev.txt, and (as root, when
# missing) Debian's chromium, postgresql and openjdk-17-jre-headless for the browser, PostgreSQL
# and Spark tests. Arguments
# go to pytest:
#
#   bash scripts/test.sh                      # everything
#   bash scripts/test.sh -x -q -k postgres    # a selection
#   APPEALS_TEST_WORKERS=0 bash scripts/test.sh tests/test_cli.py   # in one process (pdb, -s)
#
# The PostgreSQL tests start their own throwaway server (tests/pg.py); nothing is left running.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

have_chromium() { command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; }
have_postgres() {
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1
}

have_java17() { command -v java >/dev/null 2>&1 && java -version 2>&1 | grep -Eq 'version "(1[7-9]|2[0-9])'; }

missing=()
have_chromium || missing+=(chromium)
have_postgres || missing+=(postgresql)
have_java17 || missing+=(openjdk-17-jre-headless)  # local Spark (tests/test_spark.py)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "test: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q "${missing[@]}"
    have_chromium || { echo "test: chromium still missing after apt-get install" >&2; exit 1; }
    have_postgres || { echo "test: PostgreSQL server binaries still missing after apt-get install" >&2; exit 1; }
    have_java17 || { echo "test: Java 17 still missing after apt-get install (Spark)" >&2; exit 1; }
  else
    echo "test: not root, so not installing ${missing[*]}; their tests skip (and fail under CI=true)" >&2
  fi
fi

bash scripts/setup.sh dev

# Two workers (pytest-xdist), whole modules each, so module fixtures (a Spark session, an app
# server) start once: many tests wait on a server, a browser or a subprocess, and the other
# worker uses that time. APPEALS_TEST_WORKERS=0 runs everything in this process.
exec .venv/bin/python -m pytest -n "${APPEALS_TEST_WORKERS:-2}" --dist loadfile "$@"
