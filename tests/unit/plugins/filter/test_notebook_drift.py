"""Unit tests for notebook_drift: the notebook role's fast-path comparison, from a host in sync to each drift."""

from __future__ import annotations

import copy

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.securelab.gpu_notebook.plugins.filter.firewall import notebook_bridge
from ansible_collections.securelab.gpu_notebook.plugins.filter.notebook import (
    FilterModule,
    notebook_drift,
    notebook_resources,
)

DATA, CONF = "/srv/notebooks", "/etc/securelab/notebook"
ALICE = {"name": "alice", "state": "present", "gpus": [0], "notebook_port": 8801}
CAROL = {"name": "carol", "state": "absent", "gpus": "none", "notebook_port": 8803}
SETTINGS = {
    "packages": ["python3-requests"], "tls_packages": ["python3-cryptography"], "tls": "none", "data_root": DATA,
    "config_root": CONF, "config_file": {"server": "jupyter_server_config.json",
                                         "notebook6": "jupyter_notebook_config.json"},
    "hash_key": {"server": "PasswordIdentityProvider.hashed_password", "notebook6": "NotebookApp.password"},
    "flavor": "server", "page_config_dir": "labconfig", "page_config_file": "labconfig/page_config.json",
    "lab_announcements": False, "page_content": "{}\n", "purge": False,
}
PASSWD = {"alice": ["x", "2001", "2001", "", "/home/alice", "/bin/bash"]}
PAGE_SHA1 = "5f36b2ea290645ee34d943220a14b54ee5ea5be5"


KNOWN = object()  # resources() default: the accounts of PASSWD


def resources(settings=None, users=(ALICE, CAROL), passwd=KNOWN):
    return notebook_resources(list(users), dict(SETTINGS, **(settings or {})), PASSWD if passwd is KNOWN else passwd)


def spec(**changes):
    """The role's declaration (__notebook_drift_spec), its resources worked out as the role does."""
    settings = {k: changes.pop(k) for k in list(changes) if k in SETTINGS and k != "tls"}
    base = {
        "fast_path": True, "tls": "none", "present": [ALICE], "absent": [CAROL],
        "container_prefix": "securelab-notebook-", "network_prefix": "securelab-nb-",
        "image": "securelab/jupyter-lab:2",
        "memory": "2g", "cpus": 1.5, "pids_limit": 512, "restart_policy": "unless-stopped", "gpu_check": True,
        "specs": {"alice": {"spec": "s" * 64}},
    }
    base.update(changes)
    base.setdefault("resources", resources(settings, base["present"] + base["absent"]))
    return base


SPEC = spec()
CHECKED = {"alice": {"hash_ok": True, "config": "c" * 40}}
CFG = f"{CONF}/alice/jupyter_server_config.json"


def attrs(kind, mode, uid, gid, checksum=None):
    info = {"exists": True, "type": kind, "mode": mode, "uid": uid, "gid": gid,
            "owner": {0: "root"}.get(uid, "alice"), "group": {0: "root"}.get(gid, "alice")}
    if checksum:
        info["checksum"] = checksum
    return info


def synced():
    return {
        "docker": True,
        "packages": {"python3-requests": "2.28"},
        "passwd": dict(PASSWD),
        "files": {
            DATA: attrs("directory", "0755", 0, 0), CONF: attrs("directory", "0755", 0, 0),
            f"{DATA}/alice": attrs("directory", "0700", 2001, 2001),
            f"{CONF}/alice": attrs("directory", "0750", 0, 2001),
            CFG: attrs("file", "0440", 0, 2001, "c" * 40),
            f"{CONF}/alice/labconfig": attrs("directory", "0750", 0, 2001),
            f"{CONF}/alice/labconfig/page_config.json": attrs("file", "0440", 0, 2001, PAGE_SHA1),
            f"{CONF}/carol": {"exists": False}, f"{DATA}/carol": {"exists": True, "type": "directory"},
        },
        "images": {"securelab/jupyter-lab:2": "sha256:img"},
        "containers": {
            "securelab-notebook-alice": {
                "exists": True, "running": True, "health": "healthy", "image": "sha256:img",
                "labels": {"securelab.notebook.user": "alice", "securelab.notebook.spec": "s" * 64,
                           "securelab.notebook.config": "c" * 40},
                "memory": 2147483648, "memory_swap": 2147483648, "nano_cpus": 1500000000, "pids_limit": 512,
                "restart_policy": "unless-stopped", "networks": ["securelab-nb-alice"],
            },
            "securelab-notebook-carol": {"exists": False},
        },
        "networks": {
            "securelab-nb-alice": {"exists": True, "driver": "bridge", "enable_ipv6": False,
                                   "labels": {"securelab.notebook.user": "alice"},
                                   "options": {"com.docker.network.bridge.name": notebook_bridge(8801)}},
            "securelab-nb-carol": {"exists": False},
        },
        "dirs": {"/proc/driver/nvidia/gpus": ["0000:01:00.0"]},
    }


