"""Unit tests for the host_firewall filters (host_firewall_ruleset, notebook_bridge).

The generated table is also checked by the real nft (nft -c, in a network namespace of its own) when this
machine has nft and runs the tests as root (bootstrap.sh installs nftables; CI runs as root).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.securelab.gpu_notebook.plugins.filter.firewall import (
    FilterModule,
    host_firewall_ruleset,
    notebook_bridge,
)

USERS = [
    {"name": "alice", "state": "present", "notebook_port": 8801},
    {"name": "bob", "state": "present", "notebook_port": 8802},
    {"name": "carol", "state": "absent"},
    {"name": "dave", "state": "present", "notebook_port": 8804},
]
PASSWD = {"alice": ["x", "1001", "1001", "", "/home/alice", "/bin/bash"], "bob": ["x", "1002", "1002"]}

NFT = shutil.which("nft") or "/usr/sbin/nft"
REAL_NFT = os.path.exists(NFT) and os.geteuid() == 0 and shutil.which("unshare") is not None


def nft_check(content: str) -> subprocess.CompletedProcess:
    """nft -c on the table, in a fresh network namespace (nothing of this machine's ruleset is touched)."""
    with tempfile.NamedTemporaryFile("w", suffix=".nft", delete=False) as handle:
        handle.write(content)
    try:
        return subprocess.run(["unshare", "--net", NFT, "-c", "-f", handle.name],
                              capture_output=True, text=True, check=False)
    finally:
        os.unlink(handle.name)


def rules(result: dict, chain: str) -> list[str]:
    body = result["content"].split(f"chain {chain} {{", 1)[1].split("\n  }", 1)[0]
    return [line.strip() for line in body.splitlines() if line.strip() and not line.strip().startswith("type ")]


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"host_firewall_ruleset", "notebook_bridge"}


@pytest.mark.parametrize(("port", "name"), [(8801, "slnb8801"), ("65535", "slnb65535"), (1024, "slnb1024")])
def test_notebook_bridge_names_fit_ifnamsiz(port, name):
    assert notebook_bridge(port) == name
    assert len(name) <= 15


@pytest.mark.parametrize("port", [0, 70000, "x", True, None, -1])
def test_notebook_bridge_refuses_what_is_not_a_port(port):
    with pytest.raises(AnsibleFilterError, match="notebook_bridge"):
        notebook_bridge(port)


def test_each_notebook_port_is_open_to_root_and_its_owner_only():
    result = host_firewall_ruleset(USERS, passwd=PASSWD)
    out = rules(result, "output")
    assert 'ip daddr 127.0.0.0/8 tcp dport 8801 meta skuid != { 0, 1001 } reject with tcp reset comment "alice"' in out
    assert 'ip6 daddr ::1 tcp dport 8801 meta skuid != { 0, 1001 } reject with tcp reset comment "alice"' in out
    assert 'oifname "slnb8801" meta skuid != { 0, 1001 } reject comment "alice"' in out
    assert any("tcp dport 8802 meta skuid != { 0, 1002 }" in rule for rule in out)
    # dave has no account yet: root only, and the caller is told.
    assert any("tcp dport 8804 meta skuid != 0 reject" in rule for rule in out)
    assert result["missing_accounts"] == ["dave"]
    # carol is absent: no rule names her.
    assert "carol" not in result["content"]
    assert result["bridges"] == {"alice": "slnb8801", "bob": "slnb8802", "dave": "slnb8804"}


def test_inbound_default_deny_with_ssh_and_declared_ports():
    mosh = {"port": "60000-60010", "proto": "udp", "sources": ["10.0.0.0/8"]}
    result = host_firewall_ruleset([], ssh_ports=[22, "2222"], allowed_ports=[443, mosh])
    out = rules(result, "input")
    assert "policy drop;" in result["content"].split("chain input {", 1)[1].split("\n", 2)[1]
    assert 'tcp dport { 22, 2222 } accept comment "sshd"' in out
    assert "tcp dport 443 accept" in out
    assert "ip saddr 10.0.0.0/8 udp dport 60000-60010 accept" in out
    # Notebook containers never reach the host's services: their drop comes before any accept of a port.
    assert out.index('iifname "slnb*" drop') < out.index('tcp dport { 22, 2222 } accept comment "sshd"')


def test_ssh_sources_always_keep_the_controller():
    result = host_firewall_ruleset([], ssh_sources=["192.0.2.0/24", "2001:db8::/32"], controller="198.51.100.7")
    out = rules(result, "input")
    assert 'ip saddr { 192.0.2.0/24, 198.51.100.7 } tcp dport 22 accept comment "sshd"' in out
    assert 'ip6 saddr 2001:db8::/32 tcp dport 22 accept comment "sshd"' in out
    # Without sources: from anywhere, and no controller rule is needed.
    assert 'tcp dport 22 accept comment "sshd"' in rules(host_firewall_ruleset([], controller="198.51.100.7"), "input")


