# Copyright: securelab maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ``securelab.gpu_notebook.validate_users``: check and normalise ``gpu_notebook_users``.

Documentation: ``validate_users.yml`` next to this file (ansible-doc -t filter).
Both the ssh_totp and the notebook role call it, so a bad entry is refused with the same message
(naming the exact variable, e.g. ``gpu_notebook_users[1].notebook_port``) before any host changes.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import struct
from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError

# Debian's adduser NAME_REGEX (without the trailing-$ machine accounts) and useradd's 32-char limit.
NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")

# Accounts Debian (base, openssh, docker, systemd, chrony, fail2ban...) creates or that mean
# something to the system. The role additionally refuses any existing account with a UID < 1000.
RESERVED_NAMES = frozenset(
    """
    root daemon bin sys sync games man lp mail news uucp proxy www-data backup list irc gnats _apt
    nobody nogroup systemd-network systemd-resolve systemd-timesync systemd-coredump systemd-journal
    messagebus sshd _chrony chrony polkitd avahi dnsmasq tss uuidd tcpdump statd _rpc docker
    ntp ntpsec postfix admin administrator operator adm sudo wheel staff users shadow utmp tty disk
    kmem dialout cdrom floppy audio video plugdev netdev input render sgx kvm ssh ssl-cert
    jupyter notebook
    """.split()
)

KNOWN_USER_KEYS = frozenset({"name", "state", "ssh_public_keys", "notebook_password", "notebook_port", "gpus"})
STATES = ("present", "absent")
PORT_MIN = 1024
PORT_MAX = 65535
RSA_MIN_BITS = 2048

# Public key types sshd accepts in authorized_keys that this collection allows (no DSA, no certs).
KEY_TYPES = frozenset(
    {
        "ssh-ed25519",
        "ssh-rsa",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com",
    }
)
SK_KEY_TYPES = frozenset({"sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com"})


class UserError(ValueError):
    """A problem with one value; str() is the message (never contains a secret)."""


def _read_string(blob: bytes, offset: int) -> tuple[bytes, int]:
    """Read one SSH wire-format string (uint32 length + bytes) at offset."""
    if offset + 4 > len(blob):
        raise UserError("truncated key data")
    (length,) = struct.unpack(">I", blob[offset : offset + 4])
    end = offset + 4 + length
    if end > len(blob):
        raise UserError("truncated key data")
    return blob[offset + 4 : end], end


def parse_public_key(line: object) -> dict:
    """Parse one authorized_keys line ``TYPE BASE64 [COMMENT]``.

    Returns ``{"type", "blob", "comment", "line"}`` where ``line`` is the normalised
    ``TYPE BASE64 [COMMENT]`` (single spaces). Raises UserError on anything sshd would reject
    or that this collection refuses (options prefix, DSA, certificates, RSA < 2048 bits).
    """
    if not isinstance(line, str):
        raise UserError(f"must be a string (one authorized_keys line), got {type(line).__name__}")
    text = line.strip()
    if not text:
        raise UserError("is empty")
    if "\n" in text or "\r" in text:
        raise UserError("must be a single line (one key per list entry)")
    fields = text.split(None, 2)
    key_type = fields[0]
    if key_type not in KEY_TYPES:
        if len(fields) > 1 and fields[1] in KEY_TYPES:
            raise UserError(
                "authorized_keys options before the key type are not accepted "
                "(the role sets the options itself); give 'TYPE BASE64 [COMMENT]'"
            )
        raise UserError(
            f"unknown or refused key type {key_type[:40]!r}; expected one of {', '.join(sorted(KEY_TYPES))}"
        )
    if len(fields) < 2:
        raise UserError(f"{key_type} key has no base64 key data")
    data = fields[1]
    try:
        blob = base64.b64decode(data.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise UserError(f"{key_type} key data is not valid base64") from None
    if not blob:
        raise UserError(f"{key_type} key data is empty")
    embedded, offset = _read_string(blob, 0)
    if embedded != key_type.encode("ascii"):
        raise UserError(
            f"key type {key_type} does not match the type inside the key data "
            f"({embedded[:40].decode('ascii', 'replace')!r})"
        )
    _check_key_body(key_type, blob, offset)
    comment = fields[2].strip() if len(fields) > 2 else ""
    normalised = f"{key_type} {data}" + (f" {comment}" if comment else "")
    return {"type": key_type, "blob": data, "comment": comment, "line": normalised}


def _check_key_body(key_type: str, blob: bytes, offset: int) -> None:
    """Check the fields after the embedded type have the sizes the key type needs."""
    if key_type in ("ssh-ed25519", "sk-ssh-ed25519@openssh.com"):
        pub, offset = _read_string(blob, offset)
        if len(pub) != 32:
            raise UserError(f"{key_type} key data holds a {len(pub)}-byte key, expected 32")
    elif key_type == "ssh-rsa":
        _exponent, offset = _read_string(blob, offset)
        modulus, offset = _read_string(blob, offset)
        bits = int.from_bytes(modulus, "big").bit_length()
        if bits < RSA_MIN_BITS:
            raise UserError(f"ssh-rsa key has {bits} bits, at least {RSA_MIN_BITS} are required")
    else:  # ecdsa-sha2-<curve> and sk-ecdsa-sha2-nistp256@openssh.com
        curve, offset = _read_string(blob, offset)
        expected = key_type.split("@")[0].rsplit("-", 1)[1].encode("ascii")
        if curve != expected:
            raise UserError(f"{key_type} key data names curve {curve[:20]!r}, expected {expected.decode()}")
        _point, offset = _read_string(blob, offset)
    if key_type in SK_KEY_TYPES:
        _application, offset = _read_string(blob, offset)
    if offset != len(blob):
        raise UserError(f"{key_type} key data has {len(blob) - offset} trailing bytes")


def _port(value: object) -> int:
    if isinstance(value, bool):
        raise UserError(f"must be an integer {PORT_MIN}..{PORT_MAX}, got a boolean")
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,5}", value.strip()):
        value = int(value.strip())
    if not isinstance(value, int):
        raise UserError(f"must be an integer {PORT_MIN}..{PORT_MAX}, got {type(value).__name__}")
    if not PORT_MIN <= value <= PORT_MAX:
        raise UserError(f"must be an integer {PORT_MIN}..{PORT_MAX}, got {value}")
    return value


