#!/bin/sh
# TEST ONLY. Builds local, signed apt repositories of STAND-IN packages that carry real package
# names, because neither NVIDIA's nor Docker's repository can be reached from the test machines.
# The stand-ins contain no NVIDIA or Docker code.
#
# $TOP/nvidia: the NVIDIA Container Toolkit packages, in NVIDIA's flat layout:
#   gpgkey                                ASCII-armored public key (a throwaway key made here)
#   stable/deb/$ARCH/{*.deb,Packages,Release,InRelease,Release.gpg}
#   nvidia-container-runtime execs runc; nvidia-ctk only writes a minimal CDI spec and /dev/char links. Two versions of
#   each package (1.17.8-1 and the newer 1.17.9-1) let the test prove that pinning holds all four.
# $TOP/key.fpr: the throwaway key's fingerprint.
# $TOP/docker: an empty containerd.io in Docker's layout (dists/CODENAME/stable) and gpg (the key).
#   Only the repository wiring is tested with it: Debian's docker.io conflicts with docker-ce and
#   docker-ce-cli, so those cannot be stood in for next to the real engine.
set -eu
TOP=${1:-/srv/standin-repos}
ROOT=$TOP/nvidia
ARCH=$(dpkg --print-architecture)
REPO=$ROOT/stable/deb/$ARCH
WORK=$(mktemp -d)
rm -rf "$TOP"
mkdir -p "$REPO"

package() {  # name version depends [output directory]
  name=$1 version=$2 depends=$3 dest=${4:-$REPO}
  dir=$WORK/$name-$version
  mkdir -p "$dir/DEBIAN" "$dir/usr/share/doc/$name"
  {
    echo "Package: $name"
    echo "Version: $version"
    echo "Architecture: $ARCH"
    echo "Maintainer: securelab tests <tests@securelab.invalid>"
    [ -n "$depends" ] && echo "Depends: $depends"
    echo "Section: utils"
    echo "Priority: optional"
    echo "Description: STAND-IN for $name (securelab molecule test only, NOT NVIDIA or Docker software)"
    echo " Built by molecule/docker/files/build_standin_repo.sh to test the nvidia_runtime role"
    echo " without NVIDIA's repository. Contains no NVIDIA code."
  } >"$dir/DEBIAN/control"
  echo "securelab STAND-IN package $name $version (test only)" >"$dir/usr/share/doc/$name/STANDIN"
  if [ "$name" = nvidia-container-toolkit ]; then
    mkdir -p "$dir/usr/bin"
    cat >"$dir/usr/bin/nvidia-container-runtime" <<'RUNTIME'
#!/bin/sh
# STAND-IN nvidia-container-runtime (securelab test only): records the call, then runs runc.
echo "$(date +%s) $*" >>/var/log/securelab-standin-nvidia-runtime.log
exec runc "$@"
RUNTIME
    cat >"$dir/usr/bin/nvidia-ctk" <<'CTK'
#!/bin/sh
# STAND-IN nvidia-ctk (securelab test only): `cdi generate --output=PATH` writes a minimal CDI spec.
set -eu
case "$*" in
  --version) echo "STAND-IN nvidia-ctk (securelab test only)"; exit 0 ;;
