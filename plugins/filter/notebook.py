# Copyright (c) securelab.gpu_notebook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ``securelab.gpu_notebook.notebook_containers``: each user's notebook container, declared once.

Documentation: ``notebook_containers.yml`` next to this file (ansible-doc -t filter); ``notebook_resources.yml``,
``notebook_drift.yml`` and ``notebook_input_error.yml`` for the role's other filters (its files and packages, its
fast-path comparison and its input checks).

The notebook role gives ``community.docker.docker_container`` exactly the parameters built here, and labels the
container with the SHA-256 digest of those same parameters (``securelab.notebook.spec``). The fast path compares
that label with the digest of what this run would give, so an option added here reaches every existing container
(its digest changes) without a version to bump: the apply and the check are one declaration.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.formatters import human_to_bytes
from ansible_collections.securelab.gpu_notebook.plugins.filter.firewall import notebook_bridge
from ansible_collections.securelab.gpu_notebook.plugins.filter.resources import resources_drift
from ansible_collections.securelab.gpu_notebook.plugins.module_utils import _jinja_compat as jc

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


# Settings notebook_resources needs (the role's vars/main.yml, __notebook_resource_settings).
RESOURCE_SETTINGS = (
    "packages", "tls_packages", "tls", "data_root", "config_root", "config_file", "hash_key", "flavor",
    "page_config_dir", "page_config_file", "lab_announcements", "page_content", "purge",
)


def notebook_resources(users: object, settings: object, passwd: object = None) -> list[dict]:
    """Everything the notebook role manages on disk and in apt, as resources (plugins/filter/resources.py).

    The role's tasks loop over this list (resources_select), its read is derived from it (resources_probe_args) and
    notebook_drift compares the read with it (resources_drift): a managed file is one entry here. With ``passwd``
    (a getent_passwd-shaped mapping) the users' entries carry their uid and gid, and a present user without an
    account is left out (the role cannot own anything by it yet); without it (for the read, which comes before the
    accounts are known) every present user's paths are listed, their owners not.
    """
    if not isinstance(settings, Mapping) or not all(key in settings for key in RESOURCE_SETTINGS):
        missing = [key for key in RESOURCE_SETTINGS if not isinstance(settings, Mapping) or key not in settings]
        raise AnsibleFilterError(f"notebook_resources: settings lack {', '.join(missing)}")
    if passwd is not None and not isinstance(passwd, Mapping):
        raise AnsibleFilterError("notebook_resources: passwd must be a getent_passwd-shaped mapping")
    s = settings
    users = [u for u in users or [] if isinstance(u, Mapping) and u.get("name")]
    present = [u for u in users if u.get("state", "present") == "present"]
    out: list[dict] = []
    if users:
        out.append({"kind": "package", "name": list(s["packages"])})
    if users and s["tls"] == "selfsigned":
        out.append({"kind": "package", "name": list(s["tls_packages"])})
    if present:
        out += [{"kind": "directory", "path": root, "mode": "0755"} for root in (s["data_root"], s["config_root"])]
    for user in present:
        name = user["name"]
        if passwd is None:
            uid = gid = None
        elif passwd.get(name):
            uid, gid = int(passwd[name][1]), int(passwd[name][2])
        else:
            continue
        conf = f"{s['config_root']}/{name}"
        flavor = user.get("notebook_jupyter_flavor", s["flavor"])
        out += [
            # The user's work directory: the container runs as the user's uid and writes there.
            {"kind": "directory", "path": f"{s['data_root']}/{name}", "mode": "0700", "owner": uid, "group": gid},
            # Mounted read-only into the container; readable by root and the user's group only (it holds the hash).
            {"kind": "directory", "path": conf, "mode": "0750", "owner": 0, "group": gid},
            # The Jupyter config holds the password hash, worked out on the host: the task that writes it loops over
            # the entries with jupyter_config_of (the user), the read asks for the hashes the file holds and
            # notebook_drift checks its content (the hash under hash_key must verify the password). No content here.
            {"kind": "file", "path": f"{conf}/{s['config_file'][flavor]}", "mode": "0440", "owner": 0, "group": gid,
             "jupyter_config_of": name, "hash_key": s["hash_key"][flavor]},
        ]
        if s["lab_announcements"]:
            out.append({"kind": "absent", "path": f"{conf}/{s['page_config_dir']}"})
        else:
            out += [
                {"kind": "directory", "path": f"{conf}/{s['page_config_dir']}", "mode": "0750", "owner": 0,
                 "group": gid},
                {"kind": "file", "path": f"{conf}/{s['page_config_file']}", "mode": "0440", "owner": 0, "group": gid,
                 "content": s["page_content"]},
            ]
    for user in users:
        if user.get("state", "present") != "absent":
            continue
        # The config holds the password hash: it goes with the user. The data goes only when purge is asked for.
        out.append({"kind": "absent", "path": f"{s['config_root']}/{user['name']}"})
        if user.get("notebook_purge", s["purge"]):
            out.append({"kind": "absent", "path": f"{s['data_root']}/{user['name']}"})
    return out


