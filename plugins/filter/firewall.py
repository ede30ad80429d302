# Copyright: securelab maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the host_firewall role: the nftables table, and the notebook bridges' interface names.

Documentation: ``host_firewall_ruleset.yml`` and ``notebook_bridge.yml`` next to this file
(ansible-doc -t filter). The whole table is worked out here, in Python with unit tests, from the role's
variables; the role only hands the text to the ``nft_table`` module. Every check raises before anything
on the host changes, with a message that names the variable.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError

# Interface names of the notebook bridges (Docker's com.docker.network.bridge.name): the prefix plus the
# user's notebook port, so a name is unique (ports are), short (IFNAMSIZ: 15 characters) and known before
# the network exists. The firewall names them, the notebook role creates them: both call notebook_bridge().
BRIDGE_PREFIX = "slnb"
TABLE = "securelab_host_firewall"
IFNAME_RE = re.compile(r"^[A-Za-z0-9_.:@-]{1,15}$")
PROTOCOLS = ("tcp", "udp")
PORT_KEYS = frozenset({"port", "proto", "sources", "interface", "comment"})
COMMENT_RE = re.compile(r"^[A-Za-z0-9 _.,:/()+=-]{0,100}$")

# ICMP a sane network needs (RFC 4890 for ICMPv6: path MTU discovery, neighbour and router discovery).
ICMP_TYPES = "destination-unreachable, time-exceeded, parameter-problem"
ICMPV6_TYPES = ("destination-unreachable, packet-too-big, time-exceeded, parameter-problem, "
                "nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-query")


class FirewallError(ValueError):
    """A problem with one variable; str() is the message."""


def _bridge(port: int) -> str:
    return f"{BRIDGE_PREFIX}{port}"


def notebook_bridge(port: object) -> str:
    """Interface name of the Docker bridge of the notebook published on this port."""
    if isinstance(port, bool) or not isinstance(port, (int, str)) or not str(port).isdigit() \
            or not 1 <= int(port) <= 65535:
        raise AnsibleFilterError(f"notebook_bridge: a port 1..65535 is needed, got {port!r}")
    return _bridge(int(port))


def _port(value: object, where: str) -> str:
    """A port or a range 'low-high', as nft writes it."""
    text = str(value).strip() if isinstance(value, (int, str)) and not isinstance(value, bool) else None
    match = re.fullmatch(r"([0-9]{1,5})(?:-([0-9]{1,5}))?", text or "")
    if not match:
        raise FirewallError(f"{where}: must be a port 1..65535 or a range such as 8000-8010, got {value!r}")
    low, high = int(match.group(1)), int(match.group(2) or match.group(1))
    if not (1 <= low <= 65535 and 1 <= high <= 65535 and low <= high):
        raise FirewallError(f"{where}: must be a port 1..65535 or a range low-high within it, got {value!r}")
    return str(low) if low == high else f"{low}-{high}"


def _networks(value: object, where: str) -> tuple[list[str], list[str]]:
    """A list of addresses/CIDR networks, split into IPv4 and IPv6 (strict=False: 10.0.0.1/8 is 10.0.0.0/8)."""
    if value is None:
        return [], []
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise FirewallError(f"{where}: must be a list of addresses or CIDR networks, got {type(value).__name__}")
    v4: list[str] = []
    v6: list[str] = []
    for index, item in enumerate(value):
        try:
            net = ipaddress.ip_network(str(item).strip(), strict=False)
        except ValueError:
            raise FirewallError(f"{where}[{index}]: not an address or CIDR network: {str(item)[:60]!r}") from None
        target = v4 if net.version == 4 else v6
        text = str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net)
        if text not in target:
            target.append(text)
    return v4, v6


def _set(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else "{ " + ", ".join(items) + " }"


def _source_rules(v4: list[str], v6: list[str], match: str, verdict: str) -> list[str]:
    """`match verdict` from these sources (any source when both lists are empty)."""
    if not v4 and not v6:
        return [f"{match} {verdict}"]
    rules = []
    if v4:
        rules.append(f"ip saddr {_set(v4)} {match} {verdict}")
    if v6:
        rules.append(f"ip6 saddr {_set(v6)} {match} {verdict}")
    return rules


def _allowed_port(entry: object, where: str, interfaces: Sequence[str] | None) -> list[str]:
    if isinstance(entry, (int, str)) and not isinstance(entry, bool):
        entry = {"port": entry}
    if not isinstance(entry, Mapping):
        raise FirewallError(f"{where}: must be a port or a dict with port, proto, sources, interface, comment; "
                            f"got {type(entry).__name__}")
    unknown = sorted(str(k) for k in entry if k not in PORT_KEYS)
    if unknown:
        raise FirewallError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(PORT_KEYS))}")
    if "port" not in entry:
        raise FirewallError(f"{where}.port: required")
    port = _port(entry["port"], f"{where}.port")
    proto = entry.get("proto", "tcp")
    if proto not in PROTOCOLS:
        raise FirewallError(f"{where}.proto: must be tcp or udp, got {proto!r}")
    v4, v6 = _networks(entry.get("sources"), f"{where}.sources")
    match = f"{proto} dport {port}"
    interface = entry.get("interface") or ""
    if interface:
        if not isinstance(interface, str) or not IFNAME_RE.match(interface):
            raise FirewallError(f"{where}.interface: not an interface name: {str(interface)[:40]!r}")
        if interfaces is not None and interface not in interfaces:
            raise FirewallError(f"{where}.interface: no interface {interface!r} on this host "
                                f"(it has {', '.join(sorted(interfaces)) or 'none'})")
        match = f'iifname "{interface}" {match}'
    comment = entry.get("comment") or ""
    if not isinstance(comment, str) or not COMMENT_RE.match(comment):
        raise FirewallError(f"{where}.comment: up to 100 of letters, digits, spaces and _.,:/()+=-; got {comment!r}")
    verdict = f'accept comment "{comment}"' if comment else "accept"
    return _source_rules(v4, v6, match, verdict)


