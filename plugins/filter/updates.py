# Copyright: securelab maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter of the security_updates role: the files it manages, worked out (and checked) from its variables.

Documentation: ``security_updates_files.yml`` next to this file (ansible-doc -t filter). The role hands the
result to ordinary tasks; every check raises before anything on the host changes, with a message that names
the variable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError

APT_CONF = "/etc/apt/apt.conf.d/52securelab-security-updates"
NEEDRESTART_DIR = "/etc/needrestart/conf.d"
NEEDRESTART_CONF = f"{NEEDRESTART_DIR}/securelab-security-updates.conf"
TIMER_DIR = "/etc/systemd/system/apt-daily-upgrade.timer.d"
TIMER_CONF = f"{TIMER_DIR}/securelab-security-updates.conf"

# An origin pattern as unattended-upgrades reads it: key=value pairs separated by commas, with
# ${distro_codename} / ${distro_id} substitutions. No quote, semicolon or brace: they would end the apt.conf string.
ORIGIN_RE = re.compile(r"^(?:[a-z]+=[A-Za-z0-9 ${}._:/+~*-]+)(?:,[a-z]+=[A-Za-z0-9 ${}._:/+~*-]+)*$")
ORIGIN_KEYS = frozenset({"origin", "o", "label", "l", "archive", "a", "suite", "codename", "n", "component", "c",
                         "site"})
# unattended-upgrades matches each blacklist entry with re.match (from the start of the package name).
PACKAGE_RE_CHARS = re.compile(r"^[A-Za-z0-9.+\-^$*?()\[\]|\\]+$")
TIME_RE = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
CALENDAR_RE = re.compile(r"^[A-Za-z0-9*:,./~ -]{1,100}$")
SPAN_RE = re.compile(r"^[0-9]+ ?(us|ms|s|sec|m|min|h|hr|d|day|w|week)?$")
MAIL_RE = re.compile(r"^[A-Za-z0-9._%+@-]{0,254}$")


class UpdatesError(ValueError):
    """A problem with one variable; str() is the message."""


def _strings(value: object, where: str) -> list[str]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise UpdatesError(f"{where}: must be a list of strings, got {type(value).__name__}")
    items = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise UpdatesError(f"{where}[{index}]: must be a non-empty string, got {item!r}")
        items.append(item.strip())
    return items


def _origins(value: object, enabled: bool) -> list[str]:
    where = "security_updates_origins_patterns"
    patterns = _strings(value, where)
    for index, pattern in enumerate(patterns):
        keys = {part.split("=", 1)[0] for part in pattern.split(",")}
        if not ORIGIN_RE.match(pattern) or not keys <= ORIGIN_KEYS:
            raise UpdatesError(
                f"{where}[{index}]: not an unattended-upgrades origin pattern (key=value pairs separated by commas, "
                f"keys {', '.join(sorted(ORIGIN_KEYS))}; no quotes or semicolons), got {pattern[:80]!r}")
    if enabled and not patterns:
        raise UpdatesError(f"{where}: is empty, so unattended-upgrades would install nothing; name at least one "
                           "origin, or set security_updates_enabled: false to turn unattended upgrades off")
    return patterns


def _blocked(value: object, where: str) -> list[str]:
    entries = _strings(value, where)
    for index, entry in enumerate(entries):
        if not PACKAGE_RE_CHARS.match(entry):
            raise UpdatesError(f"{where}[{index}]: must be a package name or a regular expression over package "
                               f"names (letters, digits, . + - and regex operators), got {entry[:80]!r}")
        try:
            re.compile(entry)
        except re.error as err:
            raise UpdatesError(f"{where}[{index}]: not a valid regular expression ({err}): {entry!r}") from None
    return entries


