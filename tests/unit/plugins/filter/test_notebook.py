"""Unit tests for the notebook_containers filter: the container parameters and their digest are one declaration."""

from __future__ import annotations

import copy

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.securelab.gpu_notebook.plugins.filter.notebook import (
    SETTINGS,
    SPEC_LABEL,
    FilterModule,
    container_params,
    notebook_containers,
)

PASSWD = {"alice": ["x", "1001", "1001", "", "/home/alice", "/bin/bash"],
          "bob": ["x", "1002", "1003", "", "/home/bob", "/usr/sbin/nologin"]}
BASE = {
    "image": "securelab/jupyter:2", "command": [], "memory": "4g", "cpus": 2, "env": {"TZ": "UTC"},
    "work_dir": "/home/jovyan/work", "data_root": "/srv/notebooks", "config_root": "/etc/securelab/notebooks",
    "container_prefix": "securelab-nb-", "tmp_size": "1g", "pids_limit": 512, "shm_size": "1g",
    "restart_policy": "unless-stopped", "config_dir": "/etc/securelab-jupyter",
    "runtime_dir": "/tmp/jupyter-runtime", "container_port": 8888, "network_prefix": "securelab-nb-",
    "health": "import urllib.request",
}


def users(**alice):
    return [dict({"name": "alice", "state": "present", "gpus": [0], "notebook_port": 8801}, **alice),
            {"name": "bob", "state": "present", "gpus": "none", "notebook_port": 8802},
            {"name": "carol", "state": "present", "gpus": "none", "notebook_port": 8803},  # no account yet
            {"name": "dave", "state": "absent", "gpus": "none", "notebook_port": 8804}]


def test_only_present_users_with_an_account():
    assert sorted(notebook_containers(users(), PASSWD, BASE)) == ["alice", "bob"]


def test_the_container_is_locked_down():
    p = notebook_containers(users(), PASSWD, BASE)["bob"]["params"]
    assert p["user"] == "1002:1003"
    assert p["published_ports"] == ["127.0.0.1:8802:8888"]
    assert p["cap_drop"] == ["ALL"] and p["security_opts"] == ["no-new-privileges:true"]
    assert p["read_only"] is True and p["privileged"] is False and p["ipc_mode"] == "private"
    assert p["memory"] == p["memory_swap"] == "4g" and p["cpus"] == 2.0 and p["pids_limit"] == 512
    assert p["env"]["NVIDIA_VISIBLE_DEVICES"] == "void" and p["device_requests"] == []
    assert p["networks"] == [{"name": "securelab-nb-bob"}] and p["network_mode"] == "securelab-nb-bob"
    assert p["labels"]["securelab.notebook.user"] == "bob"
    assert "command" not in p  # the image's own command


def test_gpus_become_device_requests_and_never_void():
    p = notebook_containers(users(), PASSWD, BASE)["alice"]["params"]
    assert p["device_requests"] == [{"driver": "nvidia", "device_ids": ["0"], "capabilities": [["gpu"]]}]
    assert "NVIDIA_VISIBLE_DEVICES" not in p["env"]
    p = notebook_containers(users(gpus="all"), PASSWD, BASE)["alice"]["params"]
    assert p["device_requests"][0]["count"] == -1


def test_the_label_is_the_digest_of_the_parameters():
    result = notebook_containers(users(), PASSWD, BASE)["alice"]
    assert result["params"]["labels"][SPEC_LABEL] == result["spec"]
    assert len(result["spec"]) == 64
    assert notebook_containers(users(), PASSWD, BASE)["alice"]["spec"] == result["spec"]  # stable


@pytest.mark.parametrize("key", [k for k in SETTINGS if k not in ("command",)])
def test_every_setting_changes_the_digest(key):
    changed = copy.deepcopy(BASE)
    value = changed[key]
    changed[key] = (value + 1 if isinstance(value, int) else {"TZ": "CET"} if isinstance(value, dict)
                    else f"{value}-x")
    before = notebook_containers(users(), PASSWD, BASE)["alice"]["spec"]
    assert notebook_containers(users(), PASSWD, changed)["alice"]["spec"] != before


@pytest.mark.parametrize("override", [{"notebook_memory": "8g"}, {"notebook_cpus": 0}, {"notebook_image": "x:1"},
                                      {"notebook_command": ["jupyter", "notebook"]}, {"notebook_port": 8899},
                                      {"gpus": [1]}])
def test_every_user_key_changes_the_digest(override):
    before = notebook_containers(users(), PASSWD, BASE)["alice"]
    after = notebook_containers(users(**override), PASSWD, BASE)["alice"]
    assert after["spec"] != before["spec"]
    bob = notebook_containers(users(), PASSWD, BASE)["bob"]
    assert notebook_containers(users(**override), PASSWD, BASE)["bob"] == bob


def test_a_new_option_reaches_existing_containers(monkeypatch):
    """An option added to the declaration changes the digest by itself: no version to bump (issue 15)."""
    before = notebook_containers(users(), PASSWD, BASE)["alice"]["spec"]
    original = container_params

    def hardened(*args):
        params = original(*args)
        params["oom_score_adj"] = 500
        return params

    monkeypatch.setattr("ansible_collections.securelab.gpu_notebook.plugins.filter.notebook.container_params", hardened)
    assert notebook_containers(users(), PASSWD, BASE)["alice"]["spec"] != before


def test_cpus_zero_means_no_limit():
    assert "cpus" not in notebook_containers(users(notebook_cpus=0), PASSWD, BASE)["alice"]["params"]


def test_bad_input_is_refused():
    with pytest.raises(AnsibleFilterError, match="settings lack image"):
        notebook_containers(users(), PASSWD, {k: v for k, v in BASE.items() if k != "image"})
    with pytest.raises(AnsibleFilterError, match="passwd"):
        notebook_containers(users(), None, BASE)
    with pytest.raises(AnsibleFilterError, match="gpus"):
        notebook_containers(users(gpus=3), PASSWD, BASE)


def test_registered():
    assert FilterModule().filters()["notebook_containers"] is notebook_containers
