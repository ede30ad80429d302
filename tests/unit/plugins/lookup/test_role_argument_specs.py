"""role_argument_specs reads the roles' own meta/argument_specs.yml files, and the site playbook's type check
refuses what each role's own argument spec refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.securelab.gpu_notebook.plugins.lookup import role_argument_specs
from ansible_collections.securelab.gpu_notebook.plugins.lookup.role_argument_specs import LookupModule

ROLES = ["time_sync", "docker_engine", "nvidia_runtime", "fail2ban", "ssh_totp", "notebook"]
ROOT = Path(__file__).resolve().parents[4]


def own_options(role):
    specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    return specs["argument_specs"]["main"]["options"]


def test_every_option_of_every_role_is_there_unchanged():
    (merged,) = LookupModule().run(ROLES)
    for role in ROLES:
        for name, spec in own_options(role).items():
            assert merged[name] == spec, (role, name)
    assert set(merged) == set().union(*(own_options(role) for role in ROLES))


@pytest.mark.parametrize("role, name, value", [
    ("notebook", "notebook_cpus", "lots"),
    ("time_sync", "time_sync_control_clock", "sometimes"),
    ("fail2ban", "fail2ban_maxretry", "five"),
    ("docker_engine", "docker_engine_daemon_options", ["not", "a", "dict"]),
    ("ssh_totp", "ssh_totp_host_key_types", ["ed25519", "dsa"]),
])
def test_the_merged_spec_refuses_what_the_role_refuses(role, name, value):
    (merged,) = LookupModule().run(ROLES)
    alone = ArgumentSpecValidator(own_options(role)).validate({name: value}, validate_role_argument_spec=True)
    together = ArgumentSpecValidator(merged).validate({name: value}, validate_role_argument_spec=True)
    assert alone.error_messages and together.error_messages
    assert all(name in message for message in together.error_messages)


def test_unknown_role_and_bad_names_fail():
    with pytest.raises(AnsibleLookupError, match="no argument specs for role 'nope'"):
        LookupModule().run(["nope"])
    with pytest.raises(AnsibleLookupError, match="is not a role name"):
        LookupModule().run(["../roles/notebook"])


def test_an_option_two_roles_define_differently_is_an_error(monkeypatch):
    specs = {"a": {"x": {"type": "str"}}, "b": {"x": {"type": "int"}}}
    monkeypatch.setattr(role_argument_specs, "role_options", specs.__getitem__)
    with pytest.raises(AnsibleLookupError, match="option x is defined differently"):
        LookupModule().run(["a", "b"])
