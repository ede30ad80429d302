#!/usr/bin/python
# Copyright (c) securelab.gpu_notebook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: jupyter_password
short_description: Hash a password for Jupyter Server, idempotently
version_added: 0.1.0
description:
  - Turns a plaintext password into the hash Jupyter Server stores in its configuration
    (C(PasswordIdentityProvider.hashed_password)), in the format C(jupyter_server.auth.passwd()) writes.
  - C(argon2) (default) gives C(argon2:$argon2id$v=19$m=10240,t=10,p=8$SALT$HASH), Jupyter Server's own parameters.
    C(sha256) and C(sha1) give the legacy C(ALG:SALT:HEXDIGEST) form that classic Notebook 6 also reads.
  - Idempotent. When O(current_hash), or a hash found in the config file O(path), already verifies
    O(password) with the requested O(algorithm) (and, for argon2, Jupyter Server's parameters), that hash is
    returned unchanged and nothing is reported as changed. Otherwise a new hash with a new random salt is made.
    Without O(current_hash) and O(path) every run makes a new hash and reports a change.
  - "B(Where it runs and what it needs): hashing and verifying run wherever the module runs. The notebook role runs
    it on the controller (C(delegate_to: localhost)) with O(current_hash) read from the target, so the target needs
    nothing beyond Debian's C(python3). Wherever it runs, argon2 needs the Python package C(argon2-cffi) (used
    directly, the library Jupyter Server uses) or C(passlib) with an argon2 backend; C(sha256) and C(sha1) need only
    the standard library. Running it on a target therefore needs C(argon2-cffi) (or C(passlib) + C(argon2-cffi))
    installed there for the Python Ansible uses (Debian package C(python3-argon2))."