def drift(probe=None, spec=None, checked=None):
    return notebook_drift(synced() if probe is None else probe, spec or SPEC, CHECKED if checked is None else checked)


def test_a_host_in_sync_has_no_drift():
    assert drift() == []


def alice(*reasons):
    return [f"alice: {r}" for r in reasons]


C = "securelab-notebook-alice"


@pytest.mark.parametrize("mutate, reasons", [
    (lambda p: p.update(docker=False), ["Docker did not answer the probe"]),
    (lambda p: p["packages"].clear(), ["package python3-requests: not installed"]),
    (lambda p: p["files"][DATA].update(mode="0777"), [f"{DATA}: mode 0777, not 0755"]),
    (lambda p: p["files"][CONF].update(uid=5, owner="eve"), [f"{CONF}: owner eve, not root"]),
    (lambda p: p["passwd"].clear(), alice("no account")),
    (lambda p: p["files"][f"{DATA}/alice"].update(uid=0), [f"{DATA}/alice: owner 0, not 2001"]),
    (lambda p: p["files"][f"{CONF}/alice"].update(gid=0), [f"{CONF}/alice: group 0, not 2001"]),
    (lambda p: p["files"][f"{CONF}/alice"].update(type="link"), [f"{CONF}/alice: is a link, not a directory"]),
    (lambda p: p["files"].pop(CFG), [f"{CFG}: not read", *alice(
        "the config differs", "container definition or config label differs")]),
    (lambda p: p["files"][CFG].update(mode="0444"), [f"{CFG}: mode 0444, not 0440"]),
    (lambda p: p["files"][CFG].update(checksum="0" * 40),
     alice("the config differs", "container definition or config label differs")),
    (lambda p: p["files"][f"{CONF}/alice/labconfig/page_config.json"].update(checksum="0" * 40),
     [f"{CONF}/alice/labconfig/page_config.json: content differs"]),
    (lambda p: p["containers"].pop(C), alice("no container")),
    (lambda p: p["containers"][C].update(health="unhealthy"), alice("container not running or not healthy")),
    (lambda p: p["containers"][C].update(image="sha256:old"), alice("container image is not securelab/jupyter-lab:2")),
    (lambda p: p["containers"][C]["labels"].update({"securelab.notebook.spec": "old"}),
     alice("container definition or config label differs")),
    (lambda p: p["containers"][C].update(pids_limit=0), alice("container limits or restart policy differ")),
    (lambda p: p["containers"][C].update(memory_swap=-1), alice("container limits or restart policy differ")),
    (lambda p: p["containers"][C].update(networks=["bridge", "securelab-nb-alice"]),
     alice("container networks differ")),
    (lambda p: p["images"].clear(), alice("container image is not securelab/jupyter-lab:2",
                                          "image securelab/jupyter-lab:2 is missing")),
    (lambda p: p["networks"]["securelab-nb-alice"].update(enable_ipv6=True), alice("network missing or different")),
    (lambda p: p["dirs"].clear(), alice("requested GPUs not found")),
    (lambda p: p["containers"].pop("securelab-notebook-carol"), ["carol (absent): container still there or unknown"]),
    (lambda p: p["networks"]["securelab-nb-carol"].update(exists=True),
     ["carol (absent): network still there or unknown"]),
    (lambda p: p["files"][f"{CONF}/carol"].update(exists=True), [f"{CONF}/carol: still present"]),
])
def test_each_drift_is_named(mutate, reasons):
    probe = synced()
    mutate(probe)
    assert drift(probe) == reasons


def test_what_only_the_controller_checks():
    assert drift(checked={"alice": {"hash_ok": False, "config": "c" * 40}}) == alice(
        "the config has no hash that verifies the password")
    assert drift(checked={}) == alice("the config has no hash that verifies the password")


