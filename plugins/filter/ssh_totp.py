# Copyright (c) securelab.gpu_notebook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ``securelab.gpu_notebook.ssh_totp_drift``: what differs between a host and the ssh_totp role's declaration.

Documentation: ``ssh_totp_drift.yml`` next to this file (ansible-doc -t filter).

The fast path's comparison of the ssh_totp role, in Python (it was 100 lines of Jinja in ``tasks/drift.yml``): the
host's read (host_state), the passwd database the converge would see, and the role's declaration (``spec``, built in
``vars/main.yml`` from the same variables the converge tasks use) give one reason per difference; an empty list means
the host is in sync and the converge is skipped. Whatever the read cannot tell counts as a difference.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


def _sha1(text: str) -> str:
    """The checksum host_state (like Ansible's stat) gives a file: SHA-1 of its bytes, compared, not a secret."""
    return hashlib.sha1(str(text).encode("utf-8"), usedforsecurity=False).hexdigest()


def _info(files: Mapping, path: str) -> Mapping:
    return files.get(path) or {}


def _root_file(files: Mapping, path: str, mode: str, checksum: str) -> list[str]:
    i = _info(files, path)
    ok = (i.get("exists", False) and i.get("type") == "file" and i.get("mode") == mode and i.get("uid") == 0
          and i.get("gid") == 0 and (checksum == "" or i.get("checksum") == checksum))
    return [] if ok else [f"{path} differs (content, mode or owner)"]


def _root_dir(files: Mapping, path: str, mode: str, reason: str) -> list[str]:
    d = _info(files, path)
    ok = d.get("exists", False) and d.get("type") == "directory" and d.get("mode") == mode and d.get("uid") == 0 \
        and d.get("gid") == 0
    return [] if ok else [reason]


def _ssh_dir(files: Mapping, path: str, account: Mapping) -> list[str]:
    """~/.ssh: kept 0700 and the user's when it is a directory (user_dir leaves a link alone, with a warning)."""
    i = _info(files, path)
    if i.get("type", "") == "directory" and [i.get("mode"), i.get("uid"), i.get("gid")] != [
            "0700", account.get("uid"), account.get("gid")]:
        return [f"{path}: not 0700 and the user's"]
    return []


def _exists_or_unknown(files: Mapping, path: str) -> bool:
    return (files.get(path) or {"exists": True}).get("exists", True)


def _host_keys(state: Mapping, spec: Mapping) -> list[str]:
    files, commands, lines = state.get("files") or {}, state.get("commands") or {}, state.get("lines") or {}
    out: list[str] = []
    for key in spec["host_keys"]:
        out += _root_file(files, key, "0600", "") + _root_file(files, key + ".pub", "0600", "")
        pub_cmd = commands.get("pub:" + key) or {}
        derived = (pub_cmd.get("stdout") or "").split()[:2]
        pub = ((lines.get(key + ".pub") or []) + [""])[0].split()[:2]
        bits = ((commands.get("bits:" + key) or {}).get("stdout") or "").split()
        if pub_cmd.get("rc", 1) != 0 or len(derived) != 2 or derived != pub:
            out.append(f"{key}.pub does not match the private key")
        kind = derived[0] if derived else ""
        if key.endswith("_rsa_key") and not (kind == "ssh-rsa" and (bits or ["0"])[0] == str(spec["rsa_bits"])):
            out.append(f"{key} is not a {spec['rsa_bits']}-bit RSA key")
        if key.endswith("_ed25519_key") and kind != "ssh-ed25519":
            out.append(f"{key} is not an ed25519 key")
    return out


def _automation(state: Mapping, passwd: Mapping, spec: Mapping) -> list[str]:
    files, name = state.get("files") or {}, spec["automation_user"]
    keys_file = f"{spec['authorized_keys_dir']}/{name}"
    if not spec["automation_has_keys"]:
        return [f"{keys_file} still present (ssh_totp_automation_user_keys is empty)"] \
            if _exists_or_unknown(files, keys_file) else []
    account = (state.get("accounts") or {}).get(name) or {}
    if not account.get("exists") or name not in passwd:
        return [f"{name}: account missing"]
    home = _info(files, passwd[name][4])
    if account.get("shell") != spec["shell"] or not home.get("exists", False) \
            or [home.get("uid"), home.get("gid")] != [account.get("uid"), account.get("gid")]:
        return [f"{name}: shell, home or its owner differs"]
    if int(str(home.get("mode") or "0"), 8) & 0o022:  # sshd's StrictModes refuses the account's own keys then
        return [f"{passwd[name][4]}: writable by group or others"]
    return _ssh_dir(files, passwd[name][4] + "/.ssh", account)