author:
  - securelab.gpu_notebook maintainers (@securelab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode:
    support: full
    details: Computes the hash (so later tasks have a value) but writes nothing.
  diff_mode:
    support: full
    details: Before and after show only redacted placeholders, never a hash.
  platform:
    support: full
    platforms: posix
  action:
    support: full
    details:
      The action plugin marks the result C(no_log) (it always holds a hash), so callbacks show only the
      task status; C(register) still receives the whole result.
  async:
    support: none
  bypass_host_loop:
    support: none
options:
  password:
    description:
      - The plaintext password. Never logged.
      - Must not be empty and must have at least O(min_length) characters.
    type: str
    required: true
  algorithm:
    description:
      - C(argon2) is what Jupyter Server 2.x writes itself and the recommended choice.
      - C(sha256) and C(sha1) produce the legacy salted form for old images; C(sha1) is deprecated and warns.
    type: str
    choices: [argon2, sha256, sha1]
    default: argon2
  current_hash:
    description:
      - The hash currently configured (for example read from the target's config file).
      - If it verifies O(password) and was made with O(algorithm) (and Jupyter Server's argon2 parameters),
        it is returned unchanged and the result is not changed. An empty string means no current hash.
      - A hash is secret material, so the value is hidden from logs like O(password). When it is kept, the
        module's own output leaves it out (RV(kept_current_hash=true)) and the action plugin returns it as RV(hash).
    type: str
  path:
    description:
      - A Jupyter JSON config file (for example C(~/.jupyter/jupyter_server_config.json)) on the host the module
        runs on. Hashes found in it under C(PasswordIdentityProvider.hashed_password),
        C(IdentityProvider.hashed_password), C(ServerApp.password) or C(NotebookApp.password) count as current hashes.
      - A missing file means no current hash. A file that is not valid JSON fails the task.
      - With O(write=true) the module maintains this file.
    type: path
  write:
    description:
      - Write the hash into O(path), atomically, keeping every other key of the file.
      - Sets C(PasswordIdentityProvider.hashed_password) and C(IdentityProvider.hashed_password) (the keys Jupyter
        Server 2.x reads and C(jupyter server password) writes), C(NotebookApp.password) when O(notebook6=true), and
        updates a deprecated C(ServerApp.password) or C(NotebookApp.password) already in the file so no stale hash is
        left behind.
      - Requires O(path). The parent directory must exist.
    type: bool
    default: false
  notebook6:
    description:
      - Also write C(NotebookApp.password), read by classic Notebook 6 images.
    type: bool
    default: false
  owner:
    description: Owner of O(path) when O(write=true). Default is the user the module runs as.
    type: str
  group:
    description: Group of O(path) when O(write=true). Default is the primary group of the user the module runs as.
    type: str
  mode:
    description: Mode of O(path) when O(write=true). The file holds a password hash, so keep it private.
    type: raw
    default: '0600'
  min_length:
    description: Minimum number of characters of O(password).
    type: int
    default: 12
notes:
  - "The returned RV(hash) is a password hash. It never appears in the diff, and the action plugin hides the whole
    result from callbacks; still put C(no_log: true) on the task, since it also handles the plaintext O(password)."
  - An C(sha1) hash verifies but the module warns that the algorithm is deprecated.
  - argon2 hashes are made and checked with C(argon2-cffi) directly (what Jupyter Server uses). passlib 1.7.4 is only a
    fallback; with C(argon2-cffi) 25 it emits DeprecationWarnings (it imports C(crypt) and reads the deprecated
    C(argon2.__version__), which a later C(argon2-cffi) may remove), so the module silences them when it uses it.
requirements:
  - argon2-cffi (or passlib with an argon2 backend) for O(algorithm=argon2) or to verify an argon2 O(current_hash),
    on the host the module runs on.
seealso:
  - name: Jupyter Server security
    description: How Jupyter Server stores and checks passwords.
    link: https://jupyter-server.readthedocs.io/en/latest/operators/public-server.html
"""

EXAMPLES = r"""
- name: Read the notebook config on the target
  ansible.builtin.slurp:
    src: /srv/notebook/alice/jupyter_server_config.json
  register: __alice_config
  failed_when: false

- name: Hash alice's password on the controller, keeping the current hash if it still matches
  securelab.gpu_notebook.jupyter_password:
    password: "{{ vault_alice_notebook_password }}"
    current_hash: >-
      {{ ((__alice_config.content | default('') | b64decode or '{}') | from_json)
         .get('PasswordIdentityProvider', {}).get('hashed_password', '') }}
  delegate_to: localhost
  register: __alice_hash
  no_log: true

- name: Maintain a local Jupyter config file (runs where the file is; needs argon2-cffi there)
  securelab.gpu_notebook.jupyter_password:
    password: "{{ vault_notebook_password }}"
    path: /home/alice/.jupyter/jupyter_server_config.json
    write: true
    owner: alice
    group: alice
  no_log: true

- name: Legacy sha256 hash for a Notebook 6 image
  securelab.gpu_notebook.jupyter_password:
    password: "{{ vault_notebook_password }}"
    algorithm: sha256
    path: /srv/nb6/jupyter_notebook_config.json
    write: true
    notebook6: true
  no_log: true
"""

RETURN = r"""
hash:
  description:
    - The Jupyter hash of O(password). The current hash when it still verified, a new one otherwise.
    - "Secret material. Register it under C(no_log: true)."
  returned: success
  type: str
  sample: "argon2:$argon2id$v=19$m=10240,t=10,p=8$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g"
algorithm:
  description: The algorithm of RV(hash).
  returned: success
  type: str
  sample: argon2
hash_changed:
  description: Whether RV(hash) is a new hash (not the current one).
  returned: success
  type: bool
  sample: false
kept_current_hash:
  description: Whether RV(hash) is O(current_hash), unchanged.
  returned: success
  type: bool
  sample: true
path:
  description: The config file, when O(path) was given.
  returned: when O(path) is set
  type: str
  sample: /home/alice/.jupyter/jupyter_server_config.json
"""

import json
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native
from ansible_collections.securelab.gpu_notebook.plugins.module_utils import _jupyter_password as jp


def read_config(module, path):
    """The parsed config at ``path`` ({} if missing) and its text (None if missing)."""
    try:
        with open(path, encoding='utf-8') as f:
            text = f.read()
    except FileNotFoundError:
        return {}, None
    except (OSError, UnicodeDecodeError) as e:
        module.fail_json(msg=f'path: cannot read {path}: {to_native(e)}')
    try:
        return jp.parse_config(text), text
    except ValueError as e:
        module.fail_json(msg=f'path: {path} is not a valid Jupyter JSON config file: {to_native(e)}')


def write_config(module, path, text):
    """Atomic write in the same directory; a new file is private (0600) before its final mode is set."""
    directory = os.path.dirname(path) or '.'
    if not os.path.isdir(directory):
        module.fail_json(msg=f'path: the directory {directory} does not exist')
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.jupyter_password.')
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        old_umask = os.umask(0o077)
        try:
            module.atomic_move(tmp, path)
        finally:
            os.umask(old_umask)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def run_module(module):
    p = module.params
    if p['min_length'] < 1:
        module.fail_json(msg='min_length: must be at least 1')
    error = jp.check_password_policy(p['password'], p['min_length'])
    if error:
        module.fail_json(msg=error)
    if p['notebook6'] and not p['write']:
        module.fail_json(msg='notebook6: only meaningful with write=true')
    algorithm = p['algorithm']
    if algorithm in jp.DEPRECATED_ALGORITHMS:
        module.warn('algorithm=sha1 is deprecated: SHA-1 is a weak password hash and Jupyter Server 2.x writes '
                    'argon2; use argon2 (or sha256 for images that cannot read argon2)')

    config, old_text = ({}, None)
    if p['path']:
        config, old_text = read_config(module, p['path'])
    candidates = [h for h in [p['current_hash'], *jp.config_hashes(config)] if h]

    try:
        if algorithm == 'argon2' or any(jp.algorithm_of(h) == 'argon2' for h in candidates):
            if not jp.argon2_available():
                raise jp.MissingLibraryError('argon2-cffi')
        hashed = next((h for h in candidates if jp.is_current(h, p['password'], algorithm)), None)
        hash_changed = hashed is None
        if hash_changed:
            hashed = jp.hash_password(p['password'], algorithm)
    except jp.MissingLibraryError as e:
        module.fail_json(msg=missing_required_lib(
            f'{e} (or passlib with an argon2 backend)',
            reason='argon2 hashes; run the module on the controller (delegate_to: localhost) or install '
                   'python3-argon2 where it runs'))

    # The primary current hash: what the caller said, else the most authoritative key of the file.
    primary = p['current_hash'] or next(iter(jp.config_hashes(config)), None)
    changed = hashed != primary
    labels = {}
    before_cfg = {'hash': primary} if primary else {}
    after_cfg = {'hash': hashed}
    # current_hash is no_log: Ansible would replace it by a placeholder wherever it appears in the output.
    # When it is kept, the module leaves it out and the action plugin returns it from the task's arguments.
    kept_current_hash = bool(p['current_hash']) and hashed == p['current_hash']
    result = dict(changed=False, algorithm=algorithm, hash_changed=hash_changed, kept_current_hash=kept_current_hash)
    if not kept_current_hash:
        result['hash'] = hashed

    if p['path']:
        result['path'] = p['path']
        changed = hash_changed
        if p['write']:
            new_config = jp.update_config(config, hashed, notebook6=p['notebook6'])
            changed = new_config != config or old_text is None
            before_text = jp.redact_config(config, labels) if old_text is not None else ''
            after_text = jp.redact_config(new_config, labels)
            if changed and not module.check_mode:
                write_config(module, p['path'], jp.render_config(new_config))
            diff = dict(before=before_text, after=after_text,
                        before_header=p['path'], after_header=p['path'])
            file_args = module.load_file_common_arguments(
                dict(path=p['path'], mode=p['mode'], owner=p['owner'], group=p['group']))
            if os.path.exists(p['path']):
                changed = module.set_fs_attributes_if_different(file_args, changed, diff=None)
            result['changed'] = changed
            if module._diff:
                result['diff'] = diff
            module.exit_json(**result)

    result['changed'] = changed
    if module._diff:
        result['diff'] = dict(before=json.dumps(redact(before_cfg, labels)) + '\n',
                              after=json.dumps(redact(after_cfg, labels)) + '\n')
    module.exit_json(**result)


def redact(data, labels):
    return {k: labels.setdefault(v, f"<hidden {jp.algorithm_of(v) or 'unknown'} hash #{len(labels) + 1}>")
            for k, v in data.items()}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            password=dict(type='str', required=True, no_log=True),
            algorithm=dict(type='str', default='argon2', choices=list(jp.ALGORITHMS)),
            current_hash=dict(type='str', no_log=True),
            path=dict(type='path'),
            write=dict(type='bool', default=False),
            notebook6=dict(type='bool', default=False),
            owner=dict(type='str'),
            group=dict(type='str'),
            mode=dict(type='raw', default='0600'),
            min_length=dict(type='int', default=12),
        ),
        required_if=[('write', True, ['path'])],
        supports_check_mode=True,
    )
    run_module(module)


if __name__ == '__main__':
    main()
