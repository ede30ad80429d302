# shellcheck shell=bash
# Shared helpers for the scripts in this directory. Source it; do not run it.

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="${SECURELAB_VENV:-$REPO_ROOT/.venv}"
CACHE="$REPO_ROOT/.cache"
# A path ending in ansible_collections/securelab/gpu_notebook that points at this tree,
# so ansible, molecule and the unit tests resolve the collection by its FQCN.
COLLECTIONS_ROOT="$CACHE/collections"

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
warn() { printf '\033[1;33mWARN:\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31mERROR:\033[0m %s\n' "$*" >&2; exit 1; }

# Exported environment every tool in the suite runs with.
securelab_env() {
  export PATH="$VENV/bin:$PATH"
  export ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS_ROOT"
  export ANSIBLE_ROLES_PATH="$REPO_ROOT/roles"
  export ANSIBLE_FORCE_COLOR="${ANSIBLE_FORCE_COLOR:-0}"
  export ANSIBLE_NOCOLOR="${ANSIBLE_NOCOLOR:-1}"
  export PIP_DISABLE_PIP_VERSION_CHECK=1
  export PYTHONDONTWRITEBYTECODE=1
  export PY_COLORS=0
}

link_collection() {
  local dest="$COLLECTIONS_ROOT/ansible_collections/securelab"
  mkdir -p "$dest"
  if [ "$(readlink "$dest/gpu_notebook" 2>/dev/null)" != "$REPO_ROOT" ]; then
    rm -rf "$dest/gpu_notebook"
    ln -s "$REPO_ROOT" "$dest/gpu_notebook"
  fi
}

# Hash of files: a cache key that changes when a recipe changes.
recipe_hash() { cat "$@" | sha256sum | cut -c1-12; }

# pip, without the machine-specific "Location ... is ignored" noise of this build machine's pip.conf.
quiet_pip() {
  local rc
  "$@" 2>&1 | { grep -v "^WARNING: Location '" >&2 || true; }
  rc=${PIPESTATUS[0]}
  return "$rc"
}
