"""Unit tests for the resource declaration filters: the read and the comparison come from one list."""

from __future__ import annotations

import hashlib

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.securelab.gpu_notebook.plugins.filter.resources import (
    FilterModule,
    openpgp_pin_error,
    resources_drift,
    resources_probe_args,
    resources_select,
)
from ansible_collections.securelab.gpu_notebook.plugins.module_utils import _nft

FPR = "9DC858229FC7DD38854AE2D88D81803C0EBFCD88"
OTHER = "C95B321B61E88C1809C4F759DDCAE044F796ECB0"
RULE = 'ACTION=="add", RUN+="/usr/bin/nvidia-ctk system create-dev-char-symlinks --create-all"\n'
DECLARED = [
    {"kind": "directory", "path": "/etc/udev/rules.d", "mode": "0755"},
    {"kind": "file", "path": "/etc/udev/rules.d/71-nvidia.rules", "mode": "0644", "content": RULE},
    {"kind": "file", "path": "/etc/apt/keyrings/nvidia.asc", "mode": "0644", "content": None},
    {"kind": "openpgp_key", "path": "/etc/apt/keyrings/nvidia.asc", "fingerprint": FPR},
    {"kind": "absent", "path": "/etc/apt/preferences.d/nvidia", "when": True},
    {"kind": "file", "path": "/etc/apt/preferences.d/nvidia", "mode": "0644", "when": False},
    {"kind": "package", "name": "nvidia-container-toolkit", "version": "1.17.8-1"},
    {"kind": "unit", "name": "docker.service", "enabled": True, "active": True},
    {"kind": "daemon_json", "path": "/etc/docker/daemon.json", "keys": {"runtimes": {"nvidia": {"path": "ncr"}}}},
    {"kind": "check", "name": "dev_char", "argv": ["sh", "-c", "true"], "stdout": "", "reason": "a link is missing"},
]


def root_file(content=None, mode="0644", kind="file"):
    info = {"exists": True, "type": kind, "mode": mode, "owner": "root", "group": "root"}
    if content is not None:
        info["checksum"] = hashlib.sha1(content.encode()).hexdigest()  # noqa: S324 - what host_state reports
    return info


def in_sync():
    return {
        "files": {"/etc/udev/rules.d": root_file(mode="0755", kind="directory"),
                  "/etc/udev/rules.d/71-nvidia.rules": root_file(RULE),
                  "/etc/apt/keyrings/nvidia.asc": root_file("key"),
                  "/etc/apt/preferences.d/nvidia": {"exists": False}},
        "packages": {"nvidia-container-toolkit": "1.17.8-1"},
        "units": {"docker.service": {"unit_file_state": "enabled", "active_state": "active"}},
        "openpgp_keys": {"/etc/apt/keyrings/nvidia.asc": {"exists": True, "fingerprints": [FPR], "error": ""}},
        "lines": {"/etc/docker/daemon.json": ['{"runtimes": {"nvidia": {"path": "ncr"}}, "live-restore": true}']},
        "commands": {"dev_char": {"rc": 0, "stdout": "\n", "stderr": ""}},
    }


def test_probe_args_read_every_declared_resource_once():
    assert resources_probe_args(DECLARED) == {
        "files": ["/etc/udev/rules.d", "/etc/udev/rules.d/71-nvidia.rules", "/etc/apt/keyrings/nvidia.asc",
                  "/etc/apt/preferences.d/nvidia"],
        "packages": ["nvidia-container-toolkit"],
        "units": ["docker.service"],
        "openpgp_keys": ["/etc/apt/keyrings/nvidia.asc"],
        "read_lines": ["/etc/docker/daemon.json"],
        "commands": {"dev_char": ["sh", "-c", "true"]},
    }


def test_a_host_as_declared_has_no_drift():
    assert resources_drift(in_sync(), DECLARED) == []


