#!/usr/bin/env bash
# ansible-lint as pre-commit runs it (.pre-commit-config.yaml), in the environment of scripts/test.sh's lint
# stage: the tools of .venv, and this tree linked as .cache/collections/ansible_collections/securelab/gpu_notebook
# on ANSIBLE_COLLECTIONS_PATH, so the roles' and modules' FQCNs (securelab.gpu_notebook.*) resolve in a plain
# checkout too. Extra arguments go to ansible-lint.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
[ -x "$VENV/bin/ansible-lint" ] || die "$VENV/bin/ansible-lint is missing: run scripts/bootstrap.sh venv first"
securelab_env
link_collection
exec ansible-lint --profile production --offline "$@"
