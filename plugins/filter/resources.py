# Copyright (c) securelab.gpu_notebook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters ``resources_probe_args`` and ``resources_drift``: one declaration of what a role manages.

Documentation: ``resources_probe_args.yml`` and ``resources_drift.yml`` next to this file (ansible-doc -t filter).

A role lists what it manages as resources (files, directories, absent paths, packages, units, apt keys pinned by
fingerprint, daemon.json keys, read-only checks). ``resources_probe_args`` derives from that list what host_state must
read, ``resources_drift`` compares host_state's result with the same list. The read and the comparison come from one
declaration, so they cannot disagree; a resource nobody declared is found by the mutation test (tests/mutation).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_bytes
from ansible_collections.securelab.gpu_notebook.plugins.module_utils import _daemon_json, _nft, _openpgp

KINDS = ("file", "directory", "absent", "package", "unit", "openpgp_key", "daemon_json", "check", "nft_table")
REQUIRED = {"file": ("path",), "directory": ("path",), "absent": ("path",), "package": ("name",),
            "unit": ("name",), "openpgp_key": ("path", "fingerprint"), "daemon_json": ("path", "keys"),
            "check": ("name", "argv", "reason"), "nft_table": ("name", "path", "state_path", "content")}


def _resources(declared: object, where: str, reading: bool = False) -> list[Mapping]:
    if not isinstance(declared, Sequence) or isinstance(declared, (str, bytes)):
        raise AnsibleFilterError(f"{where}: expects a list of resources, got {type(declared).__name__}")
    kept = []
    for index, item in enumerate(declared):
        if (isinstance(item, Mapping) and item.get("when", True) in (False, "False", "false", None, "")
                and not (reading and _flag(item.get("read_always")))):
            # Declared for other hosts or settings only. A resource whose "when" depends on the read itself (the
            # installed version, a capability) says read_always: it is read whatever "when" says before the read.
            continue
        if not isinstance(item, Mapping) or item.get("kind") not in KINDS:
            raise AnsibleFilterError(f"{where}: resource {index} needs a kind, one of {', '.join(KINDS)}")
        missing = [key for key in REQUIRED[item["kind"]] if item.get(key) in (None, "")]
        if missing:
            raise AnsibleFilterError(f"{where}: resource {index} ({item['kind']}) lacks {', '.join(missing)}")
        if item["kind"] == "package" and item.get("state", "present") not in ("present", "absent"):
            raise AnsibleFilterError(f"{where}: resource {index} (package) has state {item.get('state')!r}, "
                                     "not present or absent")
        names = item["name"] if item["kind"] == "package" else None
        if isinstance(names, Sequence) and not isinstance(names, (str, bytes)):
            # One declaration for a role's package list: {kind: package, name: [a, b]} is a and b.
            kept.extend({**item, "name": name} for name in names)
        else:
            kept.append(item)
    return kept


def _flag(value: object) -> bool | None:
    """A unit's enabled/active as declared: a bool, or the string a template may have rendered."""
    if value is None or isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "yes", "on", "1")


def resources_probe_args(declared: object) -> dict:
    """The host_state arguments that read every resource of ``declared``."""
    args: dict = {"files": [], "packages": [], "units": [], "openpgp_keys": [], "read_lines": [], "commands": {}}

    def add(key, value):
        if value not in args[key]:
            args[key].append(value)

    for item in _resources(declared, "resources_probe_args", reading=True):
        kind = item["kind"]
        if kind in ("file", "directory", "absent"):
            add("files", item["path"])
        elif kind == "package":
            add("packages", item["name"])
        elif kind == "unit":
            add("units", item["name"])
        elif kind == "openpgp_key":
            add("openpgp_keys", item["path"])
        elif kind == "daemon_json":
            add("read_lines", item["path"])
        elif kind == "nft_table":
            add("files", item["path"])
            add("files", item["state_path"])
            args["commands"][_nft_command(item)] = _nft.listing_argv(item.get("family", "inet"), item["name"])
        else:
            args["commands"][item["name"]] = list(item["argv"])
    return {key: value for key, value in args.items() if value}


