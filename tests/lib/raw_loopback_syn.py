"""The moby#45610 frame: a TCP SYN to 127.0.0.1:<port> from a machine on the host's link (molecule site).

Runs on the lab host as root, with scapy on PYTHONPATH. The machine on the link is a network namespace joined
to the host by a veth pair (host side fwlan0, 192.0.2.1/24; neighbour 192.0.2.2/24): a real layer-2 neighbour
whose frames reach the host as they are. (A container on the Docker network between the lab hosts is not used
for this: the build machine's own bridge drops frames to 127.0.0.1 before they reach the lab host.)
Input (argv[1], JSON): port (the notebook's port on the host's loopback), bridge (its notebook bridge).
Prints JSON: reached_notebook - the notebook's SYN-ACK was seen on its bridge (Docker DNATed the frame into the
container); answered - the neighbour got a SYN-ACK back.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time

NS = "securelab-lan"
SEND = """
import sys
from scapy.all import IP, TCP, Ether, conf, sendp, sniff
conf.verb = 0
mac, port, sport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
frame = Ether(dst=mac) / IP(src="192.0.2.2", dst="127.0.0.1") / TCP(sport=sport, dport=port, flags="S", seq=4242)
got = sniff(iface="eth0", timeout=3, started_callback=lambda: sendp(frame, iface="eth0", count=2),
            lfilter=lambda p: p.haslayer(TCP) and p[TCP].dport == sport and p[TCP].flags & 0x12 == 0x12)
print(len(got))
"""


def sh(*argv: str) -> None:
    subprocess.run(argv, check=True)


def ensure_neighbour() -> str:
    if subprocess.run(["ip", "netns", "pids", NS], capture_output=True, check=False).returncode != 0:
        sh("ip", "netns", "add", NS)
        sh("ip", "link", "add", "fwlan0", "type", "veth", "peer", "name", "eth0", "netns", NS)
        sh("ip", "addr", "add", "192.0.2.1/24", "dev", "fwlan0")
        sh("ip", "link", "set", "fwlan0", "up")
        sh("ip", "-n", NS, "addr", "add", "192.0.2.2/24", "dev", "eth0")
        sh("ip", "-n", NS, "link", "set", "eth0", "up")
        sh("ip", "-n", NS, "link", "set", "lo", "up")
    with open("/sys/class/net/fwlan0/address", encoding="ascii") as handle:
        return handle.read().strip()


def main() -> int:
    # scapy only where the caller put it (PYTHONPATH on the lab host).
    from scapy.all import TCP, AsyncSniffer, conf

    args = json.loads(sys.argv[1])
    conf.verb = 0
    mac = ensure_neighbour()
    sport = 20000 + secrets.randbelow(40000)
    sniffer = AsyncSniffer(iface=args["bridge"], store=True,
                           lfilter=lambda p: p.haslayer(TCP) and p[TCP].dport == sport and p[TCP].flags & 0x12 == 0x12)
    sniffer.start()
    time.sleep(0.5)
    sent = subprocess.run(["ip", "netns", "exec", NS, sys.executable, "-c", SEND, mac, str(args["port"]), str(sport)],
                          capture_output=True, text=True, check=True)
    time.sleep(0.5)
    seen = sniffer.stop() or []
    print(json.dumps({"reached_notebook": len(seen) > 0, "answered": int(sent.stdout.strip() or 0) > 0}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
