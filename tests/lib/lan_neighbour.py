#!/usr/bin/env python3
"""A machine on the lab host's network trying to reach a notebook without SSH (molecule site, host_firewall).

Runs inside a throwaway container on the host's network, as root with NET_ADMIN and NET_RAW, with scapy on
PYTHONPATH. Input (argv[1], JSON): host_ip, host_mac, subnet (the notebook network on the host), target_ip,
target_port (the container's Jupyter port), loopback_port (the notebook's port on the host's 127.0.0.1).
Prints JSON:
- routed: what an HTTP GET of http://<target_ip>:<target_port>/login answered after routing the notebook
  network via the host (the status code, or the error);
- raw_syn_answered: whether a TCP SYN to 127.0.0.1:<loopback_port>, in a frame sent to the host's MAC, got
  a SYN-ACK back (the moby#45610 hole: Docker DNATs it into the container).
"""

from __future__ import annotations

import ipaddress
import json
import secrets
import subprocess
import sys
import time
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


def raw_syn_answered(args: dict) -> bool:
    from scapy.all import IP, TCP, AsyncSniffer, Ether, conf, get_if_addr, sendp

    conf.verb = 0
    sport = 20000 + secrets.randbelow(40000)
    frame = (Ether(dst=args["host_mac"]) / IP(src=get_if_addr(conf.iface), dst="127.0.0.1")
             / TCP(sport=sport, dport=int(args["loopback_port"]), flags="S", seq=secrets.randbelow(2**31)))
    # Whatever source the answer has (127.0.0.1 after Docker's un-NAT): any SYN-ACK to our port counts. A Python
    # filter, not BPF: the neighbour has no libpcap.
    sniffer = AsyncSniffer(iface=conf.iface, timeout=4, lfilter=lambda p: p.haslayer(TCP) and p[TCP].dport == sport
                           and p[TCP].flags & 0x12 == 0x12)
    sniffer.start()
    time.sleep(0.5)
    for _ in range(3):
        sendp(frame, iface=conf.iface)
        time.sleep(0.3)
    sniffer.join()
    return len(sniffer.results or []) > 0


def main() -> int:
    args = json.loads(sys.argv[1])
    print(json.dumps({"routed": routed(args), "raw_syn_answered": raw_syn_answered(args)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