esac
if [ "${1:-}" = cdi ] && [ "${2:-}" = generate ]; then
  out=/dev/stdout
  for arg in "$@"; do case $arg in --output=*) out=${arg#--output=} ;; esac; done
  [ "$out" = /dev/stdout ] || mkdir -p "$(dirname "$out")"
  cat >"$out" <<SPEC
# STAND-IN CDI spec written by the securelab test stand-in of nvidia-ctk (no GPU behind it)
cdiVersion: 0.5.0
kind: nvidia.com/gpu
devices:
  - name: all
    containerEdits:
      env:
        - SECURELAB_STANDIN_CDI_DEVICE=all
SPEC
  exit 0
fi
# `system create-dev-char-symlinks`: what the real one does, for the device nodes that exist (the test makes some with
# mknod): a /dev/char/MAJOR:MINOR link to each, reported on stderr in the real one's words.
if [ "${1:-}" = system ] && [ "${2:-}" = create-dev-char-symlinks ]; then
  mkdir -p /dev/char
  for dev in /dev/nvidia* /dev/nvidia-caps/*; do
    [ -c "$dev" ] || continue
    link=/dev/char/$(printf '%d:%d' "0x$(stat -c %t "$dev")" "0x$(stat -c %T "$dev")")
    echo "level=info msg=\"Creating link $link => $dev\"" >&2
    if [ -e "$link" ] || [ -L "$link" ]; then
      echo "level=warning msg=\"Could not create symlink: symlink $dev $link: file exists\"" >&2
    else
      ln -s "$dev" "$link"
    fi
  done
  exit 0
fi
echo "STAND-IN nvidia-ctk: unsupported arguments: $*" >&2
exit 2
CTK
    chmod 0755 "$dir/usr/bin/nvidia-container-runtime" "$dir/usr/bin/nvidia-ctk"
  fi
  dpkg-deb --root-owner-group -Zgzip -b "$dir" "$dest/${name}_${version}_$ARCH.deb" >/dev/null
}

for v in 1.17.8-1 1.17.9-1; do
  package libnvidia-container1 "$v" ""
  package libnvidia-container-tools "$v" "libnvidia-container1 (>= 1.17.8-1)"
  package nvidia-container-toolkit-base "$v" ""
  package nvidia-container-toolkit "$v" "nvidia-container-toolkit-base (= $v), libnvidia-container-tools (>= 1.17.8-1)"
done

# A throwaway signing key, made here and never kept.
export GNUPGHOME="$WORK/gnupg"
mkdir -m 0700 "$GNUPGHOME"
gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
  --quick-gen-key 'securelab STAND-IN NVIDIA repository (test only) <standin@securelab.invalid>' ed25519 sign 2d
gpg --batch --quiet --armor --export >"$ROOT/gpgkey"
# Its fingerprint, for the tests that pin it (nvidia_runtime_repo_key_fingerprint, docker_engine_repo_key_fingerprint).
gpg --batch --with-colons --list-keys | awk -F: '$1 == "fpr" { print $10; exit }' >"$TOP/key.fpr"

cd "$REPO"
apt-ftparchive packages . >Packages
gzip -9kf Packages
apt-ftparchive -o APT::FTPArchive::Release::Origin="securelab stand-in" release . >Release
gpg --batch --quiet --yes --clearsign -o InRelease Release
gpg --batch --quiet --yes -abs -o Release.gpg Release

# Docker's layout: pool + dists/CODENAME/stable/binary-ARCH, InRelease signed by the same throwaway key.
CODENAME=$(. /etc/os-release && echo "$VERSION_CODENAME")
DROOT=$TOP/docker
DIST=$DROOT/dists/$CODENAME
mkdir -p "$DROOT/pool/stable" "$DIST/stable/binary-$ARCH"
package containerd.io 1.7.99-1 "" "$DROOT/pool/stable"
cd "$DROOT"
apt-ftparchive packages pool/stable >"dists/$CODENAME/stable/binary-$ARCH/Packages"
gzip -9kf "dists/$CODENAME/stable/binary-$ARCH/Packages"
apt-ftparchive -o APT::FTPArchive::Release::Origin="securelab stand-in" \
  -o APT::FTPArchive::Release::Suite="$CODENAME" -o APT::FTPArchive::Release::Codename="$CODENAME" \
  -o APT::FTPArchive::Release::Components=stable -o APT::FTPArchive::Release::Architectures="$ARCH" \
  release "dists/$CODENAME" >"$DIST/Release"
gpg --batch --quiet --yes --clearsign -o "$DIST/InRelease" "$DIST/Release"
gpg --batch --quiet --yes -abs -o "$DIST/Release.gpg" "$DIST/Release"
cp "$ROOT/gpgkey" "$DROOT/gpg"

# The security_updates check: two repositories that pose as Debian's, signed by the same throwaway key.
#   $TOP/security  Origin Debian, Label Debian-Security, Codename $CODENAME-security (the security archive):
#                  securelab-harmless 1.1 (a service whose binary the upgrade replaces: systemd reloads, and
#                  needrestart has something to list), nvidia-kernel-support 535.2-1 (a driver package) and
#                  nvidia-container-toolkit(-base) 1.17.10-1.
#   $TOP/point     Origin Debian, Label Debian, Codename $CODENAME (a point release): securelab-pointrelease 1.1.
#   $TOP/initial   the versions installed first (.deb files): harmless 1.0, pointrelease 1.0, nvidia-kernel-support 535.1-1.
harmless() {  # version dest
  dir=$WORK/securelab-harmless-$1
  mkdir -p "$dir/DEBIAN" "$dir/usr/lib/securelab-harmless" "$dir/lib/systemd/system"
  printf 'Package: securelab-harmless\nVersion: %s\nArchitecture: %s\nMaintainer: securelab tests <tests@securelab.invalid>\nSection: utils\nPriority: optional\nDescription: securelab test package (a service that sleeps)\n Built by build_standin_repo.sh for the security_updates check.\n' "$1" "$ARCH" >"$dir/DEBIAN/control"
  cp /bin/sleep "$dir/usr/lib/securelab-harmless/sleeper"
  echo "$1" >"$dir/usr/lib/securelab-harmless/VERSION"
  printf '[Unit]\nDescription=securelab test service (%s)\n[Service]\nExecStart=/usr/lib/securelab-harmless/sleeper infinity\n[Install]\nWantedBy=multi-user.target\n' "$1" \
    >"$dir/lib/systemd/system/securelab-harmless.service"
  # What debhelper's postinst does for a unit: reload systemd, then (first install) start the service.
  printf '#!/bin/sh\nset -e\nsystemctl daemon-reload\nsystemctl enable securelab-harmless.service\nsystemctl is-active -q securelab-harmless.service || systemctl start securelab-harmless.service\n' \
    >"$dir/DEBIAN/postinst"
  chmod 0755 "$dir/DEBIAN/postinst"
  dpkg-deb --root-owner-group -Zgzip -b "$dir" "$2/securelab-harmless_$1_$ARCH.deb" >/dev/null
}
debian_repo() {  # dir suite label
  (cd "$1" && mkdir -p "dists/$2/main/binary-$ARCH" \
    && apt-ftparchive packages pool >"dists/$2/main/binary-$ARCH/Packages" \
    && apt-ftparchive -o APT::FTPArchive::Release::Origin=Debian -o APT::FTPArchive::Release::Label="$3" \
         -o APT::FTPArchive::Release::Suite="$2" -o APT::FTPArchive::Release::Codename="$2" \
         -o APT::FTPArchive::Release::Components=main -o APT::FTPArchive::Release::Architectures="$ARCH" \
         release "dists/$2" >"dists/$2/Release" \
    && gpg --batch --quiet --yes --clearsign -o "dists/$2/InRelease" "dists/$2/Release")
}
mkdir -p "$TOP/security/pool" "$TOP/point/pool" "$TOP/initial"
harmless 1.0 "$TOP/initial"
harmless 1.1 "$TOP/security/pool"
package securelab-pointrelease 1.0 "" "$TOP/initial"
package securelab-pointrelease 1.1 "" "$TOP/point/pool"
package nvidia-kernel-support 535.1-1 "" "$TOP/initial"
package nvidia-kernel-support 535.2-1 "" "$TOP/security/pool"
package nvidia-container-toolkit-base 1.17.10-1 "" "$TOP/security/pool"
package nvidia-container-toolkit 1.17.10-1 "nvidia-container-toolkit-base (= 1.17.10-1)" "$TOP/security/pool"
debian_repo "$TOP/security" "$CODENAME-security" Debian-Security
debian_repo "$TOP/point" "$CODENAME" Debian
rm -rf "$WORK"
echo "stand-in repositories ready in $TOP"
