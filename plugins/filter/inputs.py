# Copyright: securelab maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the time_sync, fail2ban, nvidia_runtime and docker_engine roles: their input checks (tasks/validate.yml).

Documentation: ``<filter name>.yml`` next to this file (ansible-doc -t filter). Each filter reads a dict
{variable name: value} of the role's variables (the names are listed once, in the role's vars/main.yml as
``__<role>_input_vars``) and returns '' when they are fine, else the first problem found, in a message that names
the variables. meta/argument_specs.yml checks the types; these checks catch what a type cannot express.

The checks were Jinja before, and keep Jinja's reading of a value that may be a string or a number: a pattern is
matched against the value as a string (``| string is match``: from the start, Python's ``str()``, so true is
'True'), numbers are read as the ``int`` and ``float`` filters read them, and values are shown as ``to_json``
shows them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible.module_utils.compat.version import LooseVersion
from ansible_collections.securelab.gpu_notebook.plugins.module_utils import _jinja_compat as jc

TIME_SYNC_VARS = ("time_sync_servers", "time_sync_pools", "time_sync_allow", "time_sync_makestep_threshold",
                  "time_sync_makestep_limit")
FAIL2BAN_VARS = ("fail2ban_ignoreip", "fail2ban_maxretry", "fail2ban_findtime", "fail2ban_bantime",
                 "fail2ban_bantime_maxtime", "fail2ban_bantime_factor", "fail2ban_sshd_port", "fail2ban_banaction")
NVIDIA_RUNTIME_VARS = ("nvidia_runtime_repo_base_url", "nvidia_runtime_repo_key_url", "nvidia_runtime_repo_key",
                       "nvidia_runtime_toolkit_version", "nvidia_runtime_cdi_spec", "nvidia_runtime_pci_devices_dir")
DOCKER_ENGINE_VARS = ("docker_engine_packages", "docker_engine_source", "docker_engine_repo_url",
                      "docker_engine_repo_key_url", "docker_engine_repo_key", "docker_engine_repo_channel",
                      "docker_engine_repo_suite", "docker_engine_log_driver", "docker_engine_log_max_size",
                      "docker_engine_log_max_file", "docker_engine_userns_remap", "docker_engine_daemon_options",
                      "docker_engine_daemon_remove", "docker_engine_service_environment")

# time_sync
NTP_SOURCE_RE = re.compile(r"^[A-Za-z0-9._:\[\]-]+$")
ALLOW_RE = re.compile(r"^([0-9A-Fa-f.:]+(/[0-9]+)?|all)$")
DECIMAL_RE = re.compile(r"^[0-9]+(\.[0-9]+)?$")
SIGNED_INTEGER_RE = re.compile(r"^-?[0-9]+$")
# fail2ban
IGNOREIP_RE = re.compile(r"^[0-9A-Fa-f.:]+(/[0-9]{1,3})?$")
INTEGER_RE = re.compile(r"^[0-9]+$")
DURATION_RE = re.compile(r"^[0-9]+[smhdw]?$")
SSHD_PORT_RE = re.compile(r"^[0-9a-z,]+$")
BANACTION_RE = re.compile(r"^[a-z0-9_-]*$")
# nvidia_runtime and docker_engine
URL_RE = re.compile(r"^(https?|file)://[^\s]+$")
BASE_URL_RE = re.compile(r"^(https?|file)://[^\s]+[^/\s]$")
ARMORED_KEY_RE = re.compile(r"-----BEGIN PGP PUBLIC KEY BLOCK-----")
TOOLKIT_VERSION_RE = re.compile(r"^([0-9][A-Za-z0-9.+~]*(-[A-Za-z0-9.+~]+)?)?$")
DEBIAN_REVISION_RE = re.compile(r"-[^-]*$")
CDI_SPEC_RE = re.compile(r"^/[^\s]+\.(yaml|json)$")
ABSOLUTE_PATH_RE = re.compile(r"^/[^\s]*$")
PACKAGE_RE = re.compile(r"^[a-z0-9][a-z0-9+.-]*(=[A-Za-z0-9.+~:-]+)?$")
WORD_RE = re.compile(r"^[a-z0-9]+$")
SUITE_RE = re.compile(r"^[a-z0-9-]*$")
LOG_DRIVER_RE = re.compile(r"^[a-z0-9_./:-]*$")
SIZE_RE = re.compile(r"^[0-9]+[kmg]$")
USERNS_REMAP_RE = re.compile(r"^(|default|[a-z_][a-z0-9_-]*(:[a-z_][a-z0-9_-]*)?)$")
DAEMON_KEY_PATH_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# A double quote, a backslash or a newline would end or break the value in the systemd drop-in.
ENV_VALUE_BAD_RE = re.compile(r'["\\\n]')


