"""_user_file: root writing into a directory a user controls, without following that user's links."""

from __future__ import annotations

import os
import stat

import pytest
from ansible_collections.securelab.gpu_notebook.plugins.module_utils import _user_file as uf
from ansible_collections.securelab.gpu_notebook.tests.unit.plugins.modules.utils import deadline

UID = os.getuid()


def set_mode(path, mode):
    """chmod with the (deliberately unsafe) modes these tests need."""
    os.chmod(path, mode)


@pytest.fixture
def home(tmp_path):
    d = tmp_path / "home"
    d.mkdir(mode=0o700)
    return d


def test_open_and_write_atomically(home):
    fd = uf.open_user_dir(str(home), UID)
    try:
        uf.write_atomic_at(fd, ".google_authenticator", b"one\n", UID, os.getgid(), 0o400)
        first = os.stat(home / ".google_authenticator")
        uf.write_atomic_at(fd, ".google_authenticator", b"two\n", UID, os.getgid(), 0o400)
        assert uf.read_at(fd, ".google_authenticator") == b"two\n"
    finally:
        os.close(fd)
    st = os.stat(home / ".google_authenticator")
    assert stat.S_IMODE(st.st_mode) == 0o400 and st.st_uid == UID
    assert st.st_ino != first.st_ino  # replaced by rename, not rewritten in place
    assert sorted(os.listdir(home)) == [".google_authenticator"]  # no temporary file left


def test_symlinked_directory_is_refused(home, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(home)
    with pytest.raises(uf.UnsafePathError, match="symlink"):
        uf.open_user_dir(str(link), UID)


@pytest.mark.parametrize("mode", [0o770, 0o707, 0o777])
def test_parent_writable_by_others_is_refused(home, mode):
    os.chmod(home, mode)
    with pytest.raises(uf.UnsafePathError, match="writable by group or others"):
        uf.open_user_dir(str(home), UID)


def test_parent_owned_by_someone_else_is_refused(home):
    with pytest.raises(uf.UnsafePathError, match="must be owned by the user"):
        uf.open_user_dir(str(home), UID + 12345)


@pytest.mark.skipif(os.getuid() != 0, reason="chown to another user needs root")
def test_ancestor_owned_by_another_user_is_refused(tmp_path):
    outer = tmp_path / "outer"
    inner = outer / "inner"
    inner.mkdir(parents=True, mode=0o700)
    set_mode(outer, 0o755)
    os.chown(outer, 65534, 65534)
    with pytest.raises(uf.UnsafePathError, match="neither root nor the user"):
        uf.open_user_dir(str(inner), UID)


def test_ancestor_writable_by_others_without_sticky_is_refused(tmp_path):
    outer = tmp_path / "outer"
    inner = outer / "inner"
    inner.mkdir(parents=True, mode=0o700)
    set_mode(outer, 0o777)
    with pytest.raises(uf.UnsafePathError, match="writable by group or others"):
        uf.open_user_dir(str(inner), UID)
    set_mode(outer, 0o1777)  # sticky, like /tmp: others cannot rename our directory
    os.close(uf.open_user_dir(str(inner), UID))


@pytest.mark.parametrize(("path", "error"), [
    ("relative/dir", "absolute"),
    ("/nonexistent-securelab", "does not exist"),
])
def test_bad_paths(path, error):
    with pytest.raises(uf.UnsafePathError, match=error):
        uf.open_user_dir(path, UID)


def test_file_not_a_directory(home):
    (home / "f").write_text("x")
    with pytest.raises(uf.UnsafePathError, match="not a directory"):
        uf.open_user_dir(str(home / "f"), UID)


def test_read_and_fix_never_follow_a_symlink(home, tmp_path):
    target = tmp_path / "target"
    target.write_text("victim")
    os.chmod(target, 0o644)
    (home / "ga").symlink_to(target)
    fd = uf.open_user_dir(str(home), UID)
    try:
        assert stat.S_ISLNK(uf.lstat_at(fd, "ga").st_mode)
        assert uf.lstat_at(fd, "missing") is None
        with pytest.raises(OSError):
            uf.read_at(fd, "ga")
        with pytest.raises(OSError):
            uf.fix_attributes_at(fd, "ga", UID, os.getgid(), 0o400)
        uf.write_atomic_at(fd, "ga", b"new\n", UID, os.getgid(), 0o400)  # replaces the link itself
    finally:
        os.close(fd)
    assert target.read_text() == "victim" and stat.S_IMODE(target.stat().st_mode) == 0o644
    assert not (home / "ga").is_symlink() and (home / "ga").read_text() == "new\n"


def test_a_fifo_is_refused_without_blocking(home):
    os.mkfifo(home / "ga", 0o600)
    fd = uf.open_user_dir(str(home), UID)
    try:
        with deadline(10):
            with pytest.raises(uf.UnsafePathError, match="not a regular file"):
                uf.read_at(fd, "ga")
            with pytest.raises(uf.UnsafePathError, match="not a regular file"):
                uf.fix_attributes_at(fd, "ga", UID, os.getgid(), 0o400)
    finally:
        os.close(fd)
    assert stat.S_IMODE(os.lstat(home / "ga").st_mode) == 0o600


def test_read_file_at_returns_the_stat_and_refuses_a_larger_file(home):
    (home / "ga").write_bytes(b"x" * 100)
    fd = uf.open_user_dir(str(home), UID)
    try:
        data, st = uf.read_file_at(fd, "ga", 100)
        assert data == b"x" * 100 and st.st_ino == os.lstat(home / "ga").st_ino and stat.S_ISREG(st.st_mode)
        with pytest.raises(uf.FileTooLargeError):
            uf.read_file_at(fd, "ga", 99)
        with pytest.raises(FileNotFoundError):
            uf.read_at(fd, "missing")
    finally:
        os.close(fd)


def test_a_missing_directory_is_told_apart(tmp_path):
    with pytest.raises(uf.MissingPathError, match="does not exist"):
        uf.open_user_dir(str(tmp_path / "no" / "such"), UID)
    assert issubclass(uf.MissingPathError, uf.UnsafePathError)  # callers that only know UnsafePathError refuse it


def test_unlink_at_removes_a_symlink_not_its_target(home, tmp_path):
    target = tmp_path / "target"
    target.write_text("victim")
    (home / "ga").symlink_to(target)
    fd = uf.open_user_dir(str(home), UID)
    try:
        uf.unlink_at(fd, "ga")
    finally:
        os.close(fd)
    assert not os.path.lexists(home / "ga") and target.read_text() == "victim"


@pytest.mark.skipif(os.getuid() != 0, reason="chown to another user needs root")
def test_a_root_owned_directory_for_owner_root(tmp_path):
    """owner=root (the totp_secret layout /var/lib/securelab/totp): root's directory, nobody else's."""
    d = tmp_path / "totp"
    d.mkdir(mode=0o700)
    os.close(uf.open_user_dir(str(d), 0))
    os.chown(d, 65534, 65534)
    with pytest.raises(uf.UnsafePathError, match=r"must be owned by the user \(uid 0\)"):
        uf.open_user_dir(str(d), 0)
