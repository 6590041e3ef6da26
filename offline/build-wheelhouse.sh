#!/usr/bin/env bash
# Build an offline install archive of crvs-migrate on a machine that can reach
# the package index: the project's wheel, every dependency's wheel for the
# target Python, and install-offline.sh, packed as one .tar.gz.
#
#   ./dev.sh wheelhouse [--python-version 3.11] [--platform manylinux2014_x86_64] [--out DIR]
#
# By default the wheels match the Python that runs this script (PYTHON, else
# python3.11 / python3). Give --python-version and --platform to build for a
# jump host whose Python or architecture differs (wheels only, no sdists).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/.." && pwd)

py_version=""
platform=""
out="$project/dist"
while [ $# -gt 0 ]; do
  case "$1" in
    --python-version) py_version=$2; shift 2 ;;
    --platform) platform=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-wheelhouse: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then python=$candidate; break; fi
  done
fi
[ -n "$python" ] || { echo "build-wheelhouse: no python3 found (set PYTHON)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A throwaway venv gives a known pip whatever the system's Python ships (a uv
# venv, for one, has no pip).
"$python" -m venv "$work/venv"
pip=("$work/venv/bin/python" -m pip --disable-pip-version-check)

if [ -z "$py_version" ]; then
  py_version=$("$work/venv/bin/python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
fi
if [ -z "$platform" ]; then
  platform=$("$work/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_platform().replace("-", "_").replace(".", "_"))')
fi

version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$project/pyproject.toml" | head -n1)
name="crvs-migrate-offline-$version-py$py_version-$platform"
stage="$work/$name"
mkdir -p "$stage/wheels"

echo "==> building the crvs-migrate $version wheel" >&2
"${pip[@]}" wheel -q --no-deps --wheel-dir "$stage/wheels" "$project"

echo "==> collecting dependency wheels for Python $py_version ($platform)" >&2
target=()
if [ "$platform" != "$("$work/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_platform().replace("-", "_").replace(".", "_"))')" ] \
   || [ "$py_version" != "$("$work/venv/bin/python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')" ]; then
  target=(--python-version "$py_version" --implementation cp --platform "$platform")
  # manylinux wheels are what Linux hosts install.
  case "$platform" in linux_*) target+=(--platform "manylinux2014_${platform#linux_}" --platform "manylinux_2_28_${platform#linux_}") ;; esac
fi
"${pip[@]}" download -q --only-binary=:all: "${target[@]}" --dest "$stage/wheels" "$stage"/wheels/crvs_migrate-*.whl

cp "$here/install-offline.sh" "$stage/install-offline.sh"
chmod 0755 "$stage/install-offline.sh"
printf '%s\n' "$py_version" >"$stage/PYTHON_VERSION"
(cd "$stage" && sha256sum wheels/*.whl install-offline.sh PYTHON_VERSION >SHA256SUMS)
cat >"$stage/README.txt" <<TXT
crvs-migrate $version, offline install for Python $py_version ($platform)

On the machine without internet:
  tar xzf $name.tar.gz
  ./$name/install-offline.sh            # installs into ~/.local/share/crvs-migrate/venv
  ./$name/install-offline.sh DIR        # or into DIR
Then run: crvs-migrate --demo   (or the full path the installer prints)
TXT

mkdir -p "$out"
archive="$out/$name.tar.gz"
tar -C "$work" -czf "$archive" "$name"
count=$(ls "$stage/wheels" | wc -l)
size=$(du -h "$archive" | cut -f1)
echo "==> $archive ($count wheels, $size)" >&2
echo "$archive"
