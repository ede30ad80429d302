"""Unit tests for the input checks of time_sync, fail2ban, nvidia_runtime and docker_engine (plugins/filter/inputs.py).

Each role starts from its defaults (no problem), then one bad value at a time: every check of the Jinja the filters
replace fails at least once, with a message that names the variable. Numbers given as strings pass, as they did.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.securelab.gpu_notebook.plugins.filter.inputs import (
    DOCKER_ENGINE_VARS,
    FAIL2BAN_VARS,
    NVIDIA_RUNTIME_VARS,
    TIME_SYNC_VARS,
    FilterModule,
    docker_engine_input_error,
    fail2ban_input_error,
    nvidia_runtime_input_error,
    time_sync_input_error,
)

ROOT = Path(__file__).resolve().parents[4]
KEY = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBF...\n-----END PGP PUBLIC KEY BLOCK-----\n"
MIN_TOOLKIT = "1.17.8"


def role_file(role: str, name: str) -> dict:
    return yaml.safe_load((ROOT / "roles" / role / name / "main.yml").read_text())


def defaults(role: str, names: tuple[str, ...], **templated) -> dict:
    """The role's defaults for ``names``; ``templated``: the value of a default that is a template."""
    values = role_file(role, "defaults")
    values.update(templated)
    return {name: values[name] for name in names}


TIME_SYNC = defaults("time_sync", TIME_SYNC_VARS)
# fail2ban_sshd_port defaults to "{{ ssh_totp_port | default(22) }}": an integer once rendered.
FAIL2BAN = defaults("fail2ban", FAIL2BAN_VARS, fail2ban_sshd_port=22)
NVIDIA_RUNTIME = defaults("nvidia_runtime", NVIDIA_RUNTIME_VARS)
DOCKER_ENGINE = defaults("docker_engine", DOCKER_ENGINE_VARS)


def time_sync(**changes):
    return time_sync_input_error({**TIME_SYNC, **changes})


def fail2ban(**changes):
    return fail2ban_input_error({**FAIL2BAN, **changes})


def nvidia_runtime(min_toolkit=MIN_TOOLKIT, **changes):
    return nvidia_runtime_input_error({**NVIDIA_RUNTIME, **changes}, min_toolkit=min_toolkit)


def docker_engine(host_error="", **changes):
    return docker_engine_input_error({**DOCKER_ENGINE, **changes}, host_error=host_error)


def test_registered():
    assert FilterModule().filters() == {
        "time_sync_input_error": time_sync_input_error,
        "fail2ban_input_error": fail2ban_input_error,
        "nvidia_runtime_input_error": nvidia_runtime_input_error,
        "docker_engine_input_error": docker_engine_input_error,
    }


@pytest.mark.parametrize(("role", "names"), [
    ("time_sync", TIME_SYNC_VARS), ("fail2ban", FAIL2BAN_VARS), ("nvidia_runtime", NVIDIA_RUNTIME_VARS),
    ("docker_engine", DOCKER_ENGINE_VARS),
])
def test_the_role_lists_the_variables_the_filter_reads(role, names):
    assert role_file(role, "vars")[f"__{role}_input_vars"] == list(names)


def test_the_min_toolkit_is_the_role_s():
    assert role_file("nvidia_runtime", "vars")["__nvidia_runtime_min_toolkit"] == MIN_TOOLKIT


@pytest.mark.parametrize("check", [time_sync_input_error, fail2ban_input_error])
def test_input_not_a_dict(check):
    with pytest.raises(AnsibleFilterError, match="expects a dict of variable names to values, got list"):
        check([])


@pytest.mark.parametrize(("check", "values", "missing"), [
    (time_sync_input_error, TIME_SYNC, "time_sync_makestep_limit"),
    (fail2ban_input_error, FAIL2BAN, "fail2ban_banaction"),
    (lambda values: nvidia_runtime_input_error(values, MIN_TOOLKIT), NVIDIA_RUNTIME, "nvidia_runtime_cdi_spec"),
    (docker_engine_input_error, DOCKER_ENGINE, "docker_engine_service_environment"),
])
def test_a_missing_variable_is_named(check, values, missing):
    partial = {name: value for name, value in values.items() if name != missing}
    with pytest.raises(AnsibleFilterError, match=f"the input has no {missing} "):
        check(partial)


