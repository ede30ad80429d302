# Copyright (c) securelab.gpu_notebook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Root writing a private file in a directory a user controls, without following that user's links.

The module runs as root but the file lives in the user's home, where the user can create
symlinks or swap files. Every path component is opened relative to its parent's file
descriptor with O_NOFOLLOW, the checks are made on those descriptors (fstat), and the file is
written as a temporary in the same directory and renamed over the old name with the directory
descriptor, so nothing is ever written through a symlink and the change is atomic.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, 'O_CLOEXEC', 0)


class UnsafePathError(Exception):
    """The path is not under the user's (and root's) sole control."""


def open_user_dir(directory, uid):
    """Open ``directory`` (absolute) and return its fd, checking every component.

    Ancestors must be owned by root or ``uid`` and not writable by group/others (unless the
    sticky bit is set, as on /tmp). The directory itself must be owned by ``uid`` and not
    writable by group/others. No component may be a symlink.
    """
    if not os.path.isabs(directory):
        raise UnsafePathError(f'{directory} is not an absolute path')
    parts = [p for p in os.path.normpath(directory).split('/') if p]
    fd = os.open('/', _DIR_FLAGS)
    current = '/'
    try:
        for _index, name in enumerate(parts):
            _check_dir(fd, current, uid, last=False)
            try:
                new_fd = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except OSError as e:
                current = os.path.join(current, name)
                if e.errno in (errno.ELOOP, errno.ENOTDIR):
                    try:
                        if stat.S_ISLNK(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode):
                            raise UnsafePathError(f'{current} is a symlink; give the real path') from None
                    except FileNotFoundError:
                        pass
                    raise UnsafePathError(f'{current} is not a directory') from None
                if e.errno == errno.ENOENT:
                    raise UnsafePathError(f'{current} does not exist') from None
                raise
            os.close(fd)
            fd = new_fd
            current = os.path.join(current, name)
        _check_dir(fd, current, uid, last=True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _check_dir(fd, name, uid, last):
    st = os.fstat(fd)
    others_can_write = st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    if last:
        if st.st_uid != uid:
            raise UnsafePathError(f'{name} must be owned by the user (uid {uid}), not uid {st.st_uid}')
        if others_can_write:
            raise UnsafePathError(f'{name} is writable by group or others (mode {stat.S_IMODE(st.st_mode):04o})')
    else:
        if st.st_uid not in (0, uid):
            raise UnsafePathError(f'{name} is owned by uid {st.st_uid}, neither root nor the user')
        if others_can_write and not st.st_mode & stat.S_ISVTX:
            raise UnsafePathError(f'{name} is writable by group or others (mode {stat.S_IMODE(st.st_mode):04o})')


def lstat_at(dir_fd, name):
    """lstat of ``name`` in ``dir_fd``, or None if it does not exist."""
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def read_at(dir_fd, name, max_bytes=65536):
    """Read a regular file without following a symlink."""
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, 'O_CLOEXEC', 0), dir_fd=dir_fd)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafePathError(f'{name} is not a regular file')
        chunks = []
        while True:
            chunk = os.read(fd, max_bytes)
            if not chunk:
                break
            chunks.append(chunk)
        return b''.join(chunks)
    finally:
        os.close(fd)


def fix_attributes_at(dir_fd, name, uid, gid, mode):
    """chown/chmod through a descriptor (never through a symlink)."""
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, 'O_CLOEXEC', 0), dir_fd=dir_fd)
    try:
        os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)
    finally:
        os.close(fd)


def write_atomic_at(dir_fd, name, data, uid, gid, mode):
    """Write ``data`` to a new temporary file (created with ``mode``, owned by uid:gid) next to
    ``name`` and rename it over ``name``: readers see the old file or the new one, never a mix."""
    tmp = None
    for _attempt in range(10):
        candidate = '.{}.{}.tmp'.format(name.lstrip('.'), secrets.token_hex(6))
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, 'O_CLOEXEC', 0),
                         mode, dir_fd=dir_fd)
        except FileExistsError:
            continue
        tmp = candidate
        break
    if tmp is None:
        raise OSError(errno.EEXIST, f'could not create a temporary file next to {name}')
    try:
        try:
            os.fchown(fd, uid, gid)
            os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        tmp = None
        os.fsync(dir_fd)
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp, dir_fd=dir_fd)
            except OSError:
                pass


def unlink_at(dir_fd, name):
    os.unlink(name, dir_fd=dir_fd)
