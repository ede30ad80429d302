"""Unit tests for the nft_table module, with the real nft in a network namespace of their own.

Each test gets a fresh named network namespace (ip netns): the module loads, compares and repairs the table
there, and this machine's own ruleset (Docker's tables) is never touched. Needs root, nft and ip (bootstrap.sh
installs nftables and iproute2; CI runs as root).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid

import pytest
from ansible_collections.securelab.gpu_notebook.plugins.filter.resources import resources_drift, resources_probe_args

NFT = shutil.which("nft") or "/usr/sbin/nft"
pytestmark = pytest.mark.skipif(
    not (os.path.exists(NFT) and os.geteuid() == 0 and shutil.which("ip")),
    reason="needs nft, ip and root (bootstrap.sh installs nftables; CI runs as root)")

# Runs the module's main() inside the namespace, as Ansible would on a target; prints its JSON result.
SCRIPT = """
import json, sys
from ansible.module_utils import _internal
from ansible.module_utils.testing import patch_module_args
_internal.is_controller = False
import importlib
module = importlib.import_module('ansible_collections.securelab.gpu_notebook.plugins.modules.' + sys.argv[2])
with patch_module_args(json.loads(sys.argv[1])):
    try:
        module.main()
    except SystemExit:
        pass
"""

TABLE = """table inet securelab_test {
  chain input {
    type filter hook input priority filter; policy accept;
    tcp dport 8801 drop
  }
}
"""


@pytest.fixture
def netns():
    name = f"securelab-unit-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def in_ns(netns, *argv):
    return subprocess.run(["ip", "netns", "exec", netns, *argv], capture_output=True, text=True, check=False)


def module(netns, name, args):
    out = in_ns(netns, "env", f"PYTHONPATH={os.pathsep.join(sys.path)}", sys.executable, "-c", SCRIPT, json.dumps(args),
                name)
    return json.loads(out.stdout)


def table_args(tmp_path, content=TABLE):
    return dict(name="securelab_test", content=content, path=str(tmp_path / "etc" / "fw.nft"),
                state_path=str(tmp_path / "lib" / "fw.loaded"))


def run(netns, tmp_path, content=TABLE, check=False, diff=False):
    args = dict(table_args(tmp_path, content), _ansible_check_mode=check, _ansible_diff=diff)
    return module(netns, "nft_table", args)


def listing(netns):
    out = in_ns(netns, NFT, "-s", "list", "table", "inet", "securelab_test")
    return out.stdout if out.returncode == 0 else None


def test_loads_then_reports_no_change(netns, tmp_path):
    first = run(netns, tmp_path)
    assert first["changed"] is True, first
    assert "tcp dport 8801 drop" in listing(netns)
    assert (tmp_path / "etc" / "fw.nft").stat().st_mode & 0o777 == 0o600
    second = run(netns, tmp_path)
    assert second["changed"] is False, second
    assert second["reasons"] == []


def test_check_mode_changes_nothing(netns, tmp_path):
    result = run(netns, tmp_path, check=True, diff=True)
    assert result["changed"] is True
    assert listing(netns) is None
    assert not (tmp_path / "etc" / "fw.nft").exists()
    assert "tcp dport 8801 drop" in result["diff"][0]["after"]


@pytest.mark.parametrize(("drift", "reason"), [
    (["nft", "flush", "ruleset"], "missing from the kernel"),
    (["nft", "delete", "table", "inet", "securelab_test"], "missing from the kernel"),
    (["nft", "add", "rule", "inet", "securelab_test", "input", "tcp", "dport", "22", "accept"], "differs from"),
    (["nft", "flush", "chain", "inet", "securelab_test", "input"], "differs from what was loaded"),
])
def test_kernel_drift_is_repaired(netns, tmp_path, drift, reason):
    run(netns, tmp_path)
    loaded = listing(netns)
    assert in_ns(netns, NFT, *drift[1:]).returncode == 0
    assert listing(netns) != loaded
    result = run(netns, tmp_path, diff=True)
    assert result["changed"] is True
    assert any(reason in r for r in result["reasons"]), result["reasons"]
    assert listing(netns) == loaded
    assert run(netns, tmp_path)["changed"] is False


def test_edited_file_is_rewritten_and_reloaded(netns, tmp_path):
    run(netns, tmp_path)
    path = tmp_path / "etc" / "fw.nft"
    path.write_text(path.read_text().replace("8801", "8802"))
    result = run(netns, tmp_path)
    assert result["changed"] is True
    assert any("fw.nft differs" in r for r in result["reasons"])
    assert "8801" in path.read_text()


@pytest.mark.parametrize("name", ["etc/fw.nft", "lib/fw.loaded"])
@pytest.mark.parametrize("change", ["mode", "owner"])
def test_a_file_given_away_or_opened_up_is_written_again(netns, tmp_path, name, change):
    # The boot unit loads the script as root: a script another user owns or may write is that user's ruleset.
    run(netns, tmp_path)
    path = tmp_path / name
    text = path.read_text()
    if change == "mode":
        path.chmod(0o666)
    else:
        os.chown(path, 65534, 65534)
    result = run(netns, tmp_path)
    assert result["changed"] is True, result
    assert any(f"{name.split('/')[1]} is not root-owned with mode 0600" in r for r in result["reasons"]), result
    info = path.stat()
    assert (info.st_uid, info.st_gid, info.st_mode & 0o777) == (0, 0, 0o600)
    assert path.read_text() == text
    assert run(netns, tmp_path)["changed"] is False


def test_other_tables_are_left_alone(netns, tmp_path):
    assert in_ns(netns, NFT, "add", "table", "ip", "docker_like").returncode == 0
    run(netns, tmp_path)
    run(netns, tmp_path, content=TABLE.replace("8801", "8809"))
    assert in_ns(netns, NFT, "list", "table", "ip", "docker_like").returncode == 0


def test_a_table_that_does_not_load_changes_nothing(netns, tmp_path):
    run(netns, tmp_path)
    loaded = listing(netns)
    before = (tmp_path / "etc" / "fw.nft").read_text()
    result = run(netns, tmp_path, content=TABLE.replace("tcp dport 8801 drop", "tcp dport 8801 dorp"))
    assert result.get("failed") is True
    assert "nft -c rejects the table, nothing was changed" in result["msg"]
    assert listing(netns) == loaded
    assert (tmp_path / "etc" / "fw.nft").read_text() == before


def test_content_must_define_only_its_table(netns, tmp_path):
    result = run(netns, tmp_path, content=TABLE + "table ip other {\n}\n")
    assert result.get("failed") is True
    assert "must define exactly one table" in result["msg"]


def test_never_writes_through_a_link(netns, tmp_path):
    (tmp_path / "etc").mkdir()
    target = tmp_path / "target"
    target.write_text("keep")
    (tmp_path / "etc" / "fw.nft").symlink_to(target)
    result = run(netns, tmp_path)
    assert result.get("failed") is True
    assert "without following a link" in result["msg"]
    assert target.read_text() == "keep"


@pytest.mark.parametrize("drift", [
    [],
    [NFT, "flush", "ruleset"],
    [NFT, "add", "rule", "inet", "securelab_test", "input", "tcp", "dport", "22", "accept"],
    ["sed", "-i", "s/8801/8802/", "{etc}/fw.nft"],
    ["chmod", "0644", "{etc}/fw.nft"],
    ["chown", "65534", "{lib}/fw.loaded"],
    ["rm", "{lib}/fw.loaded"],
    ["rm", "{etc}/fw.nft"],
    ["ln", "-sf", "/etc/hostname", "{etc}/fw.nft"],
])
def test_the_read_judges_the_table_as_the_module_does(netns, tmp_path, drift):
    # The site playbook's no-op run skips nft_table when a host_state read of the same files and listing, compared by
    # resources_drift (kind nft_table), finds nothing: both must give the same reasons for the same host.
    run(netns, tmp_path)
    if drift:
        argv = [arg.format(etc=tmp_path / "etc", lib=tmp_path / "lib") for arg in drift]
        assert in_ns(netns, *argv).returncode == 0
    declared = [dict(table_args(tmp_path), kind="nft_table", family="inet")]
    read = module(netns, "host_state", resources_probe_args(declared))
    judged = run(netns, tmp_path, check=True)
    found = resources_drift(read, declared)
    if judged.get("failed"):  # a link where the script belongs: the module refuses to go on, the read calls it drift
        assert "without following a link" in judged["msg"], judged
        assert found, found
    else:
        assert found == (["; ".join(judged["reasons"])] if judged["reasons"] else []), (judged, found)
        assert bool(found) == bool(drift)