# --- time_sync ---------------------------------------------------------------------------------------------------

def test_time_sync_defaults_pass():
    assert time_sync() == ""


@pytest.mark.parametrize("changes", [
    {"time_sync_servers": ["ntp.lab.invalid"], "time_sync_pools": []},
    {"time_sync_servers": ["10.0.0.1", "[fd00::1]", "fd00::2"], "time_sync_pools": ["pool.ntp.org"]},
    {"time_sync_servers": ("ntp.lab",), "time_sync_pools": ()},  # a tuple is a list too
    {"time_sync_servers": [123]},  # as its string
    {"time_sync_allow": ["all"]},
    {"time_sync_allow": ["10.0.0.0/8", "192.0.2.1", "fd00::/8"]},
    {"time_sync_makestep_threshold": "1.5"},
    {"time_sync_makestep_threshold": 2},
    {"time_sync_makestep_threshold": "0.1"},
    {"time_sync_makestep_limit": "3"},
    {"time_sync_makestep_limit": -1},
    {"time_sync_makestep_limit": "-1"},
    {"time_sync_makestep_limit": 0},
])
def test_time_sync_good_values_pass(changes):
    assert time_sync(**changes) == ""


SOURCES = "time_sync_servers and time_sync_pools must be lists that together name at least one NTP source"
ALLOW = "time_sync_allow must be a list of addresses or networks"
MAKESTEP = "time_sync_makestep_threshold must be a number > 0"


@pytest.mark.parametrize(("changes", "start"), [
    # not lists (a string would be split on commas by the list type)
    ({"time_sync_servers": "not-a-list-of-one, ", "time_sync_pools": []}, SOURCES),
    ({"time_sync_pools": "pool.ntp.org"}, SOURCES),
    ({"time_sync_servers": None}, SOURCES),
    ({"time_sync_servers": {"ntp.lab": 1}}, SOURCES),
    ({"time_sync_servers": 5}, SOURCES),
    # no source at all
    ({"time_sync_servers": [], "time_sync_pools": []}, SOURCES),
    # a source that is empty, has a space or another character
    ({"time_sync_servers": [""], "time_sync_pools": []}, SOURCES),
    ({"time_sync_pools": ["pool ntp.org"]}, SOURCES),
    ({"time_sync_servers": ["ntp.lab", "ntp;lab"]}, SOURCES),
    ({"time_sync_servers": ["ntp.lab/x"]}, SOURCES),
    # time_sync_allow
    ({"time_sync_allow": "all"}, ALLOW),
    ({"time_sync_allow": None}, ALLOW),
    ({"time_sync_allow": ["host.lab.invalid"]}, ALLOW),
    ({"time_sync_allow": ["10.0.0.0/8 "]}, ALLOW),
    ({"time_sync_allow": ["10.0.0.0/x"]}, ALLOW),
    # makestep: the threshold a decimal number > 0, the limit an integer >= -1
    ({"time_sync_makestep_threshold": "abc"}, MAKESTEP),
    ({"time_sync_makestep_threshold": "1e3"}, MAKESTEP),
    ({"time_sync_makestep_threshold": -1}, MAKESTEP),
    ({"time_sync_makestep_threshold": 0}, MAKESTEP),
    ({"time_sync_makestep_threshold": "0.0"}, MAKESTEP),
    ({"time_sync_makestep_threshold": True}, MAKESTEP),
    ({"time_sync_makestep_limit": "three"}, MAKESTEP),
    ({"time_sync_makestep_limit": 3.0}, MAKESTEP),
    ({"time_sync_makestep_limit": True}, MAKESTEP),
    ({"time_sync_makestep_limit": -2}, MAKESTEP),
    ({"time_sync_makestep_limit": "-2"}, MAKESTEP),
])
def test_time_sync_bad_values_are_named(changes, start):
    message = time_sync(**changes)
    assert message.startswith(start)
    # molecule/time_sync/tasks/bad_input.yml searches the message for the variables it sets.
    if start != ALLOW:
        assert re.search("time_sync_(servers|pools|makestep_limit)", message)
    for name in changes:
        assert name in message