def _nft_command(item: Mapping) -> str:
    return f"nft_table_{item.get('family', 'inet')}_{item['name']}"


def _sha1(text: object) -> str:
    # SHA-1: the checksum host_state and the copy/template modules report, not a security measure.
    return hashlib.sha1(to_bytes(text, errors="surrogate_or_strict")).hexdigest()  # noqa: S324


def _nft_reason(item: Mapping, state: Mapping) -> str:
    """nft_table's own judgement (module_utils/_nft.py), from the read: the script, the record of the last load and
    the kernel's listing. Empty when the module would load nothing."""
    family, name = item.get("family", "inet"), item["name"]
    files = state.get("files") or {}
    current, record = files.get(item["path"]), files.get(item["state_path"])
    live = (state.get("commands") or {}).get(_nft_command(item))
    if not all(isinstance(info, Mapping) for info in (current, record, live)):
        return f"table {family} {name}: not read"

    def owned(info: Mapping) -> bool:
        return all(str(info.get(key)) == value for key, value in _nft.OWNED.items())

    found = _nft.reasons(family, name, item["path"], item["state_path"],
                         file_missing=not current.get("exists"),
                         file_differs=current.get("checksum") != _sha1(_nft.script(family, name, item["content"])),
                         file_owned=owned(current), record_missing=not record.get("exists"),
                         record_owned=owned(record), live_missing=live.get("rc") != 0,
                         live_differs=_sha1(live.get("stdout", "")) != record.get("checksum"))
    return "; ".join(found)


def _is_id(value: object) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, str) and value.isdigit())


def _file_reason(item: Mapping, info: object) -> str:
    kind, path = item["kind"], item["path"]
    if not isinstance(info, Mapping):
        return f"{path}: not read"
    if kind == "absent":
        return f"{path}: still present" if info.get("exists", True) else ""
    if not info.get("exists"):
        return f"{path}: missing"
    if info.get("type") != kind:
        return f"{path}: is a {info.get('type')}, not a {kind}"
    for key, number, default in (("mode", "mode", None), ("owner", "uid", "root"), ("group", "gid", "root")):
        want = item.get(key, default)
        # An owner or group given as a number (a uid or gid, as the notebook role declares its users' directories)
        # is compared with the number the read reports, a name with the name.
        have = info.get(number if _is_id(want) else key)
        if want is not None and str(have) != str(want):
            return f"{path}: {key} {have}, not {want}"
    if kind == "file" and item.get("nonempty") and not info.get("size"):
        return f"{path}: empty"
    if kind == "file" and item.get("content") is not None:
        if info.get("checksum") != _sha1(item["content"]):
            return f"{path}: content differs"
    return ""


