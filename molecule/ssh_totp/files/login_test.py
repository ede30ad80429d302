"""Log in to a real sshd the way a notebook user and the automation account do (paramiko + oathtool).

Usage: login_test.py HOST KEYDIR ENROLLDIR [PORT]
       login_test.py HOST KEYDIR --automation [PORT]   (only: the automation account logs in with its key)
  KEYDIR     private keys named after the accounts (ansible, alice, bob, carol)
  ENROLLDIR  <gpu_notebook_enrollment_dir>/<inventory_hostname>: alice/otpauth-uri.txt, alice/scratch-codes.txt

Prints one JSON object {case: {"ok": bool, "detail": str}} and exits 1 if any case failed.
Every case checks what sshd actually did (authenticated or not, channel opened or refused).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import paramiko

TIMEOUT = 20
OPEN_FAILED_PROHIBITED = paramiko.common.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


def transport(host: str, port: int) -> paramiko.Transport:
    sock = socket.create_connection((host, port), timeout=TIMEOUT)
    t = paramiko.Transport(sock)
    t.banner_timeout = TIMEOUT
    t.auth_timeout = TIMEOUT
    t.start_client(timeout=TIMEOUT)
    return t


def totp(secret: str, offset_steps: int = 0) -> list[str]:
    """Codes from oathtool for the window around now (offset in 30 s steps).

    The secret goes to oathtool on stdin ("-"), never on its command line (a process list would show it).
    """
    when = f"now {offset_steps * 30:+d} seconds"
    out = subprocess.run(
        ["oathtool", "--totp", "-b", "-w", "2", "-N", when, "-"], input=secret + "\n", capture_output=True,
        text=True, check=True,
    )
    return out.stdout.split()


def enrolled_secret(enrolldir: Path, user: str) -> str:
    uri = (enrolldir / user / "otpauth-uri.txt").read_text().strip()
    return parse_qs(urlparse(uri).query)["secret"][0]


def answer(code: str):
    def handler(_title, _instructions, prompts):
        return [code for _prompt in prompts]

    return handler


def key_login(host, port, user, key, code=None):
    """Return (transport, authenticated, remaining methods after publickey)."""
    t = transport(host, port)
    remaining = []
    try:
        remaining = t.auth_publickey(user, key)
    except paramiko.AuthenticationException:
        return t, False, remaining
    if t.is_authenticated() or code is None:
        return t, t.is_authenticated(), remaining
    try:
        t.auth_interactive(user, answer(code))
    except paramiko.AuthenticationException:
        pass
    return t, t.is_authenticated(), remaining


def run_command(t: paramiko.Transport, command: str) -> str:
    chan = t.open_session(timeout=TIMEOUT)
    chan.settimeout(TIMEOUT)
    chan.exec_command(command)
    data = b""
    while True:
        chunk = chan.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.decode().strip()


def forward(t: paramiko.Transport, port: int) -> tuple[bool, str]:
    """Open a direct-tcpip channel to 127.0.0.1:port; (opened, first response bytes or refusal)."""
    try:
        chan = t.open_channel("direct-tcpip", ("127.0.0.1", port), ("127.0.0.1", 40000), timeout=TIMEOUT)
    except paramiko.ChannelException as err:
        return False, f"refused code={err.code} ({err.text})"
    chan.settimeout(TIMEOUT)
    chan.sendall(b"GET / HTTP/1.0\r\n\r\n")
    data = chan.recv(64)
    chan.close()
    return True, data.decode(errors="replace")


def main() -> int:
    host, keydir, enrolldir = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    port = int(sys.argv[4]) if len(sys.argv) > 4 else 22
    if sys.argv[3] == "--automation":
        key = paramiko.Ed25519Key.from_private_key_file(str(keydir / "ansible"))
        t, authed, _remaining = key_login(host, port, "ansible", key)
        who = run_command(t, "id -un") if authed else ""
        t.close()
        print(json.dumps({"automation_key_only_in": {"ok": who == "ansible", "detail": f"id -un={who!r}"}}))
        return 0 if who == "ansible" else 1
    names = ("ansible", "alice", "bob", "carol")
    keys = {name: paramiko.Ed25519Key.from_private_key_file(str(keydir / name)) for name in names}
    secret = enrolled_secret(enrolldir, "alice")
    scratch = (enrolldir / "alice" / "scratch-codes.txt").read_text().split()
    results: dict[str, dict] = {}

    def record(case: str, ok: bool, detail: str = "") -> None:
        results[case] = {"ok": bool(ok), "detail": detail}

    # 1. No key: sshd offers only publickey first; keyboard-interactive alone is refused.
    t = transport(host, port)
    try:
        t.auth_none("alice")
        record("no_key_refused", False, "auth none accepted")
    except paramiko.BadAuthenticationType as err:
        allowed = list(err.allowed_types)
        try:
            t.auth_interactive("alice", answer("000000"))
        except (paramiko.AuthenticationException, paramiko.SSHException):
            pass
        record("no_key_refused", allowed == ["publickey"] and not t.is_authenticated(), f"allowed={allowed}")
    t.close()

    # 2. Key only: partial success, keyboard-interactive still required.
    t, authed, remaining = key_login(host, port, "alice", keys["alice"])
    record("key_only_refused", not authed and remaining == ["keyboard-interactive"], f"remaining={remaining}")
    t.close()

    # 3. Key + wrong code.
    window = set(totp(secret, -2) + totp(secret, 1))
    wrong = next(w for w in (f"{(int(totp(secret)[0]) + n) % 1000000:06d}" for n in range(1, 50)) if w not in window)
    t, authed, _remaining = key_login(host, port, "alice", keys["alice"], wrong)
    record("key_wrong_code_refused", not authed)
    t.close()

    # 4. Key + right code: in, as alice.
    code = totp(secret)[0]  # oathtool -w 2 prints the codes of now, now+30 s, now+60 s
    t, authed, _remaining = key_login(host, port, "alice", keys["alice"], code)
    who = run_command(t, "id -un") if authed else ""
    record("key_right_code_in", authed and who == "alice", f"id -un={who!r}")

    # 7. Forwarding from the logged-in session: own port allowed, another user's port refused by sshd.
    if authed:
        opened, detail = forward(t, 8801)
        record("forward_own_port_allowed", opened and detail.startswith("HTTP/"), detail[:40])
        opened, detail = forward(t, 8802)
        record("forward_other_port_refused", not opened and f"code={OPEN_FAILED_PROHIBITED}" in detail, detail)
        opened, detail = forward(t, 22)
        record("forward_sshd_port_refused", not opened and f"code={OPEN_FAILED_PROHIBITED}" in detail, detail)
    t.close()

    # 5. The same code again (DISALLOW_REUSE).
    t, authed, _remaining = key_login(host, port, "alice", keys["alice"], code)
    record("same_code_again_refused", not authed)
    t.close()

    # 6. A scratch code works once.
    t, authed, _remaining = key_login(host, port, "alice", keys["alice"], scratch[0])
    record("scratch_code_in", authed)
    t.close()
    t, authed, _remaining = key_login(host, port, "alice", keys["alice"], scratch[0])
    record("scratch_code_again_refused", not authed)
    t.close()

    # 11. A phone whose clock is 4 minutes ahead (outside WINDOW_SIZE 3): refused, and PAM records the skew in the
    #     secret file (" RESETTING_TIME_SKEW ..."); a current code still works afterwards.
    skewed = totp(secret, 8)[0]
    t, authed, _remaining = key_login(host, port, "alice", keys["alice"], skewed)
    record("skewed_code_refused", not authed)
    t.close()
    t, authed, _remaining = key_login(host, port, "alice", keys["alice"], totp(secret)[1])
    record("current_code_after_skew_in", authed)
    t.close()

    # 12. bob enrolled before this version (a ~/.google_authenticator in his home): the secret moved to the
    #     root-owned directory unchanged, so the codes of his phone still work.
    bob_secret = enrolled_secret(enrolldir, "bob")
    t, authed, _remaining = key_login(host, port, "bob", keys["bob"], totp(bob_secret)[0])
    record("migrated_secret_in", authed)
    t.close()

    # 8. The automation account: key only.
    t, authed, remaining = key_login(host, port, "ansible", keys["ansible"])
    who = run_command(t, "id -un") if authed else ""
    record("automation_key_only_in", authed and who == "ansible", f"remaining={remaining} id -un={who!r}")
    t.close()
    t, authed, _remaining = key_login(host, port, "ansible", keys["alice"])
    record("automation_wrong_key_refused", not authed)
    t.close()

    # 9. carol (state: absent) had a key before the role ran: it no longer works.
    t, authed, remaining = key_login(host, port, "carol", keys["carol"], "000000")
    record("absent_user_refused", not authed and remaining == [], f"remaining={remaining}")
    t.close()

    # 10. alice's key does not open bob's account.
    t, authed, remaining = key_login(host, port, "bob", keys["alice"])
    record("other_users_key_refused", not authed and remaining == [], f"remaining={remaining}")
    t.close()

    print(json.dumps(results, indent=1, sort_keys=True))
    return 0 if all(r["ok"] for r in results.values()) else 1


if __name__ == "__main__":
    start = time.monotonic()
    rc = main()
    print(f"elapsed {time.monotonic() - start:.1f}s", file=sys.stderr)
    sys.exit(rc)
