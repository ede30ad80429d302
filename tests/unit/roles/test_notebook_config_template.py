"""Render the notebook role's Jupyter config (jupyter_config.json.j2) with the role defaults.

Kernel culling: no MappingKernelManager keys while notebook_cull_idle_timeout is 0 (the configs of existing users
stay as they were), Jupyter's own keys for both flavours when it is on, and the real Jupyter Server kernel manager
(the class Jupyter Server 2 uses) takes them from the rendered file.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
ROLE = ROOT / "roles" / "notebook"


def render(tmp_path: Path, flavor: str, extra_vars: dict | None = None) -> dict:
    out = tmp_path / "config.json"
    playbook = tmp_path / "render.yml"
    playbook.write_text(textwrap.dedent(f"""\
        - hosts: localhost
          gather_facts: false
          vars_files: ["{ROLE}/defaults/main.yml", "{ROLE}/vars/main.yml"]
          tasks:
            - ansible.builtin.template:
                src: "{ROLE}/templates/jupyter_config.json.j2"
                dest: "{out}"
                mode: "0600"
              vars:
                item: {{name: alice, notebook_jupyter_flavor: {flavor}}}
                __hashed_password: "argon2:$argon2id$v=19$m=10240,t=10,p=8$c2FsdA$aGFzaA"
        """))
    bindir = Path(sys.executable).parent
    subprocess.run(
        [str(bindir / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook),
         "-e", json.dumps(extra_vars or {}), "-e", f"ansible_python_interpreter={sys.executable}"],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.read_text())


CULL = {"notebook_cull_idle_timeout": 600, "notebook_cull_interval": 30, "notebook_cull_busy": True}


@pytest.mark.parametrize(("flavor", "app"), [("server", "ServerApp"), ("notebook6", "NotebookApp")])
def test_culling_off_by_default_writes_no_keys(tmp_path: Path, flavor: str, app: str) -> None:
    config = render(tmp_path, flavor)
    assert app in config
    assert "MappingKernelManager" not in config


@pytest.mark.parametrize("flavor", ["server", "notebook6"])
def test_culling_on_writes_jupyters_own_keys(tmp_path: Path, flavor: str) -> None:
    config = render(tmp_path, flavor, CULL)
    assert config["MappingKernelManager"] == {
        "cull_idle_timeout": 600, "cull_interval": 30, "cull_busy": True, "cull_connected": False,
    }


def test_jupyter_server_kernel_manager_reads_the_keys(tmp_path: Path) -> None:
    pytest.importorskip("jupyter_server")
    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
    from traitlets.config import Config

    config = render(tmp_path, "server", CULL)
    manager = AsyncMappingKernelManager(config=Config(config))
    assert (manager.cull_idle_timeout, manager.cull_interval, manager.cull_busy, manager.cull_connected) == (
        600, 30, True, False)
