#!/usr/bin/python
# Copyright (c) securelab.gpu_notebook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: totp_secret
short_description: Create a user's ~/.google_authenticator for libpam-google-authenticator
version_added: 0.1.0
description:
  - Creates the file C(pam_google_authenticator.so) reads, in the format C(google-authenticator(1)) writes
    (a base32 secret of 160 bits from the operating system's CSPRNG, the option lines C(RATE_LIMIT n s),
    C(WINDOW_SIZE n), C(DISALLOW_REUSE) and C(TOTP_AUTH) (each after a double quote and a space), then 8-digit
    scratch codes),
    mode C(0400), owned by the user, written atomically (temporary file in the same directory, then rename).
  - B(Never rewrites an existing valid file.) The PAM module rewrites it at every login (it removes used
    scratch codes and appends timestamps and counters); writing it again would bring used scratch codes back.
    Only its owner and mode are corrected when they are wrong. O(rotate=true) replaces it on purpose,
    O(state=absent) removes it. An empty or corrupt existing file fails unless O(rotate=true).
  - "Only when it creates or rotates the secret does it return what enrollment needs (RV(otpauth_uri),
    RV(scratch_codes), RV(secret)) and, from the action plugin on the controller, a QR code
    (RV(qr_png_base64), RV(qr_text)). A run that creates nothing returns none of them. Results that carry
    secrets are marked C(no_log) by the action plugin, so they appear in the output only if you print the
    registered variable yourself; still put C(no_log: true) on the task."
  - "B(Where it runs): the module runs on the target with the standard library only (Debian's C(python3) is
    enough). The action plugin draws the QR code on the controller with the Python package C(segno); without
    it the task warns and returns no QR code."
  - The file, its parent directory and every directory above must be under the user's (or root's) control.
    No symlink anywhere in O(path), the parent directory owned by the user and not writable by group or others
    (the PAM module writes its temporary file there, so the user must be able to write it), and every ancestor
    owned by root or the user and not writable by others unless sticky.