def _inputs(values: object, names: tuple[str, ...], filter_name: str) -> list:
    """The values of ``names``, in that order (the dict the task builds from ``__<role>_input_vars``)."""
    try:
        return jc.values_of(values, names)
    except ValueError as exc:
        raise AnsibleFilterError(f"{filter_name}: {exc}") from None


def _search(pattern: re.Pattern[str], value: object) -> bool:
    """``value is search(pattern)``."""
    return pattern.search(jc.text(value)) is not None


def _float(value: object) -> float:
    """``value | float``: 0.0 when the value is not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _older(version: str, minimum: object) -> bool:
    """``version is version(minimum, '<')``, with Ansible's default (loose) version comparison."""
    if not minimum:
        raise AnsibleFilterError("Version parameter to compare against cannot be empty")
    try:
        return LooseVersion(version) < LooseVersion(jc.text(minimum))
    except Exception as exc:  # as the version test reports it, e.g. comparing 'a' with 17
        raise AnsibleFilterError(f"Version comparison failed: {exc}") from None


def time_sync_input_error(values: object) -> str:
    """The first problem with the time_sync role's NTP sources, allowed clients and makestep ('' when none)."""
    servers, pools, allow, threshold, limit = _inputs(values, TIME_SYNC_VARS, "time_sync_input_error")
    sources = [*servers, *pools] if jc.is_list(servers) and jc.is_list(pools) else []
    if not (sources and all(jc.match(NTP_SOURCE_RE, source) for source in sources)):
        return ("time_sync_servers and time_sync_pools must be lists that together name at least one NTP source, "
                "each a non-empty hostname or address without spaces; "
                f"got time_sync_servers={jc.to_json(servers)}, time_sync_pools={jc.to_json(pools)}.")
    if not (jc.is_list(allow) and all(jc.match(ALLOW_RE, item) for item in allow)):
        return f"time_sync_allow must be a list of addresses or networks (or 'all'); got {jc.to_json(allow)}."
    if not (jc.match(DECIMAL_RE, threshold) and _float(threshold) > 0
            and jc.match(SIGNED_INTEGER_RE, limit) and jc.to_int(limit) >= -1):
        return (f"time_sync_makestep_threshold must be a number > 0 (got {jc.to_json(threshold)}) and "
                f"time_sync_makestep_limit an integer >= -1 (got {jc.to_json(limit)}).")
    return ""


def fail2ban_input_error(values: object) -> str:
    """The first problem with the fail2ban role's ignore list and jail settings ('' when none)."""
    ignoreip, maxretry, findtime, bantime, maxtime, factor, port, banaction = _inputs(
        values, FAIL2BAN_VARS, "fail2ban_input_error")
    if not (jc.is_list(ignoreip) and all(jc.match(IGNOREIP_RE, item) for item in ignoreip)):
        return f"fail2ban_ignoreip must be a list of addresses or CIDR networks; got {jc.to_json(ignoreip)}."
    if not (jc.match(INTEGER_RE, maxretry) and jc.to_int(maxretry) >= 1
            and all(jc.match(DURATION_RE, duration) for duration in (findtime, bantime, maxtime))
            and jc.match(DECIMAL_RE, factor) and jc.match(SSHD_PORT_RE, port) and jc.match(BANACTION_RE, banaction)):
        return (f"fail2ban_maxretry must be an integer >= 1 (got {jc.to_json(maxretry)}); fail2ban_findtime, "
                "fail2ban_bantime and fail2ban_bantime_maxtime durations such as 600, 10m, 1h, 1w "
                f"(got {jc.to_json(findtime)}, {jc.to_json(bantime)}, {jc.to_json(maxtime)}); "
                "fail2ban_bantime_factor a number; "
                f"fail2ban_sshd_port a port or service name (got {jc.to_json(port)}); "
                f"fail2ban_banaction an action name (got {jc.to_json(banaction)}).")
    return ""


def _repo_key_ok(key: object, key_url: object) -> bool:
    """A key given inline is an ASCII-armored key; without one, the key's URL is an http(s):// or file:// URL."""
    if jc.length(key) > 0:
        return _search(ARMORED_KEY_RE, key)
    return jc.match(URL_RE, key_url)


