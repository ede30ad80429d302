"""totp_secret as Ansible runs it, on real files: create, no-op, PAM rewrites, rotate, absent, bad input,
the root-owned layout (owner=root) and the migration of a user's old file (migrate_from)."""

from __future__ import annotations

import json
import os
import pwd
import socket
import stat

import pyotp
import pytest
from ansible_collections.securelab.gpu_notebook.plugins.module_utils import _totp, _totp_secret
from ansible_collections.securelab.gpu_notebook.plugins.modules import totp_secret
from ansible_collections.securelab.gpu_notebook.tests.unit.plugins.modules.utils import deadline, run_module

ME = pwd.getpwuid(os.getuid())
SECRET_KEYS = ("otpauth_uri", "scratch_codes", "secret", "qr_png_base64", "qr_text")


def run(capsys, **args):
    return run_module(capsys, totp_secret.main, args)


def warnings_of(res):
    """The warning texts (ansible-core 2.19 returns each as a WarningSummary event)."""
    return [w["event"]["msg"] if isinstance(w, dict) else w for w in res.get("warnings", [])]


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


@pytest.mark.parametrize("content", ["", "\n", "garbage\n", "JBSWY3DPEHPK3PXP\nnot-an-option\n", "not a secret\n",
                                     "9ot base32\n\" TOTP_AUTH\n", "JBSWY3DPEHPK3PXP\n" + "x" * 65536])
def test_file_pam_cannot_use_fails_unless_rotate(capsys, ga, content):
    ga.write_text(content)
    os.chmod(ga, 0o400)
    res = create(capsys, ga)
    assert res["rc"] == 1 and res["msg"].startswith(f"path: {ga} is empty or corrupt: pam_google_authenticator "
                                                    "cannot use it")
    assert "Set rotate=true" in res["msg"] and "must then enroll again" in res["msg"]
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
    real = pwd.getpwnam
    monkeypatch.setattr(_totp_secret.pwd, "getpwnam", lambda name: fake if name == "alice" else real(name))
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


# --- lines pam_google_authenticator writes: never a reason to fail or to rotate -----------------------------

S = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
AS_PAM_LEFT_IT = (f'{S}\n" TIME_SKEW -2\n" RESETTING_TIME_SKEW 56666668-2\n" LAST0 192.0.2.7 1764000000\n'
                  '" RATE_LIMIT 3 30 1764000000 1764000010\n" WINDOW_SIZE 3\n" DISALLOW_REUSE 58800000\n'
                  '" TOTP_AUTH\n12345678\n').encode()


@pytest.mark.parametrize("content", [
    AS_PAM_LEFT_IT,
    AS_PAM_LEFT_IT.replace(b"\n", b"\r\n"),
    f'{S}\n" RESETTING_TIME_SKEW 56666668+2\n" TOTP_AUTH'.encode(),  # last scratch code used, no final newline
    f'{S}\n\n" HOTP_COUNTER 7\n\n'.encode(),
])
def test_file_as_pam_left_it_is_kept(capsys, ga, content):
    ga.write_bytes(content)
    os.chmod(ga, 0o400)
    res = create(capsys, ga, _ansible_diff=True)
    assert res["rc"] == 0 and res["changed"] is False and not any(k in res for k in SECRET_KEYS)
    assert ga.read_bytes() == content and "warnings" not in res


def test_line_pam_ignores_is_kept_with_a_warning(capsys, ga):
    content = f'{S}\n" TOTP_AUTH\n12345678\nnotes: call Bob\n87654321\n'
    ga.write_text(content)
    os.chmod(ga, 0o400)
    res = create(capsys, ga)
    assert res["rc"] == 0 and res["changed"] is False and ga.read_text() == content
    assert warnings_of(res) == [
        f"path: {ga}: line 4 is neither an option line nor a scratch code: "
        "pam_google_authenticator ignores it and every scratch code after it"]
    assert "Bob" not in json.dumps(res)


