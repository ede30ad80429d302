#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: bootstrap (venv, Docker engine, local images),
# then lint, ansible-test sanity, galaxy-importer on the built tarball, and pytest
# (unit tests + every molecule scenario).
# Exits non-zero on any failure and ends with a per-stage timing summary.
#   scripts/test.sh                  everything
#   scripts/test.sh lint sanity      only those stages (bootstrap always runs first)
#   PYTEST_ARGS="-k time_sync" scripts/test.sh pytest
set -uo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

STAGES=("$@")
[ ${#STAGES[@]} -gt 0 ] || STAGES=(lint sanity importer pytest)
declare -a SUMMARY=()
FAILED=0

run_stage() {  # name, command...
  local name=$1 start rc; shift
  log "stage: $name"
  start=$(date +%s)
  "$@"; rc=$?
  SUMMARY+=("$(printf '%-10s %5ss  %s' "$name" "$(( $(date +%s) - start ))" "$([ $rc -eq 0 ] && echo ok || echo "FAILED (rc=$rc)")")")
  [ $rc -eq 0 ] || FAILED=1
  return $rc
}

summary() {
  printf '\n%s\n' "---- stage timings ----"
  printf '%s\n' "${SUMMARY[@]}"
}
trap summary EXIT

stage_lint() {
  ansible-lint --profile production --offline -q \
    && yamllint -s . \
    && ruff check .
}

# ansible-test wants the collection at .../ansible_collections/securelab/gpu_notebook and
# downloads a pip bootstrap script from a host that is unreachable here: serve it a stand-in.
stage_sanity() {
  local dest="$CACHE/sanity/ansible_collections/securelab/gpu_notebook"
  rm -rf "$dest" && mkdir -p "$dest"
  git ls-files -co --exclude-standard -z | xargs -0 -I{} cp --parents {} "$dest/" 2>/dev/null
  # The copy lies inside this repo's ignored .cache: give it a git index of its own, or
  # ansible-test asks the outer repo for its files and skips every target.
  (cd "$dest" && git init -q && git add -A) || return 1
  "$VENV/bin/python" "$REPO_ROOT/scripts/ansible_test_pip_standin.py"
  (cd "$dest" && ansible-test sanity --venv --python 3.11 --color no)
}

# Galaxy's own import checks on the built tarball (ansible-test is the sanity stage's job).
stage_importer() {
  local venv="$CACHE/venv-importer" out="$CACHE/importer"
  if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.req" 2>/dev/null)" != "$(recipe_hash requirements-importer.txt)" ]; then
    python3 -m venv "$venv" && quiet_pip "$venv/bin/pip" install -q -r requirements-importer.txt \
      && recipe_hash requirements-importer.txt > "$venv/.req" || return 1
  fi
  rm -rf "$out" && mkdir -p "$out"
  ansible-galaxy collection build --force --output-path "$out" >/dev/null || return 1
  printf '[galaxy-importer]\nRUN_ANSIBLE_TEST = False\nRUN_ANSIBLE_LINT = True\n' > "$out/importer.cfg"
  (cd "$out" && GALAXY_IMPORTER_CONFIG="$out/importer.cfg" "$venv/bin/python" -m galaxy_importer.main ./*.tar.gz \
    > "$out/import.log" 2>&1)
  local rc=$?
  # The importer reports its own failures as ERROR and ansible-lint's findings as WARNING lines.
  grep -E "^(WARNING|ERROR)" "$out/import.log" >&2
  [ $rc -eq 0 ] && ! grep -qE "^ERROR|^WARNING: (ERROR|.*\[)" "$out/import.log" \
    && grep -q "Importer processing completed successfully" "$out/import.log"
}

stage_pytest() {
  local rc
  # shellcheck disable=SC2086
  pytest ${PYTEST_ARGS:-}; rc=$?
  [ $rc -eq 5 ] && { warn "pytest collected no tests"; return 1; }
  return $rc
}

run_stage bootstrap "$REPO_ROOT/scripts/bootstrap.sh" all || exit 1
securelab_env
for s in "${STAGES[@]}"; do
  case $s in
    lint|sanity|importer|pytest) run_stage "$s" "stage_$s" ;;
    *) die "unknown stage $s (lint, sanity, importer, pytest)" ;;
  esac
done
exit $FAILED
