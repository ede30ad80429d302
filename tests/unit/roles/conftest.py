"""Render one template of a role with the role's defaults and vars, through a real ansible-playbook run."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROLES = Path(__file__).resolve().parents[3] / "roles"


@pytest.fixture
def render_role_template(tmp_path: Path) -> Callable[..., str]:
    """render(role, template, mode, extra_vars=None, task_vars=None) -> the rendered text.

    ``extra_vars`` are passed with -e (over the role's defaults), ``task_vars`` are the template task's own vars.
    """

    def render(role: str, template: str, mode: str, extra_vars: dict | None = None,
               task_vars: dict | None = None) -> str:
        base = ROLES / role
        out = tmp_path / f"{role}-{Path(template).stem}"
        task = {"ansible.builtin.template": {"src": str(base / "templates" / template), "dest": str(out), "mode": mode},
                "vars": task_vars or {}}
        playbook = tmp_path / "render.yml"
        # JSON is YAML: no indentation to get wrong.
        playbook.write_text(json.dumps([{
            "hosts": "localhost", "gather_facts": False,
            "vars_files": [str(base / "defaults" / "main.yml"), str(base / "vars" / "main.yml")],
            "tasks": [task],
        }]))
        bindir = Path(sys.executable).parent
        subprocess.run(
            [str(bindir / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook),
             "-e", json.dumps(extra_vars or {}), "-e", f"ansible_python_interpreter={sys.executable}"],
            check=True, capture_output=True, text=True,
        )
        return out.read_text()

    return render
