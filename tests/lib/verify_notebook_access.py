"""Check, through the real SSH tunnel, that a notebook lets in only its owner with the right password.

Used by molecule/site/verify.yml. Reads a JSON spec on stdin (secrets stay out of argv):
    {"ssh_port": 2212, "users": [{"name", "key", "otpauth_file", "port", "password", "use_scratch"?}, ...]}
The first user is the "victim" (alice), the second the "other" (bob). Prints one JSON object with every
observation and exits 1 if any check failed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import paramiko

sys.path.insert(0, str(Path(__file__).resolve().parent))
from securelab_client import Jupyter, Tunnel, totp_secret_from_uri


def main() -> int:
    spec = json.load(sys.stdin)
    port = spec["ssh_port"]
    owner, other = spec["users"][0], spec["users"][1] if len(spec["users"]) > 1 else None
    checks: dict[str, object] = {}
    failures: list[str] = []

    def expect(name: str, ok: bool, seen: object) -> None:
        checks[name] = seen
        if not ok:
            failures.append(f"{name}: got {seen!r}")

    secret = totp_secret_from_uri(Path(owner["otpauth_file"]).read_text())
    tunnel = Tunnel("127.0.0.1", port, owner["name"], owner["key"], secret)
    try:
        local = tunnel.forward(owner["port"])
        base = f"http://127.0.0.1:{local}"
        anon = Jupyter(base)
        status = anon.get("/api/contents").status_code
        expect("api_contents_without_login_is_403", status == 403, status)
        resp = anon.get("/tree")
        expect("tree_redirects_to_login", resp.status_code == 302 and "/login" in resp.headers.get("Location", ""),
               [resp.status_code, resp.headers.get("Location")])
        status = Jupyter(base).get("/api/contents?token=securelab-guessed-token").status_code
        expect("token_in_url_is_refused", status == 403, status)
        foreign = Jupyter(base, host_header="notebook.attacker.example")
        status = foreign.get("/login").status_code
        expect("foreign_host_header_is_refused", status == 403, status)
        expect("foreign_host_header_cannot_log_in", not foreign.login(owner["password"]), "refused")
        expect("wrong_password_is_refused", not Jupyter(base).login(owner["password"] + "-wrong"), "refused")
        user = Jupyter(base)
        logged_in = user.login(owner["password"])
        expect("right_password_logs_in", logged_in, logged_in)
        status = user.get("/api/contents").status_code
        expect("api_contents_after_login_is_200", status == 200, status)
        if logged_in:
            out = user.run_code("import os; print(os.getuid(), os.getgid(), 6 * 7)").split()
            expect("kernel_runs_code_as_the_user", len(out) == 3 and out[0] == str(owner["uid"]) and out[2] == "42",
                   out)
            # A locked-down notebook does not phone home: JupyterLab's announcements plugin (the "Would you like
            # to get notified about official Jupyter news?" prompt, news feed and update check) is disabled in the
            # page config the person's browser gets, and the server has no news feed to fetch.
            page = user.get("/lab")
            marker = '"disabledExtensions": ['
            disabled = page.text.split(marker, 1)[1].split("]", 1)[0] if marker in page.text else ""
            expect("lab_announcements_plugin_is_disabled",
                   page.status_code == 200 and "@jupyterlab/apputils-extension:announcements" in disabled,
                   [page.status_code, disabled[:200]])
    finally:
        tunnel.close()

    if other:
        secret = totp_secret_from_uri(Path(other["otpauth_file"]).read_text())
        tunnel = Tunnel("127.0.0.1", port, other["name"], other["key"], secret)
        try:
            try:
                tunnel.channel(owner["port"]).close()
                expect(f"{other['name']}_cannot_tunnel_to_{owner['name']}", False, "forward allowed")
            except paramiko.ChannelException as err:
                expect(f"{other['name']}_cannot_tunnel_to_{owner['name']}", True, f"refused: {err}")
            local = tunnel.forward(other["port"])
            theirs = Jupyter(f"http://127.0.0.1:{local}")
            expect(f"{owner['name']}_password_does_not_open_{other['name']}s_notebook",
                   not theirs.login(owner["password"]), "refused")
            ok = Jupyter(f"http://127.0.0.1:{local}").login(other["password"])
            expect(f"{other['name']}_logs_in_to_own_notebook", ok, ok)
        finally:
            tunnel.close()

    print(json.dumps({"checks": checks, "failures": failures}, indent=2))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
