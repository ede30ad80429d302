"""Render time_sync's chrony.conf with the role defaults (no NTP traffic needed).

The molecule scenario must not use the public pool (tests only talk to loopback), so the
defaults are checked here: the rendered file a host gets when nothing is set.
"""

from __future__ import annotations

import json

import pytest


def render(render_role_template, extra_vars: str = "{}") -> str:
    return render_role_template("time_sync", "chrony.conf.j2", "0644", json.loads(extra_vars))


def test_defaults_give_a_working_config(render_role_template) -> None:
    conf = render(render_role_template)
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
def test_variables_reach_the_config(render_role_template, extra: str, expected: list[str], absent: list[str]) -> None:
    lines = render(render_role_template, extra).splitlines()
    for line in expected:
        assert line in lines
    for prefix in absent:
        assert not any(x.startswith(prefix) for x in lines)
