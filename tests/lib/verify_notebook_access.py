"""Check, through the real SSH tunnel, that a notebook lets in only its owner with the right password.

Used by molecule/site/verify.yml and molecule/notebook_flavors/verify.yml. Reads a JSON spec on stdin (secrets stay
out of argv):
    {"ssh_port": 2212, "users": [{"name", "key", "otpauth_file", "port", "password", "uid", ...}, ...]}
The first user is the "victim" (alice), the second the "other" (bob), who must not get into alice's notebook.
With "owners" instead of "users", every entry is checked as an owner (check names start with the user's name) and
there is no "other". Optional keys of an owner:
    "tls_ca": path     the notebook speaks https: log in with the certificate checked against this file (chain and
                       host name 127.0.0.1), and a plain-http request must fail
    "tls_foreign_ca":  path of another certificate, which must not be trusted for this notebook
    "lab": false       no JupyterLab page check (classic Notebook 6 has no /lab)
    "version": "6."    the server's version (GET /api) starts with this (which Jupyter answers)
    "processes": true  every process in the container (the kernel reads /proc) runs as the user's uid and gid
    "cull": {"culled": bool, "wait": seconds}   an idle kernel is culled (culled true) or kept (false) within wait
                       seconds, and a busy one (time.sleep) is kept; all owners wait together
Prints one JSON object with every observation and exits 1 if any check failed.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import paramiko
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from securelab_client import Jupyter, Tunnel, totp_secret_from_uri

# Lists the uids and gids of every process the kernel sees (its PID namespace: the whole container).
PROCESSES_CODE = """
import json, os
ids = {'uids': set(), 'gids': set(), 'count': 0}
for pid in filter(str.isdigit, os.listdir('/proc')):
    try:
        lines = open(f'/proc/{pid}/status').read().splitlines()
    except OSError:
        continue
    ids['count'] += 1
    for line in lines:
        if line.startswith('Uid:'):
            ids['uids'].update(line.split()[1:])
        elif line.startswith('Gid:'):
            ids['gids'].update(line.split()[1:])
print(json.dumps({k: sorted(v) if isinstance(v, set) else v for k, v in ids.items()}))
"""


class Checks:
    def __init__(self) -> None:
        self.checks: dict[str, object] = {}
        self.failures: list[str] = []

    def expect(self, name: str, ok: bool, seen: object) -> None:
        self.checks[name] = seen
        if not ok:
            self.failures.append(f"{name}: got {seen!r}")


def check_owner(owner: dict, tunnel: Tunnel, expect, pending: list) -> None:
    """The owner's checks through an open tunnel; culling checks are appended to pending (run after the wait)."""
    local = tunnel.forward(owner["port"])
    tls_ca = owner.get("tls_ca")
    base = f"{'https' if tls_ca else 'http'}://127.0.0.1:{local}"

    def client(**kw) -> Jupyter:
        return Jupyter(base, verify_tls=tls_ca or False, **kw)

    if tls_ca:
        try:
            seen = requests.get(f"http://127.0.0.1:{local}/login", timeout=10, allow_redirects=False).status_code
        except requests.RequestException as err:
            seen = f"refused: {type(err).__name__}"
        expect("plain_http_fails", seen not in (200, 302, 403), seen)
        if owner.get("tls_foreign_ca"):
            try:
                seen = Jupyter(base, verify_tls=owner["tls_foreign_ca"]).get("/login").status_code
            except requests.exceptions.SSLError as err:
                seen = f"not trusted: {str(err)[-120:]}"
            expect("another_certificate_is_not_trusted", str(seen).startswith("not trusted"), seen)
    anon = client()
    if owner.get("version"):
        seen = anon.get("/api").json().get("version", "")
        expect("server_version", seen.startswith(owner["version"]), seen)
    status = anon.get("/api/contents").status_code
    expect("api_contents_without_login_is_403", status == 403, status)
    resp = anon.get("/tree")
    expect("tree_redirects_to_login", resp.status_code == 302 and "/login" in resp.headers.get("Location", ""),
           [resp.status_code, resp.headers.get("Location")])
    status = client().get("/api/contents?token=securelab-guessed-token").status_code
    expect("token_in_url_is_refused", status == 403, status)
    foreign = client(host_header="notebook.attacker.example")
    status = foreign.get("/login").status_code
    expect("foreign_host_header_is_refused", status == 403, status)
    expect("foreign_host_header_cannot_log_in", not foreign.login(owner["password"]), "refused")
    expect("wrong_password_is_refused", not client().login(owner["password"] + "-wrong"), "refused")
    user = client()
    logged_in = user.login(owner["password"])
    expect("right_password_logs_in" + ("_with_the_certificate_checked" if tls_ca else ""), logged_in, logged_in)
    status = user.get("/api/contents").status_code
    expect("api_contents_after_login_is_200", status == 200, status)
    if not logged_in:
        return
    out = user.run_code("import os; print(os.getuid(), os.getgid(), 6 * 7)").split()
    expect("kernel_runs_code_as_the_user", len(out) == 3 and out[0] == str(owner["uid"]) and out[2] == "42", out)
    if owner.get("processes"):
        seen = json.loads(user.run_code(PROCESSES_CODE))
        expect("every_process_in_the_container_is_the_users",
               seen["count"] > 1 and seen["uids"] == [str(owner["uid"])] and seen["gids"] == [str(owner["gid"])], seen)
    if owner.get("lab", True):
        # A locked-down notebook does not phone home: JupyterLab's announcements plugin (the "Would you like
        # to get notified about official Jupyter news?" prompt, news feed and update check) is disabled in the
        # page config the person's browser gets, and the server has no news feed to fetch.
        page = user.get("/lab")
        marker = '"disabledExtensions": ['
        disabled = page.text.split(marker, 1)[1].split("]", 1)[0] if marker in page.text else ""
        expect("lab_announcements_plugin_is_disabled",
               page.status_code == 200 and "@jupyterlab/apputils-extension:announcements" in disabled,
               [page.status_code, disabled[:200]])
    if owner.get("cull"):
        # Two kernels nobody is connected to: one idle, one busy (the websocket closes once the code runs).
        idle = user.start_kernel()
        busy = user.start_kernel()
        user.start_code(busy, "import time; time.sleep(300)")
        started = time.monotonic()

        def after_wait() -> None:
            try:
                kernels = {k["id"]: k.get("execution_state") for k in user.kernels()}
                culled = owner["cull"]["culled"]
                expect("idle_kernel_is_culled" if culled else "idle_kernel_is_kept_without_culling",
                       (idle not in kernels) == culled, {"idle": kernels.get(idle, "gone")})
                expect("busy_kernel_is_kept", kernels.get(busy) == "busy", {"busy": kernels.get(busy, "gone")})
            finally:
                for kernel_id in (idle, busy):
                    user.delete_kernel(kernel_id)

        pending.append((started + owner["cull"]["wait"], after_wait))