@pytest.mark.parametrize(("mutate", "reason"), [
    (lambda s: s["files"].pop("/etc/udev/rules.d/71-nvidia.rules"), "/etc/udev/rules.d/71-nvidia.rules: not read"),
    (lambda s: s["files"].update({"/etc/udev/rules.d/71-nvidia.rules": {"exists": False}}),
     "/etc/udev/rules.d/71-nvidia.rules: missing"),
    (lambda s: s["files"].update({"/etc/udev/rules.d/71-nvidia.rules": root_file(RULE + "# edited\n")}),
     "/etc/udev/rules.d/71-nvidia.rules: content differs"),
    (lambda s: s["files"].update({"/etc/udev/rules.d/71-nvidia.rules": root_file(RULE, mode="0666")}),
     "/etc/udev/rules.d/71-nvidia.rules: mode 0666, not 0644"),
    (lambda s: s["files"]["/etc/udev/rules.d/71-nvidia.rules"].update({"owner": "alice"}),
     "/etc/udev/rules.d/71-nvidia.rules: owner alice, not root"),
    (lambda s: s["files"].update({"/etc/udev/rules.d": root_file(kind="link", mode="0777")}),
     "/etc/udev/rules.d: is a link, not a directory"),
    (lambda s: s["files"].update({"/etc/apt/preferences.d/nvidia": root_file("x")}),
     "/etc/apt/preferences.d/nvidia: still present"),
    (lambda s: s["packages"].update({"nvidia-container-toolkit": None}),
     "package nvidia-container-toolkit: not installed"),
    (lambda s: s["packages"].update({"nvidia-container-toolkit": "1.17.9-1"}),
     "package nvidia-container-toolkit: version 1.17.9-1, not 1.17.8-1"),
    (lambda s: s["units"].update({"docker.service": {"unit_file_state": "enabled", "active_state": "failed"}}),
     "docker.service: failed, not active"),
    (lambda s: s["openpgp_keys"]["/etc/apt/keyrings/nvidia.asc"].update({"fingerprints": [OTHER]}),
     f"/etc/apt/keyrings/nvidia.asc: holds {OTHER}, not only the pinned key {FPR}"),
    (lambda s: s["openpgp_keys"]["/etc/apt/keyrings/nvidia.asc"].update({"fingerprints": [FPR, OTHER]}),
     f"/etc/apt/keyrings/nvidia.asc: holds {FPR}, {OTHER}, not only the pinned key {FPR}"),
    (lambda s: s["lines"].update({"/etc/docker/daemon.json": ['{"live-restore": true}']}),
     "/etc/docker/daemon.json: keys differ"),
    (lambda s: s["lines"].update({"/etc/docker/daemon.json": ["{"]}), "/etc/docker/daemon.json: "),
    (lambda s: s["commands"].update({"dev_char": {"rc": 0, "stdout": "/dev/nvidia0\n"}}), "a link is missing"),
])
def test_each_kind_of_drift_is_named(mutate, reason):
    state = in_sync()
    mutate(state)
    drift = resources_drift(state, DECLARED)
    assert len(drift) == 1 and drift[0].startswith(reason), drift


def test_a_file_declared_nonempty_must_have_content():
    declared = [{"kind": "file", "path": "/etc/apt/keyrings/docker.asc", "mode": "0644", "nonempty": True}]
    assert resources_drift({"files": {"/etc/apt/keyrings/docker.asc": {**root_file(), "size": 3}}}, declared) == []
    assert resources_drift({"files": {"/etc/apt/keyrings/docker.asc": {**root_file(), "size": 0}}}, declared) == [
        "/etc/apt/keyrings/docker.asc: empty"]


def test_a_package_list_is_one_declaration():
    declared = [{"kind": "package", "name": ["fail2ban", "nftables"]}]
    assert resources_probe_args(declared) == {"packages": ["fail2ban", "nftables"]}
    assert resources_drift({"files": {}, "packages": {"fail2ban": "1.0", "nftables": "1.1"}}, declared) == []
    assert resources_drift({"files": {}, "packages": {"fail2ban": "1.0", "nftables": None}}, declared) == [
        "package nftables: not installed"]


def test_a_package_declared_absent_is_drift_while_installed():
    declared = [{"kind": "package", "name": ["chrony"]},
                {"kind": "package", "name": ["systemd-timesyncd"], "state": "absent"}]
    assert resources_probe_args(declared) == {"packages": ["chrony", "systemd-timesyncd"]}
    assert resources_drift({"files": {}, "packages": {"chrony": "4.3", "systemd-timesyncd": None}}, declared) == []
    assert resources_drift({"files": {}, "packages": {"chrony": "4.3", "systemd-timesyncd": "252"}}, declared) == [
        "package systemd-timesyncd: installed, not absent"]
    with pytest.raises(AnsibleFilterError, match="state 'purged'"):
        resources_drift({"files": {}}, [{"kind": "package", "name": "x", "state": "purged"}])


