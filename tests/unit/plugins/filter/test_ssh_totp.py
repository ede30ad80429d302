"""Unit tests for ssh_totp_drift: the ssh_totp role's fast-path comparison, from a host in sync to each drift."""

from __future__ import annotations

import copy
import hashlib

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.securelab.gpu_notebook.plugins.filter.ssh_totp import (
    FilterModule,
    ssh_totp_drift,
    ssh_totp_resources,
)

KEYS = "/etc/ssh/authorized_keys"
SECRETS = "/var/lib/securelab/totp"
SCRIPT = "/usr/local/lib/securelab/ssh-totp-enrollment-open"
ED = "/etc/ssh/ssh_host_ed25519_key"
RSA = "/etc/ssh/ssh_host_rsa_key"
ALICE_KEYS = "ssh-ed25519 AAAAalice alice\n"
SETTINGS = {
    "packages": ["openssh-server", "libpam-google-authenticator"], "service": "ssh", "moduli": "/etc/ssh/moduli",
    "moduli_ere": "^short ", "moduli_min_bits": 3072, "host_keys": [ED, RSA], "authorized_keys_dir": KEYS,
    "secret_dir": SECRETS, "automation_user": "ansible",
    "key_files": [["ansible", "ssh-ed25519 AAAAansible ops\n"], ["alice", ALICE_KEYS]],
}
SPEC = {
    "lockout_refused": False, "check_lockout": True, "automation_user": "ansible", "automation_has_keys": True,
    "automation_keys_size": 0, "resources": ssh_totp_resources(SETTINGS),
    "sshd_config": "/etc/ssh/sshd_config", "pam_config": "/etc/pam.d/sshd", "enrollment": False,
    "enrollment_script": SCRIPT, "host_keys": [ED, RSA], "rsa_bits": 4096,
    "accounts": ["ansible", "alice", "carol"], "authorized_keys_dir": KEYS, "secret_dir": SECRETS,
    "shell": "/bin/bash", "nologin": "/usr/sbin/nologin", "tunnel_only": False, "present": ["alice"],
    "absent": ["carol"], "rotate_users": [], "remove_absent_accounts": False,
    "legacy_secret_file": ".google_authenticator",
}
PASSWD = {
    "ansible": ["x", "1001", "1001", "", "/home/ansible", "/bin/bash"],
    "alice": ["x", "2001", "2001", "", "/home/alice", "/bin/bash"],
    "carol": ["x", "2003", "2003", "", "/home/carol", "/usr/sbin/nologin"],
}
WANT = {"sshd": "c" * 40, "pam": "p" * 40, "script": ""}


def sha1(text):
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def root(mode, checksum=None, kind="file"):
    info = {"exists": True, "type": kind, "mode": mode, "uid": 0, "gid": 0, "owner": "root", "group": "root"}
    if checksum:
        info["checksum"] = checksum
    return info


def synced():
    """A host's read that matches SPEC exactly."""
    files = {
        "/etc/ssh/sshd_config": root("0644", WANT["sshd"]), "/etc/pam.d/sshd": root("0644", WANT["pam"]),
        SCRIPT: {"exists": False}, KEYS: root("0755", kind="directory"), SECRETS: root("0700", kind="directory"),
        f"{KEYS}/ansible": root("0644", sha1("ssh-ed25519 AAAAansible ops\n")),
        f"{KEYS}/alice": root("0644", sha1(ALICE_KEYS)),
        ED: root("0600"), ED + ".pub": root("0600"), RSA: root("0600"), RSA + ".pub": root("0600"),
        "/home/ansible": {"exists": True, "type": "directory", "mode": "0755", "uid": 1001, "gid": 1001},
        "/home/ansible/.ssh": {"exists": True, "type": "directory", "mode": "0700", "uid": 1001, "gid": 1001},
        "/home/alice": {"exists": True, "type": "directory", "mode": "0750", "uid": 2001, "gid": 2001},
        "/home/alice/.ssh": {"exists": True, "type": "directory", "mode": "0700", "uid": 2001, "gid": 2001},
        f"{KEYS}/carol": {"exists": False}, f"{SECRETS}/carol": {"exists": False},
        "/home/carol/.google_authenticator": {"exists": False},
    }
    return {
        "files": files,
        "lines": {ED + ".pub": ["ssh-ed25519 AAAAed root@host"], RSA + ".pub": ["ssh-rsa AAAArsa root@host"]},
        "commands": {
            "pub:" + ED: {"rc": 0, "stdout": "ssh-ed25519 AAAAed"}, "bits:" + ED: {"rc": 0, "stdout": "256 SHA256:x"},
            "pub:" + RSA: {"rc": 0, "stdout": "ssh-rsa AAAArsa"}, "bits:" + RSA: {"rc": 0, "stdout": "4096 SHA256:y"},
            "moduli": {"rc": 1}, "pgrep:carol": {"rc": 1},
        },
        "packages": {"openssh-server": "1:9.2", "libpam-google-authenticator": "20191231"},
        "units": {"ssh": {"unit_file_state": "enabled", "active_state": "active"}},
        "accounts": {
            "ansible": {"exists": True, "shell": "/bin/bash", "uid": 1001, "gid": 1001, "expires": None},
            "alice": {"exists": True, "shell": "/bin/bash", "uid": 2001, "gid": 2001, "expires": None},
            "carol": {"exists": True, "shell": "/usr/sbin/nologin", "uid": 2003, "gid": 2003, "expires": 1,
                      "locked": True},
        },
        "passwd": copy.deepcopy(PASSWD),
        "totp_files": {f"{SECRETS}/alice": {"valid": True}},
    }