def test_time_sync_messages():
    assert time_sync(time_sync_servers=[], time_sync_pools=[]) == (
        "time_sync_servers and time_sync_pools must be lists that together name at least one NTP source, each a "
        "non-empty hostname or address without spaces; got time_sync_servers=[], time_sync_pools=[].")
    assert time_sync(time_sync_allow=["x y"]) == (
        "time_sync_allow must be a list of addresses or networks (or 'all'); got [\"x y\"].")
    assert time_sync(time_sync_makestep_limit="three") == (
        "time_sync_makestep_threshold must be a number > 0 (got 1.0) and time_sync_makestep_limit an integer >= -1 "
        '(got "three").')


def test_time_sync_reports_the_first_problem():
    assert time_sync(time_sync_servers=[], time_sync_pools=[], time_sync_allow="x",
                     time_sync_makestep_limit="x").startswith(SOURCES)
    assert time_sync(time_sync_allow="x", time_sync_makestep_limit="x").startswith(ALLOW)


# --- fail2ban ----------------------------------------------------------------------------------------------------

def test_fail2ban_defaults_pass():
    assert fail2ban() == ""


@pytest.mark.parametrize("changes", [
    {"fail2ban_ignoreip": ["10.0.0.0/8", "192.0.2.7", "::1", "fd00::/64"]},
    {"fail2ban_maxretry": "5"},
    {"fail2ban_maxretry": 1},
    {"fail2ban_findtime": 600},
    {"fail2ban_findtime": "600"},
    {"fail2ban_bantime": "1h"},
    {"fail2ban_bantime_maxtime": "5w"},
    {"fail2ban_bantime_factor": "2"},
    {"fail2ban_bantime_factor": 1.5},
    {"fail2ban_sshd_port": "22"},
    {"fail2ban_sshd_port": "ssh,2222"},
    {"fail2ban_banaction": "nftables"},
    {"fail2ban_banaction": "iptables-multiport"},
])
def test_fail2ban_good_values_pass(changes):
    assert fail2ban(**changes) == ""


IGNOREIP = "fail2ban_ignoreip must be a list of addresses or CIDR networks"
JAIL = "fail2ban_maxretry must be an integer >= 1"


@pytest.mark.parametrize(("changes", "start"), [
    ({"fail2ban_ignoreip": "10.0.0.1"}, IGNOREIP),
    ({"fail2ban_ignoreip": None}, IGNOREIP),
    ({"fail2ban_ignoreip": ["host.lab.invalid"]}, IGNOREIP),
    ({"fail2ban_ignoreip": ["10.0.0.0/1234"]}, IGNOREIP),
    ({"fail2ban_ignoreip": ["10.0.0.1", ""]}, IGNOREIP),
    ({"fail2ban_maxretry": "five"}, JAIL),
    ({"fail2ban_maxretry": 0}, JAIL),
    ({"fail2ban_maxretry": "0"}, JAIL),
    ({"fail2ban_maxretry": -1}, JAIL),
    ({"fail2ban_maxretry": 5.0}, JAIL),
    ({"fail2ban_maxretry": True}, JAIL),
    ({"fail2ban_findtime": "10 m"}, JAIL),
    ({"fail2ban_findtime": "1y"}, JAIL),
    ({"fail2ban_bantime": "-1"}, JAIL),
    ({"fail2ban_bantime_maxtime": "forever"}, JAIL),
    ({"fail2ban_bantime_factor": "x"}, JAIL),
    ({"fail2ban_bantime_factor": -1}, JAIL),
    ({"fail2ban_sshd_port": "22 2222"}, JAIL),
    ({"fail2ban_sshd_port": "SSH"}, JAIL),
    ({"fail2ban_banaction": "nft; rm"}, JAIL),
    ({"fail2ban_banaction": "NFT"}, JAIL),
])
def test_fail2ban_bad_values_are_named(changes, start):
    message = fail2ban(**changes)
    assert message.startswith(start)
    for name in changes:
        assert name in message


def test_fail2ban_messages():
    assert fail2ban(fail2ban_ignoreip="10.0.0.1") == (
        'fail2ban_ignoreip must be a list of addresses or CIDR networks; got "10.0.0.1".')
    assert fail2ban(fail2ban_maxretry="five") == (
        'fail2ban_maxretry must be an integer >= 1 (got "five"); fail2ban_findtime, fail2ban_bantime and '
        'fail2ban_bantime_maxtime durations such as 600, 10m, 1h, 1w (got "10m", "10m", "1w"); fail2ban_bantime_factor '
        'a number; fail2ban_sshd_port a port or service name (got 22); fail2ban_banaction an action name (got "").')