def test_a_resource_whose_when_depends_on_the_read_is_read_always():
    # Before the read "when" may be false (the installed version is not known yet); the path must be read anyway, or
    # the comparison after the read would find it not read.
    declared = [{"kind": "directory", "path": "/etc/systemd/system/docker.service.d", "mode": "0755",
                 "when": False, "read_always": True},
                {"kind": "absent", "path": "/etc/x", "when": False}]
    assert resources_probe_args(declared) == {"files": ["/etc/systemd/system/docker.service.d"]}
    assert resources_drift({"files": {}}, declared) == []
    assert resources_select(declared, "directory") == []


def test_the_tasks_loop_over_what_the_read_and_the_comparison_use():
    # resources_select gives the tasks the same resources (when applied, package lists split) in declared order.
    assert [r["path"] for r in resources_select(DECLARED, "file")] == [
        "/etc/udev/rules.d/71-nvidia.rules", "/etc/apt/keyrings/nvidia.asc"]
    # written: only what a copy task writes (the keyring's content is null: it is downloaded).
    written = resources_select(DECLARED, "file", written=True)
    assert [r["path"] for r in written] == ["/etc/udev/rules.d/71-nvidia.rules"]
    assert resources_select([{"kind": "file", "path": "/x", "mode": None}], "file", written=True) == []
    assert [r["path"] for r in resources_select(DECLARED, "absent")] == ["/etc/apt/preferences.d/nvidia"]
    declared = [{"kind": "package", "name": ["a", "b"]}, {"kind": "package", "name": "c", "state": "absent"},
                {"kind": "package", "name": "d", "when": False}]
    assert [r["name"] for r in resources_select(declared, "package")] == ["a", "b"]
    assert [r["name"] for r in resources_select(declared, "package", state="absent")] == ["c"]
    with pytest.raises(AnsibleFilterError, match="kind 'symlink'"):
        resources_select(DECLARED, "symlink")


@pytest.mark.parametrize("flag", [False, "False", "false"])
def test_a_unit_flag_rendered_as_text_means_what_it_says(flag):
    declared = [{"kind": "unit", "name": "fail2ban", "enabled": flag, "active": flag}]
    stopped = {"files": {}, "units": {"fail2ban": {"unit_file_state": "disabled", "active_state": "inactive"}}}
    assert resources_drift(stopped, declared) == []
    stopped["units"]["fail2ban"]["active_state"] = "active"
    assert resources_drift(stopped, declared) == ["fail2ban: active, not inactive"]


def test_a_failed_check_says_why_in_the_commands_own_words():
    declared = [{"kind": "check", "name": "f2b", "argv": ["fail2ban-client", "--test"], "reason": "refused"}]
    state = {"files": {}, "commands": {"f2b": {"rc": 255, "stdout": "", "stderr": "x\nERROR  No file(s) found\n"}}}
    assert resources_drift(state, declared) == ["refused (ERROR  No file(s) found)"]
    state["commands"]["f2b"]["stderr"] = ""
    assert resources_drift(state, declared) == ["refused"]
    state["commands"]["f2b"]["rc"] = 0
    assert resources_drift(state, declared) == []


TABLE = "table inet fw {\n  chain input { type filter hook input priority 0; policy drop; }\n}\n"
LISTING = "table inet fw {\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n\t}\n}\n"
NFT = [{"kind": "nft_table", "name": "fw", "content": TABLE, "path": "/etc/fw.nft", "state_path": "/var/lib/fw"}]


def nft_in_sync():
    return {"files": {"/etc/fw.nft": root_file(_nft.script("inet", "fw", TABLE), mode="0600"),
                      "/var/lib/fw": root_file(LISTING, mode="0600")},
            "commands": {"nft_table_inet_fw": {"rc": 0, "stdout": LISTING, "stderr": ""}}}


def test_an_nft_table_is_read_as_its_script_record_and_kernel_listing():
    listing = ["nft", "-s", "list", "table", "inet", "fw"]
    want = {"files": ["/etc/fw.nft", "/var/lib/fw"], "commands": {"nft_table_inet_fw": listing}}
    assert resources_probe_args(NFT) == want
    assert resources_drift(nft_in_sync(), NFT) == []


