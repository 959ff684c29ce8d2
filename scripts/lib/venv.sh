# Sourced by the scripts: makes sure the project-local Python tools are installed.
# Creates .venv (moto server, cfn-lint, cargo-lambda, zig) from the pinned dev/requirements.lock.
# Re-running is cheap: nothing is reinstalled while the lock file is unchanged.

A4B_ROOT=${A4B_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
A4B_VENV="$A4B_ROOT/.venv"
UV_VERSION=0.13.8

# The pinned tools need Python 3.11 (joserfc, a dependency of moto, requires it).
A4B_PYTHON_MIN=3.11

# Fails early, with what to do, when `python3` is missing or older than $A4B_PYTHON_MIN.
require_python() {
  local python=${1:-python3} version
  if ! version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); then
    echo "error: $python not found: the project's tools need Python $A4B_PYTHON_MIN or later" >&2
    exit 1
  fi
  if ! "$python" -c "import sys; sys.exit(sys.version_info[:2] < (${A4B_PYTHON_MIN/./, }))"; then
    echo "error: $python is Python $version; the pinned tools (dev/requirements.lock) need Python $A4B_PYTHON_MIN or later." >&2
    echo "       Install it (e.g. apt-get install python3.11 python3.11-venv) and put it first on PATH as python3." >&2
    exit 1
  fi
}

ensure_venv() {
  local lock="$A4B_ROOT/dev/requirements.lock" stamp="$A4B_VENV/.installed-lock"
  if [[ -f $stamp ]] && cmp -s "$lock" "$stamp"; then
    return 0
  fi
  echo "==> installing the pinned Python tools into .venv (moto, cfn-lint, aws-sam-translator, cargo-lambda, zig)" >&2
  if [[ ! -x $A4B_VENV/bin/python ]]; then
    require_python python3
    python3 -m venv "$A4B_VENV"
  fi
  require_python "$A4B_VENV/bin/python"
  "$A4B_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
  "$A4B_VENV/bin/uv" pip sync --quiet --python "$A4B_VENV/bin/python" "$lock"
  # uv pip sync removes what the lock does not list, uv included: put it back for the next run.
  "$A4B_VENV/bin/uv" pip install --quiet --python "$A4B_VENV/bin/python" "uv==$UV_VERSION"
  cp "$lock" "$stamp"
}
