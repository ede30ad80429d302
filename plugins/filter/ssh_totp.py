# Copyright (c) securelab.gpu_notebook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ``securelab.gpu_notebook.ssh_totp_drift``: what differs between a host and the ssh_totp role's declaration.

Documentation: ``ssh_totp_drift.yml`` next to this file (ansible-doc -t filter); ``ssh_totp_input_error.yml`` for
the role's input checks (``ssh_totp_input_error``, below).

The fast path's comparison of the ssh_totp role, in Python (it was 100 lines of Jinja in ``tasks/drift.yml``): the
host's read (host_state), the passwd database the converge would see, and the role's declaration (``spec``, built in
``vars/main.yml`` from the same variables the converge tasks use) give one reason per difference; an empty list means
the host is in sync and the converge is skipped. Whatever the read cannot tell counts as a difference.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError
from ansible_collections.securelab.gpu_notebook.plugins.filter.resources import resources_drift
from ansible_collections.securelab.gpu_notebook.plugins.module_utils import _jinja_compat as jc

# Settings ssh_totp_resources needs (the role's vars/main.yml, __ssh_totp_resource_settings).
RESOURCE_SETTINGS = ("packages", "service", "moduli", "moduli_ere", "moduli_min_bits", "host_keys",
                     "authorized_keys_dir", "secret_dir", "automation_user", "key_files")


def ssh_totp_resources(settings: object) -> list[dict]:
    """What the ssh_totp role manages as resources (plugins/filter/resources.py): its packages, ssh.service, the
    moduli check, the host keys' mode and owner, the root-owned directories of the authorized keys and the TOTP
    secrets, each account's authorized keys file (exactly the inventory's keys) and, when the automation account has
    no keys given, its key file absent.

    The role's tasks loop over this list (resources_select), its read is derived from it (resources_probe_args) and
    ssh_totp_drift compares the read with it (resources_drift). sshd_config, the PAM stack and the enrollment script
    (written, checked by sshd -t and sshd -T and rolled back together, and rendered with what OpenSSH on the host
    offers) and what lives in users' homes and the passwd database (accounts, homes, ~/.ssh, TOTP files that PAM
    rewrites) stay ssh_totp_drift's own checks.
    """
    if not isinstance(settings, Mapping) or not all(key in settings for key in RESOURCE_SETTINGS):
        missing = [key for key in RESOURCE_SETTINGS if not isinstance(settings, Mapping) or key not in settings]
        raise AnsibleFilterError(f"ssh_totp_resources: settings lack {', '.join(missing)}")
    s = settings
    akd = s["authorized_keys_dir"]
    out: list[dict] = [
        {"kind": "package", "name": list(s["packages"])},
        {"kind": "unit", "name": s["service"], "enabled": True, "active": True},
        # grep -c exits 1 when no line matches: no modulus is too short.
        {"kind": "check", "name": "moduli", "argv": ["grep", "-cE", s["moduli_ere"], s["moduli"]], "rc": 1,
         "reason": f"{s['moduli']} holds moduli shorter than {s['moduli_min_bits']} bits (or cannot be read)"},
    ]
    # Generated on the host (openssh_keypair); their mode and owner are declared here, the key pair checks are
    # ssh_totp_drift's.
    for key in s["host_keys"]:
        out += [{"kind": "file", "path": key, "mode": "0600", "host_key": True},
                {"kind": "file", "path": f"{key}.pub", "mode": "0600", "host_key": True}]
    out += [{"kind": "directory", "path": akd, "mode": "0755"},
            {"kind": "directory", "path": s["secret_dir"], "mode": "0700"}]
    # sshd reads <dir>/%u (root-owned, AuthorizedKeysFile): exactly the inventory's keys, one per line.
    out += [{"kind": "file", "path": f"{akd}/{name}", "mode": "0644", "content": content}
            for name, content in s["key_files"]]
    if s["automation_user"] not in [name for name, _content in s["key_files"]]:
        # ssh_totp_automation_user_keys empty: the account's own ~/.ssh/authorized_keys stays valid.
        out.append({"kind": "absent", "path": f"{akd}/{s['automation_user']}"})
    return out


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
    commands, lines = state.get("commands") or {}, state.get("lines") or {}
    out: list[str] = []
    for key in spec["host_keys"]:
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
    if not spec["automation_has_keys"]:
        return []  # its key file is declared absent (ssh_totp_resources)
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
    # The packages, the unit, the moduli check, the host keys' modes, the root-owned directories and key files, as
    # the role declares them (ssh_totp_resources): the generic comparison.
    out += resources_drift(state, spec["resources"])
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
    read_passwd = state.get("passwd") or {}
    for name in spec["accounts"]:
        if passwd.get(name) != read_passwd.get(name):
            out.append(f"{name}: the account changed since it was read")
    out += _automation(state, passwd, spec)
    for name in spec["present"]:
        out += _present(state, passwd, spec, name)
    for name in spec["absent"]:
        out += _absent(state, passwd, spec, name)
    return out


