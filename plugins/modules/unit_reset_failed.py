#!/usr/bin/python
# Copyright (c) securelab maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: unit_reset_failed
short_description: Bring a systemd unit back from the failed state (and its start limit) before a role starts it
version_added: 0.3.0
description:
  - "When a service fails to start over and over (a broken configuration file), systemd stops trying once the
    unit's start limit (C(StartLimitBurst) starts within C(StartLimitIntervalSec)) is hit: the unit stays
    C(failed) with result C(start-limit-hit), and every later C(systemctl start) or C(restart) is refused with
    I(start of the service was attempted too often) - even after the configuration has been repaired."
  - This module runs C(systemctl reset-failed) on the unit before the role starts or restarts it. When the unit
    was in the C(failed) state it reports C(changed) and a warning that names the unit and systemd's result
    (for example C(start-limit-hit)), so the output says what was done. When it was not, the start counter is
    reset all the same (a deliberate restart by the role is not a crash loop) and nothing is reported as changed.
  - A unit that is not loaded (not installed yet) is left alone.
author:
  - securelab.gpu_notebook maintainers (@securelab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reports whether the unit is failed (changed) and resets nothing.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
options:
  name:
    description: The unit, for example V(docker.service) or V(docker) (C(.service) is implied by systemctl).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Bring dockerd back from systemd's start limit before restarting it
  securelab.gpu_notebook.unit_reset_failed:
    name: docker.service
  become: true
"""

RETURN = r"""
was_failed:
  description: Whether the unit was in the C(failed) state.
  returned: always
  type: bool
  sample: true
result:
  description: systemd's C(Result) of the unit before the reset (V(success), V(start-limit-hit), V(exit-code), ...).
  returned: always
  type: str
  sample: start-limit-hit
active_state:
  description: The unit's C(ActiveState) before the reset (V(null) when systemd does not know the unit).
  returned: always
  type: str
  sample: failed
"""

from ansible.module_utils.basic import AnsibleModule


def unit_properties(module, name):
    rc, out, err = module.run_command(['systemctl', 'show', '--property=LoadState,ActiveState,Result', '--', name],
                                      environ_update={'LC_ALL': 'C'})
    if rc != 0:
        module.fail_json(msg=f'name: systemctl show {name} failed: {err.strip() or out.strip()}')
    return dict(line.split('=', 1) for line in out.splitlines() if '=' in line)


def main():
    module = AnsibleModule(argument_spec=dict(name=dict(type='str', required=True)), supports_check_mode=True)
    name = module.params['name']
    props = unit_properties(module, name)
    loaded = props.get('LoadState') == 'loaded'
    was_failed = loaded and props.get('ActiveState') == 'failed'
    result = dict(changed=was_failed, was_failed=was_failed, result=props.get('Result') or None,
                  active_state=props.get('ActiveState') or None)
    if loaded and not module.check_mode:
        rc, out, err = module.run_command(['systemctl', 'reset-failed', '--', name])
        if rc != 0:
            module.fail_json(msg=f'systemctl reset-failed {name} failed: {err.strip() or out.strip()}', **result)
    if was_failed:
        module.warn(f"{name} was in systemd's failed state (result: {props.get('Result')}); "
                    f"{'it would be reset' if module.check_mode else 'reset it'} so that it can be started again")
    module.exit_json(**result)


if __name__ == '__main__':
    main()