def _integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _gone(things: Mapping, name: str) -> bool:
    """Whether the read says ``name`` does not exist (not read, or unknown, is not gone)."""
    return (things.get(name) or {}).get("exists", True) is False


def _present_drift(probe: Mapping, spec: Mapping, user: Mapping, checked: Mapping) -> list[str]:
    files = probe.get("files") or {}
    name = user["name"]
    # The user's Jupyter config as declared (notebook_resources; listed only for a user with an account).
    cfg = next((r["path"] for r in spec["resources"] if r.get("jupyter_config_of") == name), "")
    container = (probe.get("containers") or {}).get(spec["container_prefix"] + name) or {}
    network = (probe.get("networks") or {}).get(spec["network_prefix"] + name) or {}
    image = user.get("notebook_image", spec["image"])
    images = probe.get("images") or {}
    out: list[str] = []
    if (probe.get("passwd") or {}).get(name) is None:
        out.append(f"{name}: no account")
    else:
        mine = checked.get(name) or {}
        if not mine.get("hash_ok", False):
            out.append(f"{name}: the config has no hash that verifies the password")
        elif mine.get("config") != (files.get(cfg) or {}).get("checksum", ""):
            out.append(f"{name}: the config differs")
        out += _container_drift(spec, user, container, image, images, (files.get(cfg) or {}).get("checksum"))
    if images.get(image) is None:
        out.append(f"{name}: image {image} is missing")
    options = network.get("options") or {}
    if not network.get("exists", False) or [
            network.get("driver"), network.get("enable_ipv6"), (network.get("labels") or {}).get(USER_LABEL, ""),
            options.get("com.docker.network.bridge.name", "")] != ["bridge", False, name,
                                                                   notebook_bridge(user["notebook_port"])]:
        out.append(f"{name}: network missing or different")
    gpus = user.get("gpus", "none")
    found = len((probe.get("dirs") or {}).get("/proc/driver/nvidia/gpus") or [])
    if spec["gpu_check"] and gpus != "none" and (
            found == 0 or (gpus != "all" and max([g for g in gpus if _integer(g)] + [-1]) >= found)):
        out.append(f"{name}: requested GPUs not found")
    return out


def _container_drift(spec: Mapping, user: Mapping, container: Mapping, image: str, images: Mapping,
                     config_checksum: object) -> list[str]:
    name = user["name"]
    if not container.get("exists", False):
        return [f"{name}: no container"]
    if not container.get("running") or container.get("health") != "healthy":
        return [f"{name}: container not running or not healthy"]
    out: list[str] = []
    labels = container.get("labels") or {}
    if container.get("image") is None or container.get("image") != images.get(image):
        out.append(f"{name}: container image is not {image}")
    if labels.get(USER_LABEL, "") != name or labels.get(SPEC_LABEL, "") != (spec["specs"].get(name) or {}).get(
            "spec", "") or labels.get(CONFIG_LABEL, "") != config_checksum:
        out.append(f"{name}: container definition or config label differs")
    memory = human_to_bytes(str(user.get("notebook_memory", spec["memory"])))
    cpus = float(user.get("notebook_cpus", spec["cpus"]))
    want = [memory, memory, round(cpus * 1000000000) if cpus > 0 else 0, int(spec["pids_limit"]),
            spec["restart_policy"]]
    have = [container.get(k) for k in ("memory", "memory_swap", "nano_cpus", "pids_limit", "restart_policy")]
    if have != want:
        out.append(f"{name}: container limits or restart policy differ")
    if container.get("networks") != [spec["network_prefix"] + name]:
        out.append(f"{name}: container networks differ")
    return out


