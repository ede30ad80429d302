#!/usr/bin/python
# Copyright (c) securelab maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: nft_table
short_description: Keep one nftables table as declared, in a file and in the kernel, and no other
version_added: 0.4.0
description:
  - Writes O(path), an C(nft -f) script that replaces the table O(family) O(name) and nothing else (it creates the
    table, deletes it and defines it again in one transaction), and loads it into the kernel. Docker's, fail2ban's and
    any other table are left as they are; C(flush ruleset) is never used.
  - The check is the apply. On every run the module compares the file with O(content), and the table the kernel
    holds (C(nft -s list table), without counters) with what it listed right after its last load (kept in
    O(state_path)). A removed table (C(nft flush ruleset), C(systemctl restart nftables)), a rule deleted or added by
    hand, or an edited file is reloaded; a host in sync reports C(changed=false) without loading anything.
  - A new script is checked with C(nft -c -f) first (in check mode too). If the check or the load fails, the module
    fails, the kernel keeps the ruleset it had (C(nft -f) is atomic) and the previous file is put back, so a connection
    Ansible needs is never cut by a half-loaded ruleset.
  - Files are written atomically (temporary file and rename), root-owned, mode 0600, never through a symbolic link. A
    file whose owner or mode was changed is written again (the boot unit loads it as root).
author:
  - securelab.gpu_notebook maintainers (@securelab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Checks the new script with C(nft -c) and reports what would change; loads and writes nothing.
  diff_mode:
    support: full
    details: The file's old and new text; for a table that drifted in the kernel, its listing and the one loaded last.
  platform:
    support: full
    platforms: posix
options:
  family:
    description: The table's family.
    type: str
    choices: [inet, ip, ip6, arp, bridge, netdev]
    default: inet
  name:
    description: The table's name.
    type: str
    required: true
  content:
    description:
      - The table's definition, C(table FAMILY NAME { ... }), as C(nft -f) reads it. It must define only this table.
    type: str
    required: true
  path:
    description: The script the module writes and loads (a systemd unit can load it at boot).
    type: path
    required: true
  state_path:
    description: Where the module keeps the kernel's listing of the table right after its last load.
    type: path
    required: true
"""

EXAMPLES = r"""
- name: Keep the host firewall's table as declared
  securelab.gpu_notebook.nft_table:
    name: securelab_host_firewall
    content: "{{ lookup('ansible.builtin.template', 'host_firewall.nft.j2') }}"
    path: /etc/securelab/host_firewall.nft
    state_path: /var/lib/securelab/host_firewall.loaded
  become: true
"""

RETURN = r"""
reasons:
  description: Why the table was (or in check mode would be) loaded; empty when the file and the kernel are in sync.
  returned: always
  type: list
  elements: str
  sample: ["table inet securelab_host_firewall is missing from the kernel"]
listing:
  description: The kernel's listing of the table (C(nft -s list table)) after the run (before it, in check mode).
  returned: always
  type: str
"""

import os
import re
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.securelab.gpu_notebook.plugins.module_utils import _nft


def read_file(path):
    """Text of a regular file (None when missing), and whether it is owned as write_file leaves it (the module's
    user and group, mode 0600); never follows a link."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None, True
    except OSError as err:
        raise ValueError(f'{path}: cannot be read without following a link ({err.strerror})') from None
    with os.fdopen(fd, 'rb') as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f'{path}: not a regular file')
        owned = (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (os.geteuid(), os.getegid(), 0o600)
        return handle.read().decode('utf-8', 'replace'), owned


def write_file(path, text):
    directory = os.path.dirname(path) or '.'
    os.makedirs(directory, mode=0o755, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.', dir=directory)
    try:
        with os.fdopen(fd, 'w') as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main():
    module = AnsibleModule(
        argument_spec=dict(
            family=dict(type='str', default='inet', choices=['inet', 'ip', 'ip6', 'arp', 'bridge', 'netdev']),
            name=dict(type='str', required=True),
            content=dict(type='str', required=True),
            path=dict(type='path', required=True),
            state_path=dict(type='path', required=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    family, name = p['family'], p['name']
    if not re.fullmatch(r'[A-Za-z_][A-Za-z0-9_-]{0,63}', name):
        module.fail_json(msg=f'name: not an nftables table name: {name!r}')
    tables = re.findall(r'^\s*table\s+(\S+)\s+(\S+)', p['content'], re.M)
    if tables != [(family, name)]:
        module.fail_json(msg=f'content: must define exactly one table, {family} {name}; it defines '
                             f'{", ".join(" ".join(t) for t in tables) or "none"}')
    nft = module.get_bin_path('nft', required=not module.check_mode)
    if nft is None:
        # Check mode on a host where the package is not installed yet (the task before installs it).
        module.exit_json(changed=True, reasons=['nft is not installed yet'], listing='')
    env = {'LC_ALL': 'C'}

    def listing():
        rc, out, _err = module.run_command(_nft.listing_argv(family, name, nft), environ_update=env)
        return out if rc == 0 else None

    desired = _nft.script(family, name, p['content'])
    try:
        current, current_owned = read_file(p['path'])
        recorded, recorded_owned = read_file(p['state_path'])
    except ValueError as err:
        module.fail_json(msg=str(err))
    live = listing()

    # The boot unit loads the file as root: a file someone else owns or may write is as good as their ruleset.
    reasons = _nft.reasons(family, name, p['path'], p['state_path'], file_missing=current is None,
                           file_differs=current != desired, file_owned=current_owned,
                           record_missing=recorded is None, record_owned=recorded_owned,
                           live_missing=live is None, live_differs=live != recorded)

    result = dict(changed=bool(reasons), reasons=reasons, listing=live or '')
    if module._diff and reasons:
        diffs = []
        if current != desired:
            diffs.append(dict(before_header=p['path'], after_header=p['path'], before=current or '', after=desired))
        if live != recorded:
            diffs.append(dict(before_header=f'kernel: table {family} {name}', after_header='as loaded last',
                              before=live or '', after=recorded or ''))
        result['diff'] = diffs
    if not reasons:
        module.exit_json(**result)

    # Check the new script against the kernel's current state, whatever the mode: a script that does not load
    # fails here, before anything is written.
    directory = os.path.dirname(p['path']) or '.'
    check_dir = directory if os.path.isdir(directory) else None
    fd, tmp = tempfile.mkstemp(prefix='.nft-check.', dir=check_dir)
    try:
        with os.fdopen(fd, 'w') as handle:
            handle.write(desired)
        rc, out, err = module.run_command([nft, '-c', '-f', tmp], environ_update=env)
    finally:
        os.unlink(tmp)
    if rc != 0:
        module.fail_json(msg=f'content: nft -c rejects the table, nothing was changed: {(err or out).strip()}',
                         reasons=reasons)
    if module.check_mode:
        module.exit_json(**result)

    try:
        write_file(p['path'], desired)
        rc, out, err = module.run_command([nft, '-f', p['path']], environ_update=env)
        if rc != 0:
            if current is not None:
                write_file(p['path'], current)
            module.fail_json(msg=f'nft -f {p["path"]} failed; the kernel keeps its ruleset and the old file is back: '
                                 f'{(err or out).strip()}', reasons=reasons)
        loaded = listing()
        if loaded is None:
            module.fail_json(msg=f'table {family} {name} is not in the kernel after nft -f {p["path"]}')
        write_file(p['state_path'], loaded)
    except OSError as err:
        module.fail_json(msg=f'{err.filename}: {err.strerror}', reasons=reasons)
    result['listing'] = loaded
    module.exit_json(**result)


if __name__ == '__main__':
    main()