def _bool(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise UpdatesError(f"{where}: must be true or false, got {value!r}")
    return value


def _match(value: object, pattern: re.Pattern[str], where: str, what: str) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise UpdatesError(f"{where}: must be {what}, got {value!r}")
    return value


def _quote_list(name: str, items: list[str]) -> list[str]:
    # #clear first: apt appends to a list that an earlier file (Debian's 50unattended-upgrades) already filled.
    return [f"#clear {name};", f"{name} {{"] + [f'    "{item}";' for item in items] + ["};"]


def security_updates_files(enabled=True, origins_patterns=(), blocked_packages=(), extra_blocked_packages=(),
                           reboot=False, reboot_time="03:30", reboot_with_users=False, mail="",
                           upgrade_calendar="*-*-* 6:00", upgrade_random_delay="60m", needrestart=True,
                           header="Managed by Ansible"):
    """The files the security_updates role writes (apt.conf, needrestart, the timer drop-in) and its packages."""
    try:
        enabled = _bool(enabled, "security_updates_enabled")
        origins = _origins(origins_patterns, enabled)
        blocked = _blocked(blocked_packages, "security_updates_blocked_packages")
        extra = _blocked(extra_blocked_packages, "security_updates_extra_blocked_packages")
        reboot = _bool(reboot, "security_updates_reboot")
        reboot_with_users = _bool(reboot_with_users, "security_updates_reboot_with_users")
        needrestart = _bool(needrestart, "security_updates_needrestart")
        reboot_time = _match(reboot_time, TIME_RE, "security_updates_reboot_time", "a time HH:MM such as '03:30'")
        mail = _match(mail, MAIL_RE, "security_updates_mail", "an e-mail address or ''")
        calendar = _match(upgrade_calendar, CALENDAR_RE, "security_updates_upgrade_calendar",
                          "a systemd OnCalendar expression such as '*-*-* 6:00' or 'Sat *-*-* 03:00'")
        delay = _match(str(upgrade_random_delay), SPAN_RE, "security_updates_upgrade_random_delay",
                       "a systemd time span such as '60m' or '0'")
    except UpdatesError as err:
        raise AnsibleFilterError(str(err)) from None

    flag = {True: '"true"', False: '"false"'}
    held = list(dict.fromkeys(blocked + extra))
    lines = [f"// {line}" for line in str(header).splitlines()] + [
        "// securelab.gpu_notebook.security_updates: unattended upgrades from the security origins only. The GPU",
        "// driver and toolkit, Docker and containerd are held back here (the roles upgrade them, deliberately).",
        "// Lists are cleared first, so what Debian's 50unattended-upgrades lists does not add to them.",
        f'APT::Periodic::Update-Package-Lists "{int(enabled)}";',
        f'APT::Periodic::Unattended-Upgrade "{int(enabled)}";',
        'APT::Periodic::AutocleanInterval "7";',
        *_quote_list("Unattended-Upgrade::Origins-Pattern", origins),
        "#clear Unattended-Upgrade::Allowed-Origins;",
        *_quote_list("Unattended-Upgrade::Package-Blacklist", held),
        f"Unattended-Upgrade::Automatic-Reboot {flag[reboot]};",
        f'Unattended-Upgrade::Automatic-Reboot-Time "{reboot_time}";',
        f"Unattended-Upgrade::Automatic-Reboot-WithUsers {flag[reboot_with_users]};",
        f'Unattended-Upgrade::Mail "{mail}";',
        'Unattended-Upgrade::MailReport "on-change";',
        # Split the run into small steps, so a shutdown in the middle leaves a consistent system.
        'Unattended-Upgrade::MinimalSteps "true";',
        "",
    ]
    files = [{"path": APT_CONF, "content": "\n".join(lines), "mode": "0644"}]
    comment = [f"# {line}" for line in str(header).splitlines()]
    if needrestart:
        needrestart_lines = [
            *comment,
            "# securelab.gpu_notebook.security_updates: list what needs a restart, never restart it (no surprise",
            "# restarts of dockerd, sshd or the notebooks after an unattended upgrade).",
            "$nrconf{restart} = 'l';",
            "",
        ]
        files.append({"path": NEEDRESTART_CONF, "mode": "0644", "content": "\n".join(needrestart_lines)})
    timer_lines = [
        *comment,
        "# securelab.gpu_notebook.security_updates: when unattended-upgrade runs (the reboot window follows it).",
        "[Timer]",
        "OnCalendar=",
        f"OnCalendar={calendar}",
        f"RandomizedDelaySec={delay}",
        "",
    ]
    files.append({"path": TIMER_CONF, "mode": "0644", "content": "\n".join(timer_lines)})
    directories = [TIMER_DIR] + ([NEEDRESTART_DIR] if needrestart else [])
    packages = ["unattended-upgrades"] + (["needrestart"] if needrestart else [])
    return {
        "files": files,
        "directories": directories,
        "packages": packages,
        "calendar": calendar,
        "blocked": held,
        # The same, as resources (resources_drift compares a host_state read with them): what tasks/apply.yml writes.
        "resources": [{"kind": "directory", "path": path, "mode": "0755"} for path in directories]
        + [{"kind": "file", **item} for item in files]
        + [{"kind": "package", "name": packages}],
    }


class FilterModule:
    def filters(self):
        return {"security_updates_files": security_updates_files}
