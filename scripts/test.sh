#!/usr/bin/env bash
# Set up and run the whole test suite: .venv with requirements-dev.txt, and (as root, when
# missing) Debian's chromium and postgresql for the browser and PostgreSQL tests. Arguments
# go to pytest:
#
#   bash scripts/test.sh                      # everything
#   bash scripts/test.sh -x -q -k postgres    # a selection
#
# The PostgreSQL tests start their own throwaway server (tests/pg.py); nothing is left running.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

have_chromium() { command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; }
have_postgres() {
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1
}

missing=()
have_chromium || missing+=(chromium)
have_postgres || missing+=(postgresql)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "test: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q "${missing[@]}"
    have_chromium || { echo "test: chromium still missing after apt-get install" >&2; exit 1; }
    have_postgres || { echo "test: PostgreSQL server binaries still missing after apt-get install" >&2; exit 1; }
  else
    echo "test: not root, so not installing ${missing[*]}; their tests skip (and fail under CI=true)" >&2
  fi
fi

bash scripts/setup.sh dev

exec .venv/bin/python -m pytest "$@"
