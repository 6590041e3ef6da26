#!/usr/bin/env bash
# Install crvs-migrate from this unpacked archive, with no network at all:
# a new venv, then pip from the wheels beside this script only.
#
#   ./install-offline.sh [VENV_DIR]      (default: ~/.local/share/crvs-migrate/venv)
#
# Environment: PYTHON (default python3.11, else python3).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=${1:-${XDG_DATA_HOME:-$HOME/.local/share}/crvs-migrate/venv}

fail() { echo "install-offline: $*" >&2; exit 1; }

[ -d "$here/wheels" ] || fail "no wheels/ directory beside this script: unpack the whole archive first"
if command -v sha256sum >/dev/null 2>&1; then
  (cd "$here" && sha256sum --quiet -c SHA256SUMS) || fail "the archive is damaged (checksums differ): copy it again"
fi

want=$(cat "$here/PYTHON_VERSION")
python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in "python$want" python3; do
    if command -v "$candidate" >/dev/null 2>&1; then python=$candidate; break; fi
  done
fi
[ -n "$python" ] || fail "Python $want is needed (set PYTHON=/path/to/python$want)"
have=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
[ "$have" = "$want" ] || fail "these wheels are for Python $want but $python is $have; set PYTHON or build the wheelhouse with --python-version $have"

if [ -e "$venv" ] && [ ! -x "$venv/bin/python" ]; then
  fail "$venv exists and is not a venv: choose another directory"
fi
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv" || fail "could not create a venv with $python -m venv (on Debian: the python3-venv package)"
fi

# --isolated ignores pip.conf and PIP_* variables, so nothing can point pip at
# an index; --no-index and --find-links make the wheels here the only source.
"$venv/bin/python" -m pip install --isolated --disable-pip-version-check --no-index \
  --find-links "$here/wheels" --quiet crvs-migrate

echo "crvs-migrate $("$venv/bin/crvs-migrate" --version | awk '{print $2}') installed in $venv"
if [ -d "$HOME/.local/bin" ] && case ":$PATH:" in *":$HOME/.local/bin:"*) true ;; *) false ;; esac; then
  ln -sf "$venv/bin/crvs-migrate" "$HOME/.local/bin/crvs-migrate"
  echo "Run: crvs-migrate --demo   (linked into ~/.local/bin)"
else
  echo "Run: $venv/bin/crvs-migrate --demo"
fi
