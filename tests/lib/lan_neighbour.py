"""A machine on the lab host's network trying to reach a notebook without SSH (molecule site, host_firewall).

Runs inside a throwaway container on the host's network, as root with NET_ADMIN. Input (argv[1], JSON): host_ip,
subnet (the notebook network on the host), target_ip, target_port (the container's Jupyter port).
Prints JSON: routed - what an HTTP GET of http://<target_ip>:<target_port>/login answered after routing the
notebook network via the host (the status code: Jupyter answered; or the error). The raw frame to 127.0.0.1 is
raw_loopback_syn.py's.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
import urllib.error
import urllib.request


def routed(args: dict) -> str:
    subnet = str(ipaddress.ip_network(args["subnet"], strict=False))
    subprocess.run(["ip", "route", "replace", subnet, "via", args["host_ip"]], check=True)
    url = f"http://{args['target_ip']}:{args['target_port']}/login"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.status)
    except urllib.error.HTTPError as err:
        return str(err.code)
    except OSError as err:
        return f"error: {getattr(err, 'reason', err)}"


def main() -> int:
    args = json.loads(sys.argv[1])
    print(json.dumps({"routed": routed(args)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
