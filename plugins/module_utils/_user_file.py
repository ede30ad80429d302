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
# O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer (it is then refused by fstat).
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, 'O_NOCTTY', 0) | getattr(os, 'O_CLOEXEC', 0)


class UnsafePathError(Exception):
    """The path is not under the user's (and root's) sole control."""


class MissingPathError(UnsafePathError):
    """A directory of the path does not exist (so nothing below it exists either)."""


class FileTooLargeError(Exception):
    """The file is larger than the caller's limit; it was not read."""


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
                    raise MissingPathError(f'{current} does not exist') from None
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


def read_file_at(dir_fd, name, max_bytes=65536):
    """(content, fstat) of the regular file ``name`` in ``dir_fd``, read without following a symlink.

    Opened with O_NOFOLLOW and O_NONBLOCK (a FIFO does not block the caller) and checked on the open
    descriptor: anything but a regular file raises UnsafePathError, a file larger than ``max_bytes``
    raises FileTooLargeError (only ``max_bytes`` + 1 bytes are ever read).
    """
    fd = os.open(name, _READ_FLAGS, dir_fd=dir_fd)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafePathError(f'{name} is not a regular file')
        if st.st_size > max_bytes:
            raise FileTooLargeError(f'{name} is larger than {max_bytes} bytes')
        chunks, size = [], 0
        while size <= max_bytes:
            chunk = os.read(fd, max_bytes + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > max_bytes:  # it grew while being read
            raise FileTooLargeError(f'{name} is larger than {max_bytes} bytes')
        return b''.join(chunks), st
    finally:
        os.close(fd)


def read_at(dir_fd, name, max_bytes=65536):
    """The content of a regular file, as read_file_at()."""
    return read_file_at(dir_fd, name, max_bytes)[0]


def fix_attributes_at(dir_fd, name, uid, gid, mode):
    """chown/chmod through a descriptor (never through a symlink, never blocking on a FIFO)."""
    fd = os.open(name, _READ_FLAGS, dir_fd=dir_fd)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafePathError(f'{name} is not a regular file')
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
    """unlinkat(): removes the name itself; a symlink is removed, never its target."""
    os.unlink(name, dir_fd=dir_fd)
