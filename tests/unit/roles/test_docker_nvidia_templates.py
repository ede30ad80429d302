"""Render what docker_engine and nvidia_runtime write, from the role defaults and vars.

molecule/docker covers Debian's docker.io against a stand-in NVIDIA repository; the docker-ce
source (Docker's repository is unreachable from the test machines) and the daemon.json key sets
for other variable combinations are checked here without a host.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
DOCKER = ROOT / "roles" / "docker_engine"
NVIDIA = ROOT / "roles" / "nvidia_runtime"


CASES = {
    "defaults": {},
    "live_restore_off": {"docker_engine_live_restore": False},
    "userns": {"docker_engine_userns_remap": "default"},
    "journald": {"docker_engine_log_driver": "journald"},
    "no_logging": {"docker_engine_log_driver": ""},
    "options": {"docker_engine_log_driver": "",
                "docker_engine_daemon_options": {"log-opts": {"tag": "x"}, "dns": ["10.0.0.2"]}},
    "nvidia_full": {"nvidia_runtime_default_runtime": True, "nvidia_runtime_cdi": True,
                    "nvidia_runtime_toolkit_version": "1.17.8-1",
                    "nvidia_runtime_repo_base_url": "https://mirror.lab/nvidia",
                    "nvidia_runtime_repo_channel": "experimental"},
}
FILES = {
    "docker.sources": f"{DOCKER}/templates/docker.sources.j2",
    "docker.list": f"{DOCKER}/templates/docker.list.j2",
    "nvidia.list": f"{NVIDIA}/templates/nvidia-container-toolkit.list.j2",
    "preferences": f"{NVIDIA}/templates/preferences.j2",
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    """One ansible-playbook run renders every case (one inventory host per case)."""
    tmp = tmp_path_factory.mktemp("render")
    hosts = {name: dict({"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                         "docker_engine_repo_suite": "bookworm"}, **extra) for name, extra in CASES.items()}
    # role defaults as inventory group vars, so each case (a host) can override them
    defaults = {}
    for role in (DOCKER, NVIDIA):
        defaults.update(yaml.safe_load((role / "defaults" / "main.yml").read_text()))
    (tmp / "inventory.json").write_text(json.dumps({"all": {"vars": defaults, "hosts": hosts}}))
    tasks = [{"ansible.builtin.file": {"path": f"{tmp}/{{{{ inventory_hostname }}}}", "state": "directory",
                                       "mode": "0755"}}]
    tasks += [{"ansible.builtin.template": {"src": src, "dest": f"{tmp}/{{{{ inventory_hostname }}}}/{name}",
                                            "mode": "0644"}} for name, src in FILES.items()]
    for name, var in (("docker.json", "__docker_engine_daemon_keys"), ("nvidia.json", "__nvidia_runtime_daemon_keys")):
        tasks.append({"ansible.builtin.copy": {"content": f"{{{{ {var} | to_json }}}}", "mode": "0644",
                                               "dest": f"{tmp}/{{{{ inventory_hostname }}}}/{name}"}})
    play = [{"hosts": "all", "gather_facts": False,
             "vars_files": [f"{DOCKER}/vars/main.yml", f"{NVIDIA}/vars/main.yml"],
             "tasks": tasks}]
    (tmp / "render.yml").write_text(json.dumps(play))
    bindir = Path(sys.executable).parent
    subprocess.run([str(bindir / "ansible-playbook"), "-i", str(tmp / "inventory.json"), "-f", "8",
                    str(tmp / "render.yml")], check=True, capture_output=True, text=True)
    return {case: {p.name: p.read_text() for p in (tmp / case).iterdir()} for case in CASES}


def body(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_defaults(rendered: dict) -> None:
    out = rendered["defaults"]
    assert body(out["docker.sources"]) == [
        "Types: deb",
        "URIs: https://download.docker.com/linux/debian",
        "Suites: bookworm",
        "Components: stable",
        "Signed-By: /etc/apt/keyrings/docker.asc",
    ]
    assert body(out["docker.list"]) == [
        "deb [signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/debian bookworm stable"
    ]
    # NVIDIA's documented flat repository line; apt expands $(ARCH) itself
    assert body(out["nvidia.list"]) == [
        "deb [signed-by=/etc/apt/keyrings/nvidia-container-toolkit.asc] "
        "https://nvidia.github.io/libnvidia-container/stable/deb/$(ARCH) /"
    ]
    assert json.loads(out["docker.json"]) == {"log-driver": "json-file",
                                              "log-opts": {"max-size": "10m", "max-file": "3"}}
    assert json.loads(out["nvidia.json"]) == {"runtimes": {"nvidia": {"path": "nvidia-container-runtime", "args": []}}}


LOGS = {"log-driver": "json-file", "log-opts": {"max-size": "10m", "max-file": "3"}}


@pytest.mark.parametrize(
    ("case", "docker_keys"),
    [
        ("live_restore_off", dict(LOGS, **{"live-restore": False})),
        ("userns", dict(LOGS, **{"userns-remap": "default"})),
        ("journald", {"log-driver": "journald"}),  # no json-file options for another driver
        ("no_logging", {}),
        ("options", {"log-opts": {"tag": "x"}, "dns": ["10.0.0.2"]}),
    ],
)
def test_docker_keys(rendered: dict, case: str, docker_keys: dict) -> None:
    assert json.loads(rendered[case]["docker.json"]) == docker_keys


def test_nvidia_default_runtime_cdi_and_pin(rendered: dict) -> None:
    out = rendered["nvidia_full"]
    assert json.loads(out["nvidia.json"]) == {
        "runtimes": {"nvidia": {"path": "nvidia-container-runtime", "args": []}},
        "default-runtime": "nvidia",
        "features": {"cdi": True},
    }
    assert body(out["nvidia.list"])[0].endswith("] https://mirror.lab/nvidia/experimental/deb/$(ARCH) /")
    assert body(out["preferences"]) == [
        "Package: nvidia-container-toolkit nvidia-container-toolkit-base libnvidia-container-tools "
        "libnvidia-container1",
        "Pin: version 1.17.8-1",
        "Pin-Priority: 1001",
    ]