def drift(state=None, spec=None, **kw):
    return ssh_totp_drift(synced() if state is None else state, PASSWD, spec or SPEC, want=WANT, **kw)


def test_a_host_in_sync_has_no_drift():
    assert drift() == []


def changed(mutate):
    state = synced()
    mutate(state)
    return drift(state)


@pytest.mark.parametrize("mutate, reason", [
    (lambda s: s["packages"].pop("libpam-google-authenticator"), "package libpam-google-authenticator: not installed"),
    (lambda s: s["units"]["ssh"].update(active_state="inactive"), "ssh: inactive, not active"),
    (lambda s: s["units"]["ssh"].update(unit_file_state="disabled"), "ssh: disabled, not enabled"),
    (lambda s: s["files"]["/etc/ssh/sshd_config"].update(checksum="0" * 40),
     "/etc/ssh/sshd_config differs (content, mode or owner)"),
    (lambda s: s["files"]["/etc/pam.d/sshd"].update(uid=1000), "/etc/pam.d/sshd differs (content, mode or owner)"),
    (lambda s: s["files"][SCRIPT].update(exists=True), f"{SCRIPT} still present"),
    (lambda s: s["files"][ED].update(mode="0711"), f"{ED}: mode 0711, not 0600"),
    (lambda s: s["files"][RSA + ".pub"].update(uid=65534, owner="nobody"), f"{RSA}.pub: owner nobody, not root"),
    (lambda s: s["lines"].update({ED + ".pub": ["ssh-ed25519 AAAAother root@host"]}),
     f"{ED}.pub does not match the private key"),
    (lambda s: s["commands"]["bits:" + RSA].update(stdout="2048 SHA256:y"), f"{RSA} is not a 4096-bit RSA key"),
    (lambda s: (s["commands"]["pub:" + ED].update(stdout="ssh-rsa AAAAed"),
                s["lines"].update({ED + ".pub": ["ssh-rsa AAAAed root@host"]})), f"{ED} is not an ed25519 key"),
    (lambda s: s["commands"]["moduli"].update(rc=0),
     "/etc/ssh/moduli holds moduli shorter than 3072 bits (or cannot be read)"),
    (lambda s: s["passwd"]["alice"].__setitem__(4, "/srv/alice"), "alice: the account changed since it was read"),
    (lambda s: s["files"][KEYS].update(mode="0777"), f"{KEYS}: mode 0777, not 0755"),
    (lambda s: s["files"].pop(SECRETS), f"{SECRETS}: not read"),
    (lambda s: s["files"][SECRETS].update(type="link"), f"{SECRETS}: is a link, not a directory"),
    (lambda s: s["files"][f"{KEYS}/alice"].update(checksum=sha1("ssh-ed25519 AAAAmallory\n")),
     f"{KEYS}/alice: content differs"),
    (lambda s: s["files"][f"{KEYS}/alice"].update(group="alice"), f"{KEYS}/alice: group alice, not root"),
    (lambda s: s["accounts"]["ansible"].update(exists=False), "ansible: account missing"),
    (lambda s: s["files"]["/home/ansible"].update(uid=2001), "ansible: shell, home or its owner differs"),
    (lambda s: s["files"]["/home/ansible/.ssh"].update(mode="0755"), "/home/ansible/.ssh: not 0700 and the user's"),
    (lambda s: s["files"]["/home/ansible"].update(mode="0775"), "/home/ansible: writable by group or others"),
    (lambda s: s["files"]["/home/ansible"].update(mode="0711"), None),
    (lambda s: s["accounts"]["alice"].update({"shell": "/bin/sh"}), "alice: shell differs"),
    (lambda s: s["accounts"]["alice"].update(expires=20000), "alice: account expires"),
    (lambda s: s["files"]["/home/alice"].update(mode="0755"), "/home/alice: missing, or wrong type, mode or owner"),
    (lambda s: s["files"]["/home/alice/.ssh"].update(uid=0), "/home/alice/.ssh: not 0700 and the user's"),
    (lambda s: s["totp_files"].update({f"{SECRETS}/alice": {"valid": False, "problem": "a; b"}}),
     "alice: TOTP secret missing or invalid (a, b)"),
    (lambda s: s["totp_files"].clear(), "alice: TOTP secret missing or invalid (not read)"),
    (lambda s: s["files"][f"{KEYS}/carol"].update(exists=True), "carol: absent, but has authorized keys"),
    (lambda s: s["files"].pop(f"{SECRETS}/carol"), "carol: absent, but has a TOTP secret"),
    (lambda s: s["files"]["/home/carol/.google_authenticator"].update(exists=True, type="file"),
     "carol: absent, but has a TOTP secret"),
    (lambda s: s["accounts"]["carol"].update(locked=False), "carol: absent, but not locked, expired and nologin"),
    (lambda s: s["commands"]["pgrep:carol"].update(rc=0), "carol: absent, but has processes"),
])
def test_each_drift_is_named(mutate, reason):
    assert changed(mutate) == ([] if reason is None else [reason])


