# Copyright: securelab maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the roles' fast path (tasks/probe.yml).

``securelab.gpu_notebook.file_differs``: compare a host_state file entry with the desired file, i.e.
decide on the controller whether a file that the converge tasks would write is already exactly as they
would write it.

``securelab.gpu_notebook.probe_union``: merge several host_state argument sets (one per role) into one,
so that the site playbook reads what every role manages in a single round-trip.

Documentation: ``file_differs.yml`` and ``probe_union.yml`` next to this file (ansible-doc -t filter).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_bytes

KINDS = ("file", "directory", "absent")


def file_differs(info, content=None, mode=None, owner=None, group=None, kind="file"):
    """True unless ``info`` (one entry of host_state's ``files``) is the desired file.

    kind=absent: the path must not exist. kind=directory: a directory with the given attributes.
    kind=file: a regular file; ``content`` (text, compared by SHA-1) and the attributes given.
    Attributes left as None are not compared.
    """
    if kind not in KINDS:
        raise AnsibleFilterError(f"file_differs: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if info is None or info == "":
        return True  # the probe did not run or did not read this path: cannot tell
    if not isinstance(info, Mapping):
        raise AnsibleFilterError(f"file_differs: expects one entry of host_state's files, got {type(info).__name__}")
    if kind == "absent":
        return bool(info.get("exists", True))
    if not info.get("exists") or info.get("type") != kind:
        return True
    wanted = {"mode": None if mode is None else str(mode), "owner": owner, "group": group}
    for key, value in wanted.items():
        if value is not None and str(info.get(key)) != value:
            return True
    if kind == "file" and content is not None:
        # SHA-1 because that is the checksum host_state (and the template module) reports; not for security.
        wanted = hashlib.sha1(to_bytes(content, errors="surrogate_or_strict")).hexdigest()  # noqa: S324
        return info.get("checksum") != wanted
    return False


# host_state options by how two roles' values combine.
LIST_OPTIONS = ("packages", "files", "read_lines", "dirs", "units", "accounts", "containers", "images",
                "networks", "jupyter_configs", "openpgp_keys")
DICT_OPTIONS = ("totp_files", "commands")
BOOL_OPTIONS = ("facts", "capabilities")
SINGLE_OPTIONS = ("daemon_json", "docker_socket")


def probe_union(arg_sets):
    """One host_state argument set that reads everything each of ``arg_sets`` reads.

    Lists are concatenated without duplicates (first-seen order), dicts (commands, totp_files) are merged,
    booleans are or-ed; daemon_json and docker_socket may come from one set or be equal in all. A key used
    twice with different values (two roles naming a command alike) is an error, never a silent pick:
    a role would read the other role's result.
    """
    if isinstance(arg_sets, Mapping) or not isinstance(arg_sets, (list, tuple)):
        kind = type(arg_sets).__name__
        raise AnsibleFilterError(f"probe_union: expects a list of host_state argument dicts, got {kind}")
    merged = {}
    for index, args in enumerate(arg_sets):
        if not isinstance(args, Mapping):
            kind = type(args).__name__
            raise AnsibleFilterError(f"probe_union: item {index} is a {kind}, not a dict of host_state arguments")
        for key, value in args.items():
            if key in LIST_OPTIONS:
                items = merged.setdefault(key, [])
                items.extend(v for v in value if v not in items)
            elif key in DICT_OPTIONS:
                target = merged.setdefault(key, {})
                for name, entry in value.items():
                    if name in target and target[name] != entry:
                        raise AnsibleFilterError(f"probe_union: {key}.{name} is given twice with different values")
                    target[name] = entry
            elif key in BOOL_OPTIONS:
                merged[key] = bool(merged.get(key)) or bool(value)
            elif key in SINGLE_OPTIONS:
                if value in (None, {}, ""):
                    continue
                if key in merged and merged[key] != value:
                    raise AnsibleFilterError(f"probe_union: {key} is given twice with different values")
                merged[key] = value
            else:
                raise AnsibleFilterError(f"probe_union: {key!r} is not a host_state option")
    return merged


class FilterModule:
    def filters(self):
        return {"file_differs": file_differs, "probe_union": probe_union}
