# Copyright: securelab maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lookup ``securelab.gpu_notebook.render``: the template lookup, without its deep copy of every variable."""

from __future__ import annotations

DOCUMENTATION = r"""
name: render
author:
  - securelab.gpu_notebook maintainers (@securelab)
version_added: 0.2.0
short_description: Render a template file as the template lookup does, without copying every variable first
description:
  - Returns, for each template file, the text that P(ansible.builtin.template#lookup) returns for it (and that
    M(ansible.builtin.template) writes). It is that lookup, called with the same search path and options.
  - The only difference is speed. That lookup deep-copies every variable of the task before each template (the
    role's variables, registered results, facts), which costs more than rendering a small configuration file.
    This one gives the template a shallow copy instead; O(template_vars) and the C(template_*) variables are
    added to the copy, never to the task's variables.
  - The collection's roles use it on their fast path, to compare the files they manage with what they would
    write, on every host and run.
  - A template rendered this way must not change, in place, a list or dict it did not create itself (for
    example C({% set _ = some_variable.append(1) %})), as the copy it gets is shallow.
options:
  _terms:
    description: Template files, looked up like P(ansible.builtin.template#lookup)'s (the role's C(templates/)).
    required: true
    type: list
    elements: str
  role:
    description:
      - The name of one of this collection's roles whose C(templates/) directory holds the files, wherever the lookup
        is called from (a role's declaration in its C(vars/main.yml) is also worked out by the site playbook's
        play-level tasks, whose search path is the playbook's).
      - Without it, the files are looked up like P(ansible.builtin.template#lookup)'s.
    type: str
    version_added: 0.7.0
  template_vars:
    description: A dictionary, the keys become additional variables available for templating.
    type: dict
    default: {}
  variable_start_string:
    description: The string marking the beginning of a print statement.
    type: str
    default: '{{'
  variable_end_string:
    description: The string marking the end of a print statement.
    type: str
    default: '}}'
  comment_start_string:
    description: The string marking the beginning of a comment statement.
    type: str
    default: '{#'
  comment_end_string:
    description: The string marking the end of a comment statement.
    type: str
    default: '#}'
  trim_blocks:
    description: Whether the first newline after a block is removed (block, not variable tag).
    type: bool
    default: true
seealso:
  - plugin: ansible.builtin.template
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: Say whether chrony.conf is what the role's template renders
  ansible.builtin.debug:
    msg: >-
      {{ probe.files['/etc/chrony/chrony.conf']
         | securelab.gpu_notebook.file_differs(lookup('securelab.gpu_notebook.render', 'chrony.conf.j2'),
                                               mode='0644') }}

- name: The same, from a task outside the role (the site playbook's first play)
  ansible.builtin.debug:
    msg: "{{ lookup('securelab.gpu_notebook.render', 'chrony.conf.j2', role='time_sync') | hash('sha1') }}"
"""

RETURN = r"""
_raw:
  description: The rendered text of each template.
  type: list
  elements: str
"""

import re
from pathlib import Path

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup.template import LookupModule as TemplateLookup

# This collection's roles/ (plugins/lookup/render.py -> the collection root).
ROLES = Path(__file__).resolve().parents[2] / "roles"


class _ShallowlyCopied(dict):
    """The task's variables as the template lookup sees them: its deepcopy() is a shallow copy."""

    def __deepcopy__(self, memo):
        return dict(self)


class LookupModule(TemplateLookup):
    def run(self, terms, variables=None, **kwargs):
        role = kwargs.pop("role", None)
        if role is not None:
            templates = ROLES / str(role) / "templates"
            if not re.fullmatch(r"[a-z][a-z0-9_]*", str(role)) or not templates.is_dir():
                raise AnsibleLookupError(f"render: role {role!r} is not one of this collection's roles with templates")
            # An absolute path is found as it is, wherever the task that calls the lookup belongs.
            terms = [str(templates / term) if not str(term).startswith("/") else term for term in terms]
        return super().run(terms, variables=_ShallowlyCopied(variables or {}), **kwargs)
