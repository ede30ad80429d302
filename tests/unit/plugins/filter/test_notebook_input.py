"""Unit tests for notebook_input_error: the notebook role's input checks, from a valid input to each bad value."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.securelab.gpu_notebook.plugins.filter.notebook import (
    INPUT_VARS,
    FilterModule,
    notebook_input_error,
)

ROOT = Path(__file__).resolve().parents[4]
ROLE = ROOT / "roles" / "notebook"
DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
ROLE_VARS = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
USER_KEYS = ROLE_VARS["__notebook_user_keys"]
VALUES = {name: DEFAULTS[name] for name in INPUT_VARS}

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB alice"
# gpu_notebook_users as given (with the passwords) and as the validate_users filter returns it (without).
RAW = [
    {"name": "alice", "notebook_password": "correct horse battery", "notebook_port": 8801, "gpus": [0],
     "ssh_public_keys": [KEY]},
    {"name": "bob", "notebook_password": "another long passphrase", "notebook_port": 8802, "gpus": "none",
     "ssh_public_keys": [KEY], "notebook_memory": "4g", "notebook_cpus": 2},
    {"name": "carol", "state": "absent", "notebook_password": "x", "notebook_port": 8803},
]
CHECKED = [
    {"name": "alice", "state": "present", "ssh_public_keys": [KEY], "notebook_port": 8801, "gpus": [0]},
    {"name": "bob", "state": "present", "ssh_public_keys": [KEY], "notebook_port": 8802, "gpus": "none",
     "notebook_memory": "4g", "notebook_cpus": 2},
    {"name": "carol", "state": "absent", "ssh_public_keys": [], "notebook_port": 8803, "gpus": "none"},
]
ENTRY = "notebook keys must be among"
ROLE_VARS_BAD = "Bad notebook role variables:"


def check(values=None, users=None, raw=None, **overrides):
    values = dict(VALUES if values is None else values, **overrides)
    return notebook_input_error(values, CHECKED if users is None else users, RAW if raw is None else raw, USER_KEYS)


def users_with(index, **settings):
    users = copy.deepcopy(CHECKED)
    users[index].update(settings)
    return users


def raw_with(index, password):
    """RAW with another password for one entry."""
    raw = copy.deepcopy(RAW)
    raw[index].update({"notebook_password": password})
    return raw


def min_length(value):
    """The role variables, with another notebook_password_min_length."""
    return dict(VALUES, notebook_password_min_length=value)


def test_registered():
    assert FilterModule().filters()["notebook_input_error"] is notebook_input_error


def test_input_vars_list_the_filters_names():
    assert tuple(ROLE_VARS["__notebook_input_vars"]) == INPUT_VARS
    assert not [name for name, value in VALUES.items() if "{{" in str(value)]


def test_defaults_and_users_are_valid():
    assert check() == ""


def test_no_users_is_valid():
    assert check(users=[], raw=[]) == ""


# One bad per-user setting (or the role variable it defaults to) at a time: the first user it applies to is named.
@pytest.mark.parametrize(("index", "settings", "overrides", "who"), [
    (0, {"notebook_gpu": "all"}, {}, "alice"),
    (1, {"notebook_gpus": [0]}, {}, "bob"),
    (0, {"notebook_image": None}, {}, "alice"),
    (0, {"notebook_image": 5}, {}, "alice"),
    (0, {"notebook_image": "-bad"}, {}, "alice"),
    (0, {"notebook_image": "a b"}, {}, "alice"),
    (0, {}, {"notebook_image": "bad image"}, "alice"),
    (1, {"notebook_jupyter_flavor": "lab"}, {}, "bob"),
    (0, {}, {"notebook_jupyter_flavor": "Server"}, "alice"),
    (0, {"notebook_command": "jupyter lab"}, {}, "alice"),
    (0, {"notebook_command": {"jupyter": "lab"}}, {}, "alice"),
    (0, {"notebook_command": None}, {}, "alice"),
    (0, {}, {"notebook_command": "start-notebook.sh"}, "alice"),
    (0, {"notebook_memory": "8x"}, {}, "alice"),
    (0, {"notebook_memory": "-8g"}, {}, "alice"),
    (0, {}, {"notebook_memory": "lots"}, "alice"),
    (1, {"notebook_cpus": "-1"}, {}, "bob"),
    (1, {"notebook_cpus": -1}, {}, "bob"),
    (1, {"notebook_cpus": "abc"}, {}, "bob"),
    (1, {"notebook_cpus": "1.5.2"}, {}, "bob"),
    (1, {"notebook_cpus": True}, {}, "bob"),
    (0, {}, {"notebook_cpus": "x"}, "alice"),
    (2, {"notebook_purge": "yes"}, {}, "carol"),
    (2, {"notebook_purge": 1}, {}, "carol"),
    (0, {}, {"notebook_purge": "true"}, "alice"),
])
def test_bad_user_setting(index, settings, overrides, who):
    message = check(users=users_with(index, **settings), **overrides)
    assert message.startswith(f"gpu_notebook_users entry {who}: {ENTRY} {', '.join(USER_KEYS)} (got ")
    for variable in ("notebook_image", "notebook_jupyter_flavor", "notebook_command", "notebook_memory",
                     "notebook_cpus", "notebook_purge"):
        assert variable in message


def test_unknown_key_is_listed():
    message = check(users=users_with(0, notebook_gpu="all", notebook_gpus=[0]))
    assert "(got notebook_gpu, notebook_gpus);" in message
    assert "(got none unknown);" in check(users=users_with(0, notebook_memory="8x"))


def test_whole_message_of_a_bad_user_setting():
    assert check(users=users_with(1, notebook_jupyter_flavor="lab")) == (
        "gpu_notebook_users entry bob: notebook keys must be among notebook_password, notebook_port, notebook_image, "
        "notebook_jupyter_flavor, notebook_command, notebook_memory, notebook_cpus, notebook_purge (got none unknown);"
        " notebook_image an image reference, notebook_jupyter_flavor 'server' or 'notebook6', notebook_command a list,"
        " notebook_memory like '8g', notebook_cpus a number >= 0, notebook_purge a boolean.")


# Strings and numbers as Jinja reads them (| string is match), and the other good per-user values.
@pytest.mark.parametrize("settings", [
    {"notebook_memory": 8},
    {"notebook_memory": "8"},
    {"notebook_memory": "512M"},
    {"notebook_cpus": "1.5"},
    {"notebook_cpus": 1.5},
    {"notebook_cpus": 0},
    {"notebook_cpus": "0"},
    {"notebook_jupyter_flavor": "notebook6"},
    {"notebook_command": ["start-notebook.py", "--ServerApp.root_dir=/home/jovyan/work"]},
    {"notebook_command": []},
    {"notebook_image": "registry.example:5000/lab/jupyter@sha256:abc"},
    {"notebook_purge": True},
])
def test_good_user_setting(settings):
    assert check(users=users_with(0, **settings)) == ""


def test_short_password_names_the_user_and_hides_the_password():
    message = check(raw=raw_with(1, "short"))
    assert message == ("gpu_notebook_users entry bob: notebook_password must have at least 12 characters "
                       "(notebook_password_min_length).")
    assert "short" not in message


def test_min_length_is_read_as_a_number_and_shown_as_given():
    assert check(min_length("8")) == ""
    # alice's password has 21 characters: 21 is enough, 22 (a string or a number) is not.
    assert check(min_length(21)) == ""
    assert check(min_length("21")) == ""
    assert "entry alice: notebook_password must have at least 22 characters" in check(min_length(22))
    message = check(min_length("30"))
    assert message.startswith("gpu_notebook_users entry alice: notebook_password must have at least 30 characters")
    for user in RAW:
        assert user["notebook_password"] not in message


def test_absent_users_password_is_not_checked():
    assert check(raw=raw_with(2, "s")) == ""


def test_present_user_missing_from_the_raw_list_counts_as_no_password():
    assert "entry alice: notebook_password" in check(raw=RAW[1:])


@pytest.mark.parametrize(("variable", "value"), [
    ("notebook_work_dir", "work"),
    ("notebook_work_dir", "/"),
    ("notebook_work_dir", "/home/jovyan/my work"),
    ("notebook_work_dir", 5),
    ("notebook_data_root", "/srv/a:b"),
    ("notebook_data_root", "srv"),
    ("notebook_config_root", "/"),
    ("notebook_container_prefix", "-securelab"),
    ("notebook_container_prefix", ""),
    ("notebook_image_archives", []),
    ("notebook_image_archives", "img.tar"),
    ("notebook_image_archives", {"securelab/lab:1": "images/lab.tar"}),
    ("notebook_image_archives", {"securelab/lab:1": 5}),
    ("notebook_env", {"HOME": "/root"}),
    ("notebook_env", {"USER": "x"}),
    ("notebook_env", {"LOGNAME": "x"}),
    ("notebook_env", {"JUPYTER_CONFIG_DIR": "/x"}),
    ("notebook_env", {"JUPYTERLAB_DIR": "/x"}),
    ("notebook_env", {"NVIDIA_VISIBLE_DEVICES": "all"}),
    ("notebook_env", ["A=1"]),
    ("notebook_pids_limit", 0),
    ("notebook_pids_limit", "0"),
    ("notebook_pids_limit", "abc"),
    ("notebook_pids_limit", -1),
    ("notebook_shm_size", "1x"),
    ("notebook_shm_size", "1 g"),
    ("notebook_tmp_size", "1b"),
    ("notebook_tmp_size", "-2g"),
    ("notebook_password_min_length", 7),
    ("notebook_password_min_length", "7"),
    ("notebook_password_min_length", "abc"),
])
def test_bad_role_variable(variable, value):
    message = check(**{variable: value})
    assert message.startswith(ROLE_VARS_BAD)
    assert variable in message


def test_tls_provided_needs_absolute_files():
    assert check(notebook_tls="provided").startswith(ROLE_VARS_BAD)
    assert check(notebook_tls="provided", notebook_tls_cert="/etc/c.pem", notebook_tls_key="k.pem").startswith(
        ROLE_VARS_BAD)
    assert check(notebook_tls="provided", notebook_tls_cert="c.pem", notebook_tls_key="/etc/k.pem").startswith(
        ROLE_VARS_BAD)
    assert "notebook_tls=provided needs absolute notebook_tls_cert and notebook_tls_key" in check(
        notebook_tls="provided")
    assert check(notebook_tls="provided", notebook_tls_cert="/etc/c.pem", notebook_tls_key="/etc/k.pem") == ""
    assert check(notebook_tls="selfsigned") == ""


@pytest.mark.parametrize(("variable", "value"), [
    ("notebook_pids_limit", "10"),
    ("notebook_pids_limit", "1.5"),  # | int reads it as 1
    ("notebook_shm_size", "64b"),
    ("notebook_shm_size", 1024),
    ("notebook_tmp_size", 512),
    ("notebook_tmp_size", "512M"),
    ("notebook_image_archives", {"securelab/lab:1": "/srv/images/lab.tar"}),
    ("notebook_env", {"HOMEX": "x", "MY_USER": 1, "TZ": "UTC"}),
    ("notebook_container_prefix", "lab."),
    ("notebook_password_min_length", 8),
])
def test_good_role_variable(variable, value):
    assert check(**{variable: value}) == ""


@pytest.mark.parametrize(("value", "shown"), [("-5", "-5"), (-5, "-5"), ("soon", "soon"), (1.5, "1.5"),
                                              (None, "None")])
def test_bad_cull_idle_timeout(value, shown):
    assert check(notebook_cull_idle_timeout=value) == (
        "notebook_cull_idle_timeout must be a whole number of seconds, 0 or more (0 turns culling off); "
        f"got {shown}.")


@pytest.mark.parametrize(("value", "shown"), [(0, "0"), ("0", "0"), ("01", "01"), (1.5, "1.5"), (-300, "-300")])
def test_bad_cull_interval(value, shown):
    assert check(notebook_cull_interval=value) == (
        f"notebook_cull_interval must be a whole number of seconds, 1 or more; got {shown}.")


@pytest.mark.parametrize(("idle", "interval"), [(0, 300), ("60", "1"), (3600, 60)])
def test_good_culling(idle, interval):
    assert check(notebook_cull_idle_timeout=idle, notebook_cull_interval=interval) == ""


# The first problem found is reported: entries, then passwords, then role variables, then culling.
def test_order():
    bad_user = users_with(1, notebook_cpus="x")
    short = raw_with(0, "short")
    assert "entry bob: notebook keys" in check(users=bad_user, raw=short, notebook_work_dir="/")
    assert "entry alice: notebook_password" in check(raw=short, notebook_work_dir="/")
    assert check(notebook_work_dir="/", notebook_cull_interval=0).startswith(ROLE_VARS_BAD)
    assert check(notebook_cull_idle_timeout=-1, notebook_cull_interval=0).startswith("notebook_cull_idle_timeout")
    assert "entry alice" in check(users=users_with(1, notebook_image="-x"), notebook_image="-y")


def test_bad_filter_input():
    with pytest.raises(AnsibleFilterError, match="expects a dict"):
        notebook_input_error(["notebook_image"], CHECKED, RAW, USER_KEYS)
    values = dict(VALUES)
    del values["notebook_cull_interval"]
    with pytest.raises(AnsibleFilterError, match="no notebook_cull_interval"):
        notebook_input_error(values, CHECKED, RAW, USER_KEYS)
    with pytest.raises(AnsibleFilterError, match="users must be"):
        notebook_input_error(VALUES, "alice", RAW, USER_KEYS)
    with pytest.raises(AnsibleFilterError, match="users must be"):
        notebook_input_error(VALUES, ["alice"], RAW, USER_KEYS)
