# Copyright: securelab maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lookup ``securelab.gpu_notebook.role_argument_specs``: this collection's role argument specs, merged."""

from __future__ import annotations

DOCUMENTATION = r"""
name: role_argument_specs
author:
  - securelab.gpu_notebook maintainers (@securelab)
version_added: 0.2.0
short_description: The argument specs of this collection's roles, merged into one
description:
  - Returns one dict with the options of the C(main) entry point of each named role of this collection
    (the role's C(meta/argument_specs.yml)), for M(ansible.builtin.validate_argument_spec).
  - The site playbook uses it to check the types and choices of every role's variables on every host in its
    first play, before any host changes. Ansible checks a role's own spec only when the role starts, so in a
    run of several roles a wrong type for a later role would otherwise stop the run after earlier roles
    have changed the host.
  - An option that two roles define differently is an error.
options:
  _terms:
    description: Role names of this collection (C(time_sync), C(docker_engine), ...).
    required: true
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Check the variables of two roles before either runs
  ansible.builtin.validate_argument_spec:
    argument_spec: "{{ lookup('securelab.gpu_notebook.role_argument_specs', 'time_sync', 'fail2ban') }}"
"""

RETURN = r"""
_raw:
  description: One dict, option name to option spec, as in C(meta/argument_specs.yml).
  type: list
  elements: dict
"""

import os
import re

import yaml
from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

# libyaml's loader when PyYAML has it: the site playbook loads these files on every host of every run.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
ROLES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "roles")


def role_options(role):
    if not isinstance(role, str) or not re.match(r"^[a-z][a-z0-9_]*$", role):
        raise AnsibleLookupError(f"role_argument_specs: {role!r} is not a role name")
    path = os.path.join(ROLES_DIR, role, "meta", "argument_specs.yml")
    try:
        with open(path, encoding="utf-8") as handle:
            specs = yaml.load(handle, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader
    except OSError as exc:
        raise AnsibleLookupError(f"role_argument_specs: no argument specs for role {role!r} ({exc})") from exc
    try:
        return specs["argument_specs"]["main"].get("options") or {}
    except (KeyError, TypeError, AttributeError) as exc:
        raise AnsibleLookupError(f"role_argument_specs: {path} has no argument_specs.main entry point") from exc


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        merged = {}
        for role in terms:
            for name, spec in role_options(role).items():
                if name in merged and merged[name] != spec:
                    raise AnsibleLookupError(f"role_argument_specs: option {name} is defined differently by two roles")
                merged[name] = spec
        return [merged]
