"""Unit tests for notebook_drift: the notebook role's fast-path comparison, from a host in sync to each drift."""

from __future__ import annotations

import copy

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.securelab.gpu_notebook.plugins.filter.firewall import notebook_bridge
from ansible_collections.securelab.gpu_notebook.plugins.filter.notebook import FilterModule, notebook_drift

DATA, CONF = "/srv/notebooks", "/etc/securelab/notebook"
ALICE = {"name": "alice", "state": "present", "gpus": [0], "notebook_port": 8801}
CAROL = {"name": "carol", "state": "absent", "gpus": "none", "notebook_port": 8803}
SPEC = {
    "fast_path": True, "tls": "none", "present": [ALICE], "absent": [CAROL], "packages": ["python3-requests"],
    "data_root": DATA, "config_root": CONF, "container_prefix": "securelab-notebook-",
    "network_prefix": "securelab-nb-",
    "config_file": {"server": "jupyter_server_config.json", "notebook6": "jupyter_notebook_config.json"},
    "page_config_dir": "labconfig", "page_config_file": "labconfig/page_config.json", "lab_announcements": False,
    "page_sha1": "p" * 40, "flavor": "server", "image": "securelab/jupyter-lab:2", "memory": "2g", "cpus": 1.5,
    "pids_limit": 512, "restart_policy": "unless-stopped", "gpu_check": True, "purge": False,
    "specs": {"alice": {"spec": "s" * 64}},
}
CHECKED = {"alice": {"hash_ok": True, "config": "c" * 40}}
CFG = f"{CONF}/alice/jupyter_server_config.json"


def attrs(kind, mode, uid, gid, checksum=None):
    info = {"exists": True, "type": kind, "mode": mode, "uid": uid, "gid": gid}
    if checksum:
        info["checksum"] = checksum
    return info


def synced():
    return {
        "docker": True,
        "packages": {"python3-requests": "2.28"},
        "passwd": {"alice": ["x", "2001", "2001", "", "/home/alice", "/bin/bash"]},
        "files": {
            DATA: attrs("directory", "0755", 0, 0), CONF: attrs("directory", "0755", 0, 0),
            f"{DATA}/alice": attrs("directory", "0700", 2001, 2001),
            f"{CONF}/alice": attrs("directory", "0750", 0, 2001),
            CFG: attrs("file", "0440", 0, 2001, "c" * 40),
            f"{CONF}/alice/labconfig": attrs("directory", "0750", 0, 2001),
            f"{CONF}/alice/labconfig/page_config.json": attrs("file", "0440", 0, 2001, "p" * 40),
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
    (lambda p: p["packages"].clear(), ["python3-requests is not installed"]),
    (lambda p: p["files"][DATA].update(mode="0777"), [f"{DATA} has another type, owner or mode, or is missing"]),
    (lambda p: p["passwd"].clear(), alice("no account")),
    (lambda p: p["files"][f"{DATA}/alice"].update(uid=0),
     alice(f"{DATA}/alice has another type, owner or mode, or is missing")),
    (lambda p: p["files"].pop(CFG), alice(f"{CFG} has another type, owner or mode, or is missing",
                                          "the config differs", "container definition or config label differs")),
    (lambda p: p["files"][CFG].update(checksum="0" * 40),
     alice("the config differs", "container definition or config label differs")),
    (lambda p: p["files"][f"{CONF}/alice/labconfig/page_config.json"].update(checksum="0" * 40),
     alice("the JupyterLab page config differs")),
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
    (lambda p: p["files"][f"{CONF}/carol"].update(exists=True), ["carol (absent): config directory still there"]),
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
    assert drift(spec=dict(SPEC, fast_path=False)) == ["notebook_fast_path is false"]
    assert drift(spec=dict(SPEC, tls="selfsigned")) == [
        "notebook_tls is selfsigned: the fast path does not check certificates"]
    assert drift(spec=dict(SPEC, purge=True)) == ["carol (absent, purge): data directory still there"]
    assert drift(spec=dict(SPEC, present=[dict(ALICE, gpus=[0, 1])])) == alice("requested GPUs not found")
    assert drift(spec=dict(SPEC, present=[dict(ALICE, gpus=[0, 1])], gpu_check=False)) == []
    assert drift(spec=dict(SPEC, present=[dict(ALICE, notebook_memory="3g")])) == alice(
        "container limits or restart policy differ")
    # Announcements on: the page config must not be there.
    assert drift(spec=dict(SPEC, lab_announcements=True)) == alice(
        f"{CONF}/alice/labconfig has another type, owner or mode, or is missing",
        f"{CONF}/alice/labconfig/page_config.json has another type, owner or mode, or is missing")
    assert drift(spec=dict(SPEC, present=[], absent=[])) == []


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
