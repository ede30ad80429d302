"""totp_secret as Ansible runs it, on real files: create, no-op, PAM rewrites, rotate, absent, bad input."""

from __future__ import annotations

import json
import os
import pwd
import socket
import stat

import pyotp
import pytest
from ansible_collections.securelab.gpu_notebook.plugins.module_utils import _totp
from ansible_collections.securelab.gpu_notebook.plugins.modules import totp_secret
from ansible_collections.securelab.gpu_notebook.tests.unit.plugins.modules.utils import run_module

ME = pwd.getpwuid(os.getuid())
SECRET_KEYS = ("otpauth_uri", "scratch_codes", "secret", "qr_png_base64", "qr_text")


def run(capsys, **args):
    return run_module(capsys, totp_secret.main, args)


@pytest.fixture
def home(tmp_path):
    d = tmp_path / "home"
    d.mkdir(mode=0o700)
    return d


@pytest.fixture
def ga(home):
    return home / ".google_authenticator"


def create(capsys, ga, **extra):
    return run(capsys, user=ME.pw_name, path=str(ga), **extra)


def test_create_writes_what_pam_reads(capsys, ga):
    res = create(capsys, ga, _ansible_diff=True)
    assert res["rc"] == 0 and res["changed"] is True and res["created"] is True
    st = ga.stat()
    assert stat.S_IMODE(st.st_mode) == 0o400 and st.st_uid == ME.pw_uid and st.st_gid == ME.pw_gid
    content = ga.read_text()
    parsed = _totp.parse(content)
    assert parsed["options"] == ["RATE_LIMIT 3 30", "WINDOW_SIZE 3", "DISALLOW_REUSE", "TOTP_AUTH"]
    assert parsed["scratch_codes"] == res["scratch_codes"] and len(res["scratch_codes"]) == 5
    assert parsed["secret"] == res["secret"]
    totp = pyotp.parse_uri(res["otpauth_uri"])
    assert totp.secret == res["secret"] and totp.issuer == "securelab"
    assert totp.name == f"{ME.pw_name}@{socket.gethostname()}"
    diff = json.dumps(res["diff"])
    assert res["secret"] not in diff and not any(c in diff for c in res["scratch_codes"])
    assert "<hidden secret>" in res["diff"]["after"] and res["diff"]["before"] == ""
    assert sorted(os.listdir(ga.parent)) == [ga.name]


def test_options_are_rendered(capsys, ga):
    res = create(capsys, ga, window_size=17, rate_limit_attempts=0, disallow_reuse=False, scratch_codes=0,
                 issuer="Secure Lab", label="alice laptop")
    assert res["scratch_codes"] == []
    assert ga.read_text().split("\n")[1:] == ['" WINDOW_SIZE 17', '" TOTP_AUTH', ""]
    assert res["otpauth_uri"].startswith("otpauth://totp/Secure%20Lab:alice%20laptop?secret=")


def test_second_run_changes_nothing_and_returns_no_secret(capsys, ga):
    create(capsys, ga)
    before, inode = ga.read_bytes(), ga.stat().st_ino
    res = create(capsys, ga, _ansible_diff=True)
    assert res["rc"] == 0 and res["changed"] is False and res["created"] is False
    assert not any(k in res for k in SECRET_KEYS) and "diff" not in res
    assert ga.read_bytes() == before and ga.stat().st_ino == inode


def test_file_as_pam_rewrote_it_is_left_byte_for_byte(capsys, ga):
    create(capsys, ga)
    lines = ga.read_text().split("\n")
    # what pam_google_authenticator does at login: drop a used scratch code, append counters
    pam_version = "\n".join([lines[0], lines[1] + " 1764000000", lines[2], lines[3] + " 58800000",
                             *lines[4:5], *lines[6:]])
    os.chmod(ga, 0o600)
    ga.write_text(pam_version)
    os.chmod(ga, 0o400)
    res = create(capsys, ga, rotate=False)
    assert res["changed"] is False and ga.read_text() == pam_version


def test_check_mode_on_a_fresh_host(capsys, ga):
    res = create(capsys, ga, _ansible_check_mode=True, _ansible_diff=True)
    assert res["changed"] is True and res["created"] is True and not ga.exists()
    assert not any(k in res for k in SECRET_KEYS)
    assert "<hidden secret>" in res["diff"]["after"]


def test_rotate_replaces_the_secret(capsys, ga):
    first = create(capsys, ga)
    res = create(capsys, ga, rotate=True, _ansible_diff=True)
    assert res["changed"] is True and res["created"] is True and res["secret"] != first["secret"]
    assert _totp.parse(ga.read_text())["secret"] == res["secret"]
    assert first["secret"] not in json.dumps(res["diff"]) and res["secret"] not in json.dumps(res["diff"])
    checked = create(capsys, ga, rotate=True, _ansible_check_mode=True)
    assert checked["changed"] is True and _totp.parse(ga.read_text())["secret"] == res["secret"]


