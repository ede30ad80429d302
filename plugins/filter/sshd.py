# Copyright (c) securelab.gpu_notebook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ``securelab.gpu_notebook.sshd_effective_problems``: what ``sshd -T -C`` says sshd really applies.

Documentation: ``sshd_effective_problems.yml`` next to this file (ansible-doc -t filter).

One declaration of the effective sshd configuration the ssh_totp role promises, used twice: by the converge (it
fails on any problem, after writing sshd_config) and by the fast path's read (host_state runs the same ``sshd -T -C``
commands read-only; any problem is drift, so a no-op run notices an override too).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError

# The connection sshd -T -C is asked about (documentation addresses, RFC 5737).
CONNECTION = "host=client.invalid,addr=192.0.2.10,laddr=192.0.2.1"
FIXED = {
    "usepam": "yes", "permitrootlogin": "no", "passwordauthentication": "no", "permitemptypasswords": "no",
    "kbdinteractiveauthentication": "yes", "pubkeyauthentication": "yes", "loglevel": "VERBOSE",
    "x11forwarding": "no", "allowagentforwarding": "no", "permittunnel": "no",
}


def sshd_test_argv(user: str, port: int) -> list[str]:
    """The read-only command that prints the configuration sshd applies to ``user`` connecting on ``port``."""
    return ["/usr/sbin/sshd", "-T", "-C", f"user={user},{CONNECTION},lport={int(port)}"]


def _settings(stdout: str) -> dict[str, str]:
    settings: dict[str, str] = {}
    for line in stdout.splitlines():
        key, _sep, value = line.strip().partition(" ")
        if key:
            settings.setdefault(key.lower(), value)
    return settings


def _expected(user: str, present: Mapping, automation_user: str, algorithms: Mapping, keys_dir: str) -> dict:
    want = dict(FIXED)
    want["kexalgorithms"] = ",".join(algorithms["kex"])
    want["ciphers"] = ",".join(algorithms["ciphers"])
    want["macs"] = ",".join(algorithms["macs"])
    automation = user == automation_user
    want["authenticationmethods"] = "publickey" if automation else "publickey,keyboard-interactive"
    want["authorizedkeysfile"] = f"{keys_dir}/%u" + (" .ssh/authorized_keys" if automation else "")
    if user in present:
        want["allowtcpforwarding"] = "local"
        want["permitopen"] = f"127.0.0.1:{int(present[user])}"
    else:
        want["allowtcpforwarding"] = "no"
        want["permitopen"] = "none"
    return want


def sshd_effective_problems(results: object, present: object = None, automation_user: str = "",
                            algorithms: object = None, authorized_keys_dir: str = "/etc/ssh/authorized_keys",
                            max_auth_tries: int = 3, users: object = None, prefix: str = "") -> list[str]:
    """Problems in the effective configuration, one string per user and setting (empty: as promised).

    ``results`` maps a user name to the result of sshd_test_argv() (rc, stdout, stderr), as the command module or
    host_state's commands return it; ``present`` maps each notebook user to their notebook port; ``algorithms``
    holds the kex, ciphers and macs lists sshd_config names. With ``users``, the result of each of them is looked up
    as ``results[prefix + user]`` (host_state's commands, named ``sshd_T:<user>``), and a missing one is a problem.
    """
    if not isinstance(results, Mapping):
        raise AnsibleFilterError("sshd_effective_problems: the input must map user names to command results")
    present = dict(present or {})
    algorithms = dict(algorithms or {})
    if any(not isinstance(algorithms.get(k), Sequence) or isinstance(algorithms.get(k), str)
           for k in ("kex", "ciphers", "macs")):
        raise AnsibleFilterError("sshd_effective_problems: algorithms needs the lists kex, ciphers and macs")
    problems = []
    names = sorted(results) if users is None else list(users)
    for user in names:
        result = results.get(f"{prefix}{user}") if users is not None else results[user]
        if not isinstance(result, Mapping):
            problems.append(f"sshd -T for {user} was not read")
            continue
        if result.get("rc") != 0:
            err = str(result.get("stderr", "")).strip().splitlines()
            problems.append(f"sshd -T for {user} failed: {err[-1] if err else 'no output'}")
            continue
        have = _settings(str(result.get("stdout", "")))
        for key, value in _expected(user, present, automation_user, algorithms, authorized_keys_dir).items():
            if have.get(key) != value:
                problems.append(f"{user}: sshd applies {key} {have.get(key, '(unset)')}, not {value}")
        tries = have.get("maxauthtries", "")
        if not tries.isdigit() or int(tries) > int(max_auth_tries):
            problems.append(f"{user}: sshd applies maxauthtries {tries or '(unset)'}, more than {max_auth_tries}")
    return problems


class FilterModule:
    """securelab.gpu_notebook sshd filters."""

    def filters(self):
        return {"sshd_effective_problems": sshd_effective_problems, "sshd_test_argv": sshd_test_argv}
