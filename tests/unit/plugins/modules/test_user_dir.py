"""Unit tests for user_dir: root fixes the owner and mode of ~/.ssh through descriptors, never through a link."""

from __future__ import annotations

import os
import pwd
import stat

import pytest
from ansible_collections.securelab.gpu_notebook.plugins.modules import user_dir
from ansible_collections.securelab.gpu_notebook.tests.unit.plugins.modules.utils import run_module

pytestmark = pytest.mark.skipif(os.getuid() != 0, reason="chown to another user needs root")
NOBODY = pwd.getpwnam("nobody")


def run(capsys, **args):
    return run_module(capsys, user_dir.main, args)


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "home"
    home.mkdir(mode=0o750)
    os.chown(home, NOBODY.pw_uid, NOBODY.pw_gid)
    return home


def attrs(path):
    st = os.lstat(path)
    return stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid


def test_a_loose_ssh_dir_is_made_private(capsys, home):
    ssh = home / ".ssh"
    ssh.mkdir(mode=0o755)  # root-owned and world-readable: the drift of issue 15
    res = run(capsys, path=str(ssh), user="nobody", _ansible_diff=True)
    assert res["changed"] is True and res["state"] == "directory"
    assert res["diff"]["before"]["mode"] == "0755" and res["diff"]["after"]["mode"] == "0700"
    assert attrs(ssh) == (0o700, NOBODY.pw_uid, NOBODY.pw_gid)
    assert run(capsys, path=str(ssh), user="nobody")["changed"] is False


def test_check_mode_changes_nothing(capsys, home):
    ssh = home / ".ssh"
    ssh.mkdir(mode=0o755)
    res = run(capsys, path=str(ssh), user="nobody", _ansible_check_mode=True)
    assert res["changed"] is True
    assert attrs(ssh) == (0o755, 0, 0)


def test_a_planted_link_is_never_followed(capsys, home, tmp_path):
    target = tmp_path / "etc"
    target.mkdir(mode=0o755)
    (home / ".ssh").symlink_to(target)
    res = run(capsys, path=str(home / ".ssh"), user="nobody")
    assert res["rc"] == 0 and res["changed"] is False and res["state"] == "link"
    warned = [w["event"]["msg"] if isinstance(w, dict) else w for w in res.get("warnings", [])]
    assert any("left alone" in w for w in warned), warned
    assert attrs(target) == (0o755, 0, 0)  # root did not chown or chmod the link's target


def test_a_parent_others_can_write_is_refused(capsys, home):
    (home / ".ssh").mkdir(mode=0o755)
    home.chmod(0o777)
    res = run(capsys, path=str(home / ".ssh"), user="nobody")
    assert res["rc"] == 1 and "not under the control of user nobody" in res["msg"]
    assert attrs(home / ".ssh") == (0o755, 0, 0)


def test_missing_stays_missing_unless_create(capsys, home):
    res = run(capsys, path=str(home / ".ssh"), user="nobody")
    assert (res["changed"], res["state"]) == (False, "missing") and not (home / ".ssh").exists()
    res = run(capsys, path=str(home / ".ssh"), user="nobody", create=True)
    assert res["changed"] is True and attrs(home / ".ssh") == (0o700, NOBODY.pw_uid, NOBODY.pw_gid)


def test_bad_input(capsys, home):
    assert "mode" in run(capsys, path=str(home / ".ssh"), user="nobody", mode="rwx")["msg"]
    assert "no account" in run(capsys, path=str(home / ".ssh"), user="securelab-nobody-here")["msg"]
    assert "absolute" in run(capsys, path="relative/.ssh", user="nobody")["msg"]