def _reason(item: Mapping, state: Mapping) -> str:
    kind = item["kind"]
    if kind in ("file", "directory", "absent"):
        return _file_reason(item, (state.get("files") or {}).get(item["path"]))
    if kind == "package":
        have = (state.get("packages") or {}).get(item["name"])
        want = item.get("version")
        if item.get("state") == "absent":
            return f"package {item['name']}: installed, not absent" if have is not None else ""
        if have is None:
            return f"package {item['name']}: not installed"
        if want and str(have) != str(want):
            return f"package {item['name']}: version {have}, not {want}"
        return ""
    if kind == "unit":
        unit = (state.get("units") or {}).get(item["name"]) or {}
        if _flag(item.get("enabled")) is not None:
            want = "enabled" if _flag(item["enabled"]) else "disabled"
            if unit.get("unit_file_state") != want:
                return f"{item['name']}: {unit.get('unit_file_state') or 'unknown'}, not {want}"
        if _flag(item.get("active")) is not None:
            want = "active" if _flag(item["active"]) else "inactive"
            if unit.get("active_state") != want:
                return f"{item['name']}: {unit.get('active_state') or 'unknown'}, not {want}"
        return ""
    if kind == "openpgp_key":
        key = (state.get("openpgp_keys") or {}).get(item["path"])
        if not isinstance(key, Mapping):
            return f"{item['path']}: not read"
        want = _openpgp.normalize_fingerprint(item["fingerprint"])
        if key.get("fingerprints") != [want]:
            found = ", ".join(key.get("fingerprints") or []) or key.get("error") or "no key"
            return f"{item['path']}: holds {found}, not only the pinned key {want}"
        return ""
    if kind == "nft_table":
        return _nft_reason(item, state)
    if kind == "daemon_json":
        lines = (state.get("lines") or {}).get(item["path"])
        if lines is None:
            return f"{item['path']}: missing"
        try:
            before, after, _invalid = _daemon_json.plan("\n".join(lines), item["keys"], item.get("remove", []),
                                                        item.get("remove_if", {}))
        except _daemon_json.DaemonJsonError as exc:
            return f"{item['path']}: {exc}"
        return "" if before == after else f"{item['path']}: keys differ"
    result = (state.get("commands") or {}).get(item["name"])
    if not isinstance(result, Mapping):
        return f"{item['reason']} (not read)"
    stdout_differs = "stdout" in item and result.get("stdout", "").strip() != item["stdout"]
    if result.get("rc") != item.get("rc", 0):
        # The command's own last word on why (fail2ban-client --test names the broken file), when it gave one.
        said = (str(result.get("stderr") or "").strip().splitlines() or [""])[-1].strip()
        return f"{item['reason']} ({said})" if said else item["reason"]
    return item["reason"] if stdout_differs else ""


def resources_select(declared: object, kind: str, state: str = "present", written: bool = False) -> list[Mapping]:
    """The resources of one ``kind`` that apply here (``when`` left out, a package list split), in declared order:
    what a role's tasks loop over, so that the tasks apply the same list the read and the comparison derive from.
    For packages, only those with ``state`` (V(present) by default, or V(absent)). With ``written``, only resources
    that declare their content (a file that is downloaded or generated is written by a task of its own)."""
    if kind not in KINDS:
        raise AnsibleFilterError(f"resources_select: kind {kind!r} is not one of {', '.join(KINDS)}")
    return [item for item in _resources(declared, "resources_select")
            if item["kind"] == kind and (kind != "package" or item.get("state", "present") == state)
            and (not written or item.get("content") is not None)]


def resources_drift(state: object, declared: object) -> list[str]:
    """What differs between host_state's result ``state`` and ``declared`` (empty: in sync), one reason each."""
    resources = _resources(declared, "resources_drift")
    if not isinstance(state, Mapping) or not isinstance(state.get("files"), Mapping):
        return ["the host was not read"]
    return [reason for reason in (_reason(item, state) for item in resources) if reason]


def openpgp_pin_error(fingerprint: object, key: object = "", fingerprint_var: str = "fingerprint",
                      key_var: str = "key") -> str:
    """Why a pinned apt key setting is wrong ('' when it is right), naming the variables.

    ``fingerprint`` must be empty (not pinned) or a v4/v6 fingerprint; ``key``, a key given inline, must then hold
    exactly that key (checked on the controller, before anything on the host changes).
    """
    if fingerprint in (None, ""):
        return ""
    try:
        want = _openpgp.normalize_fingerprint(str(fingerprint))
    except _openpgp.OpenPGPError as exc:
        return f"{fingerprint_var}: {exc} (or empty, not to pin the key); got {str(fingerprint)[:80]!r}"
    if key in (None, ""):
        return ""
    try:
        found = _openpgp.fingerprints(str(key))
    except _openpgp.OpenPGPError as exc:
        return f"{key_var}: not an OpenPGP public key ({exc})"
    if found != [want]:
        return f"{key_var}: holds the key(s) {', '.join(found)}, not only the key {fingerprint_var} pins ({want})"
    return ""


class FilterModule:
    """securelab.gpu_notebook resource declaration filters."""

    def filters(self):
        return {"resources_probe_args": resources_probe_args, "resources_drift": resources_drift,
                "resources_select": resources_select, "openpgp_pin_error": openpgp_pin_error}
