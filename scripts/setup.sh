#!/usr/bin/env bash
# Set up the project's virtualenv (.venv) from a requirements file; safe to run again.
#
#   bash scripts/setup.sh            # runtime: requirements.txt (the dashboard and the CLI)
#   bash scripts/setup.sh dev        # + tests: requirements-dev.txt
#
# Creates .venv with `python3 -m venv` when it is missing or broken, then runs pip only when
# the requirement files changed since the last install (a stamp in .venv holds their hash),
# so a second run takes well under a second.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

kind="${1:-runtime}"
case "$kind" in
  runtime) req=requirements.txt ;;
  dev) req=requirements-dev.txt ;;
  *) echo "usage: bash scripts/setup.sh [runtime|dev]" >&2; exit 2 ;;
esac

PYTHON="${PYTHON:-python3}"
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "setup: $PYTHON not found; install Python 3.11+ (Debian: apt-get install -y python3 python3-venv)" >&2
  exit 1
fi

if [ -x .venv/bin/python ] && ! .venv/bin/python -c 'import sys' >/dev/null 2>&1; then
  echo "setup: .venv is broken (its Python moved?); recreating it" >&2
  rm -rf .venv
fi
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $("$PYTHON" --version 2>&1)"
  "$PYTHON" -m venv .venv
fi

# The hash covers every requirement file (requirements-dev.txt includes the other two)
# and the venv's Python version.
hash_of() {
  { .venv/bin/python -c 'import sys; print(sys.version)'; cat requirements.txt requirements-spark.txt requirements-dev.txt; } \
    | sha256sum | cut -d' ' -f1
}
want="$(hash_of)"
stamp_runtime=.venv/.installed-runtime
stamp_dev=.venv/.installed-dev
current() { [ -f "$1" ] && [ "$(cat "$1")" = "$want" ]; }

if current "$stamp_dev" || { [ "$kind" = runtime ] && current "$stamp_runtime"; }; then
  exit 0  # already installed from these exact files
fi

echo "setup: installing $req into .venv"
.venv/bin/python -m pip install --disable-pip-version-check --no-input -q -r "$req"
echo "$want" > "$stamp_runtime"
if [ "$kind" = dev ]; then
  echo "$want" > "$stamp_dev"
fi