def test_fail2ban_reports_the_first_problem():
    assert fail2ban(fail2ban_ignoreip=["x"], fail2ban_maxretry=0).startswith(IGNOREIP)


# --- nvidia_runtime ----------------------------------------------------------------------------------------------

def test_nvidia_runtime_defaults_pass():
    assert nvidia_runtime() == ""


@pytest.mark.parametrize("changes", [
    {"nvidia_runtime_repo_base_url": "http://127.0.0.1:8765/nvidia"},
    {"nvidia_runtime_repo_base_url": "file:///srv/nvidia"},
    {"nvidia_runtime_repo_key_url": "file:///srv/nvidia/gpgkey"},
    {"nvidia_runtime_repo_key_url": "", "nvidia_runtime_repo_key": KEY},  # an inline key needs no URL
    {"nvidia_runtime_toolkit_version": ""},  # no pinning
    {"nvidia_runtime_toolkit_version": "1.17.8"},
    {"nvidia_runtime_toolkit_version": "1.17.10-1"},  # compared as versions, not as strings
    {"nvidia_runtime_toolkit_version": "1.18.0~rc.1-1"},
    {"nvidia_runtime_toolkit_version": "2"},
    {"nvidia_runtime_toolkit_version": 2},  # a number, as its string
    {"nvidia_runtime_cdi_spec": "/etc/cdi/nvidia.json"},
    {"nvidia_runtime_pci_devices_dir": "/"},
])
def test_nvidia_runtime_good_values_pass(changes):
    assert nvidia_runtime(**changes) == ""


REPO = "nvidia_runtime_repo_base_url must be an http(s):// or file:// URL without a trailing slash"
VERSION = "nvidia_runtime_toolkit_version must be empty (no pinning) or a Debian version"
OLDER = "nvidia_runtime_toolkit_version "
PATHS = "nvidia_runtime_cdi_spec must be an absolute path ending in .yaml or .json"


@pytest.mark.parametrize(("changes", "start", "named"), [
    ({"nvidia_runtime_repo_base_url": "ftp://mirror.lab.invalid/nvidia"}, REPO, "nvidia_runtime_repo_base_url"),
    ({"nvidia_runtime_repo_base_url": "https://mirror.lab.invalid/"}, REPO, "nvidia_runtime_repo_base_url"),
    ({"nvidia_runtime_repo_base_url": "https://mirror lab.invalid"}, REPO, "nvidia_runtime_repo_base_url"),
    ({"nvidia_runtime_repo_key_url": "ftp://mirror.lab.invalid/gpgkey"}, REPO, "nvidia_runtime_repo_key_url"),
    ({"nvidia_runtime_repo_key_url": ""}, REPO, "nvidia_runtime_repo_key_url"),
    ({"nvidia_runtime_repo_key": "not a key"}, REPO, "nvidia_runtime_repo_key"),
    ({"nvidia_runtime_repo_key_url": "", "nvidia_runtime_repo_key": "not a key"}, REPO, "nvidia_runtime_repo_key"),
    ({"nvidia_runtime_repo_key": None}, REPO, "nvidia_runtime_repo_key"),
    ({"nvidia_runtime_toolkit_version": "1.17.8-1; rm -rf /"}, VERSION, "nvidia_runtime_toolkit_version"),
    ({"nvidia_runtime_toolkit_version": "v1.17.8"}, VERSION, "nvidia_runtime_toolkit_version"),
    ({"nvidia_runtime_toolkit_version": "1.17.8-1-2"}, VERSION, "nvidia_runtime_toolkit_version"),
    ({"nvidia_runtime_toolkit_version": None}, VERSION, "nvidia_runtime_toolkit_version"),
    ({"nvidia_runtime_toolkit_version": "1.17.7-1"}, OLDER, "CVE-2025-23266"),
    ({"nvidia_runtime_toolkit_version": "1.17.7"}, OLDER, "CVE-2025-23266"),
    ({"nvidia_runtime_toolkit_version": "1.9.0-1"}, OLDER, "CVE-2025-23266"),
    ({"nvidia_runtime_toolkit_version": 1.5}, OLDER, "CVE-2025-23266"),
    ({"nvidia_runtime_cdi_spec": "/etc/cdi/nvidia.yml"}, PATHS, "nvidia_runtime_cdi_spec"),
    ({"nvidia_runtime_cdi_spec": "etc/cdi/nvidia.yaml"}, PATHS, "nvidia_runtime_cdi_spec"),
    ({"nvidia_runtime_cdi_spec": "/etc/my cdi/nvidia.yaml"}, PATHS, "nvidia_runtime_cdi_spec"),
    ({"nvidia_runtime_pci_devices_dir": "sys/bus/pci/devices"}, PATHS, "nvidia_runtime_pci_devices_dir"),
    ({"nvidia_runtime_pci_devices_dir": "/sys/bus pci"}, PATHS, "nvidia_runtime_pci_devices_dir"),
])
def test_nvidia_runtime_bad_values_are_named(changes, start, named):
    message = nvidia_runtime(**changes)
    assert message.startswith(start)
    assert named in message
    for name in changes:
        assert name in message
    # molecule/docker/tasks/bad_input.yml searches the message for the role's prefix.
    assert "nvidia_runtime_" in message


