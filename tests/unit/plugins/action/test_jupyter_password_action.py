"""jupyter_password action plugin: the result (a hash) never reaches a callback, register still gets it."""

from __future__ import annotations

from unittest import mock

import pytest
from ansible.executor.task_result import _RawTaskResult
from ansible.playbook.task import Task
from ansible_collections.securelab.gpu_notebook.plugins.action import jupyter_password as action

HASH = "sha256:0123456789ab:" + "0" * 64


def make_plugin(args):
    task = Task()
    task.args = args
    task.async_val = 0
    return action.ActionModule(task, mock.MagicMock(), mock.MagicMock(check_mode=False),
                               loader=None, templar=mock.MagicMock(), shared_loader_obj=None)


@pytest.mark.parametrize(("module_result", "hidden"), [
    ({"changed": True, "hash": HASH, "algorithm": "sha256", "hash_changed": True}, True),
    ({"failed": True, "msg": "password: must not be empty"}, False),
])
def test_result_with_a_hash_is_no_log(module_result, hidden):
    plugin = make_plugin({"password": "x" * 12})
    with mock.patch.object(plugin, "_execute_module", return_value=dict(module_result)) as execute:
        result = plugin.run(task_vars={})
    assert execute.call_args.kwargs["module_name"] == "securelab.gpu_notebook.jupyter_password"
    assert result.get("_ansible_no_log", False) is hidden
    if hidden:
        assert result["hash"] == HASH  # what register receives
        task = Task()
        task.no_log = False
        shown = _RawTaskResult(host=mock.MagicMock(), task=task, return_data=result,
                               task_fields={}).as_callback_task_result()
        assert HASH not in repr(shown.result)


def test_a_kept_current_hash_comes_back_from_the_task_args():
    """current_hash is no_log, so the module leaves it out of its output; register still gets the hash."""
    plugin = make_plugin({"password": "x" * 12, "current_hash": HASH})
    kept = {"changed": False, "algorithm": "sha256", "hash_changed": False, "kept_current_hash": True}
    with mock.patch.object(plugin, "_execute_module", return_value=dict(kept)):
        result = plugin.run(task_vars={})
    assert result["hash"] == HASH and result["_ansible_no_log"] is True
