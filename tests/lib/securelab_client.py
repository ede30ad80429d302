"""What a notebook user does, as code: SSH tunnel (public key + TOTP), Jupyter login, run a cell.

Shared by the demo (scripts/demo.sh) and the site scenario's verify (molecule/site); it talks to the
real sshd (paramiko, keyboard-interactive for the TOTP prompt, codes from Debian's `oathtool`) and the
real Jupyter Server (requests for HTTP, websocket-client for the kernel channel), both of which the
project's virtualenv already has (paramiko is pinned; requests and websocket-client come with jupyter_server).

    python tests/lib/securelab_client.py --ssh-port 2222 --user alice --key id_ed25519 \
        --otpauth-file enrollment/lab/alice/otpauth-uri.txt --notebook-port 8801 \
        --password-file alice-notebook-password --code 'print(6 * 7)'

Secrets (password, TOTP secret) are read from files or the environment, never from the command line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import select
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import paramiko
import requests
import urllib3
import websocket

# A code accepted once is refused again by pam_google_authenticator (DISALLOW_REUSE): remember the
# 30-second step each secret was last used in, and wait for the next step instead of failing. With
# $SECURELAB_TOTP_STEPS set, the steps are kept in that file (keyed by a digest of the secret) so
# separate processes (a demo re-run, the verify steps) do not reuse a code either.
_LAST_STEP: dict[str, int] = {}


def _steps_file() -> Path | None:
    path = os.environ.get("SECURELAB_TOTP_STEPS")
    return Path(path) if path else None


def _load_steps() -> None:
    path = _steps_file()
    if path and path.exists():
        _LAST_STEP.update(json.loads(path.read_text() or "{}"))


def _save_steps() -> None:
    path = _steps_file()
    if path:
        path.write_text(json.dumps(_LAST_STEP))
        path.chmod(0o600)


def totp_secret_from_uri(uri: str) -> str:
    """The base32 secret of an otpauth://totp/... URI (what the QR code holds)."""
    query = parse_qs(urlparse(uri.strip()).query)
    if "secret" not in query:
        raise ValueError("otpauth URI without a secret")
    return query["secret"][0]


def totp_code(secret: str) -> str:
    """A fresh TOTP code from Debian's oathtool, never one already used with this secret."""
    _load_steps()
    key = hashlib.sha256(secret.encode()).hexdigest()[:16]
    while True:
        step = int(time.time()) // 30
        if _LAST_STEP.get(key) != step:
            break
        time.sleep(30 - time.time() % 30 + 0.2)
    # oathtool reads the secret from stdin ("-"), so it never shows in a process list.
    code = subprocess.run(["oathtool", "--totp", "-b", "-"], input=secret + "\n", check=True,
                          capture_output=True, text=True).stdout.strip()
    _LAST_STEP[key] = step
    _save_steps()
    return code


class Tunnel:
    """An SSH connection (key + TOTP) that forwards local ports like `ssh -L`."""

    def __init__(self, host: str, port: int, user: str, key_file: str, totp_secret: str | None,
                 timeout: float = 20.0):
        self.user = user
        sock = socket.create_connection((host, port), timeout=timeout)
        self.transport = paramiko.Transport(sock)
        self.transport.start_client(timeout=timeout)
        key = paramiko.PKey.from_path(key_file)
        remaining = self.transport.auth_publickey(user, key)
        if not self.transport.is_authenticated():
            if "keyboard-interactive" not in remaining or totp_secret is None:
                raise paramiko.AuthenticationException(f"{user}: the server wants {remaining} after the key")

            def answer(_title, _instructions, prompts):
                return [totp_code(totp_secret) for _prompt, _echo in prompts]

            self.transport.auth_interactive(user, answer)
        if not self.transport.is_authenticated():
            raise paramiko.AuthenticationException(f"{user}: not authenticated")
        self._servers: list[socket.socket] = []

    def channel(self, remote_port: int, remote_host: str = "127.0.0.1") -> paramiko.Channel:
        """A direct-tcpip channel; raises paramiko.ChannelException when sshd refuses the forward."""
        return self.transport.open_channel("direct-tcpip", (remote_host, remote_port), ("127.0.0.1", 0),
                                           timeout=15)

    def forward(self, remote_port: int, remote_host: str = "127.0.0.1") -> int:
        """Listen on a free local port and forward each connection to remote_host:remote_port; returns the port."""
        self.channel(remote_port, remote_host).close()  # fail here, not in a thread, if sshd refuses
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        self._servers.append(server)

        def pump(client: socket.socket) -> None:
            try:
                chan = self.channel(remote_port, remote_host)
            except Exception:  # the client then sees a closed connection
                client.close()
                return
            with client, chan:
                while True:
                    ready = select.select([client, chan], [], [], 60)[0]
                    if not ready:
                        return
                    for src, dst in ((client, chan), (chan, client)):
                        if src in ready:
                            data = src.recv(65536)
                            if not data:
                                return
                            dst.sendall(data)

        def accept() -> None:
            while True:
                try:
                    client = server.accept()[0]
                except OSError:
                    return
                threading.Thread(target=pump, args=(client,), daemon=True).start()

        threading.Thread(target=accept, daemon=True).start()
        return server.getsockname()[1]

    def close(self) -> None:
        for server in self._servers:
            server.close()
        self.transport.close()