def test_loopback_addresses_from_outside_are_dropped_before_nat():
    out = rules(host_firewall_ruleset([]), "prerouting")
    assert out == ['iifname != "lo" ip daddr 127.0.0.0/8 drop', 'iifname != "lo" ip6 daddr ::1 drop']
    assert "priority raw;" in host_firewall_ruleset([])["content"]


def test_notebook_egress():
    blocked = ["169.254.169.254", "fd00:ec2::254"]
    default = rules(host_firewall_ruleset([], notebook_blocked_networks=blocked), "forward")
    assert default[0] == 'oifname "slnb*" ct state != { established, related } drop'
    assert 'iifname "slnb*" ip daddr 169.254.169.254 drop' in default
    assert 'iifname "slnb*" ip6 daddr fd00:ec2::254 drop' in default
    assert default[-1] != 'iifname "slnb*" drop'
    closed = rules(host_firewall_ruleset([], notebook_internet=False, notebook_allowed_networks=["10.9.0.0/16"]),
                   "forward")
    assert closed[-3:] == ['iifname "slnb*" ct state established,related accept',
                           'iifname "slnb*" ip daddr 10.9.0.0/16 accept', 'iifname "slnb*" drop']


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"ssh_ports": [0]}, r"host_firewall_ssh_ports\[0\]: must be a port"),
    ({"ssh_ports": []}, "host_firewall_ssh_ports: must be a non-empty list"),
    ({"allowed_ports": [70000]}, r"host_firewall_allowed_ports\[0\].port: must be a port 1..65535"),
    ({"allowed_ports": [{"port": "9000-8000"}]}, r"allowed_ports\[0\].port: must be a port 1..65535 or a range"),
    ({"allowed_ports": [{"port": 80, "proto": "sctp"}]}, r"host_firewall_allowed_ports\[0\].proto: must be tcp or udp"),
    ({"allowed_ports": [{"port": 80, "prot": "tcp"}]}, r"host_firewall_allowed_ports\[0\]: unknown key\(s\) prot"),
    ({"allowed_ports": [{"port": 80, "interface": "eth9"}], "interfaces": ["lo", "eth0"]},
     r"host_firewall_allowed_ports\[0\].interface: no interface 'eth9' on this host \(it has eth0, lo\)"),
    ({"allowed_ports": [{"port": 80, "interface": "eth0; drop"}]}, r"allowed_ports\[0\].interface: not an"),
    ({"allowed_ports": [{"port": 80, "comment": 'x" accept'}]}, r"host_firewall_allowed_ports\[0\].comment"),
    ({"allowed_ports": "80"}, "host_firewall_allowed_ports: must be a list"),
    ({"ssh_sources": ["10.0.0.300/8"]}, r"host_firewall_ssh_sources\[0\]: not an address"),
    ({"notebook_blocked_networks": ["metadata"]}, r"host_firewall_notebook_blocked_networks\[0\]"),
    ({"notebook_internet": "no"}, "host_firewall_notebook_internet: must be a boolean"),
])
def test_bad_input_names_the_variable(kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        host_firewall_ruleset([], **kwargs)


def test_duplicate_notebook_port_is_refused():
    with pytest.raises(AnsibleFilterError, match=r"gpu_notebook_users\[1\].notebook_port: duplicate of alice's port"):
        host_firewall_ruleset([{"name": "alice", "notebook_port": 8801}, {"name": "bob", "notebook_port": 8801}])


@pytest.mark.skipif(not REAL_NFT, reason="needs nft and root (bootstrap.sh installs nftables; CI runs as root)")
@pytest.mark.parametrize("kwargs", [
    {},
    {"log_drops": True, "notebook_internet": False, "notebook_allowed_networks": ["10.9.0.0/16", "2001:db8::/48"],
     "ssh_sources": ["192.0.2.0/24", "2001:db8::1"], "controller": "198.51.100.7", "icmp_echo": False,
     "allowed_ports": [443, {"port": "60000-60010", "proto": "udp", "interface": "lo", "comment": "mosh (udp)"}]},
])
def test_real_nft_accepts_the_table(kwargs):
    result = host_firewall_ruleset(USERS, passwd=PASSWD, **kwargs)
    checked = nft_check(result["content"])
    assert checked.returncode == 0, checked.stderr
    # And the check can fail: a broken table is refused.
    assert nft_check(result["content"].replace("policy drop;", "policy maybe;")).returncode != 0
