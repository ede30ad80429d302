#!/usr/bin/env bash
# Prepare this machine for the test suite and the demo, reusing whatever already exists:
#   1. a Python virtualenv (.venv) with the pinned dev requirements;
#   2. a Docker engine that answers (installs Debian's docker.io and starts dockerd if needed);
#   3. Debian packages the tests drive as real peers (oathtool, zbarimg, ...);
#   4. the local images (Debian 12/13 systemd hosts, the Jupyter Server and Notebook 6 images), built without any registry.
# Usage: scripts/bootstrap.sh [venv|docker|packages|images|all]...
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

HOST_PACKAGES=(debootstrap oathtool zbar-tools git rsync iproute2 openssh-client nftables gpg)

is_debian_root() { [ "$(id -u)" = 0 ] && [ -r /etc/debian_version ] && command -v apt-get >/dev/null; }

apt_install() {
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  is_debian_root || die "missing Debian packages: ${missing[*]} (run as root on Debian, or install them yourself)"
  log "apt-get install ${missing[*]}"
  if [ ! -f "$CACHE/.apt-updated" ] || [ -n "$(find "$CACHE/.apt-updated" -mmin +360)" ]; then
    apt-get update -q >/dev/null
    mkdir -p "$CACHE" && touch "$CACHE/.apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_venv() {
  local stamp="$VENV/.securelab-requirements" want
  want=$(recipe_hash "$REPO_ROOT/requirements-dev.txt" "$REPO_ROOT/constraints.txt")
  if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    log "virtualenv up to date ($VENV)"
  else
    log "creating virtualenv $VENV (pinned requirements, ~1-2 min)"
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    quiet_pip "$VENV/bin/pip" install -q --upgrade pip
    quiet_pip "$VENV/bin/pip" install -q -r "$REPO_ROOT/requirements-dev.txt" -c "$REPO_ROOT/constraints.txt"
    echo "$want" > "$stamp"
  fi
  link_collection
}

docker_answers() { timeout 20 docker info >/dev/null 2>&1; }

ensure_docker() {
  if docker_answers; then log "Docker engine answers"; return 0; fi
  is_debian_root || die "no Docker engine answers and this is not root on Debian: start Docker yourself and re-run"
  command -v dockerd >/dev/null || apt_install docker.io
  if [ -d /run/systemd/system ]; then
    log "starting docker.service"
    systemctl start docker || true
  fi
  if ! docker_answers; then
    log "starting dockerd in the background (log: /var/log/securelab-dockerd.log)"
    nohup dockerd >>/var/log/securelab-dockerd.log 2>&1 &
  fi
  for _ in $(seq 1 60); do docker_answers && { log "Docker engine answers"; return 0; }; sleep 1; done
  tail -n 30 /var/log/securelab-dockerd.log >&2 || true
  die "dockerd did not answer within 60 s"
}

build_images() {
  "$REPO_ROOT/tests/images/build.sh"
  "$REPO_ROOT/tests/images/build_jupyter.sh" >/dev/null
  "$REPO_ROOT/tests/images/build_jupyter.sh" notebook6 >/dev/null
}

case "${1:-all}" in
  venv) ensure_venv ;;
  docker) ensure_docker ;;
  packages) apt_install "${HOST_PACKAGES[@]}" ;;
  images) build_images ;;
  all)
    apt_install "${HOST_PACKAGES[@]}"
    ensure_venv
    ensure_docker
    build_images
    ;;
  *) die "usage: $0 [venv|docker|packages|images|all]" ;;
esac