def test_nvidia_runtime_messages():
    assert nvidia_runtime(nvidia_runtime_repo_base_url="ftp://mirror.lab.invalid/") == (
        'nvidia_runtime_repo_base_url must be an http(s):// or file:// URL without a trailing slash (got '
        '"ftp://mirror.lab.invalid/"), nvidia_runtime_repo_key_url an http(s):// or file:// URL (got '
        '"https://nvidia.github.io/libnvidia-container/gpgkey"), and nvidia_runtime_repo_key, when set, an '
        'ASCII-armored public key.')
    assert nvidia_runtime(nvidia_runtime_toolkit_version="1.17.8-1; rm -rf /") == (
        "nvidia_runtime_toolkit_version must be empty (no pinning) or a Debian version of the toolkit such as "
        '1.17.8-1; got "1.17.8-1; rm -rf /".')
    assert nvidia_runtime(nvidia_runtime_toolkit_version="1.17.7-1") == (
        'nvidia_runtime_toolkit_version "1.17.7-1" is older than 1.17.8, which fixes CVE-2025-23266 and '
        "CVE-2025-23267 (a container can escape to the host); use 1.17.8-1 or newer.")
    assert nvidia_runtime(nvidia_runtime_cdi_spec="cdi.yaml") == (
        'nvidia_runtime_cdi_spec must be an absolute path ending in .yaml or .json (got "cdi.yaml") and '
        'nvidia_runtime_pci_devices_dir an absolute path (got "/sys/bus/pci/devices").')


def test_nvidia_runtime_min_toolkit_is_the_argument():
    assert nvidia_runtime(min_toolkit="1.18.0", nvidia_runtime_toolkit_version="1.17.8-1").endswith(
        "use 1.18.0-1 or newer.")
    assert nvidia_runtime(min_toolkit="1.17", nvidia_runtime_toolkit_version="1.17.0-1") == ""


def test_nvidia_runtime_versions_that_do_not_compare_fail_as_the_version_test_does():
    with pytest.raises(AnsibleFilterError, match="Version comparison failed: '<' not supported"):
        nvidia_runtime(nvidia_runtime_toolkit_version="1.17a-1")
    with pytest.raises(AnsibleFilterError, match="Version parameter to compare against cannot be empty"):
        nvidia_runtime(min_toolkit="")


def test_nvidia_runtime_reports_the_first_problem():
    assert nvidia_runtime(nvidia_runtime_repo_key_url="", nvidia_runtime_toolkit_version="x",
                          nvidia_runtime_cdi_spec="x").startswith(REPO)
    assert nvidia_runtime(nvidia_runtime_toolkit_version="x", nvidia_runtime_cdi_spec="x").startswith(VERSION)
    assert "CVE-2025-23266" in nvidia_runtime(nvidia_runtime_toolkit_version="1.0-1", nvidia_runtime_cdi_spec="x")


# --- docker_engine -----------------------------------------------------------------------------------------------

