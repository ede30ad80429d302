"""Render time_sync's chrony.conf with the role defaults (no NTP traffic needed).

The molecule scenario must not use the public pool (tests only talk to loopback), so the
defaults are checked here: the rendered file a host gets when nothing is set.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
ROLE = ROOT / "roles" / "time_sync"


def render(tmp_path: Path, extra_vars: str = "{}") -> str:
    out = tmp_path / "chrony.conf"
    playbook = tmp_path / "render.yml"
    playbook.write_text(textwrap.dedent(f"""\
        - hosts: localhost
          gather_facts: false
          vars_files: ["{ROLE}/defaults/main.yml", "{ROLE}/vars/main.yml"]
          tasks:
            - ansible.builtin.template:
                src: "{ROLE}/templates/chrony.conf.j2"
                dest: "{out}"
                mode: "0644"
        """))
    bindir = Path(sys.executable).parent
    subprocess.run(
        [str(bindir / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook), "-e", extra_vars,
         "-e", f"ansible_python_interpreter={sys.executable}"],
        check=True, capture_output=True, text=True,
    )
    return out.read_text()


def test_defaults_give_a_working_config(tmp_path: Path) -> None:
    conf = render(tmp_path)
    lines = conf.splitlines()
    assert any("Ansible managed" in line for line in lines[:3])
    assert "pool 2.debian.pool.ntp.org iburst" in lines
    assert "makestep 1.0 3" in lines
    assert "rtcsync" in lines
    assert not any(line.startswith(("server ", "allow ")) for line in lines)


@pytest.mark.parametrize(
    ("extra", "expected", "absent"),
    [
        ('{"time_sync_servers": ["ntp1.lab"], "time_sync_pools": []}', ["server ntp1.lab iburst"], ["pool "]),
        ('{"time_sync_allow": ["10.0.0.0/8"]}', ["allow 10.0.0.0/8"], []),
        ('{"time_sync_makestep_threshold": 0.5, "time_sync_makestep_limit": -1}', ["makestep 0.5 -1"], []),
        ('{"time_sync_rtcsync": false}', [], ["rtcsync"]),
    ],
)
def test_variables_reach_the_config(tmp_path: Path, extra: str, expected: list[str], absent: list[str]) -> None:
    lines = render(tmp_path, extra).splitlines()
    for line in expected:
        assert line in lines
    for prefix in absent:
        assert not any(x.startswith(prefix) for x in lines)
