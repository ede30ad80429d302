#!/usr/bin/python
# Copyright (c) securelab.gpu_notebook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: user_dir
short_description: Keep a directory in a user's home owned by the user and private, never following a link
version_added: 0.6.0
description:
  - Sets the owner (the user and their primary group) and the mode of an existing directory that lives in a directory
    the user controls, such as V(~/.ssh), as root, without following any link the user planted.
  - The parent is opened component by component from C(/) (every component owned by root or the user and not writable
    by others, none a link), the directory itself with C(O_NOFOLLOW) and C(O_DIRECTORY), and it is changed only
    through that descriptor (C(fchown), C(fchmod)). A link or a file in its place is left alone, with a warning (the
    user can only hurt their own login with it); a parent that others could write is refused.
  - A missing directory is left missing unless O(create=true).
author:
  - securelab.gpu_notebook maintainers (@securelab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Shows the owner and mode before and after.
  platform:
    support: full
    platforms: posix
options:
  path:
    description: The directory, an absolute path (for example V(/home/alice/.ssh)).
    type: path
    required: true
  user:
    description: The account that must own it (its primary group becomes the group).
    type: str
    required: true
  mode:
    description: The mode, as an octal string.
    type: str
    default: "0700"
  create:
    description: Create the directory when it is missing.
    type: bool
    default: false
seealso:
  - module: securelab.gpu_notebook.totp_secret
"""

EXAMPLES = r"""
- name: Keep alice's ~/.ssh private (it stays missing if she has none)
  securelab.gpu_notebook.user_dir:
    path: /home/alice/.ssh
    user: alice
  become: true
"""

RETURN = r"""
state:
  description: V(directory), V(missing), or what is there instead (V(link), V(file), V(other)), left alone.
  returned: always
  type: str
  sample: directory
"""

import errno
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native
from ansible_collections.securelab.gpu_notebook.plugins.module_utils import _user_file

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, 'O_CLOEXEC', 0)


def _kind(mode):
    return 'link' if stat.S_ISLNK(mode) else 'file' if stat.S_ISREG(mode) else 'other'


def main():
    module = AnsibleModule(
        argument_spec=dict(path=dict(type='path', required=True), user=dict(type='str', required=True),
                           mode=dict(type='str', default='0700'), create=dict(type='bool', default=False)),
        supports_check_mode=True,
    )
    p = module.params
    path = os.path.normpath(p['path'])
    if not os.path.isabs(path) or path == '/':
        module.fail_json(msg=f'path: must be an absolute path below /, got {p["path"]!r}')
    try:
        mode = int(p['mode'], 8)
    except ValueError:
        module.fail_json(msg=f'mode: must be an octal string such as 0700, got {p["mode"]!r}')
    if not 0 <= mode <= 0o7777:
        module.fail_json(msg=f'mode: must be an octal string such as 0700, got {p["mode"]!r}')
    try:
        account = pwd.getpwnam(p['user'])
    except KeyError:
        module.fail_json(msg=f'user: no account {p["user"]!r} on the host')
    parent, name = os.path.split(path)
    result = dict(changed=False, path=path, state='missing')
    try:
        parent_fd = _user_file.open_user_dir(parent, account.pw_uid)
    except _user_file.MissingPathError:
        module.exit_json(**result)
    except _user_file.UnsafePathError as exc:
        module.fail_json(msg=f'path: {path} is not under the control of user {account.pw_name}: {to_native(exc)}',
                         **result)
    try:
        st = _user_file.lstat_at(parent_fd, name)
        if st is None and p['create']:
            result.update(changed=True, state='directory')
            if not module.check_mode:
                os.mkdir(name, 0o700, dir_fd=parent_fd)
                st = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
        if st is None:
            module.exit_json(**result)
        if not stat.S_ISDIR(st.st_mode):
            result['state'] = _kind(st.st_mode)
            module.warn(f'{path} is a {result["state"]}, not a directory: left alone (root never follows it)')
            module.exit_json(**result)
        result['state'] = 'directory'
        try:
            fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):  # swapped for a link since the lstat
                module.warn(f'{path} was replaced while being checked: left alone')
                module.exit_json(**result)
            raise
        try:
            st = os.fstat(fd)
            before = dict(owner=f'{st.st_uid}:{st.st_gid}', mode=f'{stat.S_IMODE(st.st_mode):04o}')
            after = dict(owner=f'{account.pw_uid}:{account.pw_gid}', mode=f'{mode:04o}')
            if before != after:
                result['changed'] = True
                if module._diff:
                    result['diff'] = dict(before=before, after=after, before_header=path, after_header=path)
                if not module.check_mode:
                    os.fchown(fd, account.pw_uid, account.pw_gid)
                    os.fchmod(fd, mode)
        finally:
            os.close(fd)
    except OSError as exc:
        module.fail_json(msg=f'path: {path}: {to_native(exc)}', **result)
    finally:
        os.close(parent_fd)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
