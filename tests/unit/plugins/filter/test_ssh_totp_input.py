"""Unit tests for ssh_totp_input_error: the ssh_totp role's input checks, from a valid input to each bad value."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.securelab.gpu_notebook.plugins.filter.ssh_totp import (
    INPUT_VARS,
    FilterModule,
    ssh_totp_input_error,
)

ROOT = Path(__file__).resolve().parents[4]
ROLE = ROOT / "roles" / "ssh_totp"
DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
ROLE_VARS = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
# The defaults, with gpu_notebook_automation_user unset (the default's own default).
VALUES = {name: DEFAULTS[name] for name in INPUT_VARS} | {"ssh_totp_automation_user": "ansible"}
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB alice"
# The present users of gpu_notebook_users, as the validate_users filter returns them.
PRESENT = [
    {"name": "alice", "state": "present", "ssh_public_keys": [KEY], "notebook_port": 8801, "gpus": [0]},
    {"name": "bob", "state": "present", "ssh_public_keys": [KEY], "notebook_port": 8802, "gpus": "none"},
]
NOW = datetime.datetime(2026, 1, 10, 12, 0, 0)
AUTOMATION = "gpu_notebook_automation_user (ssh_totp_automation_user) must be a Unix account name other than root"
ROTATE = "ssh_totp_rotate_users must list present users of gpu_notebook_users; unknown or absent: "
TOTP = "ssh_totp_window_size must be 1..21"
ENROLLMENT = "ssh_totp_enrollment_until must be a UTC time 'YYYY-MM-DDTHH:MM:SSZ' at most ssh_totp_enrollment_max_days"
SSHD = "Check ssh_totp_port (1..65535, got "


def check(present=None, host_error="", now=NOW, **overrides):
    return ssh_totp_input_error(dict(VALUES, **overrides), PRESENT if present is None else present,
                                host_error=host_error, now=now)


def utc(**delta):
    return (NOW + datetime.timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_registered():
    assert FilterModule().filters()["ssh_totp_input_error"] is ssh_totp_input_error


def test_input_vars_list_the_filters_names():
    assert tuple(ROLE_VARS["__ssh_totp_input_vars"]) == INPUT_VARS
    assert not [name for name, value in VALUES.items() if "{{" in str(value)]


def test_defaults_are_valid():
    assert check() == ""
    assert check(present=[]) == ""


@pytest.mark.parametrize(("value", "shown"), [
    ("root", '"root"'), ("Ansible", '"Ansible"'), ("9ops", '"9ops"'), ("", '""'), ("a" * 33, f'"{"a" * 33}"'),
    (5, "5"), (None, "null"), (["ansible"], '["ansible"]'),
])
def test_bad_automation_user(value, shown):
    assert check(ssh_totp_automation_user=value) == (
        f"{AUTOMATION} (root cannot log in over SSH); got {shown}.")


@pytest.mark.parametrize("value", ["_ops", "ops-bot", "a" * 32])
def test_good_automation_user(value):
    assert check(ssh_totp_automation_user=value) == ""


@pytest.mark.parametrize(("value", "unknown"), [
    (["dave"], '["dave"]'),
    (["alice", "carol"], '["carol"]'),  # carol is absent: not in the present list
    (["dave", "dave", "erin"], '["dave", "erin"]'),
    ([1], "[1]"),
    ("dave", '["dave"]'),
    ("alice", "[]"),  # not a list: refused, though alice is present
    ({"alice": 1}, '[{"alice": 1}]'),  # a dict is not a list
    (None, "[null]"),
])
def test_bad_rotate_users(value, unknown):
    assert check(ssh_totp_rotate_users=value) == f"{ROTATE}{unknown}."


@pytest.mark.parametrize("value", [[], ["alice"], ["bob", "alice"], ("alice",)])
def test_good_rotate_users(value):
    assert check(ssh_totp_rotate_users=value) == ""


def test_rotate_users_needs_present_users():
    assert check(present=[], ssh_totp_rotate_users=["alice"]) == f'{ROTATE}["alice"].'


@pytest.mark.parametrize(("variable", "value"), [
    ("ssh_totp_window_size", 0), ("ssh_totp_window_size", 22), ("ssh_totp_window_size", "abc"),
    ("ssh_totp_window_size", "0"),
    ("ssh_totp_scratch_codes", -1), ("ssh_totp_scratch_codes", "11"),
    ("ssh_totp_rate_limit_attempts", 101), ("ssh_totp_rate_limit_attempts", "-1"),
    ("ssh_totp_rate_limit_seconds", 0), ("ssh_totp_rate_limit_seconds", 3601), ("ssh_totp_rate_limit_seconds", "x"),
])
def test_bad_totp_number(variable, value):
    message = check(**{variable: value})
    assert message.startswith(TOTP)
    assert f"{variable} " in message
    assert f"(got {value})" in message


@pytest.mark.parametrize(("value", "shown"), [("", '""'), ("lab:1", '"lab:1"'), (5, "5"), (None, "null")])
def test_bad_issuer(value, shown):
    message = check(ssh_totp_issuer=value)
    assert message.startswith(TOTP)
    assert message.endswith(f"ssh_totp_issuer a non-empty string without ':' (got {shown}).")


def test_whole_totp_message():
    assert check(ssh_totp_window_size=22) == (
        "ssh_totp_window_size must be 1..21 (got 22), ssh_totp_scratch_codes 0..10 (got 5), "
        "ssh_totp_rate_limit_attempts 0..100 (got 3), ssh_totp_rate_limit_seconds 1..3600 (got 30) and "
        "ssh_totp_issuer a non-empty string without ':' (got \"securelab\").")


@pytest.mark.parametrize(("variable", "value"), [
    ("ssh_totp_window_size", "3"), ("ssh_totp_window_size", 1), ("ssh_totp_window_size", "21"),
    ("ssh_totp_window_size", "3.7"),  # | int reads it as 3
    ("ssh_totp_scratch_codes", 0), ("ssh_totp_scratch_codes", "10"),
    ("ssh_totp_rate_limit_attempts", 0), ("ssh_totp_rate_limit_attempts", "100"),
    ("ssh_totp_rate_limit_seconds", "1"), ("ssh_totp_rate_limit_seconds", 3600),
    ("ssh_totp_issuer", "Securelab GPU lab"),
])
def test_good_totp_value(variable, value):
    assert check(**{variable: value}) == ""


@pytest.mark.parametrize(("until", "max_days"), [
    ("", 14),
    ("2020-01-01T00:00:00Z", 14),  # in the past: enrollment is simply closed
    (utc(days=1), 14),
    (utc(days=14), 14),  # exactly the limit
    (utc(days=20), "30"),
    (utc(days=-1), "abc"),  # no days allowed (| int is 0), a past time is fine
])
def test_good_enrollment(until, max_days):
    assert check(ssh_totp_enrollment_until=until, ssh_totp_enrollment_max_days=max_days) == ""


@pytest.mark.parametrize(("until", "max_days", "shown"), [
    (utc(days=14, seconds=1), 14, f'"{utc(days=14, seconds=1)}"'),
    (utc(days=30), "14", f'"{utc(days=30)}"'),
    (utc(hours=1), "abc", f'"{utc(hours=1)}"'),
    ("tomorrow", 14, '"tomorrow"'),
    ("2020-01-01T00:00:00", 14, '"2020-01-01T00:00:00"'),
    ("2020-01-01 00:00:00Z", 14, '"2020-01-01 00:00:00Z"'),
    ("2025-13-01T00:00:00Z", 14, '"2025-13-01T00:00:00Z"'),  # the format, but no such month
    ("2020-01-01T00:00:00Z\n", 14, '"2020-01-01T00:00:00Z\\n"'),
    (5, 14, "5"),
])
def test_bad_enrollment(until, max_days, shown):
    assert check(ssh_totp_enrollment_until=until, ssh_totp_enrollment_max_days=max_days) == (
        f"{ENROLLMENT} ({max_days}) days from now; got {shown}.")


def test_now_may_be_a_string_or_in_another_zone():
    until = utc(days=14)
    assert check(ssh_totp_enrollment_until=until, now="2026-01-10T12:00:00Z") == ""
    assert check(ssh_totp_enrollment_until=until, now="2026-01-10T11:59:59+00:00").startswith(ENROLLMENT)
    paris = datetime.timezone(datetime.timedelta(hours=1))
    assert check(ssh_totp_enrollment_until=until, now=datetime.datetime(2026, 1, 10, 13, 0, 0, tzinfo=paris)) == ""
    assert check(ssh_totp_enrollment_until=until,
                 now=datetime.datetime(2026, 1, 10, 12, 59, 59, tzinfo=paris)).startswith(ENROLLMENT)


def test_now_defaults_to_the_current_time():
    assert check(now=None, ssh_totp_enrollment_until="2020-01-01T00:00:00Z") == ""
    assert check(now=None, ssh_totp_enrollment_until="2999-01-01T00:00:00Z").startswith(ENROLLMENT)


@pytest.mark.parametrize("now", ["yesterday", 5])
def test_bad_now(now):
    with pytest.raises(AnsibleFilterError, match="now must be"):
        check(now=now)


@pytest.mark.parametrize(("variable", "value"), [
    ("ssh_totp_port", 0), ("ssh_totp_port", 65536), ("ssh_totp_port", "ssh"),
    ("ssh_totp_max_auth_tries", 4), ("ssh_totp_max_auth_tries", "0"),
    ("ssh_totp_login_grace_time", 4), ("ssh_totp_login_grace_time", "4"),
    ("ssh_totp_host_key_types", ["rsa"]), ("ssh_totp_host_key_types", ["ed25519", "dsa"]),
    ("ssh_totp_host_key_types", []), ("ssh_totp_host_key_types", "ed25519"), ("ssh_totp_host_key_types", None),
    ("ssh_totp_rsa_host_key_bits", 2048), ("ssh_totp_rsa_host_key_bits", "3071"),
    ("ssh_totp_allowed_networks", ["10.0.0.0/8", "lab net"]), ("ssh_totp_allowed_networks", ["10.0.0.0/1234"]),
    ("ssh_totp_allowed_networks", "10.0.0.0"),
    ("ssh_totp_extra_allowed_users", ["Backup"]), ("ssh_totp_extra_allowed_users", ["root user"]),
    ("ssh_totp_extra_allowed_users", "backup"),
    ("ssh_totp_listen_addresses", ["host.example"]), ("ssh_totp_listen_addresses", ["0.0.0.0:22 "]),
    ("ssh_totp_listen_addresses", "::1"),
])
def test_bad_sshd_option(variable, value):
    message = check(**{variable: value})
    assert message.startswith(SSHD)
    assert f"{variable} (" in message


def test_whole_sshd_message():
    assert check(ssh_totp_port="0", ssh_totp_allowed_networks=["lab net"]) == (
        "Check ssh_totp_port (1..65535, got 0), ssh_totp_max_auth_tries (1..3, got 3), ssh_totp_login_grace_time "
        "(>= 5), ssh_totp_host_key_types (ed25519 and optionally rsa, got [\"ed25519\", \"rsa\"]), "
        "ssh_totp_rsa_host_key_bits (>= 3072), ssh_totp_allowed_networks (addresses or CIDR networks, got "
        "[\"lab net\"]), ssh_totp_extra_allowed_users (account names) and ssh_totp_listen_addresses (addresses).")


@pytest.mark.parametrize(("variable", "value"), [
    ("ssh_totp_port", "2222"), ("ssh_totp_port", 65535), ("ssh_totp_max_auth_tries", "1"),
    ("ssh_totp_login_grace_time", "5"), ("ssh_totp_host_key_types", ["ed25519"]),
    ("ssh_totp_host_key_types", ["rsa", "ed25519"]), ("ssh_totp_rsa_host_key_bits", "3072"),
    ("ssh_totp_allowed_networks", ["10.0.0.0/8", "2001:db8::/32", "192.0.2.1"]),
    ("ssh_totp_allowed_networks", [10]),  # | string is match: '10' is an address as far as this check goes
    ("ssh_totp_extra_allowed_users", ["backup", "_svc"]),
    ("ssh_totp_listen_addresses", ["[::1]", "192.0.2.1", "::"]),
])
def test_good_sshd_option(variable, value):
    assert check(**{variable: value}) == ""


def test_host_error_comes_last():
    error = 'Notebook users must not be system accounts: gpu_notebook_users[0].name: "labsvc" is a system account'
    assert check(host_error=error) == error
    assert check(host_error=None) == ""
    assert check(host_error=error, ssh_totp_port=0).startswith(SSHD)


# The first problem found is reported, in the order of the task's name.
def test_order():
    assert check(ssh_totp_automation_user="root", ssh_totp_rotate_users=["dave"]).startswith(AUTOMATION)
    assert check(ssh_totp_rotate_users=["dave"], ssh_totp_window_size=0).startswith(ROTATE)
    assert check(ssh_totp_window_size=0, ssh_totp_enrollment_until="soon").startswith(TOTP)
    assert check(ssh_totp_enrollment_until="soon", ssh_totp_port=0).startswith(ENROLLMENT)
    assert check(ssh_totp_port=0, host_error="boom").startswith(SSHD)


def test_bad_filter_input():
    with pytest.raises(AnsibleFilterError, match="expects a dict"):
        ssh_totp_input_error(list(VALUES), PRESENT)
    values = dict(VALUES)
    del values["ssh_totp_listen_addresses"]
    with pytest.raises(AnsibleFilterError, match="no ssh_totp_listen_addresses"):
        ssh_totp_input_error(values, PRESENT)
    with pytest.raises(AnsibleFilterError, match="present must be"):
        ssh_totp_input_error(VALUES, {"alice": {}})
    with pytest.raises(AnsibleFilterError, match="present must be"):
        ssh_totp_input_error(VALUES, ["alice"])