def test_docker_engine_defaults_pass():
    assert docker_engine() == ""


@pytest.mark.parametrize("changes", [
    {"docker_engine_packages": ["docker.io", "docker-ce=5:27.0.3-1~debian.12~bookworm", "containerd.io"]},
    {"docker_engine_source": "docker"},
    {"docker_engine_source": "docker", "docker_engine_repo_url": "file:///srv/docker",
     "docker_engine_repo_key_url": "", "docker_engine_repo_key": KEY, "docker_engine_repo_suite": "bookworm"},
    # the repository is not checked for Debian's packages
    {"docker_engine_repo_url": "ftp://mirror.lab.invalid", "docker_engine_repo_channel": "not a word"},
    {"docker_engine_log_driver": ""},
    {"docker_engine_log_driver": "local"},
    {"docker_engine_log_max_size": "20m"},
    {"docker_engine_log_max_file": "3"},
    {"docker_engine_log_max_file": 1},
    {"docker_engine_userns_remap": "default"},
    {"docker_engine_userns_remap": "dockremap"},
    {"docker_engine_userns_remap": "dockremap:dockremap"},
    {"docker_engine_daemon_options": {"log-opts": {"max-file": 3}}},
    {"docker_engine_daemon_remove": ["default-runtime", "runtimes.kata"]},
    {"docker_engine_service_environment": {"DOCKER_ALLOW_IPV6_ON_IPV4_INTERFACE": "1", "RETRIES": 3}},
])
def test_docker_engine_good_values_pass(changes):
    assert docker_engine(**changes) == ""


PACKAGES = "docker_engine_packages must be a list of Debian package names"
DOCKER_REPO = "docker_engine_repo_url and docker_engine_repo_key_url must be http(s):// or file:// URLs"
LOGS = "docker_engine_log_max_size must be a size such as 10m"
USERNS = "docker_engine_userns_remap must be '', 'default', 'USER' or 'USER:GROUP'"
DAEMON = "docker_engine_daemon_options must be a dict of daemon.json keys"
ENVIRONMENT = "docker_engine_service_environment must map variable names"
DOCKER = {"docker_engine_source": "docker"}


@pytest.mark.parametrize(("changes", "start"), [
    ({"docker_engine_packages": "docker.io"}, PACKAGES),
    ({"docker_engine_packages": None}, PACKAGES),
    ({"docker_engine_packages": ["Docker.io"]}, PACKAGES),
    ({"docker_engine_packages": [""]}, PACKAGES),
    ({"docker_engine_packages": ["docker.io=1 2"]}, PACKAGES),
    ({**DOCKER, "docker_engine_repo_url": "ftp://mirror.lab.invalid"}, DOCKER_REPO),
    ({**DOCKER, "docker_engine_repo_url": "https://mirror lab"}, DOCKER_REPO),
    ({**DOCKER, "docker_engine_repo_key_url": "gpg"}, DOCKER_REPO),
    ({**DOCKER, "docker_engine_repo_key": "junk"}, DOCKER_REPO),
    ({**DOCKER, "docker_engine_repo_key_url": "", "docker_engine_repo_key": "junk"}, DOCKER_REPO),
    ({**DOCKER, "docker_engine_repo_key": None}, DOCKER_REPO),
    ({**DOCKER, "docker_engine_repo_channel": "stable test"}, DOCKER_REPO),
    ({**DOCKER, "docker_engine_repo_channel": ""}, DOCKER_REPO),
    ({**DOCKER, "docker_engine_repo_suite": "Bookworm"}, DOCKER_REPO),
    ({"docker_engine_log_driver": "Syslog"}, LOGS),
    ({"docker_engine_log_driver": "json file"}, LOGS),
    ({"docker_engine_log_max_size": "10 parsecs"}, LOGS),
    ({"docker_engine_log_max_size": "10M"}, LOGS),
    ({"docker_engine_log_max_size": 10}, LOGS),
    ({"docker_engine_log_max_file": 0}, LOGS),
    ({"docker_engine_log_max_file": "0"}, LOGS),
    ({"docker_engine_log_max_file": "x"}, LOGS),
    ({"docker_engine_log_max_file": 3.0}, LOGS),
    ({"docker_engine_userns_remap": "root user"}, USERNS),
    ({"docker_engine_userns_remap": "Root"}, USERNS),
    ({"docker_engine_userns_remap": "user:"}, USERNS),
    ({"docker_engine_daemon_options": []}, DAEMON),
    ({"docker_engine_daemon_options": "live-restore"}, DAEMON),
    ({"docker_engine_daemon_remove": "default-runtime"}, DAEMON),
    ({"docker_engine_daemon_remove": {"default-runtime": 1}}, DAEMON),
    ({"docker_engine_daemon_remove": [".hidden"]}, DAEMON),
    ({"docker_engine_daemon_remove": ["a b"]}, DAEMON),
    ({"docker_engine_service_environment": []}, ENVIRONMENT),
    ({"docker_engine_service_environment": {"NOT A NAME": "1"}}, ENVIRONMENT),
    ({"docker_engine_service_environment": {"1ST": "1"}}, ENVIRONMENT),
    ({"docker_engine_service_environment": {"HTTPS_PROXY": 'http://proxy"injected'}}, ENVIRONMENT),
    ({"docker_engine_service_environment": {"A": "back\\slash"}}, ENVIRONMENT),
    ({"docker_engine_service_environment": {"A": "new\nline"}}, ENVIRONMENT),
])
def test_docker_engine_bad_values_are_named(changes, start):
    message = docker_engine(**changes)
    assert message.startswith(start)
    for name in changes:
        if name != "docker_engine_source":
            assert name in message
    # molecule/docker/tasks/bad_input.yml searches the message for the role's prefix.
    assert "docker_engine_" in message


