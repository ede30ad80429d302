# Copyright (c) securelab.gpu_notebook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The logic of the ``totp_secret`` module: create, keep, migrate, rotate or remove a TOTP secret file.

Every file is reached through directory descriptors opened by ``_user_file.open_user_dir()`` (no symlink
anywhere, every directory checked), so root never writes, reads or removes through a link a user planted.
"""

from __future__ import annotations

import os
import pwd
import socket
import stat

from ansible.module_utils.common.text.converters import to_native
from ansible_collections.securelab.gpu_notebook.plugins.module_utils import _totp, _user_file

FILE_MODE = 0o400
# pam_google_authenticator accepts 0400 or 0600 (it ignores the owner's write bit).
ACCEPTED_MODES = (0o400, 0o600)

_KINDS = ((stat.S_ISREG, 'a regular file'), (stat.S_ISLNK, 'a symlink'), (stat.S_ISDIR, 'a directory'),
          (stat.S_ISFIFO, 'a FIFO'), (stat.S_ISSOCK, 'a socket'), (stat.S_ISCHR, 'a character device'),
          (stat.S_ISBLK, 'a block device'))


def _kind(st):
    return next((name for test, name in _KINDS if test(st.st_mode)), 'of an unknown type')


def _split(module, option, path):
    if not path.startswith('/'):
        module.fail_json(msg=f'{option}: must be absolute, got {path!r}')
    directory, name = path.rsplit('/', 1)
    if not name or name in ('.', '..'):
        module.fail_json(msg=f'{option}: {path!r} does not name a file')
    return directory or '/', name


def _account(module, option, name):
    try:
        return pwd.getpwnam(name)
    except KeyError:
        module.fail_json(msg=f'{option}: no account named {name!r} on this host')


def _identity(st):
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


class TotpSecret:
    """One run of the module: ``run()`` ends with exit_json or fail_json."""

    def __init__(self, module):
        self.module = module
        p = self.p = module.params
        errors = _totp.validate_options(p['window_size'], p['scratch_codes'], p['rate_limit_attempts'],
                                        p['rate_limit_seconds'], p['issuer'], p['label'])
        if errors:
            module.fail_json(msg='; '.join(errors))
        self.user = _account(module, 'user', p['user'])
        self.owner = _account(module, 'owner', p['owner'] or p['user'])
        self.path = p['path'] or self.user.pw_dir.rstrip('/') + '/.google_authenticator'
        self.directory, self.name = _split(module, 'path', self.path)
        self.migrate_from = p['migrate_from']
        if self.migrate_from:
            self.migrate_directory, self.migrate_name = _split(module, 'migrate_from', self.migrate_from)
        self.result = dict(changed=False, created=False, migrated=False, path=self.path)
        self.diffs = []

    # --- entry point -------------------------------------------------------------------------------------

    def run(self):
        try:
            dir_fd = _user_file.open_user_dir(self.directory, self.owner.pw_uid)
        except _user_file.MissingPathError as e:
            self.missing_directory(e)
        except _user_file.UnsafePathError as e:
            self.fail_unsafe(e)
        except OSError as e:
            self.fail(f'path: cannot open the directory of {self.path}: {to_native(e)}')
        try:
            self.apply(dir_fd)
        except _user_file.UnsafePathError as e:
            self.fail_unsafe(e)
        except OSError as e:
            self.fail(f'path: {self.path}: {to_native(e)}')
        finally:
            _close(dir_fd)
        self.finish()

    def finish(self):
        if self.module._diff and self.diffs:
            self.result['diff'] = self.diffs[0] if len(self.diffs) == 1 else self.diffs
        self.module.exit_json(**self.result)

    def fail(self, msg):
        self.module.fail_json(msg=msg, **self.result)

    def fail_unsafe(self, error):
        self.fail(f'path: {self.path} is not under the control of user {self.owner.pw_name}: {to_native(error)}')

    def missing_directory(self, error):
        """The directory of path does not exist: nothing to remove (state=absent); in check mode, the directory the
        caller creates first (the role's task before this one) does not exist yet, so report what would happen."""
        if self.p['state'] == 'absent':
            if self.migrate_from:
                self.remove_migrate_from()
        elif self.module.check_mode:
            self.result['changed'] = True
            self.result['migrated' if self.migrate_from and os.path.lexists(self.migrate_from) else 'created'] = True
        else:
            self.fail_unsafe(error)
        self.finish()

    def apply(self, dir_fd):
        st = _user_file.lstat_at(dir_fd, self.name)
        if st is not None and not stat.S_ISREG(st.st_mode):
            raise _user_file.UnsafePathError(f'it is {_kind(st)}')
        old, unreadable = None, None
        if st is not None:
            try:
                old = _user_file.read_at(dir_fd, self.name, _totp.MAX_FILE_BYTES)
            except _user_file.FileTooLargeError:
                unreadable = f'the file is larger than {_totp.MAX_FILE_BYTES // 1024} KiB'
        before = _redact(old) if unreadable is None else f'<{unreadable}>\n'
        diff = dict(before=before, after='', before_header=self.path, after_header=self.path)

        if self.p['state'] == 'absent':
            if st is not None:
                self.result['changed'] = True
                self.diffs.append(diff)
                if not self.module.check_mode:
                    _user_file.unlink_at(dir_fd, self.name)
            if self.migrate_from:
                self.remove_migrate_from()
            return

        if st is not None and not self.p['rotate']:
            self.keep(dir_fd, st, old, unreadable, diff)
            return
        if st is None and not self.p['rotate'] and self.migrate_from and self.migrate(dir_fd):
            return
        self.create(dir_fd, diff)

    # --- an existing file: never rewritten, only its owner and mode corrected ----------------------------

    def keep(self, dir_fd, st, old, unreadable, diff):
        try:
            if unreadable:
                raise _totp.TotpFileError(unreadable)
            parsed = _totp.parse(old)
        except _totp.TotpOptionError as e:
            self.fail(f'path: {self.path}: {to_native(e)}. Fix or remove that line by hand; the secret is '
                      'intact, so do not rotate it (rotate=true makes a new secret and the user must enroll again)')
        except _totp.TotpFileError as e:
            self.fail(f'path: {self.path} is empty or corrupt: pam_google_authenticator cannot use it '
                      f'({to_native(e)}), so no code works with it. Set rotate=true to replace it with a new '
                      'secret; the user must then enroll again (scan the new QR code)')
        for warning in parsed['warnings']:
            self.module.warn(f'path: {self.path}: {warning}')
        if st.st_uid not in (0, self.owner.pw_uid):
            raise _user_file.UnsafePathError(f'the existing file is owned by uid {st.st_uid}')
        mode = stat.S_IMODE(st.st_mode)
        uid, gid = self.owner.pw_uid, self.owner.pw_gid
        if (st.st_uid, st.st_gid) == (uid, gid) and mode in ACCEPTED_MODES:
            return
        self.result['changed'] = True
        diff['before'] += f'owner: {st.st_uid}:{st.st_gid} mode: {mode:04o}\n'
        diff['after'] = _redact(old) + f'owner: {uid}:{gid} mode: {FILE_MODE:04o}\n'
        self.diffs.append(diff)
        if not self.module.check_mode:
            _user_file.fix_attributes_at(dir_fd, self.name, uid, gid, FILE_MODE)

    # --- create or rotate: a new secret, returned once for enrollment -------------------------------------

    def create(self, dir_fd, diff):
        p = self.p
        label = p['label'] if p['label'] is not None else '{}@{}'.format(p['user'], socket.gethostname())
        errors = _totp.validate_options(p['window_size'], p['scratch_codes'], p['rate_limit_attempts'],
                                        p['rate_limit_seconds'], p['issuer'], label)
        if errors:
            self.fail('; '.join(errors))
        secret = _totp.generate_secret()
        codes = _totp.generate_scratch_codes(p['scratch_codes'])
        content = _totp.render(secret, codes, window_size=p['window_size'],
                               rate_limit_attempts=p['rate_limit_attempts'],
                               rate_limit_seconds=p['rate_limit_seconds'], disallow_reuse=p['disallow_reuse'])
        self.result.update(changed=True, created=True)
        diff['after'] = _totp.redact(content)
        self.diffs.append(diff)
        if self.module.check_mode:
            return
        _user_file.write_atomic_at(dir_fd, self.name, content.encode('ascii'), self.owner.pw_uid,
                                   self.owner.pw_gid, FILE_MODE)
        self.result.update(otpauth_uri=_totp.otpauth_uri(secret, label, p['issuer']), scratch_codes=codes,
                           secret=secret)

    # --- migrate_from: the user's old file, moved unchanged (the enrolled phone keeps working) -------------

    def migrate_failure(self, problem):
        self.fail(f'migrate_from: {self.migrate_from} cannot be moved to {self.path}: {problem}. Nothing was '
                  f'changed. Remove it by hand (a new secret is then created and {self.user.pw_name} must enroll '
                  'again), or rotate the secret (rotate=true; in the ssh_totp role, list the user in '
                  'ssh_totp_rotate_users), which ignores migrate_from')

    def migrate(self, dir_fd):
        """Move migrate_from to path; False when there is nothing to move."""
        try:
            old_fd = _user_file.open_user_dir(self.migrate_directory, self.user.pw_uid)
        except _user_file.MissingPathError:
            return False
        except _user_file.UnsafePathError as e:
            self.migrate_failure(f'its directory is not under the control of user {self.user.pw_name} '
                                 f'({to_native(e)})')
        except OSError as e:
            self.migrate_failure(f'cannot open its directory ({to_native(e)})')
        try:
            return self._migrate(dir_fd, old_fd)
        except OSError as e:
            self.migrate_failure(to_native(e))
        finally:
            _close(old_fd)

    def _migrate(self, dir_fd, old_fd):
        st = _user_file.lstat_at(old_fd, self.migrate_name)
        if st is None:
            return False
        if not stat.S_ISREG(st.st_mode):
            self.migrate_failure(f'it is {_kind(st)}, not a regular file')
        if st.st_uid != self.user.pw_uid:
            self.migrate_failure(f'it is owned by uid {st.st_uid}, not by user {self.user.pw_name} '
                                 f'(uid {self.user.pw_uid})')
        try:
            data, fst = _user_file.read_file_at(old_fd, self.migrate_name, _totp.MAX_FILE_BYTES)
        except _user_file.FileTooLargeError:
            self.migrate_failure(f'it is larger than {_totp.MAX_FILE_BYTES // 1024} KiB')
        except _user_file.UnsafePathError:
            self.migrate_failure('it was replaced while being read')
        if _identity(fst) != _identity(st) or fst.st_uid != self.user.pw_uid:
            self.migrate_failure('it was replaced while being read')
        try:
            parsed = _totp.parse(data)
        except _totp.TotpFileError as e:
            self.migrate_failure(f'pam_google_authenticator cannot use it ({to_native(e)})')
        for warning in parsed['warnings']:
            self.module.warn(f'migrate_from: {self.migrate_from}: {warning}')
        self.result.update(changed=True, migrated=True)
        self.diffs.append(dict(before=_redact(data), after=_redact(data), before_header=self.migrate_from,
                               after_header=self.path))
        if self.module.check_mode:
            return True
        _user_file.write_atomic_at(dir_fd, self.name, data, self.owner.pw_uid, self.owner.pw_gid, FILE_MODE)
        # A login through the old PAM configuration may have rewritten the old file in the meantime (used
        # scratch code removed): keep nothing half-moved.
        now = _user_file.lstat_at(old_fd, self.migrate_name)
        if now is None or _identity(now) != _identity(fst):
            _user_file.unlink_at(dir_fd, self.name)
            self.result.update(changed=False, migrated=False)
            self.migrate_failure('it changed while being moved (a login at the same moment?); run again')
        try:
            _user_file.unlink_at(old_fd, self.migrate_name)
        except OSError as e:
            self.fail(f'migrate_from: {self.migrate_from} was copied to {self.path} but could not be removed '
                      f'({to_native(e)}); remove it by hand')
        return True

    def remove_migrate_from(self):
        """state=absent: remove migrate_from too, never through a link; an unsafe directory is skipped."""
        try:
            old_fd = _user_file.open_user_dir(self.migrate_directory, self.user.pw_uid)
        except _user_file.MissingPathError:
            return
        except (_user_file.UnsafePathError, OSError) as e:
            self.module.warn(f'migrate_from: {self.migrate_from} was left alone: its directory is not under the '
                             f'control of user {self.user.pw_name} ({to_native(e)})')
            return
        try:
            st = _user_file.lstat_at(old_fd, self.migrate_name)
            if st is None:
                return
            if stat.S_ISDIR(st.st_mode):
                self.module.warn(f'migrate_from: {self.migrate_from} was left alone: it is a directory')
                return
            self.result['changed'] = True
            self.diffs.append(dict(before=f'<{_kind(st)}>\n', after='', before_header=self.migrate_from,
                                   after_header=self.migrate_from))
            if not self.module.check_mode:
                _user_file.unlink_at(old_fd, self.migrate_name)  # a symlink itself, never its target
        except OSError as e:
            self.fail(f'migrate_from: {self.migrate_from}: {to_native(e)}')
        finally:
            _close(old_fd)


def _redact(content):
    if content is None:
        return ''
    return _totp.redact(content.decode('utf-8', errors='replace'))


def _close(fd):
    try:
        os.close(fd)
    except OSError:
        pass


def run_module(module):
    TotpSecret(module).run()
