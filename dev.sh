#!/usr/bin/env bash
# crvs-migrate developer entry point: `./dev.sh demo` and `./dev.sh test` (see README).
# Installs what it needs from this repository's own files: a venv with the
# project and its test tools, and for tests the system packages (openssh-server,
# tmux, git) and yarn 1.x.
set -euo pipefail
cd "$(dirname "$0")"

VENV=${VENV:-.venv}
STAMP="$VENV/.installed-$(sha256sum pyproject.toml | cut -c1-16)"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else echo "need root to run: $*" >&2; return 1
  fi
}

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing system packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

find_python() {
  for py in python3.11 python3.12 python3.13 python3; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      echo "$py"; return 0
    fi
  done
  echo "crvs-migrate needs Python 3.11 or newer" >&2; return 1
}

ensure_venv() {
  [ -f "$STAMP" ] && return 0
  local py; py=$(find_python)
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV"
    if ! "$py" -m venv "$VENV" 2>/dev/null; then
      rm -rf "$VENV"
      apt_install python3-venv
      "$py" -m venv "$VENV"
    fi
  fi
  say "installing crvs-migrate and its test tools into $VENV"
  # A venv made by another tool (uv venv) may have no pip: add it first.
  "$VENV/bin/python" -m pip --version >/dev/null 2>&1 || "$VENV/bin/python" -m ensurepip >/dev/null
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check uv
  # Bytecode now, as pip does: with PYTHONDONTWRITEBYTECODE set (or a read-only venv)
  # every start would otherwise compile Textual and Rich again (about half a second).
  "$VENV/bin/uv" pip install -q --compile-bytecode -p "$VENV/bin/python" -e '.[dev]'
  rm -f "$VENV"/.installed-*
  touch "$STAMP"
}

ensure_git() {
  command -v git >/dev/null 2>&1 || apt_install git
}

ensure_test_deps() {
  apt_install openssh-server openssh-client tmux git
  # Headless browser for the `serve` and report print tests; tesseract reads the serve
  # screenshot, poppler-utils (pdfinfo, pdftotext) the printed report.
  apt_install chromium chromium-driver tesseract-ocr poppler-utils
  if ! command -v yarn >/dev/null 2>&1; then
    command -v npm >/dev/null 2>&1 || apt_install nodejs npm
    say "installing yarn 1.x"
    as_root npm install -g --silent yarn@1 >/dev/null
  fi
}

cmd=${1:-help}
shift || true
case "$cmd" in
  demo)
    ensure_git
    ensure_venv
    exec "$VENV/bin/crvs-migrate" --demo "$@"
    ;;
  test)
    ensure_test_deps
    ensure_venv
    # The type checker and the import contracts first: a name that does not exist, or an
    # import against the layers, fails here in seconds (configured in pyproject.toml).
    if [ $# -eq 0 ]; then
      say "mypy"
      "$VENV/bin/mypy"
      say "import contracts (import-linter)"
      "$VENV/bin/lint-imports" --no-cache >/dev/null || "$VENV/bin/lint-imports" --no-cache
      # The whole suite on every core (pytest-xdist), a test file per worker at a time so
      # each file's module fixtures are built once, in the order tests/conftest.py gives
      # (the slow files first: a long one started last would run alone at the end).
      set -- -n auto --maxprocesses 4 --dist loadfile --no-loadscope-reorder
    fi
    exec "$VENV/bin/python" -m pytest "$@"
    ;;
  bench)
    ensure_test_deps
    # The work to the first screen is counted in machine instructions (bench_launch_work.py).
    apt_install valgrind
    ensure_venv
    exec "$VENV/bin/python" -m pytest -p no:cacheprovider -s tests/bench "$@"
    ;;
  wheelhouse)
    # Offline install archive (see README "Offline install"); needs only python3.
    exec ./offline/build-wheelhouse.sh "$@"
    ;;
  *)
    echo "usage: ./dev.sh demo | test [pytest args] | bench | wheelhouse [--out DIR]" >&2
    exit 2
    ;;
esac