def test_docker_engine_messages():
    assert docker_engine(docker_engine_packages="docker.io") == (
        "docker_engine_packages must be a list of Debian package names (optionally name=version); got \"docker.io\".")
    assert docker_engine(**DOCKER, docker_engine_repo_channel="") == (
        'docker_engine_repo_url and docker_engine_repo_key_url must be http(s):// or file:// URLs (got '
        '"https://download.docker.com/linux/debian", "https://download.docker.com/linux/debian/gpg"), '
        'docker_engine_repo_key an ASCII-armored public key when set, docker_engine_repo_channel (got "") and '
        'docker_engine_repo_suite (got "") single words.')
    assert docker_engine(docker_engine_log_max_file=0) == (
        'docker_engine_log_max_size must be a size such as 10m (got "10m"), docker_engine_log_max_file a whole number '
        ">= 1 (got 0) and docker_engine_log_driver a log driver name or '' (got \"json-file\").")
    assert docker_engine(docker_engine_userns_remap="root user") == (
        "docker_engine_userns_remap must be '', 'default', 'USER' or 'USER:GROUP'; got \"root user\".")
    assert docker_engine(docker_engine_daemon_remove="x") == (
        "docker_engine_daemon_options must be a dict of daemon.json keys (got {}) and docker_engine_daemon_remove a "
        "list of key paths such as 'default-runtime' or 'runtimes.kata' (got \"x\").")
    assert docker_engine(docker_engine_service_environment={"HTTPS_PROXY": 'a"b'}) == (
        "docker_engine_service_environment must map variable names (letters, digits, _) to values without quotes, "
        'backslashes or newlines; got {"HTTPS_PROXY": "a\\"b"}.')


def test_docker_engine_host_error_comes_last():
    problem = "Refusing to write /etc/docker/daemon.json, dockerd would not start: unknown key live-restor."
    assert docker_engine(host_error=problem) == problem
    assert docker_engine(host_error=problem, docker_engine_userns_remap="root user").startswith(USERNS)
    assert docker_engine(host_error=None) == ""


def test_docker_engine_reports_the_first_problem():
    assert docker_engine(docker_engine_packages="x", **DOCKER, docker_engine_repo_url="x").startswith(PACKAGES)
    assert docker_engine(**DOCKER, docker_engine_repo_url="x", docker_engine_log_max_file=0).startswith(DOCKER_REPO)
    assert docker_engine(docker_engine_log_max_file=0, docker_engine_userns_remap="x y").startswith(LOGS)
    assert docker_engine(docker_engine_userns_remap="x y", docker_engine_daemon_options=[]).startswith(USERNS)
    assert docker_engine(docker_engine_daemon_options=[], docker_engine_service_environment=[]).startswith(DAEMON)
