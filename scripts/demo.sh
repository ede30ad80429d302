#!/usr/bin/env bash
# The README's first command. On a fresh Debian machine (as root) it sets everything up, starts a local lab
# host, applies securelab.gpu_notebook.site to it with examples/lab/inventory.yml, and then does what a
# notebook user does: SSH tunnel with a key + TOTP code, Jupyter login with the password, run a cell.
# A second run reuses the virtualenv, the images and the lab host (and so takes a fraction of the time).
#
# Usage: scripts/demo.sh [--fresh]     --fresh: remove the lab host (and its state) and start over
# Environment: SECURELAB_DEMO_SSH_PORT (default 2222): the lab host's sshd on 127.0.0.1.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

LAB=securelab-demo-lab
LAB_IMAGE=securelab/debian-systemd:12
SSH_PORT="${SECURELAB_DEMO_SSH_PORT:-2222}"
STATE="$REPO_ROOT/demo/state"
INVENTORY="$REPO_ROOT/examples/lab/inventory.yml"
USER_NAME=alice
NOTEBOOK_PORT=8801
# The dind cap set of molecule/shared/create.yml: dockerd runs inside, chrony cannot step this clock.
DIND=(--cap-add ALL --cap-drop SYS_RESOURCE --cap-drop SYS_TIME
      --security-opt seccomp=unconfined --security-opt apparmor=unconfined)

fresh=false
for arg in "$@"; do
  case $arg in
    --fresh) fresh=true ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) die "unknown argument $arg (usage: $0 [--fresh])" ;;
  esac
done

started=$(date +%s)
step() { log "[$(( $(date +%s) - started ))s] $*"; }

step "1/6 machine: virtualenv, Docker engine, Debian packages, base and Jupyter images (reused when present)"
"$REPO_ROOT/scripts/bootstrap.sh" all
securelab_env
JUPYTER_IMAGE=$("$REPO_ROOT/tests/images/build_jupyter.sh" --name)   # built by bootstrap.sh

step "2/6 demo state in demo/state: SSH keys, Jupyter image archive"
if $fresh; then
  docker rm -f "$LAB" >/dev/null 2>&1 || true
  rm -rf "$STATE"
fi
mkdir -p "$STATE" && chmod 0700 "$STATE"
for key in "$USER_NAME" ansible; do
  [ -f "$STATE/${key}_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C "$key@securelab-demo" -f "$STATE/${key}_ed25519"
done
image_id=$(docker image inspect -f '{{ .Id }}' "$JUPYTER_IMAGE")
if [ "$(cat "$STATE/jupyter-lab.tar.id" 2>/dev/null)" != "$image_id" ]; then
  docker save -o "$STATE/jupyter-lab.tar" "$JUPYTER_IMAGE"
  echo "$image_id" > "$STATE/jupyter-lab.tar.id"
fi

step "3/6 lab host $LAB (Debian 12, systemd, Docker inside; sshd on 127.0.0.1:$SSH_PORT)"
if [ "$(docker inspect -f '{{ .State.Running }}' "$LAB" 2>/dev/null)" = true ]; then
  log "reusing the running lab host (scripts/demo.sh --fresh starts over)"
else
  docker rm -f "$LAB" >/dev/null 2>&1 || true
  docker run -d --name "$LAB" --hostname lab "${DIND[@]}" --cgroupns=host \
    -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock --tmpfs /tmp:exec \
    -p "127.0.0.1:$SSH_PORT:22" --label securelab.test=demo "$LAB_IMAGE" /sbin/init >/dev/null
  docker exec "$LAB" systemctl is-system-running --wait >/dev/null 2>&1 || true
fi

step "4/6 ansible-playbook securelab.gpu_notebook.site -i examples/lab/inventory.yml (changes shown; log: demo/state/site.log)"
export SECURELAB_LAB_STATE="$STATE" SECURELAB_TOTP_STEPS="$STATE/totp-steps.json"
if ! ANSIBLE_DISPLAY_OK_HOSTS=false ANSIBLE_DISPLAY_SKIPPED_HOSTS=false ANSIBLE_CALLBACK_RESULT_FORMAT=yaml \
     ANSIBLE_LOG_PATH="$STATE/site.log" ANSIBLE_PIPELINING=true \
     ansible-playbook -i "$INVENTORY" "$REPO_ROOT/playbooks/site.yml"; then
  die "the site playbook failed (full log: $STATE/site.log)"
fi

step "5/6 as $USER_NAME: ssh tunnel (key + TOTP from oathtool) -> Jupyter login -> run a cell"
enroll="$STATE/enrollment/lab/$USER_NAME"
[ -f "$enroll/otpauth-uri.txt" ] || die "no enrollment bundle in $enroll (the TOTP secret was created elsewhere: run $0 --fresh)"
python "$REPO_ROOT/tests/lib/securelab_client.py" --ssh-port "$SSH_PORT" --user "$USER_NAME" \
  --key "$STATE/${USER_NAME}_ed25519" --otpauth-file "$enroll/otpauth-uri.txt" \
  --notebook-port "$NOTEBOOK_PORT" --password-file "$STATE/$USER_NAME-notebook-password" \
  || die "the user's path through SSH and Jupyter failed"

step "6/6 done in $(( $(date +%s) - started ))s"
cat <<NEXT

What $USER_NAME does next (everything below is demo-only material in demo/state, mode 0600):
  1. Scan the QR code into an authenticator app:  $enroll/qr.png  (or: cat $enroll/qr.txt)
     scratch codes for emergencies:             $enroll/scratch-codes.txt
  2. Open the tunnel (public key, then the app's 6-digit code at the "Verification code" prompt):
       ssh -i $STATE/${USER_NAME}_ed25519 -p $SSH_PORT -N -L 8888:127.0.0.1:$NOTEBOOK_PORT $USER_NAME@127.0.0.1
  3. Browse to http://127.0.0.1:8888/ and log in with the password in $STATE/$USER_NAME-notebook-password
The notebook listens only on the lab host's 127.0.0.1:$NOTEBOOK_PORT; sshd lets $USER_NAME forward to that port only.
Remove the lab host: docker rm -f $LAB     Start over: $0 --fresh
NEXT
