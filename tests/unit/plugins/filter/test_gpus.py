"""Unit tests for the gpu_visibility filter (verify_gpu's per-user check)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.securelab.gpu_notebook.plugins.filter.gpus import FilterModule, gpu_visibility

G0 = "GPU-f15ae561-21b1-6003-c768-861fc285203b"
G1 = "GPU-466be1f8-6148-1a27-a450-592604f3df54"
M1 = "MIG-0b3a1c3e-7a9d-5b0c-8e4f-111111111111"
M2 = "MIG-0b3a1c3e-7a9d-5b0c-8e4f-222222222222"
HOST = (f"GPU 0: NVIDIA A10 (UUID: {G0})\n"
        f"GPU 1: NVIDIA A100-SXM4-40GB (UUID: {G1})\n"
        f"  MIG 1g.5gb      Device  0: (UUID: {M1})\n"
        f"  MIG 1g.5gb      Device  1: (UUID: {M2})\n")


def user(name, gpus, state="present"):
    return {"name": name, "gpus": gpus, "state": state}


def seen(*lines, rc=0, stderr=""):
    return {"rc": rc, "stdout": "\n".join(lines), "stderr": stderr}


def check(users, containers):
    return gpu_visibility(users, host_listing=HOST, containers=containers)


def test_registered():
    assert FilterModule().filters()["gpu_visibility"] is gpu_visibility


def test_each_user_sees_exactly_their_gpus():
    result = check(
        [user("alice", [0]), user("bob", "none"), user("carol", "all"), user("dave", [M1]), user("eve", [G1]),
         user("gone", [0], state="absent")],
        {"alice": seen(f"GPU 0: NVIDIA A10 (UUID: {G0})"),
         "bob": seen(rc=127, stderr='exec: "nvidia-smi": executable file not found in $PATH'),
         "carol": seen(f"GPU 0: A10 (UUID: {G0})", f"GPU 1: A100 (UUID: {G1})", f"  MIG 1g.5gb Device 0: (UUID: {M1})"),
         "dave": seen(f"GPU 0: A100 (UUID: {G1})", f"  MIG 1g.5gb Device 0: (UUID: {M1})"),
         "eve": seen(f"GPU 0: A100 (UUID: {G1})", f"  MIG 1g.5gb Device 0: (UUID: {M1})",
                     f"  MIG 1g.5gb Device 1: (UUID: {M2})")})
    assert result["errors"] == []
    assert result["report"] == [
        f"alice (gpus [0]): {G0}", "bob (gpus none): no GPU", f"carol (gpus all): {G1}, {G0}, {M1}",
        f"dave (gpus [{M1}]): {G1}, {M1}", f"eve (gpus [{G1}]): {G1}, {M1}, {M2}"]


def test_inside_the_container_indices_start_at_zero_again():
    # Docker gives alice the host's GPU 1; nvidia-smi in her container calls it GPU 0. UUIDs are compared.
    result = check([user("alice", [1])], {"alice": seen(f"GPU 0: A100 (UUID: {G1})")})
    assert result["errors"] == []


@pytest.mark.parametrize(("users", "containers", "error"), [
    ([user("bob", "none")], {"bob": seen(f"GPU 0: A10 (UUID: {G0})")},
     f"bob (gpus none): sees GPUs not assigned to it: {G0}"),
    ([user("alice", [0])], {"alice": seen(f"GPU 0: A10 (UUID: {G0})", f"GPU 1: A100 (UUID: {G1})")},
     f"alice (gpus [0]): sees GPUs not assigned to it: {G1}"),
    ([user("alice", [0, 1])], {"alice": seen(f"GPU 0: A10 (UUID: {G0})")},
     f"alice (gpus [0, 1]): does not see its GPUs: {G1}"),
    ([user("dave", [M1])], {"dave": seen(f"GPU 0: A100 (UUID: {G1})", f"  MIG 1g.5gb Device 0: (UUID: {M2})")},
     f"dave (gpus [{M1}]): sees GPUs not assigned to it: {M2}"),
    ([user("alice", [0])], {"alice": seen(rc=255, stderr="Failed to initialize NVML: Unknown Error")},
     "alice (gpus [0]): the container lost its GPUs (Failed to initialize NVML)"),
    ([user("alice", [0])], {}, "alice (gpus [0]): no running notebook container"),
    ([user("alice", [7])], {"alice": seen(rc=127)}, "alice (gpus [7]): the host has no GPU 7"),
    ([user("alice", [0])], {"alice": seen(rc=9, stderr="boom")},
     "alice (gpus [0]): nvidia-smi -L in the container failed (rc=9)"),
])
def test_wrong_visibility_is_an_error_naming_the_user(users, containers, error):
    errors = check(users, containers)["errors"]
    assert errors, "expected an error"
    assert any(e.startswith(error) for e in errors), errors


def test_rejects_a_non_list():
    with pytest.raises(AnsibleFilterError, match="expects the normalised gpu_notebook_users"):
        gpu_visibility({"name": "alice"})