def test_option_pam_refuses_fails_without_advising_rotation(capsys, ga):
    content = f'{S}\n" WINDOW_SIZE 0\n" TOTP_AUTH\n'
    ga.write_text(content)
    os.chmod(ga, 0o400)
    res = create(capsys, ga)
    assert res["rc"] == 1 and res["msg"].startswith(f"path: {ga}: line 2: pam_google_authenticator refuses its "
                                                    "WINDOW_SIZE value")
    assert "Fix or remove that line by hand" in res["msg"] and "do not rotate" in res["msg"]
    assert "empty or corrupt" not in res["msg"] and ga.read_text() == content


# --- owner=root: the root-owned layout ------------------------------------------------------------------------

needs_root = pytest.mark.skipif(os.getuid() != 0, reason="needs root to hand files to another user")
NOBODY = pwd.getpwnam("nobody")
WORLD_WRITABLE = 0o777  # a deliberately unsafe home


@pytest.fixture
def totp_dir(tmp_path):
    d = tmp_path / "var" / "lib" / "securelab" / "totp"
    d.mkdir(parents=True)
    os.chmod(d, 0o700)
    return d


@pytest.fixture
def nobody_home(tmp_path):
    """A home of the user 'nobody' (owned by nobody, 0700) with the old file in it."""
    d = tmp_path / "home" / "nobody"
    d.mkdir(parents=True, mode=0o700)
    os.chown(d, NOBODY.pw_uid, NOBODY.pw_gid)
    return d


def put_old(home, content=AS_PAM_LEFT_IT, uid=NOBODY.pw_uid, mode=0o400):
    old = home / ".google_authenticator"
    old.write_bytes(content)
    os.chown(old, uid, NOBODY.pw_gid)
    os.chmod(old, mode)
    return old


def root_layout(capsys, totp_dir, home=None, **extra):
    args = dict(user="nobody", owner="root", path=str(totp_dir / "nobody"))
    if home is not None:
        args["migrate_from"] = str(home / ".google_authenticator")
    return run(capsys, **args, **extra)


def owner_mode(path):
    st = os.lstat(path)
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)


@needs_root
def test_owner_root_creates_a_root_owned_file_and_keeps_it(capsys, totp_dir):
    res = root_layout(capsys, totp_dir, _ansible_diff=True)
    assert res["rc"] == 0 and res["created"] is True and res["migrated"] is False
    assert res["otpauth_uri"].startswith("otpauth://totp/securelab:nobody%40")
    assert owner_mode(totp_dir / "nobody") == (0, 0, 0o400)
    assert _totp.parse((totp_dir / "nobody").read_bytes())["secret"] == res["secret"]
    assert sorted(os.listdir(totp_dir)) == ["nobody"]
    before = (totp_dir / "nobody").read_bytes()
    again = root_layout(capsys, totp_dir, _ansible_diff=True)
    assert again["rc"] == 0 and again["changed"] is False and not any(k in again for k in SECRET_KEYS)
    assert (totp_dir / "nobody").read_bytes() == before


@needs_root
def test_owner_root_corrects_owner_and_mode_to_root(capsys, totp_dir):
    root_layout(capsys, totp_dir)
    os.chmod(totp_dir / "nobody", 0o644)
    res = root_layout(capsys, totp_dir)
    assert res["changed"] is True and res["created"] is False and owner_mode(totp_dir / "nobody") == (0, 0, 0o400)
    os.chown(totp_dir / "nobody", NOBODY.pw_uid, NOBODY.pw_gid)  # the user's uid is not root's
    res = root_layout(capsys, totp_dir)
    assert res["rc"] == 1 and f"owned by uid {NOBODY.pw_uid}" in res["msg"]


