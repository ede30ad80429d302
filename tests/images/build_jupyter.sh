#!/usr/bin/env bash
# Build the local Jupyter images used by the tests and the demo, without any container registry:
#   securelab/jupyter-lab:<jupyter_server version>  (recipe jupyter)    JupyterLab on Jupyter Server 2.x, like the
#                                                                        Docker Stacks images; non-root, tini
#   securelab/notebook6:<notebook version>           (recipe notebook6)  classic Notebook 6, like
#                                                                        tensorflow/tensorflow:*-jupyter: root, own CMD
# Both FROM securelab/debian-base:12 + PyPI wheels. Like build.sh, an image carries a label with the hash of its
# recipe: an unchanged recipe is reused, a changed one rebuilt. Needs securelab/debian-base:12 (tests/images/build.sh 12).
# Usage: tests/images/build_jupyter.sh [RECIPE]          build (or reuse) the image, print its name
#        tests/images/build_jupyter.sh --name [RECIPE]   print the image name only
# RECIPE: jupyter (the default) or notebook6 (a directory under tests/images/).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"
HERE="$REPO_ROOT/tests/images"
name_only=false
if [ "${1:-}" = "--name" ]; then name_only=true; shift; fi
RECIPE_NAME=${1:-jupyter}
RECIPE="$HERE/$RECIPE_NAME"
BASE_IMAGE=securelab/debian-base:12
case $RECIPE_NAME in
  jupyter) TAG="securelab/jupyter-lab:$(sed -n 's/^jupyter_server==//p' "$RECIPE/requirements.txt")" ;;
  notebook6) TAG="securelab/notebook6:$(sed -n 's/^notebook==//p' "$RECIPE/requirements.txt")" ;;
  *) die "unknown recipe $RECIPE_NAME (jupyter or notebook6)" ;;
esac
CA_BUNDLE="${SECURELAB_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"

if $name_only; then echo "$TAG"; exit 0; fi

image_label() { docker image inspect -f '{{ index .Config.Labels "securelab.recipe" }}' "$1" 2>/dev/null || true; }

base_id=$(docker image inspect -f '{{ .Id }}' "$BASE_IMAGE" 2>/dev/null) \
  || die "$BASE_IMAGE is missing: run tests/images/build.sh 12 first"
# The base image's id is part of the key: a rebuilt base rebuilds this image too.
want=$( (cat "$HERE/build_jupyter.sh" "$RECIPE/Dockerfile" "$RECIPE/requirements.txt"; echo "$base_id") | sha256sum | cut -c1-12)
if [ "$(image_label "$TAG")" = "$want" ]; then
  log "$TAG up to date"
else
  [ -r "$CA_BUNDLE" ] || die "no CA bundle at $CA_BUNDLE (set SECURELAB_CA_BUNDLE)"
  ctx=$(mktemp -d "${TMPDIR:-/tmp}/securelab-jupyter-build.XXXXXX")
  trap 'rm -rf "$ctx"' EXIT
  cp "$RECIPE/Dockerfile" "$RECIPE/requirements.txt" "$ctx/"
  cp "$CA_BUNDLE" "$ctx/pypi-ca.crt"
  # The debootstrapped base layer records its root directory as 0700 (a mktemp -d). overlay2 hides
  # that, but Docker's vfs driver (the nested dockerd of the lab hosts) keeps it, and then no non-root
  # process can start. `docker export` writes no entry for the root directory: re-imported, it is 0755.
  base_fixed="securelab/jupyter-base:$want"
  cid=$(docker create "$BASE_IMAGE" /bin/true)
  docker export "$cid" | docker import -c 'CMD ["/bin/bash"]' - "$base_fixed" >/dev/null
  docker rm "$cid" >/dev/null
  log "building $TAG from PyPI wheels (~1 min)"
  docker build -q --build-arg "BASE=$base_fixed" --label "securelab.recipe=$want" -t "$TAG" "$ctx" >/dev/null
  docker rmi "$base_fixed" >/dev/null
  log "built $TAG"
fi
echo "$TAG"