def nvidia_runtime_input_error(values: object, min_toolkit: object) -> str:
    """The first problem with the nvidia_runtime role's repository, toolkit version and paths ('' when none).

    ``min_toolkit``: the oldest toolkit version allowed (``__nvidia_runtime_min_toolkit``).
    """
    base_url, key_url, key, version, cdi_spec, pci_dir = _inputs(values, NVIDIA_RUNTIME_VARS,
                                                                 "nvidia_runtime_input_error")
    if not (jc.match(BASE_URL_RE, base_url) and _repo_key_ok(key, key_url)):
        return ("nvidia_runtime_repo_base_url must be an http(s):// or file:// URL without a trailing slash "
                f"(got {jc.to_json(base_url)}), nvidia_runtime_repo_key_url an http(s):// or file:// URL "
                f"(got {jc.to_json(key_url)}), and nvidia_runtime_repo_key, when set, an ASCII-armored public key.")
    if not jc.match(TOOLKIT_VERSION_RE, version):
        return ("nvidia_runtime_toolkit_version must be empty (no pinning) or a Debian version of the toolkit such as "
                f"1.17.8-1; got {jc.to_json(version)}.")
    # Without the Debian revision (1.17.8-1 is 1.17.8).
    if jc.length(version) > 0 and _older(DEBIAN_REVISION_RE.sub("", jc.text(version)), min_toolkit):
        minimum = jc.text(min_toolkit)
        return (f"nvidia_runtime_toolkit_version {jc.to_json(version)} is older than {minimum}, which fixes "
                "CVE-2025-23266 and CVE-2025-23267 (a container can escape to the host); "
                f"use {minimum}-1 or newer.")
    if not (jc.match(CDI_SPEC_RE, cdi_spec) and jc.match(ABSOLUTE_PATH_RE, pci_dir)):
        return ("nvidia_runtime_cdi_spec must be an absolute path ending in .yaml or .json "
                f"(got {jc.to_json(cdi_spec)}) "
                f"and nvidia_runtime_pci_devices_dir an absolute path (got {jc.to_json(pci_dir)}).")
    return ""


def docker_engine_input_error(values: object, host_error: object = "") -> str:
    """The first problem with the docker_engine role's variables ('' when none).

    ``host_error``: the daemon.json dry run's problem (``__docker_engine_host_error``), reported when every variable is
    fine.
    """
    (packages, source, repo_url, key_url, key, channel, suite, log_driver, log_max_size, log_max_file, userns_remap,
     daemon_options, daemon_remove, environment) = _inputs(values, DOCKER_ENGINE_VARS, "docker_engine_input_error")
    if not (jc.is_list(packages) and all(jc.match(PACKAGE_RE, package) for package in packages)):
        return ("docker_engine_packages must be a list of Debian package names (optionally name=version); "
                f"got {jc.to_json(packages)}.")
    if source == "docker" and not (jc.match(URL_RE, repo_url) and _repo_key_ok(key, key_url)
                                   and jc.match(WORD_RE, channel) and jc.match(SUITE_RE, suite)):
        return ("docker_engine_repo_url and docker_engine_repo_key_url must be http(s):// or file:// URLs "
                f"(got {jc.to_json(repo_url)}, {jc.to_json(key_url)}), "
                "docker_engine_repo_key an ASCII-armored public key when "
                f"set, docker_engine_repo_channel (got {jc.to_json(channel)}) and docker_engine_repo_suite "
                f"(got {jc.to_json(suite)}) single words.")
    if not (jc.match(LOG_DRIVER_RE, log_driver) and jc.match(SIZE_RE, log_max_size)
            and jc.match(INTEGER_RE, log_max_file) and jc.to_int(log_max_file) >= 1):
        return (f"docker_engine_log_max_size must be a size such as 10m (got {jc.to_json(log_max_size)}), "
                f"docker_engine_log_max_file a whole number >= 1 (got {jc.to_json(log_max_file)}) and "
                f"docker_engine_log_driver a log driver name or '' (got {jc.to_json(log_driver)}).")
    if not jc.match(USERNS_REMAP_RE, userns_remap):
        return ("docker_engine_userns_remap must be '', 'default', 'USER' or 'USER:GROUP'; "
                f"got {jc.to_json(userns_remap)}.")
    if not (isinstance(daemon_options, Mapping) and jc.is_list(daemon_remove)
            and all(jc.match(DAEMON_KEY_PATH_RE, path) for path in daemon_remove)):
        return (f"docker_engine_daemon_options must be a dict of daemon.json keys (got {jc.to_json(daemon_options)}) "
                "and docker_engine_daemon_remove a list of key paths such as 'default-runtime' or 'runtimes.kata' "
                f"(got {jc.to_json(daemon_remove)}).")
    if not (isinstance(environment, Mapping) and all(jc.match(ENV_NAME_RE, name) for name in environment.keys())
            and not any(_search(ENV_VALUE_BAD_RE, value) for value in environment.values())):
        return ("docker_engine_service_environment must map variable names (letters, digits, _) to values without "
                f"quotes, backslashes or newlines; got {jc.to_json(environment)}.")
    if host_error:
        return jc.text(host_error)
    return ""


class FilterModule:
    """securelab.gpu_notebook input checks of the time_sync, fail2ban, nvidia_runtime and docker_engine roles."""

    def filters(self):
        return {
            "time_sync_input_error": time_sync_input_error,
            "fail2ban_input_error": fail2ban_input_error,
            "nvidia_runtime_input_error": nvidia_runtime_input_error,
            "docker_engine_input_error": docker_engine_input_error,
        }
