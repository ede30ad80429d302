# Copyright: securelab maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter of the verify_gpu playbook: which GPUs each user's notebook container sees, against what was assigned.

Documentation: ``gpu_visibility.yml`` next to this file (ansible-doc -t filter).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError

# nvidia-smi -L:  "GPU 0: NVIDIA A10 (UUID: GPU-...)" and, under a GPU in MIG mode,
#                 "  MIG 1g.5gb     Device  0: (UUID: MIG-...)".
GPU_LINE = re.compile(r"^GPU (\d+): .*\(UUID: (GPU-[0-9a-fA-F-]+)\)\s*$")
MIG_LINE = re.compile(r"^\s+MIG .*\(UUID: (MIG-[^)\s]+)\)\s*$")
LOST = "Failed to initialize NVML"


def _listing(text: str) -> tuple[dict[int, str], dict[str, str]]:
    """GPU index -> GPU UUID, and MIG UUID -> its GPU's UUID."""
    gpus: dict[int, str] = {}
    migs: dict[str, str] = {}
    parent = None
    for line in (text or "").splitlines():
        gpu = GPU_LINE.match(line)
        if gpu:
            parent = gpu.group(2)
            gpus[int(gpu.group(1))] = parent
            continue
        mig = MIG_LINE.match(line)
        if mig and parent:
            migs[mig.group(1)] = parent
    return gpus, migs


def _label(gpus: object) -> str:
    return gpus if isinstance(gpus, str) else "[" + ", ".join(str(g) for g in gpus) + "]"


def gpu_visibility(users, host_listing="", containers=None):
    """Per present user: the GPUs their container lists, and what is wrong with that (empty when nothing)."""
    if isinstance(users, (str, bytes, Mapping)) or not isinstance(users, Sequence):
        raise AnsibleFilterError("gpu_visibility: expects the normalised gpu_notebook_users (a list)")
    containers = containers or {}
    host_gpus, host_migs = _listing(host_listing)
    report: list[str] = []
    errors: list[str] = []
    for user in users:
        if user.get("state", "present") != "present":
            continue
        name, assigned = user["name"], user.get("gpus", "none")
        where = f"{name} (gpus {_label(assigned)})"
        result = containers.get(name)
        if not isinstance(result, Mapping):
            errors.append(f"{where}: no running notebook container")
            continue
        output = f"{result.get('stdout', '')}\n{result.get('stderr', '')}"
        if LOST in output:
            errors.append(f"{where}: the container lost its GPUs ({LOST}); recreate it (docker rm -f, then the "
                          "site playbook) and see docs/nvidia_runtime.md (the /dev/char links)")
            continue
        if int(result.get("rc", 1)) == 0:
            seen_gpus, seen_migs = _listing(result.get("stdout", ""))
            seen = set(seen_gpus.values()) | set(seen_migs)
        elif int(result.get("rc", 1)) in (126, 127) or "not found" in output:
            seen = set()  # no nvidia-smi in the container: the runtime injected no GPU
        else:
            errors.append(f"{where}: nvidia-smi -L in the container failed (rc={result.get('rc')}): "
                          f"{output.strip()[:200]}")
            continue
        if assigned == "all":
            want, allowed = set(host_gpus.values()), set(host_migs)
        elif assigned == "none":
            want, allowed = set(), set()
        else:
            want = set()
            for gpu in assigned:
                if isinstance(gpu, int):
                    if gpu not in host_gpus:
                        errors.append(f"{where}: the host has no GPU {gpu} (nvidia-smi -L lists "
                                      f"{sorted(host_gpus) or 'none'})")
                    else:
                        want.add(host_gpus[gpu])
                else:
                    want.add(gpu)
            # A MIG device comes with its GPU's line; a GPU in MIG mode with its MIG devices.
            allowed = {host_migs[m] for m in want if m in host_migs}
            allowed |= {m for m, p in host_migs.items() if p in want}
        extra = sorted(seen - want - allowed)
        missing = sorted(want - seen)
        report.append(f"{where}: {', '.join(sorted(seen)) or 'no GPU'}")
        if extra:
            errors.append(f"{where}: sees GPUs not assigned to it: {', '.join(extra)}")
        if missing:
            errors.append(f"{where}: does not see its GPUs: {', '.join(missing)}")
    return {"report": report, "errors": errors}


class FilterModule:
    def filters(self):
        return {"gpu_visibility": gpu_visibility}
