"""Render the notebook role's Jupyter config (jupyter_config.json.j2) with the role defaults.

Kernel culling: no MappingKernelManager keys while notebook_cull_idle_timeout is 0 (the configs of existing users
stay as they were), Jupyter's own keys for both flavours when it is on, and the real Jupyter Server kernel manager
(the class Jupyter Server 2 uses) takes them from the rendered file.
"""

from __future__ import annotations

import json

import pytest


def render(render_role_template, flavor: str, extra_vars: dict | None = None) -> dict:
    return json.loads(render_role_template("notebook", "jupyter_config.json.j2", "0600", extra_vars, {
        "__notebook_user": {"name": "alice", "notebook_jupyter_flavor": flavor},
        "__hashed_password": "argon2:$argon2id$v=19$m=10240,t=10,p=8$c2FsdA$aGFzaA",
    }))


CULL = {"notebook_cull_idle_timeout": 600, "notebook_cull_interval": 30, "notebook_cull_busy": True}


@pytest.mark.parametrize(("flavor", "app"), [("server", "ServerApp"), ("notebook6", "NotebookApp")])
def test_culling_off_by_default_writes_no_keys(render_role_template, flavor: str, app: str) -> None:
    config = render(render_role_template, flavor)
    assert app in config
    assert "MappingKernelManager" not in config


@pytest.mark.parametrize("flavor", ["server", "notebook6"])
def test_culling_on_writes_jupyters_own_keys(render_role_template, flavor: str) -> None:
    config = render(render_role_template, flavor, CULL)
    assert config["MappingKernelManager"] == {
        "cull_idle_timeout": 600, "cull_interval": 30, "cull_busy": True, "cull_connected": False,
    }


def test_jupyter_server_kernel_manager_reads_the_keys(render_role_template) -> None:
    pytest.importorskip("jupyter_server")
    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
    from traitlets.config import Config

    config = render(render_role_template, "server", CULL)
    manager = AsyncMappingKernelManager(config=Config(config))
    assert (manager.cull_idle_timeout, manager.cull_interval, manager.cull_busy, manager.cull_connected) == (
        600, 30, True, False)
