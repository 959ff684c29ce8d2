# Sourced by the scripts: installs a pinned cargo tool with `cargo install` into cargo's own bin folder
# (`~/.cargo/bin`, or `$CARGO_INSTALL_ROOT/bin`, `$CARGO_HOME/bin`) when it is missing or another
# version, so that a fresh machine needs only Rust and crates.io: once per machine, shared by every
# clone.

# ensure_cargo_tool CRATE VERSION [ARGS...]: installs CRATE at VERSION unless its binary (named as the
# crate) is there already and says `<name> VERSION` when run with ARGS (`--version` by default).
# Prints the binary's path.
ensure_cargo_tool() {
  local crate=$1 version=$2
  shift 2
  local version_args=(--version)
  (($#)) && version_args=("$@")
  local root="${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}"
  local binary="$root/bin/$crate"
  local installed
  installed=$("$binary" "${version_args[@]}" 2>/dev/null | awk '{print $2}') || installed=""
  if [[ ! -x "$binary" || "$installed" != "$version" ]]; then
    printf '==> installing %s %s into %s (once per machine)\n' "$crate" "$version" "$root" >&2
    # Its own target dir, so the project's build cache is left alone.
    local build_dir
    build_dir=$(mktemp -d)
    CARGO_TARGET_DIR="$build_dir" cargo install --locked --root "$root" \
      "$crate" --version "$version" >&2
    rm -rf "$build_dir"
  fi
  printf '%s\n' "$binary"
}