class Jupyter:
    """A browser-like Jupyter Server client: login form with XSRF, cookies, REST and kernel websocket."""

    def __init__(self, base_url: str, host_header: str | None = None, verify_tls: bool | str = False):
        """verify_tls: False (https without checks), True (the system's CAs) or the path of the certificate(s) to
        trust; a check includes the host name (127.0.0.1 must be in the certificate's subjectAltName)."""
        self.base = base_url.rstrip("/")
        self.verify_tls = verify_tls
        self.http = requests.Session()
        self.http.verify = verify_tls
        if isinstance(verify_tls, str):
            # requests would let $REQUESTS_CA_BUNDLE / $CURL_CA_BUNDLE replace the session's certificate file.
            self.http.trust_env = False
        if not verify_tls:
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        if host_header:
            self.http.headers["Host"] = host_header

    def get(self, path: str, **kw) -> requests.Response:
        return self.http.get(self.base + path, allow_redirects=False, timeout=20, **kw)

    def login(self, password: str) -> bool:
        """Submit the login form; True when the server accepted the password."""
        self.get("/login")
        xsrf = self.http.cookies.get("_xsrf", "")
        resp = self.http.post(self.base + "/login", data={"password": password, "_xsrf": xsrf},
                              allow_redirects=False, timeout=30)
        return resp.status_code in (302, 303) and self.get("/api/contents").status_code == 200

    def _xsrf_headers(self) -> dict:
        return {"X-XSRFToken": self.http.cookies.get("_xsrf", "")}

    def run_code(self, code: str, timeout: float = 60.0) -> str:
        """Start a kernel, execute code through the kernel's websocket channel, return its output."""
        kernel_id = self.start_kernel()
        try:
            return self._execute(kernel_id, code, timeout)
        finally:
            self.delete_kernel(kernel_id)

    def start_kernel(self) -> str:
        """Start a kernel through the REST API; returns its id."""
        resp = self.http.post(self.base + "/api/kernels", json={}, headers=self._xsrf_headers(), timeout=30)
        resp.raise_for_status()
        return resp.json()["id"]

    def delete_kernel(self, kernel_id: str) -> None:
        self.http.delete(f"{self.base}/api/kernels/{kernel_id}", headers=self._xsrf_headers(), timeout=30)

    def kernels(self) -> list[dict]:
        """The server's running kernels (GET /api/kernels: id, execution_state, connections, last_activity)."""
        resp = self.get("/api/kernels")
        resp.raise_for_status()
        return resp.json()

    def kernel_state(self, kernel_id: str) -> str:
        """The execution state the server has for one kernel (GET /api/kernels/ID)."""
        resp = self.get(f"/api/kernels/{kernel_id}")
        resp.raise_for_status()
        return resp.json().get("execution_state", "")

    def start_code(self, kernel_id: str, code: str, timeout: float = 30.0) -> None:
        """Send code to a kernel, wait until the kernel reports busy, then disconnect (the code keeps running).

        First wait until the server itself follows the kernel's state: Notebook 6 subscribes to a new kernel's status
        messages while the kernel starts, and a message sent before that subscription is connected is lost to it (the
        server then still calls the busy kernel "starting", and its culler takes it for idle)."""
        deadline = time.monotonic() + timeout
        while self.kernel_state(kernel_id) == "starting":
            if time.monotonic() > deadline:
                raise TimeoutError("the server never saw the kernel leave the starting state")
            self._execute(kernel_id, "pass", timeout)
            time.sleep(0.2)
        ws, msg_id = self._send_execute(kernel_id, code, timeout)
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                msg = json.loads(ws.recv())
                if (msg.get("parent_header", {}).get("msg_id") == msg_id and msg["header"]["msg_type"] == "status"
                        and msg["content"]["execution_state"] == "busy"):
                    return
            raise TimeoutError("the kernel did not start the code in time")
        finally:
            ws.close()

    def _send_execute(self, kernel_id: str, code: str, timeout: float) -> tuple[websocket.WebSocket, str]:
        ws_url = self.base.replace("http", "ws", 1) + f"/api/kernels/{kernel_id}/channels"
        cookie = "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())
        host = self.http.headers.get("Host") or urlparse(self.base).netloc
        origin = f"{urlparse(self.base).scheme}://{host}"
        sslopt = None
        if ws_url.startswith("wss"):
            # The same trust as the HTTP requests: a certificate file checks the chain and the host name.
            sslopt = {"ca_certs": self.verify_tls} if isinstance(self.verify_tls, str) else {"cert_reqs": 0}
        ws = websocket.create_connection(ws_url, cookie=cookie, host=host, origin=origin, timeout=timeout,
                                         sslopt=sslopt)
        msg_id = uuid.uuid4().hex
        ws.send(json.dumps({
            "header": {"msg_id": msg_id, "username": "securelab", "session": uuid.uuid4().hex,
                       "msg_type": "execute_request", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
        }))
        return ws, msg_id

    def _execute(self, kernel_id: str, code: str, timeout: float) -> str:
        ws, msg_id = self._send_execute(kernel_id, code, timeout)
        try:
            output: list[str] = []
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                msg = json.loads(ws.recv())
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = msg["header"]["msg_type"], msg["content"]
                if kind == "stream":
                    output.append(content["text"])
                elif kind in ("execute_result", "display_data"):
                    output.append(content["data"].get("text/plain", "") + "\n")
                elif kind == "error":
                    raise RuntimeError(f"{content['ename']}: {content['evalue']}")
                elif kind == "status" and content["execution_state"] == "idle":
                    return "".join(output)
            raise TimeoutError("the kernel did not finish in time")
        finally:
            ws.close()


def read_secret(path: str | None, env: str | None) -> str | None:
    if path:
        return Path(path).read_text().strip()
    if env:
        return os.environ.get(env)
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ssh-host", default="127.0.0.1")
    ap.add_argument("--ssh-port", type=int, default=22)
    ap.add_argument("--user", required=True)
    ap.add_argument("--key", required=True, help="the user's private key file")
    ap.add_argument("--otpauth-file", help="file with the otpauth:// URI (the enrollment bundle's otpauth-uri.txt)")
    ap.add_argument("--notebook-port", type=int, required=True, help="the user's notebook_port on the host")
    ap.add_argument("--password-file", help="file with the notebook password (else $SECURELAB_NOTEBOOK_PASSWORD)")
    ap.add_argument("--tls", action="store_true", help="the notebook speaks https (notebook_tls)")
    ap.add_argument("--code", default="import getpass, os; print(getpass.getuser(), os.getuid(), 6 * 7)")
    args = ap.parse_args()

    secret_uri = read_secret(args.otpauth_file, None)
    password = read_secret(args.password_file, "SECURELAB_NOTEBOOK_PASSWORD")
    if not password:
        ap.error("no notebook password (--password-file or SECURELAB_NOTEBOOK_PASSWORD)")
    tunnel = Tunnel(args.ssh_host, args.ssh_port, args.user, args.key,
                    totp_secret_from_uri(secret_uri) if secret_uri else None)
    try:
        local = tunnel.forward(args.notebook_port)
        print(f"  ssh tunnel up: 127.0.0.1:{local} -> {args.user}@{args.ssh_host}:{args.ssh_port} "
              f"-> 127.0.0.1:{args.notebook_port} (public key + TOTP code)", flush=True)
        jupyter = Jupyter(f"{'https' if args.tls else 'http'}://127.0.0.1:{local}")
        if not jupyter.login(password):
            print("  Jupyter refused the password", file=sys.stderr)
            return 1
        print("  logged in to Jupyter with the password", flush=True)
        out = jupyter.run_code(args.code)
        print(f"  a kernel ran {args.code!r} -> {out.strip()}", flush=True)
    finally:
        tunnel.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