def notebook_drift(probe: object, spec: object, checked: object = None) -> list[str]:
    """One reason per difference between the host's read and the notebook role's declaration; empty when in sync.

    ``checked`` maps each present user with an account to what only the controller can work out: whether the
    config's hash verifies the user's password (``hash_ok``) and the SHA-1 of the config the converge would write
    with that hash (``config``).
    """
    if not isinstance(probe, Mapping) or not isinstance(spec, Mapping):
        raise AnsibleFilterError("notebook_drift: the read and spec must be dicts")
    checked = checked if isinstance(checked, Mapping) else {}
    if not spec["fast_path"]:
        return ["notebook_fast_path is false"]
    if spec["tls"] != "none":
        return [f"notebook_tls is {spec['tls']}: the fast path does not check certificates"]
    present, absent = list(spec["present"]), list(spec["absent"])
    if not present and not absent:
        return []
    out: list[str] = []
    if not probe.get("docker", False):
        out.append("Docker did not answer the probe")
    # The packages, directories and files, as the role declares them (notebook_resources): the generic comparison.
    out += resources_drift(probe, spec["resources"])
    for user in present:
        out += _present_drift(probe, spec, user, checked)
    for user in absent:
        name = user["name"]
        if not _gone(probe.get("containers") or {}, spec["container_prefix"] + name):
            out.append(f"{name} (absent): container still there or unknown")
        if not _gone(probe.get("networks") or {}, spec["network_prefix"] + name):
            out.append(f"{name} (absent): network still there or unknown")
    return out


# The role variables notebook_input_error reads (the role's vars/main.yml lists the same names as
# __notebook_input_vars, and the task passes their values as a dict).
INPUT_VARS = (
    "notebook_image", "notebook_jupyter_flavor", "notebook_command", "notebook_memory", "notebook_cpus",
    "notebook_purge", "notebook_password_min_length", "notebook_work_dir", "notebook_data_root",
    "notebook_config_root", "notebook_container_prefix", "notebook_image_archives", "notebook_env",
    "notebook_pids_limit", "notebook_shm_size", "notebook_tmp_size", "notebook_tls", "notebook_tls_cert",
    "notebook_tls_key", "notebook_cull_idle_timeout", "notebook_cull_interval",
)
# Per-user settings (a gpu_notebook_users entry's notebook_* key wins over the role variable of the same name).
USER_SETTINGS = ("notebook_image", "notebook_jupyter_flavor", "notebook_command", "notebook_memory", "notebook_cpus",
                 "notebook_purge")
FLAVORS = ("server", "notebook6")
IMAGE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@-]*$")
MEMORY_RE = re.compile(r"^[0-9]+[bkmgBKMG]?$")
CPUS_RE = re.compile(r"^[0-9]+(\.[0-9]+)?$")
PATH_RE = re.compile(r"^/[^\s:]*$")
PREFIX_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
# Variables notebook_env must not set: the role sets them (user, home, Jupyter's paths), and NVIDIA_* would hand out
# GPUs outside the user's gpus.
RESERVED_ENV_RE = re.compile(r"^(HOME|USER|LOGNAME|JUPYTER_.*|JUPYTERLAB_.*|NVIDIA_.*)$")
TMP_SIZE_RE = re.compile(r"^[0-9]+[kmgKMG]?$")
CULL_IDLE_RE = re.compile(r"^[0-9]+$")
CULL_INTERVAL_RE = re.compile(r"^[1-9][0-9]*$")
BAD_ROLE_VARS = (
    "Bad notebook role variables: notebook_work_dir, notebook_data_root and notebook_config_root must be absolute "
    "paths (not /); notebook_container_prefix a container-name prefix; notebook_image_archives a dict of image -> "
    "absolute controller path; notebook_env a dict that does not set HOME, USER, LOGNAME, JUPYTER_* or NVIDIA_* "
    "(GPUs come from the user's gpus only); notebook_pids_limit > 0; notebook_shm_size / notebook_tmp_size sizes "
    "like '1g'; notebook_password_min_length >= 8; notebook_tls=provided needs absolute notebook_tls_cert and "
    "notebook_tls_key."
)