@needs_root
@pytest.mark.parametrize(("owner", "mode", "error"), [
    ((NOBODY.pw_uid, NOBODY.pw_gid), 0o700, "must be owned by the user (uid 0)"),
    ((0, 0), 0o770, "writable by group or others"),
])
def test_owner_root_needs_a_directory_only_root_controls(capsys, totp_dir, owner, mode, error):
    os.chown(totp_dir, *owner)
    os.chmod(totp_dir, mode)
    res = root_layout(capsys, totp_dir)
    assert res["rc"] == 1 and res["msg"].startswith(f"path: {totp_dir}/nobody is not under the control of user root")
    assert error in res["msg"] and os.listdir(totp_dir) == []


def test_unknown_owner_fails(capsys, ga):
    res = create(capsys, ga, owner="no-such-owner-securelab")
    assert res["rc"] == 1 and res["msg"] == "owner: no account named 'no-such-owner-securelab' on this host"


# --- migrate_from: the user's old file moves unchanged --------------------------------------------------------

@needs_root
def test_migration_moves_the_exact_bytes_and_returns_no_secret(capsys, totp_dir, nobody_home):
    old = put_old(nobody_home)
    res = root_layout(capsys, totp_dir, nobody_home, _ansible_diff=True)
    assert res["rc"] == 0 and res["changed"] is True and res["migrated"] is True and res["created"] is False
    assert not any(k in res for k in SECRET_KEYS)
    new = totp_dir / "nobody"
    assert new.read_bytes() == AS_PAM_LEFT_IT and owner_mode(new) == (0, 0, 0o400)
    assert not old.exists() and os.listdir(nobody_home) == [] and os.listdir(totp_dir) == ["nobody"]
    shown = json.dumps(res["diff"])
    assert S not in shown and "12345678" not in shown and "RESETTING_TIME_SKEW 56666668-2" in shown
    assert res["diff"]["before_header"] == str(old) and res["diff"]["after_header"] == str(new)
    again = root_layout(capsys, totp_dir, nobody_home)
    assert again["rc"] == 0 and again["changed"] is False and again["migrated"] is False
    assert new.read_bytes() == AS_PAM_LEFT_IT


@needs_root
def test_migration_in_check_mode_changes_nothing(capsys, totp_dir, nobody_home):
    old = put_old(nobody_home)
    res = root_layout(capsys, totp_dir, nobody_home, _ansible_check_mode=True, _ansible_diff=True)
    assert res["rc"] == 0 and res["changed"] is True and res["migrated"] is True and res["created"] is False
    assert not any(k in res for k in SECRET_KEYS) and S not in json.dumps(res)
    assert old.read_bytes() == AS_PAM_LEFT_IT and os.listdir(totp_dir) == []


@needs_root
def test_no_old_file_creates_a_new_secret(capsys, totp_dir, tmp_path):
    res = root_layout(capsys, totp_dir, tmp_path / "home" / "missing")  # not even the home exists
    assert res["rc"] == 0 and res["created"] is True and res["migrated"] is False and "secret" in res


def plant_symlink_to_shadow(home, tmp_path):
    shadow = tmp_path / "etc" / "shadow"
    shadow.parent.mkdir()
    shadow.write_text("root:$6$not-a-real-hash:19000:0:99999:7:::\n")
    os.chmod(shadow, 0o640)
    (home / ".google_authenticator").symlink_to(shadow)
    return shadow


def plant_fifo(home, _tmp_path):
    os.mkfifo(home / ".google_authenticator", 0o600)
    os.chown(home / ".google_authenticator", NOBODY.pw_uid, NOBODY.pw_gid, follow_symlinks=False)


def plant_directory(home, _tmp_path):
    (home / ".google_authenticator").mkdir()
    os.chown(home / ".google_authenticator", NOBODY.pw_uid, NOBODY.pw_gid)


def plant_foreign_file(home, _tmp_path):
    put_old(home, uid=12345)


def plant_corrupt_file(home, _tmp_path):
    put_old(home, content=b"garbage\n")


def plant_option_pam_refuses(home, _tmp_path):
    put_old(home, content=f'{S}\n" RATE_LIMIT 3\n" TOTP_AUTH\n'.encode())