def _present(state: Mapping, passwd: Mapping, spec: Mapping, name: str) -> list[str]:
    files = state.get("files") or {}
    account = (state.get("accounts") or {}).get(name) or {}
    if not account.get("exists") or name not in passwd:
        return [f"{name}: account missing"]
    out: list[str] = []
    home = passwd[name][4]
    if account.get("shell") != (spec["nologin"] if spec["tunnel_only"] else spec["shell"]):
        out.append(f"{name}: shell differs")
    if account.get("expires") is not None:
        out.append(f"{name}: account expires")
    i = _info(files, home)
    if not (i.get("exists", False) and i.get("type") == "directory" and i.get("mode") == "0750"
            and i.get("uid") == account.get("uid") and i.get("gid") == account.get("gid")):
        out.append(f"{home}: missing, or wrong type, mode or owner")
    out += _ssh_dir(files, home + "/.ssh", account)
    totp = (state.get("totp_files") or {}).get(f"{spec['secret_dir']}/{name}") or {}
    if not totp.get("valid", False):
        out.append(f"{name}: TOTP secret missing or invalid ({str(totp.get('problem', 'not read')).replace(';', ',')})")
    if name in spec["rotate_users"]:
        out.append(f"{name}: TOTP secret rotation asked (ssh_totp_rotate_users)")
    return out


def _absent(state: Mapping, passwd: Mapping, spec: Mapping, name: str) -> list[str]:
    files = state.get("files") or {}
    account = (state.get("accounts") or {}).get(name) or {}
    if not account.get("exists"):
        return []
    if spec["remove_absent_accounts"]:
        return [f"{name}: absent, but the account still exists"]
    out: list[str] = []
    home = passwd[name][4] if name in passwd else ""
    if name not in passwd:
        out.append(f"{name}: absent, account not read")
    if _exists_or_unknown(files, f"{spec['authorized_keys_dir']}/{name}"):
        out.append(f"{name}: absent, but has authorized keys")
    legacy = files.get(f"{home}/{spec['legacy_secret_file']}") or {"exists": True}
    if _exists_or_unknown(files, f"{spec['secret_dir']}/{name}") \
            or (legacy.get("exists", True) and legacy.get("type", "file") != "directory"):
        out.append(f"{name}: absent, but has a TOTP secret")
    if not account.get("locked") or account.get("expires") != 1 or account.get("shell") != spec["nologin"]:
        out.append(f"{name}: absent, but not locked, expired and nologin")
    if ((state.get("commands") or {}).get("pgrep:" + name) or {}).get("rc", 0) != 1:
        out.append(f"{name}: absent, but has processes")
    return out


def ssh_totp_drift(state: Mapping, passwd: Mapping, spec: Mapping, effective: list | None = None,
                   want: Mapping | None = None) -> list[str]:
    """One reason per difference between the host's read and the role's declaration; empty when in sync."""
    if not isinstance(state, Mapping) or not isinstance(spec, Mapping):
        raise AnsibleFilterError("ssh_totp_drift: the read and spec must be dicts")
    passwd = passwd if isinstance(passwd, Mapping) else {}
    want = want or {}
    files = state.get("files") or {}
    out: list[str] = []
    if spec["lockout_refused"]:
        out.append("the lockout check refuses this connection (the converge explains)")
    if spec["check_lockout"] and not spec["automation_has_keys"] and not spec["automation_keys_size"]:
        out.append(f"{spec['automation_user']} would have no key (the converge refuses)")
    out += [str(p) for p in effective or []]
    packages = state.get("packages") or {}
    out += [f"package {p} missing" for p in spec["packages"] if packages.get(p) is None]
    unit = (state.get("units") or {}).get(spec["service"]) or {}
    if unit.get("unit_file_state", "") != "enabled" or unit.get("active_state", "") != "active":
        out.append(f"{spec['service']} not enabled and active")
    out += _root_file(files, spec["sshd_config"], "0644", want.get("sshd", ""))
    out += _root_file(files, spec["pam_config"], "0644", want.get("pam", ""))
    script = spec["enrollment_script"]
    if spec["enrollment"]:
        parent = script.rsplit("/", 1)[0]
        out += _root_dir(files, parent, "0755", f"{parent} differs")
        out += _root_file(files, script, "0755", want.get("script", ""))
    elif _exists_or_unknown(files, script):
        out.append(f"{script} still present")
    out += _host_keys(state, spec)
    if ((state.get("commands") or {}).get("moduli") or {}).get("rc", 0) != 1:
        out.append(f"{spec['moduli']} holds moduli shorter than {spec['moduli_min_bits']} bits (or cannot be read)")
    read_passwd = state.get("passwd") or {}
    for name in spec["accounts"]:
        if passwd.get(name) != read_passwd.get(name):
            out.append(f"{name}: the account changed since it was read")
    akd = spec["authorized_keys_dir"]
    out += _root_dir(files, akd, "0755", f"{akd}: missing, or wrong type, mode or owner")
    out += _root_dir(files, spec["secret_dir"], "0700", f"{spec['secret_dir']}: missing, or wrong type, mode or owner")
    for name, content in spec["key_files"]:  # the same [name, content] pairs users.yml writes
        out += _root_file(files, f"{akd}/{name}", "0644", _sha1(content))
    out += _automation(state, passwd, spec)
    for name in spec["present"]:
        out += _present(state, passwd, spec, name)
    for name in spec["absent"]:
        out += _absent(state, passwd, spec, name)
    return out


class FilterModule:
    def filters(self):
        return {"ssh_totp_drift": ssh_totp_drift}
