"""Unit tests for sshd_effective_problems: one declaration of what sshd must apply, for the converge and the read."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.securelab.gpu_notebook.plugins.filter.sshd import (
    FilterModule,
    sshd_effective_problems,
    sshd_test_argv,
)

ALGOS = {"kex": ["sntrup761x25519-sha512", "curve25519-sha256"], "ciphers": ["chacha20-poly1305@openssh.com"],
         "macs": ["hmac-sha2-512-etm@openssh.com"]}
EXPECTED = {"present": {"alice": 8801}, "automation_user": "ansible", "algorithms": ALGOS,
            "authorized_keys_dir": "/etc/ssh/authorized_keys"}


def sshd_t(user, **override):
    """What sshd -T -C prints for ``user`` with the role's sshd_config (a few unrelated lines too)."""
    automation = user == "ansible"
    settings = {
        "port": "22", "usepam": "yes", "permitrootlogin": "no", "passwordauthentication": "no",
        "permitemptypasswords": "no", "kbdinteractiveauthentication": "yes", "pubkeyauthentication": "yes",
        "loglevel": "VERBOSE", "maxauthtries": "3", "x11forwarding": "no", "allowagentforwarding": "no",
        "permittunnel": "no", "kexalgorithms": ",".join(ALGOS["kex"]), "ciphers": ",".join(ALGOS["ciphers"]),
        "macs": ",".join(ALGOS["macs"]),
        "authenticationmethods": "publickey" if automation else "publickey,keyboard-interactive",
        "authorizedkeysfile": "/etc/ssh/authorized_keys/%u" + (" .ssh/authorized_keys" if automation else ""),
        "allowtcpforwarding": "local" if user == "alice" else "no",
        "permitopen": "127.0.0.1:8801" if user == "alice" else "none",
    }
    settings.update(override)
    return {"rc": 0, "stdout": "\n".join(f"{k} {v}" for k, v in settings.items() if v is not None), "stderr": ""}


def good():
    return {u: sshd_t(u) for u in ("alice", "ansible", "securelab-nobody")}


def test_the_role_s_configuration_has_no_problem():
    assert sshd_effective_problems(good(), **EXPECTED) == []


@pytest.mark.parametrize(("user", "key", "value"), [
    ("alice", "passwordauthentication", "yes"),        # a Match block or drop-in turns passwords back on
    ("alice", "authenticationmethods", "publickey"),   # the code is no longer asked
    ("alice", "permitopen", "any"),                    # alice may forward anywhere
    ("securelab-nobody", "allowtcpforwarding", "yes"),
    ("ansible", "authenticationmethods", "any"),
    ("alice", "kexalgorithms", "diffie-hellman-group1-sha1"),
    ("alice", "permitrootlogin", "without-password"),
    ("alice", "loglevel", None),
])
def test_an_override_is_named(user, key, value):
    results = good()
    results[user] = sshd_t(user, **{key: value})
    problems = sshd_effective_problems(results, **EXPECTED)
    want = sshd_t(user)["stdout"].split(key + " ")[1].splitlines()[0]
    assert problems == [f"{user}: sshd applies {key} {value or '(unset)'}, not {want}"]


def test_too_many_auth_tries():
    results = good()
    results["alice"] = sshd_t("alice", maxauthtries="6")
    assert sshd_effective_problems(results, **EXPECTED) == ["alice: sshd applies maxauthtries 6, more than 3"]


def test_sshd_refusing_its_configuration_is_a_problem():
    results = good()
    err = "/etc/ssh/sshd_config line 3: Bad configuration option: Frob"
    results["ansible"] = {"rc": 255, "stdout": "", "stderr": err}
    assert sshd_effective_problems(results, **EXPECTED) == [
        "sshd -T for ansible failed: /etc/ssh/sshd_config line 3: Bad configuration option: Frob"]


def test_host_state_commands_by_name():
    commands = {f"sshd_T:{u}": r for u, r in good().items()}
    commands["kex"] = {"rc": 0, "stdout": "curve25519-sha256", "stderr": ""}
    users = ["alice", "ansible", "securelab-nobody"]
    assert sshd_effective_problems(commands, users=users, prefix="sshd_T:", **EXPECTED) == []
    del commands["sshd_T:alice"]
    problems = sshd_effective_problems(commands, users=users, prefix="sshd_T:", **EXPECTED)
    assert problems == ["sshd -T for alice was not read"]


def test_argv():
    want = "user=alice,host=client.invalid,addr=192.0.2.10,laddr=192.0.2.1,lport=2222"
    assert sshd_test_argv("alice", 2222) == ["/usr/sbin/sshd", "-T", "-C", want]


def test_bad_input():
    with pytest.raises(AnsibleFilterError, match="map user names"):
        sshd_effective_problems(["alice"], **EXPECTED)
    with pytest.raises(AnsibleFilterError, match="algorithms"):
        sshd_effective_problems(good(), present={}, automation_user="ansible", algorithms={"kex": "x"})


def test_registered():
    assert set(FilterModule().filters()) == {"sshd_effective_problems", "sshd_test_argv"}