def plant_large_file(home, _tmp_path):
    put_old(home, content=AS_PAM_LEFT_IT + b"\n" * (64 * 1024))


def plant_in_a_root_owned_home(home, _tmp_path):
    put_old(home)
    os.chown(home, 0, 0)


@needs_root
@pytest.mark.parametrize(("plant", "problem"), [
    (plant_symlink_to_shadow, "it is a symlink, not a regular file"),
    (plant_fifo, "it is a FIFO, not a regular file"),
    (plant_directory, "it is a directory, not a regular file"),
    (plant_foreign_file, "it is owned by uid 12345, not by user nobody"),
    (plant_corrupt_file, "pam_google_authenticator cannot use it (pam_google_authenticator accepts no code"),
    (plant_option_pam_refuses, "refuses its RATE_LIMIT value"),
    (plant_large_file, "it is larger than 64 KiB"),
    (plant_in_a_root_owned_home, "its directory is not under the control of user nobody"),
], ids=lambda v: v.__name__ if callable(v) else None)
def test_unsafe_or_unusable_old_file_fails_and_changes_nothing(capsys, tmp_path, totp_dir, nobody_home, plant,
                                                               problem):
    shadow = plant(nobody_home, tmp_path)
    old = nobody_home / ".google_authenticator"
    before = (owner_mode(old), os.lstat(old).st_ino)
    with deadline(10):
        res = root_layout(capsys, totp_dir, nobody_home)
    assert res["rc"] == 1 and res["changed"] is False and not any(k in res for k in SECRET_KEYS)
    assert res["msg"].startswith(f"migrate_from: {old} cannot be moved to {totp_dir}/nobody: ")
    assert problem in res["msg"] and "Nothing was changed" in res["msg"]
    assert "Remove it by hand" in res["msg"] and "enroll again" in res["msg"] and "ssh_totp_rotate_users" in res["msg"]
    assert os.listdir(totp_dir) == [] and (owner_mode(old), os.lstat(old).st_ino) == before
    if shadow is not None:  # the link's target is neither read into the result nor changed
        assert owner_mode(shadow) == (0, 0, 0o640) and shadow.read_text().startswith("root:$6$")
        assert "not-a-real-hash" not in json.dumps(res)


@needs_root
def test_symlinked_directory_of_the_old_file_is_refused(capsys, tmp_path, totp_dir, nobody_home):
    put_old(nobody_home)
    link = tmp_path / "link"
    link.symlink_to(nobody_home)
    res = run(capsys, user="nobody", owner="root", path=str(totp_dir / "nobody"),
              migrate_from=str(link / ".google_authenticator"))
    assert res["rc"] == 1 and res["msg"].startswith(f"migrate_from: {link}/.google_authenticator cannot be moved")
    assert "is a symlink" in res["msg"] and os.listdir(totp_dir) == []
    assert (nobody_home / ".google_authenticator").read_bytes() == AS_PAM_LEFT_IT


@needs_root
@pytest.mark.parametrize("plant", [plant_fifo, plant_symlink_to_shadow, plant_corrupt_file, put_old])
def test_rotate_ignores_the_old_file(capsys, tmp_path, totp_dir, nobody_home, plant):
    plant(nobody_home, tmp_path) if plant is not put_old else put_old(nobody_home)
    old = nobody_home / ".google_authenticator"
    before = (owner_mode(old), os.lstat(old).st_ino)
    with deadline(10):
        res = root_layout(capsys, totp_dir, nobody_home, rotate=True)
    assert res["rc"] == 0 and res["created"] is True and res["migrated"] is False and "secret" in res
    assert (owner_mode(old), os.lstat(old).st_ino) == before


@needs_root
def test_existing_path_ignores_the_old_file(capsys, tmp_path, totp_dir, nobody_home):
    root_layout(capsys, totp_dir)
    plant_fifo(nobody_home, tmp_path)
    with deadline(10):
        res = root_layout(capsys, totp_dir, nobody_home)
    assert res["rc"] == 0 and res["changed"] is False and res["migrated"] is False
    assert stat.S_ISFIFO(os.lstat(nobody_home / ".google_authenticator").st_mode)