def _uid(users_uids: Mapping, name: str) -> int | None:
    entry = users_uids.get(name)
    if entry is None:
        return None
    # getent_passwd rows: [password, uid, gid, gecos, home, shell]; or a plain uid.
    uid = entry[1] if isinstance(entry, Sequence) and not isinstance(entry, str) else entry
    try:
        return int(uid)
    except (TypeError, ValueError):
        return None


def _bool(value: object, variable: str) -> bool:
    if not isinstance(value, bool):
        raise FirewallError(f"{variable}: must be a boolean, got {type(value).__name__}")
    return value


def ruleset(
    users: object,
    passwd: Mapping | None = None,
    ssh_ports: object = (22,),
    ssh_sources: object = (),
    controller: str = "",
    allowed_ports: object = (),
    interfaces: Sequence[str] | None = None,
    icmp_echo: object = True,
    notebook_internet: object = True,
    notebook_blocked_networks: object = (),
    notebook_allowed_networks: object = (),
    log_drops: object = False,
    table: str = TABLE,
) -> dict:
    """Work out the table; returns {'content': nft text, 'missing_accounts': [...], 'bridges': {user: bridge}}."""
    passwd = passwd or {}
    if isinstance(ssh_ports, (int, str)) and not isinstance(ssh_ports, bool):
        ssh_ports = [ssh_ports]
    if isinstance(ssh_ports, Mapping) or not isinstance(ssh_ports, Sequence) or not ssh_ports:
        raise FirewallError(f"host_firewall_ssh_ports: must be a non-empty list of ports, got {ssh_ports!r}")
    ssh = [_port(p, f"host_firewall_ssh_ports[{i}]") for i, p in enumerate(ssh_ports)]
    src4, src6 = _networks(list(ssh_sources or []), "host_firewall_ssh_sources")
    if (src4 or src6) and controller:
        # The controller is never cut off: its address (as this host sees it) is always allowed.
        c4, c6 = _networks([controller], "controller address")
        src4 += [a for a in c4 if a not in src4]
        src6 += [a for a in c6 if a not in src6]
    if isinstance(allowed_ports, (str, Mapping)) or not isinstance(allowed_ports, Sequence):
        raise FirewallError(f"host_firewall_allowed_ports: must be a list, got {type(allowed_ports).__name__}")
    extra: list[str] = []
    for index, entry in enumerate(allowed_ports):
        extra += _allowed_port(entry, f"host_firewall_allowed_ports[{index}]", interfaces)
    blocked4, blocked6 = _networks(list(notebook_blocked_networks or []), "host_firewall_notebook_blocked_networks")
    allowed4, allowed6 = _networks(list(notebook_allowed_networks or []), "host_firewall_notebook_allowed_networks")
    icmp_echo = _bool(icmp_echo, "host_firewall_icmp_echo")
    internet = _bool(notebook_internet, "host_firewall_notebook_internet")
    log = _bool(log_drops, "host_firewall_log_drops")
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", str(table)):
        raise FirewallError(f"table name: {table!r}")

    if users is None:
        users = []
    if isinstance(users, (str, Mapping)) or not isinstance(users, Sequence):
        raise FirewallError(f"gpu_notebook_users: must be a list, got {type(users).__name__}")
    notebooks = []
    missing = []
    seen_ports: dict[int, str] = {}
    for index, user in enumerate(users):
        if not isinstance(user, Mapping) or (user.get("state", "present") != "present"):
            continue
        name, port = user.get("name"), user.get("notebook_port")
        if not isinstance(name, str) or isinstance(port, bool) or not isinstance(port, int):
            raise FirewallError(f"gpu_notebook_users[{index}]: needs name and an integer notebook_port "
                                "(check it with the validate_users filter first)")
        if port in seen_ports:
            raise FirewallError(f"gpu_notebook_users[{index}].notebook_port: duplicate of {seen_ports[port]}'s "
                                f"port {port}")
        seen_ports[port] = name
        uid = _uid(passwd, name)
        if uid is None:
            missing.append(name)
        notebooks.append((name, port, uid))

    drop = 'limit rate 10/minute burst 20 packets log prefix "securelab-fw drop: " drop' if log else "drop"
    bridges = f'"{BRIDGE_PREFIX}*"'
    lines = [
        f"table inet {table} {{",
        '  comment "securelab.gpu_notebook host_firewall: managed by Ansible, edits are reverted"',
        "",
        "  # Loopback addresses exist only on lo. Docker before 28 DNATs 127.0.0.1:<port> packets that arrive",
        "  # on any interface to the container (moby#45610): drop them before NAT (dstnat is -100).",
        "  chain prerouting {",
        "    type filter hook prerouting priority raw; policy accept;",
        '    iifname != "lo" ip daddr 127.0.0.0/8 drop',
        '    iifname != "lo" ip6 daddr ::1 drop',
        "  }",
        "",
        "  # Inbound: default deny. Notebook containers do not reach the host's own services.",
        "  chain input {",
        "    type filter hook input priority filter; policy drop;",
        "    ct state established,related accept",
        "    ct state invalid drop",
        '    iifname "lo" accept',
        f"    iifname {bridges} {drop}",
    ]
    lines.append(f"    meta l4proto icmp icmp type {{ {ICMP_TYPES} }} accept")
    lines.append(f"    meta l4proto ipv6-icmp icmpv6 type {{ {ICMPV6_TYPES} }} accept")
    # Router advertisements and neighbour discovery come from link-local addresses (hop limit 255).
    if icmp_echo:
        lines.append("    meta l4proto icmp icmp type echo-request limit rate 20/second burst 50 packets accept")
        lines.append("    meta l4proto ipv6-icmp icmpv6 type echo-request limit rate 20/second burst 50 packets accept")
    lines.append("    ip6 saddr fe80::/10 udp sport 547 udp dport 546 accept comment \"DHCPv6 replies\"")
    ssh_match = f"tcp dport {_set(ssh)}"
    lines += ["    " + rule for rule in _source_rules(src4, src6, ssh_match, 'accept comment "sshd"')]
    lines += ["    " + rule for rule in extra]
    if log:
        lines.append(f"    {drop}")
    lines += [
        "  }",
        "",
        "  # Forwarded: nothing but the host opens a connection into a notebook network (Docker's own chains",
        "  # accept forwarded traffic to published ports, even 127.0.0.1-only ones, before Docker 28).",
        "  chain forward {",
        "    type filter hook forward priority filter - 10; policy accept;",
        f"    oifname {bridges} ct state != {{ established, related }} {drop}",
    ]
    if blocked4:
        lines.append(f"    iifname {bridges} ip daddr {_set(blocked4)} {drop}")
    if blocked6:
        lines.append(f"    iifname {bridges} ip6 daddr {_set(blocked6)} {drop}")
    if not internet:
        lines.append(f"    iifname {bridges} ct state established,related accept")
        if allowed4:
            lines.append(f"    iifname {bridges} ip daddr {_set(allowed4)} accept")
        if allowed6:
            lines.append(f"    iifname {bridges} ip6 daddr {_set(allowed6)} accept")
        lines.append(f"    iifname {bridges} {drop}")
    lines += [
        "  }",
        "",
        "  # Local accounts: only root (docker-proxy, Ansible with become) and the owner connect to a notebook's",
        "  # loopback port or its network. sshd opens a user's -L forward as that user, so the tunnel works.",
        "  chain output {",
        "    type filter hook output priority filter; policy accept;",
    ]
    for name, port, uid in sorted(notebooks, key=lambda n: n[1]):
        owners = "0" if uid in (None, 0) else f"{{ 0, {uid} }}"
        note = f'comment "{name}"' if uid is not None else f'comment "{name}: no account yet, root only"'
        lines += [
            f"    ip daddr 127.0.0.0/8 tcp dport {port} meta skuid != {owners} reject with tcp reset {note}",
            f"    ip6 daddr ::1 tcp dport {port} meta skuid != {owners} reject with tcp reset {note}",
            f'    oifname "{_bridge(port)}" meta skuid != {owners} reject {note}',
        ]
    lines += ["  }", "}", ""]
    return {
        "content": "\n".join(lines),
        "missing_accounts": missing,
        "bridges": {name: _bridge(port) for name, port, _uid in notebooks},
    }


def host_firewall_ruleset(users: object, **kwargs) -> dict:
    """Filter entry point: see ruleset()."""
    try:
        return ruleset(users, **kwargs)
    except FirewallError as err:
        raise AnsibleFilterError(str(err)) from None


class FilterModule:
    """securelab.gpu_notebook firewall filters."""

    def filters(self):
        return {"host_firewall_ruleset": host_firewall_ruleset, "notebook_bridge": notebook_bridge}
