"""Shared helper for module-level tests: run a module's main() with arguments, return its JSON result."""

from __future__ import annotations

import contextlib
import json
import signal

import pytest
from ansible.module_utils import _internal
from ansible.module_utils.common import warnings
from ansible.module_utils.testing import patch_module_args


def run_module(capsys, main, args):
    """Run ``main()`` with ``args`` as module arguments; the result dict gets the exit code as ``rc``.

    Warnings are returned in the result as on a target: each run starts without the earlier runs' ones,
    and not as the controller (which displays them instead), whatever other tests imported before.
    """
    warnings._global_warnings.clear()
    warnings._global_deprecations.clear()
    was_controller, _internal.is_controller = _internal.is_controller, False
    try:
        with patch_module_args(args), pytest.raises(SystemExit) as exc:
            main()
    finally:
        _internal.is_controller = was_controller
    out = json.loads(capsys.readouterr().out)
    out["rc"] = exc.value.code
    return out


@contextlib.contextmanager
def deadline(seconds):
    """Fail instead of hanging: a FIFO opened without O_NONBLOCK waits for a writer forever."""
    def expired(_signum, _frame):
        raise TimeoutError(f"did not return within {seconds} s")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