@pytest.mark.parametrize("content", ["", "\n", "garbage\n", "JBSWY3DPEHPK3PXP\nnot-an-option\n"])
def test_empty_or_corrupt_file_fails_unless_rotate(capsys, ga, content):
    ga.write_text(content)
    os.chmod(ga, 0o400)
    res = create(capsys, ga)
    assert res["rc"] == 1 and "empty or corrupt" in res["msg"] and "rotate" in res["msg"]
    assert ga.read_text() == content
    res = create(capsys, ga, rotate=True)
    assert res["rc"] == 0 and res["created"] is True and _totp.parse(ga.read_text())


def test_wrong_mode_is_corrected_without_touching_content(capsys, ga):
    create(capsys, ga)
    os.chmod(ga, 0o644)
    before = ga.read_bytes()
    res = create(capsys, ga, _ansible_diff=True)
    assert res["changed"] is True and res["created"] is False and not any(k in res for k in SECRET_KEYS)
    assert stat.S_IMODE(ga.stat().st_mode) == 0o400 and ga.read_bytes() == before
    assert "mode: 0644" in res["diff"]["before"] and "mode: 0400" in res["diff"]["after"]


def test_mode_0600_is_accepted_as_is(capsys, ga):
    create(capsys, ga)
    os.chmod(ga, 0o600)
    assert create(capsys, ga)["changed"] is False and stat.S_IMODE(ga.stat().st_mode) == 0o600


def test_absent(capsys, ga):
    create(capsys, ga)
    res = create(capsys, ga, state="absent", _ansible_check_mode=True, _ansible_diff=True)
    assert res["changed"] is True and ga.exists() and "<hidden secret>" in res["diff"]["before"]
    res = create(capsys, ga, state="absent")
    assert res["changed"] is True and not ga.exists()
    assert create(capsys, ga, state="absent")["changed"] is False


def test_default_path_is_the_users_home(capsys, monkeypatch, home):
    fake = pwd.struct_passwd(("alice", "x", ME.pw_uid, ME.pw_gid, "", str(home), "/bin/sh"))
    monkeypatch.setattr(totp_secret.pwd, "getpwnam", lambda name: fake if name == "alice" else pwd.getpwnam(name))
    res = run(capsys, user="alice", _ansible_check_mode=True)
    assert res["path"] == str(home / ".google_authenticator")
    assert res["changed"] is True


@pytest.mark.parametrize(("args", "error"), [
    ({"user": "no-such-user-securelab"}, "user: no account named"),
    ({"window_size": 0}, "window_size: must be between 1 and 21"),
    ({"window_size": 22}, "window_size: must be between 1 and 21"),
    ({"scratch_codes": 11}, "scratch_codes: must be between 0 and 10"),
    ({"rate_limit_attempts": 101}, "rate_limit_attempts"),
    ({"rate_limit_seconds": 0}, "rate_limit_seconds"),
    ({"issuer": "a:b"}, "issuer"),
    ({"label": ""}, "label"),
    ({"state": "gone"}, "state"),
    ({"path": "relative/ga"}, "path: must be absolute"),
])
def test_bad_input_fails_and_writes_nothing(capsys, ga, args, error):
    res = run(capsys, **{"user": ME.pw_name, "path": str(ga), **args})
    assert res["rc"] == 1 and error in res["msg"]
    assert not ga.exists() and not any(k in res for k in SECRET_KEYS)


def test_symlink_file_is_refused(capsys, ga, tmp_path):
    target = tmp_path / "target"
    target.write_text("x")
    ga.symlink_to(target)
    res = create(capsys, ga, rotate=True)
    assert res["rc"] == 1 and "path:" in res["msg"] and "symlink" in res["msg"]
    assert target.read_text() == "x" and ga.is_symlink()


def test_symlinked_directory_is_refused(capsys, home, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(home)
    res = run(capsys, user=ME.pw_name, path=str(link / ".google_authenticator"))
    assert res["rc"] == 1 and "symlink" in res["msg"] and os.listdir(home) == []


@pytest.mark.parametrize("mode", [0o770, 0o777, 0o720])
def test_directory_writable_by_others_is_refused(capsys, home, ga, mode):
    os.chmod(home, mode)
    res = create(capsys, ga)
    assert res["rc"] == 1 and "writable by group or others" in res["msg"] and not ga.exists()


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to hand files to another user")
def test_directory_of_another_user_is_refused(capsys, home, ga):
    os.chown(home, 65534, 65534)
    res = create(capsys, ga)
    assert res["rc"] == 1 and "must be owned by the user" in res["msg"] and not ga.exists()


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to hand files to another user")
def test_root_writes_a_file_owned_by_the_user(capsys, home):
    nobody = pwd.getpwnam("nobody")
    os.chown(home, nobody.pw_uid, nobody.pw_gid)
    ga = home / ".google_authenticator"
    res = run(capsys, user="nobody", path=str(ga))
    assert res["rc"] == 0 and res["created"] is True
    st = ga.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (nobody.pw_uid, nobody.pw_gid, 0o400)
    # a planted file of a third user is not adopted
    os.chown(ga, 12345, 12345)
    res = run(capsys, user="nobody", path=str(ga))
    assert res["rc"] == 1 and "owned by uid 12345" in res["msg"]
