# Copyright (c) securelab maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic of the docker_daemon_config module: parse, merge, check and render daemon.json.

Nothing here touches the file system; the module does the I/O. Private (leading underscore):
no compatibility promise outside this collection.
"""

from __future__ import annotations

import copy
import json
import re

# Top-level keys dockerd (20.10 to 28.x) accepts in daemon.json, from the dockerd reference
# ("Daemon configuration file"). Used only when dockerd cannot validate a file itself
# (dockerd < 23 has no --validate): an unknown key there stops dockerd from starting.
KNOWN_TOP_LEVEL_KEYS = frozenset(
    """
    allow-direct-routing allow-nondistributable-artifacts api-cors-header authorization-plugins bip bip6
    bridge bridge-accept-fwmark builder cdi-spec-dirs cgroup-parent cluster-advertise cluster-store
    cluster-store-opts containerd containerd-namespace containerd-plugins-namespace cpu-rt-period
    cpu-rt-runtime cri-containerd data-root debug default-address-pools default-cgroupns-mode
    default-gateway default-gateway-v6 default-ipc-mode default-network-opts default-runtime
    default-shm-size default-ulimits dns dns-opts dns-search exec-opts exec-root experimental features
    firewall-backend fixed-cidr fixed-cidr-v6 group host-gateway-ip host-gateway-ips hosts http-proxy
    https-proxy icc init init-path insecure-registries ip ip-forward ip-forward-no-drop ip-masq iptables
    ip6tables ipv6 labels live-restore log-driver log-format log-level log-opts max-concurrent-downloads
    max-concurrent-uploads max-download-attempts metrics-addr min-api-version mtu no-new-privileges
    no-proxy node-generic-resources oom-score-adjust pidfile proxies raw-logs registry-mirrors
    runtimes seccomp-profile selinux-enabled shutdown-timeout storage-driver storage-opts
    swarm-default-advertise-addr tls tlscacert tlscert tlskey tlsverify userland-proxy
    userland-proxy-path userns-remap
    """.split()
)

_SIZE_RE = re.compile(r"^[0-9]+(\.[0-9]+)?\s*[kKmMgG]?[bB]?$")


class DaemonJsonError(Exception):
    """The existing file, or the requested change, is not usable."""


def parse(text):
    """Return the object held by a daemon.json text. Empty (or blank) text is an empty object."""
    if text is None or not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise DaemonJsonError(f"is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise DaemonJsonError(f"holds a JSON {type(data).__name__}, not an object")
    return data


def deep_merge(current, owned):
    """Return a copy of current with owned merged in.

    Objects (dicts) are merged key by key, recursively, so owned {"log-opts": {"max-size": "10m"}}
    keeps an existing log-opts.labels. Any other value (string, number, list, null) replaces the
    current one as a whole: lists are not concatenated.
    """
    result = copy.deepcopy(current)
    for key, value in owned.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def split_path(path):
    """A key path: a list of keys, or a string where '.' separates the keys ("runtimes.nvidia")."""
    if isinstance(path, (list, tuple)):
        parts = [str(p) for p in path]
    elif isinstance(path, str):
        parts = path.split(".")
    else:
        raise DaemonJsonError(f"a key path must be a string or a list of strings, got {path!r}")
    if not parts or any(not p for p in parts):
        raise DaemonJsonError(f"empty key in path {path!r}")
    return parts


def _lookup(config, parts):
    node = config
    for part in parts[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            return None, False
    if parts[-1] in node:
        return node, True
    return node, False


def remove_paths(config, paths, if_equal=None):
    """Return a copy of config without the given key paths (missing ones are ignored).

    if_equal maps a path to a value: that path is removed only while it holds exactly that value,
    so a role can undo its own setting (default-runtime: nvidia) without removing an operator's.
    Objects left empty by a removal are removed too.
    """
    result = copy.deepcopy(config)
    todo = [(split_path(p), False, None) for p in (paths or [])]
    todo += [(split_path(p), True, v) for p, v in (if_equal or {}).items()]
    for parts, conditional, value in todo:
        parent, found = _lookup(result, parts)
        if not found or (conditional and parent[parts[-1]] != value):
            continue
        del parent[parts[-1]]
        # prune objects this removal emptied (never the top level)
        for depth in range(len(parts) - 1, 0, -1):
            holder, found = _lookup(result, parts[:depth])
            if found and holder[parts[depth - 1]] == {}:
                del holder[parts[depth - 1]]
            else:
                break
    return result


def check(config, strict_keys=False):
    """Return a list of problems dockerd would refuse the file for (empty list: none found).

    Type checks of the keys this collection manages always run; strict_keys also rejects
    top-level keys dockerd does not know (for engines that cannot validate a file themselves).
    """
    problems = []

    def want(key, kinds, what):
        if key in config and not isinstance(config[key], kinds):
            problems.append(f"{key} must be {what}, got {json.dumps(config[key])}")
            return False
        return key in config

    for key in ("live-restore", "debug", "experimental", "icc", "ipv6", "iptables", "ip-forward",
                "ip-masq", "no-new-privileges", "selinux-enabled", "userland-proxy", "init"):
        if key in config:
            want(key, bool, "true or false")
    for key in ("log-driver", "storage-driver", "default-runtime", "userns-remap", "data-root",
                "log-level"):
        if want(key, str, "a string") and not config[key].strip():
            problems.append(f"{key} must not be empty")
    for key in ("registry-mirrors", "insecure-registries", "dns", "dns-search", "exec-opts",
                "storage-opts", "hosts", "labels"):
        if want(key, list, "a list of strings"):
            bad = [v for v in config[key] if not isinstance(v, str)]
            if bad:
                problems.append(f"{key} must be a list of strings, got {json.dumps(config[key])}")
    if want("log-opts", dict, "an object of strings"):
        for name, value in config["log-opts"].items():
            if not isinstance(value, str):
                problems.append(f"log-opts.{name} must be a string (dockerd rejects {json.dumps(value)})")
        size = config["log-opts"].get("max-size")
        if isinstance(size, str) and not _SIZE_RE.match(size.strip()):
            problems.append(f"log-opts.max-size must be a size such as 10m, got {json.dumps(size)}")
        count = config["log-opts"].get("max-file")
        if isinstance(count, str) and not (count.isdigit() and int(count) >= 1):
            problems.append(f"log-opts.max-file must be a whole number >= 1 in a string, got {json.dumps(count)}")
    if want("features", dict, "an object of true/false values"):
        for name, value in config["features"].items():
            if not isinstance(value, bool):
                problems.append(f"features.{name} must be true or false, got {json.dumps(value)}")
    runtimes = config.get("runtimes", {})
    if want("runtimes", dict, "an object"):
        for name, spec in runtimes.items():
            if not isinstance(spec, dict):
                problems.append(f"runtimes.{name} must be an object, got {json.dumps(spec)}")
                continue
            if not isinstance(spec.get("path", spec.get("runtimeType")), str):
                problems.append(f"runtimes.{name} needs a string path (or runtimeType)")
            if "args" in spec and not (isinstance(spec["args"], list)
                                       and all(isinstance(a, str) for a in spec["args"])):
                problems.append(f"runtimes.{name}.args must be a list of strings")
        if "runc" in runtimes:
            problems.append("runtimes.runc cannot be redefined (dockerd refuses to start)")
    default = config.get("default-runtime")
    if isinstance(default, str) and default.strip() and default not in ("runc", "io.containerd.runc.v2") \
            and default not in (runtimes if isinstance(runtimes, dict) else {}):
        problems.append(f"default-runtime {json.dumps(default)} is not runc and not a key of runtimes")
    if strict_keys:
        unknown = sorted(k for k in config if k not in KNOWN_TOP_LEVEL_KEYS)
        if unknown:
            problems.append("unknown top-level key(s) {} (dockerd would not start)".format(", ".join(unknown)))
    return problems


def render(config):
    """The file text: 2-space indented JSON, keys in insertion order (existing ones keep their place)."""
    return json.dumps(config, indent=2, ensure_ascii=False) + "\n"


def plan(current_text, keys=None, remove=None, remove_if=None, replace_invalid=False):
    """Compute what the file should become.

    Returns (before, after, invalid_reason): before is the current object ({} when the file is
    missing or, with replace_invalid, unusable), after the desired object, invalid_reason the
    parse error that replace_invalid overrode (None otherwise).
    Raises DaemonJsonError when the current text is unusable and replace_invalid is false.
    """
    invalid = None
    try:
        before = parse(current_text)
    except DaemonJsonError as exc:
        if not replace_invalid:
            raise
        before, invalid = {}, str(exc)
    after = deep_merge(before, keys or {})
    after = remove_paths(after, remove, remove_if)
    return before, after, invalid