# The role variables ssh_totp_input_error reads (the role's vars/main.yml lists the same names as
# __ssh_totp_input_vars, and the task passes their values as a dict).
INPUT_VARS = (
    "ssh_totp_automation_user", "ssh_totp_rotate_users", "ssh_totp_window_size", "ssh_totp_scratch_codes",
    "ssh_totp_rate_limit_attempts", "ssh_totp_rate_limit_seconds", "ssh_totp_issuer", "ssh_totp_enrollment_until",
    "ssh_totp_enrollment_max_days", "ssh_totp_port", "ssh_totp_max_auth_tries", "ssh_totp_login_grace_time",
    "ssh_totp_host_key_types", "ssh_totp_rsa_host_key_bits", "ssh_totp_allowed_networks",
    "ssh_totp_extra_allowed_users", "ssh_totp_listen_addresses",
)
ACCOUNT_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
UNTIL_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")
UNTIL_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
NETWORK_RE = re.compile(r"^[0-9A-Fa-f.:]+(/[0-9]{1,3})?$")
LISTEN_RE = re.compile(r"^[0-9A-Fa-f.:\[\]]+$")
HOST_KEY_TYPES = ("ed25519", "rsa")


def _difference(items: Sequence, other: Sequence) -> list:
    """``items | difference(other)``, in the order of ``items`` (the filter's own order is a set's)."""
    out: list = []
    for item in items:
        if item not in other and item not in out:
            out.append(item)
    return out


def _in_range(value: object, low: int, high: int | None = None) -> bool:
    """``value | int`` is at least ``low`` (and at most ``high``)."""
    number = jc.to_int(value)
    return number >= low and (high is None or number <= high)


def _utc_now(now: object) -> datetime.datetime:
    """``now(utc=true)`` (naive, in UTC), or the given time (a datetime or an ISO 8601 string) for a test."""
    if now is None:
        return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    if isinstance(now, str):
        try:
            now = datetime.datetime.fromisoformat(now.replace("Z", "+00:00"))
        except ValueError:
            raise AnsibleFilterError(f"ssh_totp_input_error: now must be an ISO 8601 time, got {now!r}") from None
    if not isinstance(now, datetime.datetime):
        raise AnsibleFilterError(f"ssh_totp_input_error: now must be a datetime, got {type(now).__name__}")
    return now.astimezone(datetime.UTC).replace(tzinfo=None) if now.tzinfo else now


def _enrollment_ok(until: object, max_days: object, now: datetime.datetime) -> bool:
    """Empty, or a UTC time 'YYYY-MM-DDTHH:MM:SSZ' at most ``max_days`` days from now (a past time is fine)."""
    if jc.length(until) == 0:
        return True
    if not jc.match(UNTIL_RE, until):
        return False
    try:
        end = datetime.datetime.strptime(jc.text(until), UNTIL_FORMAT)
    except ValueError:  # in the format but not a time, such as month 13
        return False
    return (end - now).total_seconds() <= jc.to_int(max_days) * 86400


def _sshd_ok(v: Mapping) -> bool:
    types, networks = v["ssh_totp_host_key_types"], v["ssh_totp_allowed_networks"]
    users, listen = v["ssh_totp_extra_allowed_users"], v["ssh_totp_listen_addresses"]
    return (_in_range(v["ssh_totp_port"], 1, 65535) and _in_range(v["ssh_totp_max_auth_tries"], 1, 3)
            and _in_range(v["ssh_totp_login_grace_time"], 5)
            and jc.is_list(types) and "ed25519" in types and not _difference(types, HOST_KEY_TYPES)
            and _in_range(v["ssh_totp_rsa_host_key_bits"], 3072)
            and jc.is_list(networks) and all(jc.match(NETWORK_RE, network) for network in networks)
            and jc.is_list(users) and all(jc.match(ACCOUNT_RE, user) for user in users)
            and jc.is_list(listen) and all(jc.match(LISTEN_RE, address) for address in listen))