def test_a_linked_ssh_dir_is_not_drift():
    # user_dir leaves a planted link alone (with a warning): it is not the role's to repair through.
    assert changed(lambda s: s["files"]["/home/alice/.ssh"].update(type="link", mode="0777", uid=0)) == []


def test_the_spec_switches():
    assert drift(spec=dict(SPEC, lockout_refused=True)) == [
        "the lockout check refuses this connection (the converge explains)"]
    assert drift(spec=dict(SPEC, rotate_users=["alice"])) == [
        "alice: TOTP secret rotation asked (ssh_totp_rotate_users)"]
    assert drift(spec=dict(SPEC, tunnel_only=True)) == ["alice: shell differs"]
    assert drift(spec=dict(SPEC, remove_absent_accounts=True)) == ["carol: absent, but the account still exists"]
    no_keys = dict(SPEC, automation_has_keys=False,
                   resources=ssh_totp_resources(dict(SETTINGS, key_files=[["alice", ALICE_KEYS]])))
    assert drift(spec=no_keys) == ["ansible would have no key (the converge refuses)",
                                   f"{KEYS}/ansible: still present"]
    state = synced()
    state["files"][f"{KEYS}/ansible"] = {"exists": False}
    assert ssh_totp_drift(state, PASSWD, dict(no_keys, automation_keys_size=120), want=WANT) == []


def test_enrollment_mode_wants_the_script_and_its_directory():
    spec = dict(SPEC, enrollment=True)
    assert drift(spec=spec) == ["/usr/local/lib/securelab differs", f"{SCRIPT} differs (content, mode or owner)"]
    state = synced()
    state["files"]["/usr/local/lib/securelab"] = root("0755", kind="directory")
    state["files"][SCRIPT] = root("0755", "s" * 40)
    assert ssh_totp_drift(state, PASSWD, spec, want=dict(WANT, script="s" * 40)) == []


def test_what_the_read_cannot_tell_is_drift():
    assert "the host was not read" in ssh_totp_drift({}, {}, SPEC)
    assert len(ssh_totp_drift({}, {}, SPEC)) > 5
    assert "ssh: unknown, not enabled" in ssh_totp_drift({"files": {}}, {}, SPEC)


def test_effective_problems_come_first_after_the_lockout_checks():
    assert drift(effective=["alice - sshd applies passwordauthentication yes, not no"]) == [
        "alice - sshd applies passwordauthentication yes, not no"]


def test_bad_input():
    with pytest.raises(AnsibleFilterError, match="must be dicts"):
        ssh_totp_drift([], PASSWD, SPEC)


def test_the_resources_are_what_the_tasks_apply():
    got = {r.get("path") or r["name"] if isinstance(r.get("name", ""), str) else "packages": r
           for r in ssh_totp_resources(SETTINGS)}
    assert got["packages"]["name"] == ["openssh-server", "libpam-google-authenticator"]
    assert got["ssh"] == {"kind": "unit", "name": "ssh", "enabled": True, "active": True}
    assert got["moduli"]["argv"] == ["grep", "-cE", "^short ", "/etc/ssh/moduli"] and got["moduli"]["rc"] == 1
    assert [got[p]["mode"] for p in (ED, ED + ".pub", RSA, RSA + ".pub")] == ["0600"] * 4
    assert all("content" not in got[p] for p in (ED, RSA))
    assert (got[KEYS]["mode"], got[SECRETS]["mode"]) == ("0755", "0700")
    assert got[f"{KEYS}/alice"] == {"kind": "file", "path": f"{KEYS}/alice", "mode": "0644", "content": ALICE_KEYS}
    assert f"{KEYS}/ansible" in got and got[f"{KEYS}/ansible"]["kind"] == "file"
    # No keys given for the automation account: its key file must not be there (its ~/.ssh keys stay valid).
    without = {r.get("path"): r["kind"] for r in ssh_totp_resources(dict(SETTINGS, key_files=[["alice", ALICE_KEYS]]))}
    assert without[f"{KEYS}/ansible"] == "absent"


def test_resources_bad_input():
    with pytest.raises(AnsibleFilterError, match="settings lack key_files"):
        ssh_totp_resources({k: v for k, v in SETTINGS.items() if k != "key_files"})


def test_registered():
    assert FilterModule().filters()["ssh_totp_drift"] is ssh_totp_drift
    assert FilterModule().filters()["ssh_totp_resources"] is ssh_totp_resources
