"""Unit tests for the security_updates filter (security_updates_files).

The generated apt file is also read by the real apt-config of this machine, with Debian's own list entries in an
earlier file, to show that #clear leaves only the role's origins and held packages.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.securelab.gpu_notebook.plugins.filter.resources import resources_drift
from ansible_collections.securelab.gpu_notebook.plugins.filter.updates import (
    APT_CONF,
    NEEDRESTART_CONF,
    TIMER_CONF,
    FilterModule,
    security_updates_files,
)

SECURITY = "origin=Debian,codename=${distro_codename}-security,label=Debian-Security"
HELD = ["nvidia-", "libnvidia-", "docker\\.io$", "containerd"]


def files(**kwargs):
    args = {"origins_patterns": [SECURITY], "blocked_packages": HELD}
    args.update(kwargs)
    result = security_updates_files(args.pop("enabled", True), **args)
    return result, {f["path"]: f["content"] for f in result["files"]}


def test_registered():
    assert FilterModule().filters()["security_updates_files"] is security_updates_files


def test_defaults_write_the_three_files_and_both_packages():
    result, content = files()
    assert list(content) == [APT_CONF, NEEDRESTART_CONF, TIMER_CONF]
    assert result["packages"] == ["unattended-upgrades", "needrestart"]
    assert result["directories"] == ["/etc/systemd/system/apt-daily-upgrade.timer.d", "/etc/needrestart/conf.d"]
    apt = content[APT_CONF]
    assert 'APT::Periodic::Unattended-Upgrade "1";' in apt
    assert 'APT::Periodic::Update-Package-Lists "1";' in apt
    assert ('#clear Unattended-Upgrade::Origins-Pattern;\n'
            f'Unattended-Upgrade::Origins-Pattern {{\n    "{SECURITY}";\n}};') in apt
    assert '    "docker\\.io$";' in apt
    assert 'Unattended-Upgrade::Automatic-Reboot "false";' in apt
    assert "$nrconf{restart} = 'l';" in content[NEEDRESTART_CONF]
    assert "OnCalendar=\nOnCalendar=*-*-* 6:00\nRandomizedDelaySec=60m" in content[TIMER_CONF]
    assert all(f["mode"] == "0644" for f in result["files"])


@pytest.mark.parametrize("needrestart", [True, False])
def test_the_resources_are_what_the_role_writes(needrestart):
    # One declaration: resources_drift compares the read with these, tasks/apply.yml writes the same lists.
    result, content = files(needrestart=needrestart)
    declared = result["resources"]
    assert [r["path"] for r in declared if r["kind"] == "directory"] == result["directories"]
    assert {r["path"]: r["content"] for r in declared if r["kind"] == "file"} == content
    assert all(r["mode"] == "0644" for r in declared if r["kind"] == "file")
    assert [r["name"] for r in declared if r["kind"] == "package"] == [result["packages"]]
    state = {"files": {path: {"exists": True, "type": "directory", "mode": "0755", "owner": "root", "group": "root"}
                       for path in result["directories"]},
             "packages": dict.fromkeys(result["packages"], "1.0")}
    for path, text in content.items():
        state["files"][path] = {"exists": True, "type": "file", "mode": "0644", "owner": "root", "group": "root",
                                "checksum": hashlib.sha1(text.encode()).hexdigest()}  # noqa: S324 - host_state's
    assert resources_drift(state, declared) == []
    state["files"][TIMER_CONF]["mode"] = "0666"
    assert resources_drift(state, declared) == [f"{TIMER_CONF}: mode 0666, not 0644"]


def test_off_and_without_needrestart():
    result, content = files(enabled=False, origins_patterns=[], needrestart=False)
    assert 'APT::Periodic::Unattended-Upgrade "0";' in content[APT_CONF]
    assert NEEDRESTART_CONF not in content
    assert result["packages"] == ["unattended-upgrades"]
    assert result["directories"] == ["/etc/systemd/system/apt-daily-upgrade.timer.d"]


def test_reboot_window_mail_and_extra_held_packages():
    result, content = files(reboot=True, reboot_time="04:15", reboot_with_users=True, mail="ops@example.org",
                            extra_blocked_packages=["linux-image-", "nvidia-"])
    apt = content[APT_CONF]
    assert 'Unattended-Upgrade::Automatic-Reboot "true";' in apt
    assert 'Unattended-Upgrade::Automatic-Reboot-Time "04:15";' in apt
    assert 'Unattended-Upgrade::Automatic-Reboot-WithUsers "true";' in apt
    assert 'Unattended-Upgrade::Mail "ops@example.org";' in apt
    assert result["blocked"] == [*HELD, "linux-image-"]


def test_header_is_a_comment_in_each_syntax():
    content = files(header="Ansible managed\nsecond line")[1]
    assert content[APT_CONF].startswith("// Ansible managed\n// second line\n")
    assert content[TIMER_CONF].startswith("# Ansible managed\n# second line\n")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"enabled": "yes"}, "security_updates_enabled: must be true or false"),
    ({"origins_patterns": []}, "security_updates_origins_patterns: is empty"),
    ({"origins_patterns": "origin=Debian"}, "security_updates_origins_patterns: must be a list"),
    ({"origins_patterns": ['origin=Debian";evil']}, r"security_updates_origins_patterns\[0\]: not an"),
    ({"origins_patterns": ["colour=blue"]}, r"security_updates_origins_patterns\[0\]: not an"),
    ({"origins_patterns": [SECURITY, ""]}, r"security_updates_origins_patterns\[1\]: must be a non-empty"),
    ({"blocked_packages": ["nvidia-", "a b"]}, r"security_updates_blocked_packages\[1\]: must be a package name"),
    ({"blocked_packages": ["nvidia-("]}, r"security_updates_blocked_packages\[0\]: not a valid regular"),
    ({"extra_blocked_packages": ['x";']}, r"security_updates_extra_blocked_packages\[0\]"),
    ({"reboot_time": "25:00"}, "security_updates_reboot_time: must be a time HH:MM"),
    ({"reboot_time": "3:30"}, "security_updates_reboot_time"),
    ({"reboot": "true"}, "security_updates_reboot: must be true or false"),
    ({"mail": "ops@example.org; rm -rf /"}, "security_updates_mail"),
    ({"upgrade_calendar": "daily\n[Service]"}, "security_updates_upgrade_calendar"),
    ({"upgrade_random_delay": "1 fortnight"}, "security_updates_upgrade_random_delay"),
    ({"needrestart": 1}, "security_updates_needrestart: must be true or false"),
])
def test_bad_input_names_the_variable(kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        files(**kwargs)


@pytest.mark.skipif(shutil.which("apt-config") is None, reason="needs apt-config (Debian)")
def test_apt_reads_only_the_roles_lists(tmp_path):
    parts = tmp_path / "apt.conf.d"
    parts.mkdir()
    # What Debian's 50unattended-upgrades lists: point releases too, and a held package.
    (parts / "50unattended-upgrades").write_text(
        'Unattended-Upgrade::Origins-Pattern { "origin=Debian,codename=${distro_codename},label=Debian"; };\n'
        'Unattended-Upgrade::Package-Blacklist { "debian-only"; };\n'
        'APT::Periodic::Unattended-Upgrade "0";\n')
    content = files()[1]
    (parts / "52securelab-security-updates").write_text(content[APT_CONF])
    main = tmp_path / "apt.conf"
    main.write_text(f'Dir::Etc::parts "{parts}/";\n')
    dump = subprocess.run(["apt-config", "dump"], env={"APT_CONFIG": str(main), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, check=True).stdout
    origins = re.findall(r'^Unattended-Upgrade::Origins-Pattern:: "(.*)";$', dump, re.M)
    held = re.findall(r'^Unattended-Upgrade::Package-Blacklist:: "(.*)";$', dump, re.M)
    assert origins == [SECURITY]
    assert held == HELD
    assert 'APT::Periodic::Unattended-Upgrade "1";' in dump