def _user_settings_error(item: Mapping, v: Mapping, user_keys: list) -> str:
    """The message for a gpu_notebook_users entry with an unknown notebook_* key or a bad per-user setting."""
    unknown = [jc.text(key) for key in item if jc.match(r"^notebook_", key) and key not in user_keys]
    image, flavor, command, memory, cpus, purge = (item[key] if key in item else v[key] for key in USER_SETTINGS)
    if (not unknown and isinstance(image, str) and jc.match(IMAGE_RE, image) and flavor in FLAVORS
            and jc.is_list(command) and jc.match(MEMORY_RE, memory) and jc.match(CPUS_RE, cpus)
            and isinstance(purge, bool)):
        return ""
    return (f"gpu_notebook_users entry {jc.text(item.get('name'))}: notebook keys must be among "
            f"{', '.join(jc.text(key) for key in user_keys)} (got {', '.join(unknown) or 'none unknown'}); "
            "notebook_image an image reference, notebook_jupyter_flavor 'server' or 'notebook6', notebook_command a "
            "list, notebook_memory like '8g', notebook_cpus a number >= 0, notebook_purge a boolean.")


def _role_vars_ok(v: Mapping) -> bool:
    archives, env = v["notebook_image_archives"], v["notebook_env"]
    return (all(jc.match(PATH_RE, v[name]) and v[name] != "/"
                for name in ("notebook_work_dir", "notebook_data_root", "notebook_config_root"))
            and jc.match(PREFIX_RE, v["notebook_container_prefix"])
            and isinstance(archives, Mapping) and all(jc.match(r"^/", path) for path in archives.values())
            and isinstance(env, Mapping) and not any(jc.match(RESERVED_ENV_RE, name) for name in env)
            and jc.to_int(v["notebook_pids_limit"]) > 0
            and jc.match(MEMORY_RE, v["notebook_shm_size"]) and jc.match(TMP_SIZE_RE, v["notebook_tmp_size"])
            and jc.to_int(v["notebook_password_min_length"]) >= 8
            and (v["notebook_tls"] != "provided"
                 or (jc.match(r"^/", v["notebook_tls_cert"]) and jc.match(r"^/", v["notebook_tls_key"]))))


def notebook_input_error(values: object, users: object, raw_users: object = None, user_keys: object = ()) -> str:
    """The first problem with the notebook role's input, as a message that names the variable; '' when none.

    ``values``: the role variables (INPUT_VARS) as {name: value}. ``users``: gpu_notebook_users as the validate_users
    filter returns it (without passwords); ``raw_users``: the list as given (for the passwords' length, never shown);
    ``user_keys``: the notebook_* keys an entry may carry (``__notebook_user_keys``).
    """
    try:
        v = dict(zip(INPUT_VARS, jc.values_of(values, INPUT_VARS), strict=True))
    except ValueError as err:
        raise AnsibleFilterError(f"notebook_input_error: {err}") from None
    if isinstance(users, (str, Mapping)) or not isinstance(users, Sequence) or not all(
            isinstance(item, Mapping) for item in users):
        raise AnsibleFilterError("notebook_input_error: users must be the list the validate_users filter returns")
    user_keys = list(user_keys or [])
    for item in users:
        error = _user_settings_error(item, v, user_keys)
        if error:
            return error
    given = [entry for entry in raw_users or [] if isinstance(entry, Mapping)]
    minimum = v["notebook_password_min_length"]
    for item in users:
        if item.get("state") != "present":
            continue
        entry = next((entry for entry in given if entry.get("name") == item.get("name")), {})
        if jc.length(entry.get("notebook_password", "")) < jc.to_int(minimum):
            return (f"gpu_notebook_users entry {jc.text(item.get('name'))}: notebook_password must have at least "
                    f"{jc.text(minimum)} characters (notebook_password_min_length).")
    if not _role_vars_ok(v):
        return BAD_ROLE_VARS
    # The argument spec checks the type (int); the range is checked here.
    idle, interval = v["notebook_cull_idle_timeout"], v["notebook_cull_interval"]
    if not jc.match(CULL_IDLE_RE, idle):
        return ("notebook_cull_idle_timeout must be a whole number of seconds, 0 or more (0 turns culling off); "
                f"got {jc.text(idle)}.")
    if not jc.match(CULL_INTERVAL_RE, interval):
        return f"notebook_cull_interval must be a whole number of seconds, 1 or more; got {jc.text(interval)}."
    return ""


class FilterModule:
    """securelab.gpu_notebook notebook container filters."""

    def filters(self):
        return {"notebook_containers": notebook_containers, "notebook_drift": notebook_drift,
                "notebook_input_error": notebook_input_error, "notebook_resources": notebook_resources}
