# Copyright (c) securelab.gpu_notebook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ``securelab.gpu_notebook.notebook_containers``: each user's notebook container, declared once.

Documentation: ``notebook_containers.yml`` next to this file (ansible-doc -t filter).

The notebook role gives ``community.docker.docker_container`` exactly the parameters built here, and labels the
container with the SHA-256 digest of those same parameters (``securelab.notebook.spec``). The fast path compares
that label with the digest of what this run would give, so an option added here reaches every existing container
(its digest changes) without a version to bump: the apply and the check are one declaration.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError

SPEC_LABEL = "securelab.notebook.spec"
CONFIG_LABEL = "securelab.notebook.config"
USER_LABEL = "securelab.notebook.user"
# Settings the filter needs (the role's variables, by their names without the notebook_ prefix).
SETTINGS = (
    "image", "command", "memory", "cpus", "env", "work_dir", "data_root", "config_root", "container_prefix",
    "tmp_size", "pids_limit", "shm_size", "restart_policy", "config_dir", "runtime_dir", "container_port",
    "network_prefix", "health",
)


def _digest(params: Mapping) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _devices(gpus: object) -> list:
    if gpus == "none":
        return []
    if gpus == "all":
        return [{"driver": "nvidia", "count": -1, "capabilities": [["gpu"]]}]
    if isinstance(gpus, Sequence) and not isinstance(gpus, str):
        return [{"driver": "nvidia", "device_ids": [str(g) for g in gpus], "capabilities": [["gpu"]]}]
    raise AnsibleFilterError(f"notebook_containers: gpus must be none, all or a list, got {gpus!r}")


def container_params(user: Mapping, uid: str, gid: str, settings: Mapping) -> dict:
    """The docker_container parameters of one user's notebook (without the config label)."""
    s = settings
    name = user["name"]
    port = int(user["notebook_port"])
    network = f"{s['network_prefix']}{name}"
    command = list(user.get("notebook_command", s["command"]) or [])
    cpus = float(user.get("notebook_cpus", s["cpus"]))
    memory = str(user.get("notebook_memory", s["memory"]))
    env = {str(k): str(v) for k, v in dict(s["env"]).items()}
    # Tools ask getpass.getuser() (USER/LOGNAME first), and the image's /etc/passwd does not know this uid.
    env.update({
        "USER": name, "LOGNAME": name, "HOME": s["work_dir"],
        "JUPYTER_CONFIG_PATH": s["config_dir"], "JUPYTER_RUNTIME_DIR": s["runtime_dir"],
        "JUPYTERLAB_SETTINGS_DIR": f"{s['work_dir']}/.jupyter/lab/user-settings",
        "JUPYTERLAB_WORKSPACES_DIR": f"{s['work_dir']}/.jupyter/lab/workspaces",
    })
    # CUDA images set NVIDIA_VISIBLE_DEVICES=all; with the nvidia runtime as Docker's default that variable alone
    # hands over every GPU. gpus: none gets "void" (no GPU, whatever the runtime); with GPUs, dockerd sets it from
    # the device request, the only way a notebook gets a GPU.
    if user["gpus"] == "none":
        env["NVIDIA_VISIBLE_DEVICES"] = "void"
    params = {
        "name": f"{s['container_prefix']}{name}",
        "image": user.get("notebook_image", s["image"]),
        "pull": "never",
        "state": "healthy",
        "healthy_wait_timeout": 180,
        # Docker API read timeout: creating a container copies the image on a vfs-backed engine (Docker in Docker).
        "timeout": 600,
        "user": f"{uid}:{gid}",
        "env": env,
        "published_ports": [f"127.0.0.1:{port}:{int(s['container_port'])}"],
        "network_mode": network,
        "networks": [{"name": network}],
        "mounts": [
            {"type": "bind", "source": f"{s['config_root']}/{name}", "target": s["config_dir"], "read_only": True},
            {"type": "bind", "source": f"{s['data_root']}/{name}", "target": s["work_dir"]},
        ],
        "read_only": True,
        "tmpfs": [f"/tmp:rw,exec,nosuid,nodev,mode=1777,size={s['tmp_size']}"],
        "cap_drop": ["ALL"],
        "security_opts": ["no-new-privileges:true"],
        "privileged": False,
        "ipc_mode": "private",
        "pids_limit": int(s["pids_limit"]),
        "memory": memory,
        "memory_swap": memory,
        "shm_size": str(s["shm_size"]),
        "device_requests": _devices(user["gpus"]),
        "restart_policy": s["restart_policy"],
        "healthcheck": {
            "test": ["CMD", "python3", "-c", str(s["health"])],
            "interval": "10s", "timeout": "5s", "retries": 3, "start_period": "60s",
        },
        "labels": {USER_LABEL: name},
    }
    if command:
        params["command"] = command
    if cpus > 0:
        params["cpus"] = cpus
    return params


def notebook_containers(users: object, passwd: object, settings: object) -> dict:
    """Map each present user with an account in ``passwd`` to ``{params, spec}``.

    ``params`` are the docker_container parameters, ``spec`` the digest of them that the container carries as the
    label securelab.notebook.spec (the label itself is not part of what is digested).
    """
    if not isinstance(settings, Mapping) or not all(key in settings for key in SETTINGS):
        missing = [key for key in SETTINGS if not isinstance(settings, Mapping) or key not in settings]
        raise AnsibleFilterError(f"notebook_containers: settings lack {', '.join(missing)}")
    if not isinstance(passwd, Mapping):
        raise AnsibleFilterError("notebook_containers: passwd must be a getent_passwd-shaped mapping")
    result = {}
    for user in users or []:
        if not isinstance(user, Mapping) or user.get("state", "present") != "present" or user.get("name") not in passwd:
            continue
        entry = passwd[user["name"]]
        params = container_params(user, str(entry[1]), str(entry[2]), settings)
        spec = _digest(params)
        params["labels"][SPEC_LABEL] = spec
        result[user["name"]] = {"params": params, "spec": spec}
    return result


class FilterModule:
    """securelab.gpu_notebook notebook container filters."""

    def filters(self):
        return {"notebook_containers": notebook_containers}
