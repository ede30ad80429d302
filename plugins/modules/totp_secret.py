#!/usr/bin/python
# Copyright (c) securelab.gpu_notebook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: totp_secret
short_description: Create a user's TOTP secret file for libpam-google-authenticator
version_added: 0.1.0
description:
  - Creates the file C(pam_google_authenticator.so) reads, in the format C(google-authenticator(1)) writes
    (a base32 secret of 160 bits from the operating system's CSPRNG, the option lines C(RATE_LIMIT n s),
    C(WINDOW_SIZE n), C(DISALLOW_REUSE) and C(TOTP_AUTH) (each after a double quote and a space), then 8-digit
    scratch codes),
    mode C(0400), owned by O(owner), written atomically (temporary file in the same directory, then rename).
  - "Two layouts. B(Root-owned) (what the collection's C(ssh_totp) role uses): O(owner=root),
    O(path=/var/lib/securelab/totp/USER) in a directory owned by root and not writable by group or others
    (the role makes it C(root:root 0700)), and PAM configured with
    C(pam_google_authenticator.so secret=/var/lib/securelab/totp/${USER} user=root): the PAM module then reads
    and rewrites the file as root, requires it to be owned by root with no permission for group or others, and
    writes its temporary file (C(PATH~XXXXXX), mode C(0400)) in that directory. The user cannot plant links
    there or fill it. B(In the home) (the PAM module's default, C(~/.google_authenticator)): O(owner) is the
    user, and the directory must be owned by the user, who needs to write it."
  - B(Never rewrites an existing valid file.) The PAM module rewrites it at every login (it removes used
    scratch codes, appends timestamps and counters, and adds lines such as C(RESETTING_TIME_SKEW),
    C(TIME_SKEW) and C(LAST0) to C(LAST9)); writing it again would bring used scratch codes back.
    Only its owner and mode are corrected when they are wrong. O(rotate=true) replaces it on purpose,
    O(state=absent) removes it.
  - Every file the PAM module can use is accepted as it is, including every line the PAM module writes;
    values are checked only where the PAM module checks them. A file it cannot use at all (empty, larger than
    64 KiB, no valid base32 secret, no code it could accept) fails unless O(rotate=true); rotating makes a new
    secret, so the user must enroll again. A file whose secret is intact but that has an option value the PAM
    module refuses (for example C(WINDOW_SIZE 0)) fails with the line to fix; do not rotate it.
  - "B(Migration) with O(migrate_from): when O(path) does not exist and the user's old file
    (such as C(/home/alice/.google_authenticator)) does, its exact bytes move to O(path) (owned by O(owner),
    mode C(0400)) and the old file is removed. The secret does not change, so the enrolled phone keeps
    working, and no enrollment data is returned (RV(migrated=true)). The old file is read without following
    a link and without blocking: its directory and every directory above must be under the user's control
    and it must be a regular file owned by the user, at most 64 KiB, that the PAM module can use. Otherwise
    the task fails, names the problem and changes nothing; remove the old file (a new secret is then created
    and the user enrolls again) or set O(rotate=true) (which never reads or touches O(migrate_from))."
  - "Only when it creates or rotates the secret does it return what enrollment needs (RV(otpauth_uri),
    RV(scratch_codes), RV(secret)) and, from the action plugin on the controller, a QR code
    (RV(qr_png_base64), RV(qr_text)). A run that creates nothing returns none of them. Results that carry
    secrets are marked C(no_log) by the action plugin, so they appear in the output only if you print the
    registered variable yourself; still put C(no_log: true) on the task."
  - "B(Where it runs): the module runs on the target with the standard library only (Debian's C(python3) is
    enough). The action plugin draws the QR code on the controller with the Python package C(segno); without
    it the task warns and returns no QR code."
  - The file, its parent directory and every directory above must be under O(owner)'s (or root's) control.
    No symlink anywhere in O(path), the parent directory owned by O(owner) and not writable by group or others
    (the PAM module writes its temporary file there), and every ancestor owned by root or O(owner) and not
    writable by others unless sticky.
author:
  - securelab.gpu_notebook maintainers (@securelab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode:
    support: full
    details:
      Reports whether the file would be created, rotated, migrated, removed or have its owner/mode corrected
      (after the same checks as a real run); writes nothing and returns no secret.
  diff_mode:
    support: full
    details:
      Before and after show the option lines; the secret and scratch codes are replaced by placeholders.
      A migration shows O(migrate_from) before and O(path) after.
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
    description:
      - The person the secret is for. The account must exist on the target. It names the default O(path) and
        O(label), and must own O(migrate_from).
    type: str
    required: true
  owner:
    description:
      - The account that owns the file and its directory. Default is O(user).
      - With V(root), the file is written owned by root (C(root:root 0400)) in a directory owned by root; PAM
        must then be configured with C(user=root) (see the description).
    type: str
  path:
    description:
      - The secret file. Default is C(~USER/.google_authenticator) from the user's passwd entry.
      - With O(owner=root), give the root-owned path, such as V(/var/lib/securelab/totp/alice).
    type: path
  migrate_from:
    description:
      - The user's old secret file, such as V(/home/alice/.google_authenticator). Moved to O(path) unchanged
        when O(path) does not exist (see B(Migration) in the description).
      - Ignored when O(path) exists and when O(rotate=true) (never read, never touched).
      - With O(state=absent) it is removed too (a symlink itself, never its target); when its directory is not
        under the user's control it is left alone with a warning.
    type: path
  state:
    description: C(present) creates the file when it is missing, C(absent) removes it (and O(migrate_from)).
    type: str
    choices: [present, absent]
    default: present
  rotate:
    description:
      - Replace the file with a new secret and new scratch codes even when it is valid. Every run with
        C(rotate=true) makes a new secret, so set it for one run only (for example from C(--extra-vars)).
      - Also replaces a file the PAM module cannot use. The user must enroll again after a rotation.
      - O(migrate_from) is ignored.
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
  - The secret file is private to its owner (mode C(0400)); the PAM module refuses a file that group or others
    can read, or that is not owned by the account it runs as (the user, or the account of its C(user=) option).
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
- name: Keep alice's TOTP secret in a root-owned directory, moving her old ~/.google_authenticator there
  securelab.gpu_notebook.totp_secret:
    user: alice
    owner: root
    path: /var/lib/securelab/totp/alice
    migrate_from: /home/alice/.google_authenticator
  become: true
  register: __alice_totp
  no_log: true  # the result holds the secret, the scratch codes and the QR code (when a new one was made)

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

- name: Create dave's TOTP secret in his home (nothing happens if he already has one)
  securelab.gpu_notebook.totp_secret:
    user: dave
    issuer: securelab
  become: true
  register: __dave_totp
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

- name: Remove carol's secret (and her old one in her home, if any)
  securelab.gpu_notebook.totp_secret:
    user: carol
    owner: root
    path: /var/lib/securelab/totp/carol
    migrate_from: /home/carol/.google_authenticator
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
migrated:
  description:
    - Whether O(migrate_from) was moved to O(path) unchanged by this run (or would be, in check mode).
    - A migration returns no secret and no enrollment data; the enrolled authenticator app keeps working.
  returned: always
  type: bool
  sample: false
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

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.securelab.gpu_notebook.plugins.module_utils._totp_secret import run_module


def main():
    module = AnsibleModule(
        argument_spec=dict(
            user=dict(type='str', required=True),
            owner=dict(type='str'),
            path=dict(type='path'),
            migrate_from=dict(type='path'),
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
