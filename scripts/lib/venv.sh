# Sourced by the scripts: makes sure the project-local Python tools are installed.
# Creates .venv (moto server, cfn-lint, cargo-lambda, zig) from the pinned dev/requirements.lock.
# Re-running is cheap: nothing is reinstalled while the lock file is unchanged.

A4B_ROOT=${A4B_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
A4B_VENV="$A4B_ROOT/.venv"
UV_VERSION=0.13.8

ensure_venv() {
  local lock="$A4B_ROOT/dev/requirements.lock" stamp="$A4B_VENV/.installed-lock"
  if [[ -f $stamp ]] && cmp -s "$lock" "$stamp"; then
    return 0
  fi
  echo "==> installing the pinned Python tools into .venv (moto, cfn-lint, aws-sam-translator, cargo-lambda, zig)" >&2
  if [[ ! -x $A4B_VENV/bin/python ]]; then
    python3 -m venv "$A4B_VENV"
  fi
  "$A4B_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
  "$A4B_VENV/bin/uv" pip sync --quiet --python "$A4B_VENV/bin/python" "$lock"
  # uv pip sync removes what the lock does not list, uv included: put it back for the next run.
  "$A4B_VENV/bin/uv" pip install --quiet --python "$A4B_VENV/bin/python" "uv==$UV_VERSION"
  cp "$lock" "$stamp"
}
