#!/usr/bin/env bash
# Regenerate the reference docs (docs/reference/) from the modules' DOCUMENTATION and the roles'
# meta/argument_specs.yml: a variable or option is described in exactly one place.
#   scripts/docs.sh            lint the docs sources and rewrite docs/reference/
#   scripts/docs.sh --check    fail if docs/reference/ is stale
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
securelab_env
link_collection
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
(cd "$COLLECTIONS_ROOT/ansible_collections/securelab/gpu_notebook" \
  && antsibull-docs lint-collection-docs --plugin-docs --skip-rstcheck .)
antsibull-docs collection --use-current --dest-dir "$out" --output-format simplified-rst securelab.gpu_notebook >/dev/null
gen="$out/collections/securelab/gpu_notebook"
if [ "${1:-}" = --check ]; then
  diff -ru "$gen" "$REPO_ROOT/docs/reference" || die "docs/reference is stale: run scripts/docs.sh"
  log "docs/reference is current"
else
  rm -rf "$REPO_ROOT/docs/reference" && cp -r "$gen" "$REPO_ROOT/docs/reference"
  log "wrote docs/reference ($(find "$REPO_ROOT/docs/reference" -type f | wc -l) files)"
fi
