#!/usr/bin/env bash
# Build the local test images without any container registry:
#   securelab/debian-base:{12,13}     debootstrap minbase rootfs, `docker import`ed
#   securelab/debian-systemd:{12,13}  + systemd as PID 1 (the molecule platforms / lab hosts)
# Each image carries a label with the hash of its recipe; a changed recipe rebuilds it,
# an unchanged one is reused (the second run of the suite costs nothing here).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"
HERE="$REPO_ROOT/tests/images"

# The mirror this machine's apt already uses (deb822 or one-line format), else Debian's CDN.
apt_mirror() {
  local m
  m=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$m" ] || m=$(awk '$1=="deb" && $3 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  echo "${m:-http://deb.debian.org/debian}"
}

image_label() { docker image inspect -f '{{ index .Config.Labels "securelab.recipe" }}' "$1" 2>/dev/null || true; }

build_base() {  # $1 = 12|13
  local ver=$1 suite tag want rootfs mirror
  case $ver in 12) suite=bookworm ;; 13) suite=trixie ;; *) die "unknown Debian version $ver" ;; esac
  tag="securelab/debian-base:$ver"
  want=$(recipe_hash "$HERE/build.sh")
  if [ "$(image_label "$tag")" = "$want" ]; then log "$tag up to date"; return 0; fi
  mirror=$(apt_mirror)
  rootfs=$(mktemp -d "${TMPDIR:-/tmp}/securelab-rootfs-$suite.XXXXXX")
  log "debootstrap $suite from $mirror (~1 min)"
  debootstrap --variant=minbase --include=python3,python3-apt,ca-certificates,gnupg,iproute2,procps,sudo,less \
    "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || { tail -n 20 "$rootfs.log" >&2; die "debootstrap $suite failed"; }
  local sec=http://deb.debian.org/debian-security
  cat >"$rootfs/etc/apt/sources.list" <<SOURCES
deb $mirror $suite main
deb $mirror $suite-updates main
deb $sec $suite-security main
SOURCES
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb
  tar -C "$rootfs" -c . | docker import -c "LABEL securelab.recipe=$want" -c 'CMD ["/bin/bash"]' - "$tag" >/dev/null
  rm -rf "$rootfs" "$rootfs.log"
  log "built $tag"
}

build_systemd() {  # $1 = 12|13
  local ver=$1 tag want
  tag="securelab/debian-systemd:$ver"
  want=$(recipe_hash "$HERE/build.sh" "$HERE/systemd/Dockerfile")
  if [ "$(image_label "$tag")" = "$want" ]; then log "$tag up to date"; return 0; fi
  log "building $tag"
  docker build -q --build-arg "BASE=securelab/debian-base:$ver" --label "securelab.recipe=$want" \
    -t "$tag" "$HERE/systemd" >/dev/null
  log "built $tag"
}

versions=("${@:-12 13}")
# shellcheck disable=SC2068
for v in ${versions[@]}; do build_base "$v" & done
wait_all() { local rc=0; for j in $(jobs -p); do wait "$j" || rc=1; done; return $rc; }
wait_all || die "base image build failed"
# shellcheck disable=SC2068
for v in ${versions[@]}; do build_systemd "$v"; done