def ssh_totp_input_error(values: object, present: object, host_error: object = "", now: object = None) -> str:
    """The first problem with the ssh_totp role's input, as a message that names the variable; '' when none.

    ``values``: the role variables (INPUT_VARS) as {name: value}. ``present``: the present users of
    gpu_notebook_users as the validate_users filter returns them. ``host_error``: what the checks found on the host
    (``__ssh_totp_host_error``), reported when every variable is fine; the site playbook's input-check play passes
    '' and checks it itself. ``now``: the current time (UTC) for ssh_totp_enrollment_until, for tests.
    """
    try:
        v = dict(zip(INPUT_VARS, jc.values_of(values, INPUT_VARS), strict=True))
    except ValueError as err:
        raise AnsibleFilterError(f"ssh_totp_input_error: {err}") from None
    if isinstance(present, (str, Mapping)) or not isinstance(present, Sequence) or not all(
            isinstance(user, Mapping) for user in present):
        raise AnsibleFilterError("ssh_totp_input_error: present must be a list of users (validate_users entries)")
    now = _utc_now(now)
    user = v["ssh_totp_automation_user"]
    if not (isinstance(user, str) and jc.match(ACCOUNT_RE, user) and user != "root"):
        return ("gpu_notebook_automation_user (ssh_totp_automation_user) must be a Unix account name other than root "
                f"(root cannot log in over SSH); got {jc.to_json(user)}.")
    rotate = v["ssh_totp_rotate_users"]
    unknown = _difference(rotate if jc.is_list(rotate) else [rotate], [item.get("name") for item in present])
    if not jc.is_list(rotate) or unknown:
        return ("ssh_totp_rotate_users must list present users of gpu_notebook_users; unknown or absent: "
                f"{jc.to_json(unknown)}.")
    window, scratch, issuer = v["ssh_totp_window_size"], v["ssh_totp_scratch_codes"], v["ssh_totp_issuer"]
    attempts, seconds = v["ssh_totp_rate_limit_attempts"], v["ssh_totp_rate_limit_seconds"]
    if not (_in_range(window, 1, 21) and _in_range(scratch, 0, 10) and _in_range(attempts, 0, 100)
            and _in_range(seconds, 1, 3600) and isinstance(issuer, str) and issuer and ":" not in issuer):
        return (f"ssh_totp_window_size must be 1..21 (got {jc.text(window)}), ssh_totp_scratch_codes 0..10 "
                f"(got {jc.text(scratch)}), ssh_totp_rate_limit_attempts 0..100 (got {jc.text(attempts)}), "
                f"ssh_totp_rate_limit_seconds 1..3600 (got {jc.text(seconds)}) and ssh_totp_issuer a non-empty "
                f"string without ':' (got {jc.to_json(issuer)}).")
    until, max_days = v["ssh_totp_enrollment_until"], v["ssh_totp_enrollment_max_days"]
    if not _enrollment_ok(until, max_days, now):
        return ("ssh_totp_enrollment_until must be a UTC time 'YYYY-MM-DDTHH:MM:SSZ' at most "
                f"ssh_totp_enrollment_max_days ({jc.text(max_days)}) days from now; got {jc.to_json(until)}.")
    if not _sshd_ok(v):
        return (f"Check ssh_totp_port (1..65535, got {jc.text(v['ssh_totp_port'])}), ssh_totp_max_auth_tries (1..3, "
                f"got {jc.text(v['ssh_totp_max_auth_tries'])}), ssh_totp_login_grace_time (>= 5), "
                "ssh_totp_host_key_types (ed25519 and optionally rsa, got "
                f"{jc.to_json(v['ssh_totp_host_key_types'])}), ssh_totp_rsa_host_key_bits (>= 3072), "
                "ssh_totp_allowed_networks (addresses or CIDR networks, got "
                f"{jc.to_json(v['ssh_totp_allowed_networks'])}), ssh_totp_extra_allowed_users (account names) and "
                "ssh_totp_listen_addresses (addresses).")
    if host_error:
        return jc.text(host_error)
    return ""


class FilterModule:
    def filters(self):
        return {"ssh_totp_drift": ssh_totp_drift, "ssh_totp_input_error": ssh_totp_input_error,
                "ssh_totp_resources": ssh_totp_resources}