def main() -> int:
    spec = json.load(sys.stdin)
    port = spec["ssh_port"]
    if "owners" in spec:
        owners, other, prefixed = spec["owners"], None, True
    else:
        owners, prefixed = spec["users"][:1], False
        other = spec["users"][1] if len(spec["users"]) > 1 else None
    result = Checks()
    tunnels: list[Tunnel] = []
    pending: list = []
    try:
        for owner in owners:
            def expect(name, ok, seen, _owner=owner["name"]):
                result.expect(f"{_owner}: {name}" if prefixed else name, ok, seen)

            secret = totp_secret_from_uri(Path(owner["otpauth_file"]).read_text())
            tunnel = Tunnel("127.0.0.1", port, owner["name"], owner["key"], secret)
            tunnels.append(tunnel)
            check_owner(owner, tunnel, expect, pending)
        for due, after_wait in sorted(pending, key=lambda p: p[0]):
            time.sleep(max(0.0, due - time.monotonic()))
            after_wait()
    finally:
        for tunnel in tunnels:
            tunnel.close()

    owner = owners[0]
    if other:
        secret = totp_secret_from_uri(Path(other["otpauth_file"]).read_text())
        tunnel = Tunnel("127.0.0.1", port, other["name"], other["key"], secret)
        try:
            try:
                tunnel.channel(owner["port"]).close()
                result.expect(f"{other['name']}_cannot_tunnel_to_{owner['name']}", False, "forward allowed")
            except paramiko.ChannelException as err:
                result.expect(f"{other['name']}_cannot_tunnel_to_{owner['name']}", True, f"refused: {err}")
            local = tunnel.forward(other["port"])
            theirs = Jupyter(f"http://127.0.0.1:{local}")
            result.expect(f"{owner['name']}_password_does_not_open_{other['name']}s_notebook",
                          not theirs.login(owner["password"]), "refused")
            ok = Jupyter(f"http://127.0.0.1:{local}").login(other["password"])
            result.expect(f"{other['name']}_logs_in_to_own_notebook", ok, ok)
        finally:
            tunnel.close()

    print(json.dumps({"checks": result.checks, "failures": result.failures}, indent=2))
    return 1 if result.failures else 0


if __name__ == "__main__":
    sys.exit(main())