def test_the_spec_switches():
    assert drift(spec=spec(fast_path=False)) == ["notebook_fast_path is false"]
    assert drift(spec=spec(tls="selfsigned")) == [
        "notebook_tls is selfsigned: the fast path does not check certificates"]
    assert drift(spec=spec(purge=True)) == [f"{DATA}/carol: still present"]
    assert drift(spec=spec(present=[dict(ALICE, gpus=[0, 1])])) == alice("requested GPUs not found")
    assert drift(spec=spec(present=[dict(ALICE, gpus=[0, 1])], gpu_check=False)) == []
    assert drift(spec=spec(present=[dict(ALICE, notebook_memory="3g")])) == alice(
        "container limits or restart policy differ")
    # Announcements on: the page config must not be there.
    assert drift(spec=spec(lab_announcements=True)) == [f"{CONF}/alice/labconfig: still present"]
    assert drift(spec=spec(present=[], absent=[])) == []


def test_the_resources_are_what_the_tasks_apply():
    got = {r.get("path", str(r.get("name"))): r for r in resources()}
    assert got[str(["python3-requests"])]["kind"] == "package"
    assert [got[p]["kind"] for p in (DATA, CONF)] == ["directory", "directory"]
    want_data = {"mode": "0700", "owner": 2001, "group": 2001}
    want_conf = {"mode": "0750", "owner": 0, "group": 2001}
    assert {k: got[f"{DATA}/alice"][k] for k in ("mode", "owner", "group")} == want_data
    assert {k: got[f"{CONF}/alice"][k] for k in ("mode", "owner", "group")} == want_conf
    assert got[CFG]["jupyter_config_of"] == "alice" and "content" not in got[CFG]
    assert got[CFG]["hash_key"] == "PasswordIdentityProvider.hashed_password"
    assert got[f"{CONF}/alice/labconfig/page_config.json"]["content"] == "{}\n"
    assert got[f"{CONF}/carol"]["kind"] == "absent" and f"{DATA}/carol" not in got


def test_the_resources_follow_the_settings():
    paths = [r.get("path") for r in resources({"purge": True})]
    assert f"{DATA}/carol" in paths
    kept = [r for r in resources(users=[ALICE, dict(CAROL, notebook_purge=False)], settings={"purge": True})
            if r.get("path") == f"{DATA}/carol"]
    assert kept == []
    on = {r["path"]: r["kind"] for r in resources({"lab_announcements": True}) if "path" in r}
    assert on[f"{CONF}/alice/labconfig"] == "absent" and f"{CONF}/alice/labconfig/page_config.json" not in on
    assert ["python3-cryptography"] in [r.get("name") for r in resources({"tls": "selfsigned"})]
    flavor6 = [(r["path"], r["hash_key"]) for r in resources(users=[dict(ALICE, notebook_jupyter_flavor="notebook6")])
               if r.get("jupyter_config_of")]
    assert flavor6 == [(f"{CONF}/alice/jupyter_notebook_config.json", "NotebookApp.password")]
    assert resources(users=[]) == []


def test_the_read_lists_every_present_user_without_owners():
    # Before the read the accounts are not known: every present user's paths, no owner to compare.
    unread = resources(passwd=None)
    assert f"{DATA}/alice" in [r.get("path") for r in unread]
    assert all(r.get("owner") is None for r in unread if r.get("path", "").startswith(f"{DATA}/alice"))
    # With the accounts known, a user without one is left out (nothing can be owned by it yet).
    assert f"{DATA}/alice" not in [r.get("path") for r in resources(passwd={})]


def test_resources_bad_input():
    with pytest.raises(AnsibleFilterError, match="settings lack purge"):
        notebook_resources([ALICE], {k: v for k, v in SETTINGS.items() if k != "purge"})
    with pytest.raises(AnsibleFilterError, match="passwd must be"):
        notebook_resources([ALICE], SETTINGS, ["alice"])


def test_the_read_is_not_changed():
    probe = synced()
    before = copy.deepcopy(probe)
    drift(probe)
    assert probe == before


def test_bad_input():
    with pytest.raises(AnsibleFilterError, match="must be dicts"):
        notebook_drift([], SPEC)


def test_registered():
    assert FilterModule().filters()["notebook_drift"] is notebook_drift
    assert FilterModule().filters()["notebook_resources"] is notebook_resources
