#!/bin/sh
# TEST ONLY. Builds a local, signed apt repository of STAND-IN packages that carry the real names of
# the NVIDIA Container Toolkit packages, because NVIDIA's repository cannot be reached from the test
# machines. The stand-ins contain no NVIDIA code: nvidia-container-runtime execs runc, nvidia-ctk only
# writes a minimal CDI spec. Layout and signing mirror NVIDIA's flat repository:
#   $ROOT/gpgkey                          ASCII-armored public key (a throwaway key made here)
#   $ROOT/stable/deb/$ARCH/{*.deb,Packages,Release,InRelease,Release.gpg}
# Two versions of each package are published (1.17.8-1 and the newer 1.17.9-1) so the test can
# prove that pinning holds all four at 1.17.8-1.
set -eu
ROOT=${1:-/srv/standin-nvidia-repo}
ARCH=$(dpkg --print-architecture)
REPO=$ROOT/stable/deb/$ARCH
WORK=$(mktemp -d)
rm -rf "$ROOT"
mkdir -p "$REPO"

package() {  # name version depends [file-builder]
  name=$1 version=$2 depends=$3
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
    echo "Description: STAND-IN for $name (securelab molecule test only, NOT NVIDIA software)"
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
echo "STAND-IN nvidia-ctk: unsupported arguments: $*" >&2
exit 2
CTK
    chmod 0755 "$dir/usr/bin/nvidia-container-runtime" "$dir/usr/bin/nvidia-ctk"
  fi
  dpkg-deb --root-owner-group -Zgzip -b "$dir" "$REPO/${name}_${version}_$ARCH.deb" >/dev/null
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

cd "$REPO"
apt-ftparchive packages . >Packages
gzip -9kf Packages
apt-ftparchive -o APT::FTPArchive::Release::Origin="securelab stand-in" release . >Release
gpg --batch --quiet --yes --clearsign -o InRelease Release
gpg --batch --quiet --yes -abs -o Release.gpg Release
rm -rf "$WORK"
echo "stand-in repository ready in $ROOT"
