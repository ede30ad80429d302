# Copyright (c) securelab.gpu_notebook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for jupyter_password: run the module where the task runs, hide the hash from callbacks.

The result always carries a password hash, so it is marked no_log: callbacks print only the
task status, while ``register`` still receives the full result for the tasks that use the hash.

``current_hash`` is a no_log option, so the module's output never contains it (Ansible would replace it with
a placeholder): when the module keeps it (``kept_current_hash``), the hash is taken from the task's arguments.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):

    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        result.update(self._execute_module(
            module_name='securelab.gpu_notebook.jupyter_password',
            module_args=self._task.args,
            task_vars=task_vars,
        ))
        if result.get('kept_current_hash') and not result.get('failed'):
            result['hash'] = self._task.args['current_hash']
        if 'hash' in result:
            result['_ansible_no_log'] = True
        return result