@pytest.mark.parametrize(("mutate", "reason"), [
    (lambda s: s["commands"].update({"nft_table_inet_fw": {"rc": 1, "stdout": "", "stderr": "No such file"}}),
     "table inet fw is missing from the kernel"),
    (lambda s: s["commands"]["nft_table_inet_fw"].update({"stdout": LISTING.replace("drop", "accept")}),
     "table inet fw in the kernel differs from what was loaded (edited by hand?)"),
    (lambda s: s["files"].update({"/var/lib/fw": {"exists": False}}), "no record of the last load (/var/lib/fw)"),
    (lambda s: s["files"].update({"/etc/fw.nft": {"exists": False}}), "/etc/fw.nft is missing"),
    (lambda s: s["files"].update({"/etc/fw.nft": root_file("table inet fw {}\n", mode="0600")}), "/etc/fw.nft differs"),
    (lambda s: s["files"]["/etc/fw.nft"].update({"mode": "0644"}), "/etc/fw.nft is not root-owned with mode 0600"),
    (lambda s: s["files"]["/var/lib/fw"].update({"owner": "alice"}), "/var/lib/fw is not root-owned with mode 0600"),
    (lambda s: s["files"].update({"/etc/fw.nft": root_file(kind="link", mode="0777")}), "/etc/fw.nft differs"),
    (lambda s: s["commands"].pop("nft_table_inet_fw"), "table inet fw: not read"),
])
def test_each_nft_table_drift_is_the_modules_reason(mutate, reason):
    state = nft_in_sync()
    mutate(state)
    drift = resources_drift(state, NFT)
    assert len(drift) == 1 and drift[0].startswith(reason), drift


def test_an_unread_host_is_drift():
    assert resources_drift({}, DECLARED) == ["the host was not read"]
    assert resources_drift({"skipped": True}, DECLARED) == ["the host was not read"]


def test_bad_declarations_are_refused():
    with pytest.raises(AnsibleFilterError, match="needs a kind"):
        resources_probe_args([{"kind": "symlink", "path": "/x"}])
    with pytest.raises(AnsibleFilterError, match="lacks fingerprint"):
        resources_drift(in_sync(), [{"kind": "openpgp_key", "path": "/x"}])
    with pytest.raises(AnsibleFilterError, match="list of resources"):
        resources_probe_args("file")


def test_pin_errors_name_the_variables():
    assert openpgp_pin_error("") == ""
    assert openpgp_pin_error("9DC8 5822 9FC7 DD38 854A  E2D8 8D81 803C 0EBF CD88") == ""
    assert openpgp_pin_error("0EBFCD88", fingerprint_var="docker_engine_repo_key_fingerprint").startswith(
        "docker_engine_repo_key_fingerprint: a fingerprint is 40")
    assert openpgp_pin_error(FPR, "junk", key_var="docker_engine_repo_key").startswith(
        "docker_engine_repo_key: not an OpenPGP public key")


def test_registered():
    assert set(FilterModule().filters()) == {"resources_probe_args", "resources_drift", "resources_select",
                                             "openpgp_pin_error"}


@pytest.mark.parametrize("declared, info, reason", [
    # A number is a uid or gid, compared with the number the read reports; a name with the name.
    ({"owner": 2001, "group": "2001"}, {"uid": 2001, "gid": 2001, "owner": "alice", "group": "alice"}, ""),
    ({"owner": 2001}, {"uid": 0, "gid": 0}, "/srv/x: owner 0, not 2001"),
    ({"owner": 0, "group": 2001}, {"uid": 0, "gid": 0}, "/srv/x: group 0, not 2001"),
    ({"owner": "alice"}, {"uid": 2001, "gid": 0, "owner": "alice"}, ""),
    # An owner declared as unknown (None) is not compared; one left out is root.
    ({"owner": None, "group": None}, {"uid": 5, "gid": 5, "owner": "eve", "group": "eve"}, ""),
    ({}, {"uid": 5, "gid": 0, "owner": "eve", "group": "root"}, "/srv/x: owner eve, not root"),
])
def test_owner_by_name_or_number(declared, info, reason):
    item = {"kind": "directory", "path": "/srv/x", "mode": "0700", **declared}
    state = {"files": {"/srv/x": {"exists": True, "type": "directory", "mode": "0700", "owner": "root",
                                  "group": "root", **info}}}
    assert resources_drift(state, [item]) == ([reason] if reason else [])
