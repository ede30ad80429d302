"""Shared helper for module-level tests: run a module's main() with arguments, return its JSON result."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args


def run_module(capsys, main, args):
    """Run ``main()`` with ``args`` as module arguments; the result dict gets the exit code as ``rc``."""
    with patch_module_args(args), pytest.raises(SystemExit) as exc:
        main()
    out = json.loads(capsys.readouterr().out)
    out["rc"] = exc.value.code
    return out