author:
  - securelab.gpu_notebook maintainers (@securelab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode:
    support: full
    details:
      Reports whether the file would be created, rotated, removed or have its owner/mode corrected; returns no secret.
  diff_mode:
    support: full
    details: Before and after show the option lines; the secret and scratch codes are replaced by placeholders.
  action:
    support: full
    details: The action plugin runs the module on the target, then draws the QR code on the controller.
  async:
    support: none
  bypass_host_loop:
    support: none
  platform:
    support: full
    platforms: posix
options:
  user:
    description: The account the file belongs to. It must exist on the target.
    type: str
    required: true
  path:
    description: The secret file. Default is C(~USER/.google_authenticator) from the user's passwd entry.
    type: path
  state:
    description: C(present) creates the file when it is missing, C(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
  rotate:
    description:
      - Replace the file with a new secret and new scratch codes even when it is valid. Every run with
        C(rotate=true) makes a new secret, so set it for one run only (for example from C(--extra-vars)).
      - Also replaces an empty or corrupt file.
    type: bool
    default: false
  issuer:
    description: The issuer shown by the authenticator app (in the URI's label prefix and C(issuer) parameter).
    type: str
    default: securelab
  label:
    description: The account name shown by the authenticator app. Default is C(USER@HOSTNAME) of the target.
    type: str
  window_size:
    description: C(" WINDOW_SIZE); how many 30-second codes are accepted around the current time (1 to 21).
    type: int
    default: 3
  rate_limit_attempts:
    description: C(" RATE_LIMIT) attempts per O(rate_limit_seconds) (0 to 100). C(0) writes no RATE_LIMIT line.
    type: int
    default: 3
  rate_limit_seconds:
    description: C(" RATE_LIMIT) interval in seconds (1 to 3600).
    type: int
    default: 30
  disallow_reuse:
    description: Write C(" DISALLOW_REUSE), so each code works only once.
    type: bool
    default: true
  scratch_codes:
    description: How many single-use 8-digit emergency scratch codes to write (0 to 10).
    type: int
    default: 5
notes:
  - The secret file is private to the user (mode C(0400)); the PAM module refuses a file that group or others can read.
  - "The module must run as root (C(become: true)) or as the user."
seealso:
  - name: google-authenticator-libpam
    description: The PAM module that reads the file.
    link: https://github.com/google/google-authenticator-libpam
  - name: Key Uri Format
    description: The otpauth:// URI format that authenticator apps scan.
    link: https://github.com/google/google-authenticator/wiki/Key-Uri-Format
"""

EXAMPLES = r"""
- name: Create alice's TOTP secret (nothing happens if she already has one)
  securelab.gpu_notebook.totp_secret:
    user: alice
    issuer: securelab
  become: true
  register: __alice_totp
  no_log: true  # the result holds the secret, the scratch codes and the QR code

- name: Hand the enrollment data to alice, only when a secret was created
  ansible.builtin.copy:
    dest: "./enrollment/alice.txt"
    content: |
      {{ __alice_totp.otpauth_uri }}
      {{ __alice_totp.qr_text | default('') }}
      Scratch codes: {{ __alice_totp.scratch_codes | join(' ') }}
    mode: "0600"
  delegate_to: localhost
  when: __alice_totp.otpauth_uri is defined
  no_log: true

- name: Save the QR code as a PNG on the controller
  ansible.builtin.copy:
    dest: "./enrollment/alice.png"
    content: "{{ __alice_totp.qr_png_base64 | b64decode }}"
    mode: "0600"
  delegate_to: localhost
  when: __alice_totp.qr_png_base64 is defined
  no_log: true

- name: Replace bob's secret (lost phone)
  securelab.gpu_notebook.totp_secret:
    user: bob
    rotate: true
    window_size: 1
    scratch_codes: 10
  become: true
  register: __bob_totp
  no_log: true

- name: Remove carol's secret
  securelab.gpu_notebook.totp_secret:
    user: carol
    state: absent
  become: true
"""

RETURN = r"""
path:
  description: The secret file.
  returned: always
  type: str
  sample: /home/alice/.google_authenticator
created:
  description: Whether a new secret was written (created or rotated) by this run (or would be, in check mode).
  returned: always
  type: bool
  sample: true
otpauth_uri:
  description:
    - The C(otpauth://totp/ISSUER:LABEL?secret=SECRET&issuer=ISSUER) URI, label and issuer URL-encoded.
    - Secret. Returned only when the secret was created or rotated (not in check mode).
  returned: when created or rotated
  type: str
  sample: otpauth://totp/securelab:alice%40gpu1?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=securelab
scratch_codes:
  description: The emergency scratch codes written to the file. Secret. Returned only when created or rotated.
  returned: when created or rotated
  type: list
  elements: str
  sample: ["12345678", "23456789"]
secret:
  description: The base32 secret, for manual entry into an app. Secret. Returned only when created or rotated.
  returned: when created or rotated
  type: str
  sample: JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
qr_png_base64:
  description:
    - A PNG image of the QR code of RV(otpauth_uri), base64-encoded. Drawn on the controller by the action plugin.
    - Returned only with RV(otpauth_uri) and only when the controller has the Python package C(segno).
  returned: when created or rotated and segno is available on the controller
  type: str
qr_text:
  description:
    - The same QR code as text for a terminal (Unicode half blocks; light modules are drawn,
      so it scans on a terminal with a dark background).
    - Returned only with RV(otpauth_uri) and only when the controller has the Python package C(segno).
  returned: when created or rotated and segno is available on the controller
  type: str
"""

import os
import pwd
import socket
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native
from ansible_collections.securelab.gpu_notebook.plugins.module_utils import _totp, _user_file

FILE_MODE = 0o400
# pam_google_authenticator accepts 0400 or 0600 (it ignores the owner's write bit).
ACCEPTED_MODES = (0o400, 0o600)


def run_module(module):
    p = module.params
    errors = _totp.validate_options(p['window_size'], p['scratch_codes'], p['rate_limit_attempts'],
                                    p['rate_limit_seconds'], p['issuer'], p['label'])
    if errors:
        module.fail_json(msg='; '.join(errors))
    try:
        account = pwd.getpwnam(p['user'])
    except KeyError:
        module.fail_json(msg='user: no account named {!r} on this host'.format(p['user']))
    path = p['path'] or account.pw_dir.rstrip('/') + '/.google_authenticator'
    if not path.startswith('/'):
        module.fail_json(msg=f'path: must be absolute, got {path!r}')
    directory, name = path.rsplit('/', 1)
    if not name or name in ('.', '..'):
        module.fail_json(msg=f'path: {path!r} does not name a file')
    result = dict(changed=False, created=False, path=path)

    try:
        dir_fd = _user_file.open_user_dir(directory or '/', account.pw_uid)
    except _user_file.UnsafePathError as e:
        module.fail_json(msg=f"path: {path} is not under the control of user {p['user']}: {to_native(e)}", **result)
    except OSError as e:
        module.fail_json(msg=f'path: cannot open the directory of {path}: {to_native(e)}', **result)
    try:
        apply(module, dir_fd, name, account, result)
    except _user_file.UnsafePathError as e:
        module.fail_json(msg=f"path: {path} is not under the control of user {p['user']}: {to_native(e)}", **result)
    except OSError as e:
        module.fail_json(msg=f'path: {path}: {to_native(e)}', **result)
    finally:
        os.close(dir_fd)
    module.exit_json(**result)


def apply(module, dir_fd, name, account, result):
    p = module.params
    st = _user_file.lstat_at(dir_fd, name)
    if st is not None and stat.S_ISLNK(st.st_mode):
        raise _user_file.UnsafePathError('it is a symlink')
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise _user_file.UnsafePathError('it is not a regular file')
    old = None
    if st is not None:
        old = _user_file.read_at(dir_fd, name).decode('utf-8', errors='replace')
    diff = dict(before=_totp.redact(old), after='', before_header=result['path'], after_header=result['path'])

    if p['state'] == 'absent':
        if st is not None:
            result['changed'] = True
            if not module.check_mode:
                _user_file.unlink_at(dir_fd, name)
        if module._diff:
            result['diff'] = diff
        return

    if st is not None and not p['rotate']:
        try:
            _totp.parse(old)
        except _totp.TotpFileError as e:
            module.fail_json(msg=f"path: {result['path']} is empty or corrupt ({to_native(e)}); "
                                 'set rotate=true to replace it', **result)
        if st.st_uid not in (0, account.pw_uid):
            raise _user_file.UnsafePathError(f'the existing file is owned by uid {st.st_uid}')
        mode = stat.S_IMODE(st.st_mode)
        if st.st_uid != account.pw_uid or st.st_gid != account.pw_gid or mode not in ACCEPTED_MODES:
            result['changed'] = True
            diff['before'] += f'owner: {st.st_uid}:{st.st_gid} mode: {mode:04o}\n'
            diff['after'] = _totp.redact(old) + f'owner: {account.pw_uid}:{account.pw_gid} mode: {FILE_MODE:04o}\n'
            if not module.check_mode:
                _user_file.fix_attributes_at(dir_fd, name, account.pw_uid, account.pw_gid, FILE_MODE)
        else:
            diff['after'] = diff['before']
        if module._diff and result['changed']:
            result['diff'] = diff
        return

    # Create or rotate.
    label = p['label'] if p['label'] is not None else '{}@{}'.format(p['user'], socket.gethostname())
    errors = _totp.validate_options(p['window_size'], p['scratch_codes'], p['rate_limit_attempts'],
                                    p['rate_limit_seconds'], p['issuer'], label)
    if errors:
        module.fail_json(msg='; '.join(errors), **result)
    secret = _totp.generate_secret()
    codes = _totp.generate_scratch_codes(p['scratch_codes'])
    content = _totp.render(secret, codes, window_size=p['window_size'], rate_limit_attempts=p['rate_limit_attempts'],
                           rate_limit_seconds=p['rate_limit_seconds'], disallow_reuse=p['disallow_reuse'])
    result.update(changed=True, created=True)
    diff['after'] = _totp.redact(content)
    if module._diff:
        result['diff'] = diff
    if module.check_mode:
        return
    _user_file.write_atomic_at(dir_fd, name, content.encode('ascii'), account.pw_uid, account.pw_gid, FILE_MODE)
    result.update(otpauth_uri=_totp.otpauth_uri(secret, label, p['issuer']), scratch_codes=codes, secret=secret)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            user=dict(type='str', required=True),
            path=dict(type='path'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            rotate=dict(type='bool', default=False),
            issuer=dict(type='str', default='securelab'),
            label=dict(type='str'),
            window_size=dict(type='int', default=3),
            rate_limit_attempts=dict(type='int', default=3),
            rate_limit_seconds=dict(type='int', default=30),
            disallow_reuse=dict(type='bool', default=True),
            scratch_codes=dict(type='int', default=5),
        ),
        supports_check_mode=True,
    )
    run_module(module)


if __name__ == '__main__':
    main()