# What nvidia-smi -L prints: GPU-<uuid> for a GPU, MIG-<uuid> for a MIG device (MIG-GPU-<uuid>/<gi>/<ci> on
# drivers before R470). Docker passes them to the NVIDIA runtime as device IDs, like indices.
_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
GPU_ID_RE = re.compile(rf"^(GPU-{_UUID}|MIG-{_UUID}|MIG-GPU-{_UUID}/[0-9]+/[0-9]+)$")


def _gpus(value: object) -> str | list[int | str]:
    if isinstance(value, str):
        if value in ("all", "none"):
            return value
        raise UserError(f"must be 'all', 'none' or a list of GPU indices or GPU-/MIG- UUIDs, got {value[:40]!r}")
    if isinstance(value, Sequence):
        result: list[int | str] = []
        for index, gpu in enumerate(value):
            if isinstance(gpu, str) and gpu.strip().isdigit():
                gpu = int(gpu.strip())
            elif isinstance(gpu, str) and GPU_ID_RE.match(gpu.strip()):
                gpu = gpu.strip()
            elif isinstance(gpu, bool) or not isinstance(gpu, int) or gpu < 0:
                raise UserError(f"[{index}] must be a non-negative integer GPU index or a GPU-/MIG- UUID "
                                f"(as nvidia-smi -L prints it), got {str(gpu)[:60]!r}")
            if gpu in result:
                raise UserError(f"[{index}] duplicate GPU {gpu}")
            result.append(gpu)
        return result
    raise UserError(f"must be 'all', 'none' or a list of GPU indices or GPU-/MIG- UUIDs, got {type(value).__name__}")


def _keys(value: object, present: bool) -> list[str]:
    if value is None:
        value = []
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise UserError(f"must be a list of authorized_keys lines, got {type(value).__name__}")
    if present and not value:
        raise UserError("a present user needs at least one public key")
    lines: list[str] = []
    blobs: list[str] = []
    for index, line in enumerate(value):
        try:
            parsed = parse_public_key(line)
        except UserError as err:
            raise UserError(f"[{index}]: {err}") from None
        if parsed["blob"] in blobs:
            raise UserError(f"[{index}]: duplicate of key [{blobs.index(parsed['blob'])}]")
        blobs.append(parsed["blob"])
        lines.append(parsed["line"])
    return lines


def validate_users(
    users: object,
    automation_user: str | None = None,
    reserved: Sequence[str] | None = None,
    include_secrets: bool = True,
    variable: str = "gpu_notebook_users",
) -> list[dict]:
    """Validate gpu_notebook_users and return the normalised list (see validate_users.yml)."""
    try:
        return _validate(users, automation_user, reserved, include_secrets, variable)
    except UserError as err:
        raise AnsibleFilterError(str(err)) from None


