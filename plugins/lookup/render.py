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
"""

RETURN = r"""
_raw:
  description: The rendered text of each template.
  type: list
  elements: str
"""

from ansible.plugins.lookup.template import LookupModule as TemplateLookup


class _ShallowlyCopied(dict):
    """The task's variables as the template lookup sees them: its deepcopy() is a shallow copy."""

    def __deepcopy__(self, memo):
        return dict(self)


class LookupModule(TemplateLookup):
    def run(self, terms, variables=None, **kwargs):
        return super().run(terms, variables=_ShallowlyCopied(variables or {}), **kwargs)