@needs_root
def test_absent_removes_the_file_and_the_old_one(capsys, totp_dir, nobody_home):
    root_layout(capsys, totp_dir)
    old = put_old(nobody_home)
    res = root_layout(capsys, totp_dir, nobody_home, state="absent", _ansible_check_mode=True, _ansible_diff=True)
    assert res["changed"] is True and old.exists() and (totp_dir / "nobody").exists()
    assert [d["before_header"] for d in res["diff"]] == [str(totp_dir / "nobody"), str(old)]
    res = root_layout(capsys, totp_dir, nobody_home, state="absent")
    assert res["rc"] == 0 and res["changed"] is True and not old.exists() and os.listdir(totp_dir) == []
    assert root_layout(capsys, totp_dir, nobody_home, state="absent")["changed"] is False


@needs_root
def test_absent_removes_a_planted_link_but_never_its_target(capsys, tmp_path, totp_dir, nobody_home):
    shadow = plant_symlink_to_shadow(nobody_home, tmp_path)
    res = root_layout(capsys, totp_dir, nobody_home, state="absent")
    assert res["rc"] == 0 and res["changed"] is True
    assert not os.path.lexists(nobody_home / ".google_authenticator")
    assert owner_mode(shadow) == (0, 0, 0o640) and shadow.read_text().startswith("root:$6$")


@needs_root
def test_absent_skips_an_old_file_in_an_unsafe_directory_with_a_warning(capsys, tmp_path, totp_dir, nobody_home):
    old = put_old(nobody_home)
    os.chmod(nobody_home, WORLD_WRITABLE)
    res = root_layout(capsys, totp_dir, nobody_home, state="absent")
    assert res["rc"] == 0 and res["changed"] is False and old.exists()
    assert len(warnings_of(res)) == 1 and warnings_of(res)[0].startswith(f"migrate_from: {old} was left alone")
    link = tmp_path / "link"
    link.symlink_to(nobody_home)
    os.chmod(nobody_home, 0o700)
    res = run(capsys, user="nobody", owner="root", path=str(totp_dir / "nobody"),
              migrate_from=str(link / ".google_authenticator"), state="absent")
    assert res["rc"] == 0 and "symlink" in warnings_of(res)[0] and old.exists()


@needs_root
def test_absent_leaves_a_directory_in_place_of_the_old_file(capsys, tmp_path, totp_dir, nobody_home):
    plant_directory(nobody_home, tmp_path)
    res = root_layout(capsys, totp_dir, nobody_home, state="absent")
    assert res["rc"] == 0 and res["changed"] is False and "is a directory" in warnings_of(res)[0]
    assert (nobody_home / ".google_authenticator").is_dir()


@pytest.mark.parametrize(("args", "error"), [
    ({"migrate_from": "relative/ga"}, "migrate_from: must be absolute"),
    ({"migrate_from": "/tmp/"}, "migrate_from: '/tmp/' does not name a file"),
])
def test_bad_migrate_from_fails(capsys, ga, args, error):
    res = create(capsys, ga, **args)
    assert res["rc"] == 1 and res["msg"].startswith(error) and not ga.exists()


def test_missing_secret_directory(capsys, tmp_path):
    """The role creates the directory in the task before: in check mode on a fresh host it does not exist yet."""
    totp_dir = tmp_path / "not-yet"
    res = root_layout(capsys, totp_dir, _ansible_check_mode=True)
    assert res["rc"] == 0 and res["changed"] is True and res["created"] is True and "secret" not in res
    res = root_layout(capsys, totp_dir, state="absent")  # nothing to remove
    assert res["rc"] == 0 and res["changed"] is False
    res = root_layout(capsys, totp_dir)  # a real run still needs the directory
    assert res["rc"] == 1 and "does not exist" in res["msg"]
    assert not totp_dir.exists()