def _validate(users, automation_user, reserved, include_secrets, variable) -> list[dict]:
    if users is None:
        users = []
    if isinstance(users, (str, bytes, Mapping)) or not isinstance(users, Sequence):
        raise UserError(f"{variable}: must be a list of user entries (dicts), got {type(users).__name__}")
    reserved_names = set(RESERVED_NAMES) | {str(name) for name in (reserved or [])}
    if automation_user:
        reserved_names.add(str(automation_user))

    result: list[dict] = []
    names: dict[str, int] = {}
    ports: dict[int, str] = {}
    key_owner: dict[str, str] = {}
    for index, entry in enumerate(users):
        where = f"{variable}[{index}]"
        if not isinstance(entry, Mapping):
            raise UserError(f"{where}: must be a dict with at least 'name', got {type(entry).__name__}")
        unknown = sorted(str(k) for k in entry if k not in KNOWN_USER_KEYS and not str(k).startswith("notebook_"))
        if unknown:
            raise UserError(
                f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(KNOWN_USER_KEYS))} "
                "and notebook_* options of the notebook role"
            )

        name = entry.get("name")
        if not isinstance(name, str) or not NAME_RE.match(name):
            shown = name[:40] if isinstance(name, str) else type(name).__name__
            raise UserError(
                f"{where}.name: must be a Unix account name (lower-case letter, then up to 31 of a-z 0-9 _ -), "
                f"got {shown!r}"
            )
        if automation_user and name == automation_user:
            raise UserError(
                f"{where}.name: {name!r} is the automation account (gpu_notebook_automation_user); "
                "it cannot also be a notebook user"
            )
        if name in reserved_names:
            raise UserError(f"{where}.name: {name!r} is a reserved/system account name")
        if name in names:
            raise UserError(f"{where}.name: duplicate of {variable}[{names[name]}].name {name!r}")
        names[name] = index

        state = entry.get("state", "present")
        if state not in STATES:
            shown = state[:20] if isinstance(state, str) else type(state).__name__
            raise UserError(f"{where}.state: must be 'present' or 'absent', got {shown!r}")
        present = state == "present"

        out: dict = {"name": name, "state": state}
        try:
            out["ssh_public_keys"] = _keys(entry.get("ssh_public_keys"), present)
        except UserError as err:
            raise UserError(f"{where}.ssh_public_keys{err if str(err).startswith('[') else ': ' + str(err)}") from None
        for key in out["ssh_public_keys"]:
            blob = key.split()[1]
            if blob in key_owner:
                raise UserError(
                    f"{where}.ssh_public_keys: a key is also {key_owner[blob]}'s; every person needs their own key"
                )
        for key in out["ssh_public_keys"]:
            key_owner[key.split()[1]] = name

        if "notebook_port" in entry or present:
            if entry.get("notebook_port") is None:
                raise UserError(f"{where}.notebook_port: required for a present user")
            try:
                port = _port(entry["notebook_port"])
            except UserError as err:
                raise UserError(f"{where}.notebook_port: {err}") from None
            if port in ports:
                raise UserError(f"{where}.notebook_port: duplicate of {ports[port]}'s port {port}")
            ports[port] = name
            out["notebook_port"] = port

        try:
            out["gpus"] = _gpus(entry.get("gpus", "none"))
        except UserError as err:
            sep = "" if str(err).startswith("[") else ": "
            raise UserError(f"{where}.gpus{sep}{err}") from None

        password = entry.get("notebook_password")
        if present or password is not None:
            # Never echo the value: only its type or emptiness.
            if not isinstance(password, str):
                raise UserError(
                    f"{where}.notebook_password: required for a present user and must be a string "
                    f"(got {type(password).__name__})"
                )
            if not password.strip():
                raise UserError(f"{where}.notebook_password: must not be empty")
            if include_secrets:
                out["notebook_password"] = password

        for key, value in entry.items():
            if str(key).startswith("notebook_") and key not in KNOWN_USER_KEYS:
                out[str(key)] = value
        result.append(out)
    return result


def validate_public_keys(keys: object, variable: str = "ssh_public_keys") -> list[str]:
    """Validate a list of authorized_keys lines (see validate_public_keys.yml)."""
    try:
        return _keys(keys, present=False)
    except UserError as err:
        sep = "" if str(err).startswith("[") else ": "
        raise AnsibleFilterError(f"{variable}{sep}{err}") from None


def system_accounts_error(users: object, passwd: object, host: str = "", variable: str = "gpu_notebook_users") -> str:
    """Why some of ``users`` may not be notebook users on this host ('' when none is a system account).

    ``passwd`` is getent's passwd database as Ansible's getent module returns it ({name: [password, uid, ...]}); an
    account below UID 1000 (or with no numeric UID) is a system account, and a notebook user must not be one.
    """
    if not isinstance(passwd, Mapping):
        return ""
    if not isinstance(users, Sequence) or isinstance(users, (str, bytes)):
        raise AnsibleFilterError(f"system_accounts_error: expects the checked {variable} list")
    found = []
    for index, user in enumerate(users):
        name = user.get("name") if isinstance(user, Mapping) else None
        entry = passwd.get(name) if isinstance(name, str) else None
        if entry is None:
            continue
        uid = str(entry[1]) if isinstance(entry, Sequence) and not isinstance(entry, str) and len(entry) > 1 else ""
        if not re.match(r"^[1-9][0-9]{3,}$", uid):
            found.append(f"{variable}[{index}].name: {json.dumps(name)} is a system account (UID {uid or '?'}) on "
                         f"{host}; choose another name.")
    return "Notebook users must not be system accounts: " + " ".join(found) if found else ""


class FilterModule:
    """securelab.gpu_notebook user filters."""

    def filters(self):
        return {"validate_users": validate_users, "validate_public_keys": validate_public_keys,
                "system_accounts_error": system_accounts_error}
