#!/usr/bin/python
# Copyright (c) securelab maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: docker_daemon_config
short_description: Merge the keys you own into Docker's daemon.json and leave every other key alone
version_added: 1.0.0
description:
  - Reads C(/etc/docker/daemon.json) (or O(path)), merges O(keys) into it, removes O(remove) and
    O(remove_if), and writes the result back atomically with mode O(mode), owned by root, only when the content
    changes. Keys set by the operator or by other tools (C(registry-mirrors), C(data-root), a
    runtime added by hand) are kept as they are, in their place.
  - Objects are merged key by key, recursively (C(log-opts), C(runtimes), C(features)); any other
    value, lists included, replaces the existing one as a whole.
  - The comparison is on the parsed JSON, so a file that only differs in formatting or key order is
    not rewritten.
  - Before writing, the new content is checked. With O(validate) (for example
    C(dockerd --validate --config-file %s), Docker 23 and later) dockerd itself checks it. Always,
    the module checks the types of well-known keys (C(log-opts.max-size), C(runtimes), C(features),
    C(default-runtime) naming a defined runtime, ...). Without O(validate) it also rejects top-level
    keys dockerd does not know, because Docker 20.10 (Debian 12's C(docker.io)) does not start with
    one and cannot validate a file in advance. A rejected change leaves the file untouched.
  - The module never restarts Docker; notify a handler on C(changed).
author:
  - securelab.gpu_notebook maintainers (@securelab)
options:
  path:
    description: The daemon configuration file.
    type: path
    default: /etc/docker/daemon.json
  keys:
    description:
      - Keys this caller owns, with their values, merged into the file.
      - >-
        Nested objects are merged recursively, so O(keys={"runtimes": {"nvidia": {...}}}) adds one
        runtime and keeps the others.
    type: dict
    default: {}
  remove:
    description:
      - Key paths to remove if present. A path is a top-level key (V(default-runtime)), a
        dot-separated path (V(runtimes.nvidia)), or a list of keys for keys that contain dots.
      - Objects left empty by a removal are removed too.
    type: list
    elements: raw
    default: []
  remove_if:
    description:
      - >-
        Key paths (as in O(remove)) to remove only while they hold exactly the given value, so a
        caller can undo its own setting without removing the same key set differently by someone else,
        for example O(remove_if={"default-runtime": "nvidia"}).
    type: dict
    default: {}
  validate:
    description:
      - Command that checks the new content before it replaces the file; V(%s) is replaced by the
        path of a temporary file holding it. A non-zero exit fails the module and leaves the file alone.
      - Runs in check mode too (it only reads the temporary file).
      - Leave unset for engines without C(dockerd --validate) (Docker 20.10); see the description.
    type: str
  allow_unknown_keys:
    description:
      - Without O(validate), accept top-level keys that are not in the module's list of dockerd
        options (a newer dockerd option the list does not know yet).
    type: bool
    default: false
  on_invalid:
    description:
      - What to do when the existing file is not a JSON object (a syntax error, a list, ...).
      - V(fail) stops with the parse error and changes nothing (the default, a human should look).
      - V(backup_and_replace) saves the broken file next to it (see O(backup)) and starts from an
        empty object, so only O(keys) remain.
    type: str
    choices: [fail, backup_and_replace]
    default: fail
  backup:
    description:
      - Keep a timestamped copy of the previous file next to it whenever it is replaced.
      - A broken file replaced under O(on_invalid=backup_and_replace) is always backed up.
    type: bool
    default: false
  mode:
    description: Permissions of the file.
    type: raw
    default: "0644"
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Computes the change (and runs O(validate)) without writing.
  diff_mode:
    support: full
    details: Before and after are the whole file as indented JSON.
  platform:
    platforms: posix
notes:
  - daemon.json holds no secrets in the configurations this collection writes; the diff shows the file.
  - Docker refuses to start when an option is set both in daemon.json and as a dockerd flag (for
    example C(hosts) against C(-H fd://) in the systemd unit); neither the module nor
    C(dockerd --validate) can see the unit's flags.
seealso:
  - name: dockerd daemon configuration file
    description: The options daemon.json accepts.
    link: https://docs.docker.com/reference/cli/dockerd/#daemon-configuration-file
"""

EXAMPLES = r"""
- name: Log rotation defaults, keeping every other key
  securelab.gpu_notebook.docker_daemon_config:
    keys:
      log-driver: json-file
      log-opts:
        max-size: 10m
        max-file: "3"
    validate: dockerd --validate --config-file %s
  notify: Restart docker

- name: Register the NVIDIA runtime the way nvidia-ctk runtime configure --runtime=docker does
  securelab.gpu_notebook.docker_daemon_config:
    keys:
      runtimes:
        nvidia:
          path: nvidia-container-runtime
          args: []
    remove_if:
      default-runtime: nvidia

- name: Replace a broken daemon.json, keeping a copy of it
  securelab.gpu_notebook.docker_daemon_config:
    keys:
      live-restore: true
    on_invalid: backup_and_replace
"""

RETURN = r"""
config:
  description: The whole configuration after the change (what the file holds, or would hold in check mode).
  returned: success
  type: dict
  sample: {"registry-mirrors": ["https://mirror.lab.example"], "log-opts": {"max-size": "10m", "max-file": "3"}}
backup_file:
  description: Path of the copy of the previous file.
  returned: when a backup was made
  type: str
  sample: /etc/docker/daemon.json.1234.2026-01-01@00:00:00~
replaced_invalid:
  description: The parse error of the previous file, when O(on_invalid=backup_and_replace) replaced it.
  returned: when an invalid file was replaced
  type: str
  sample: "is not valid JSON: Expecting ',' delimiter: line 3 column 5 (char 27)"
validated_by:
  description: V(command) when O(validate) checked the new content, V(builtin) when only the module's own checks did.
  returned: success
  type: str
  sample: command
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible_collections.securelab.gpu_notebook.plugins.module_utils._daemon_json import (
    DaemonJsonError,
    check,
    plan,
    render,
)


def run_module(module):
    p = module.params
    path = p["path"]
    exists = os.path.exists(path)
    text = None
    if exists:
        try:
            with open(path, "rb") as handle:
                text = handle.read().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            module.fail_json(msg=f"Cannot read {path}: {to_native(exc)}")
    try:
        before, after, invalid = plan(text, p["keys"], p["remove"], p["remove_if"],
                                      replace_invalid=p["on_invalid"] == "backup_and_replace")
    except DaemonJsonError as exc:
        module.fail_json(msg=f"{path} {exc}. Nothing was changed: fix the file, or set on_invalid=backup_and_replace "
                             "to keep a copy and start from an empty object.")

    changed = invalid is not None or (after != before) or (not exists and after != {})
    result = {"changed": changed, "config": after, "validated_by": "builtin"}
    if invalid is not None:
        result["replaced_invalid"] = invalid

    problems = check(after, strict_keys=not p["validate"] and not p["allow_unknown_keys"])
    if changed and problems:
        module.fail_json(msg=f"Refusing to write {path}, dockerd would not start: {'; '.join(problems)}. "
                             "Nothing was changed.", problems=problems, config=after)

    new_text = render(after)
    if changed:
        fd, tmp = tempfile.mkstemp(prefix="daemon.json.", dir=module.tmpdir)
        with os.fdopen(fd, "wb") as handle:
            handle.write(to_bytes(new_text))
        if p["validate"]:
            if "%s" not in p["validate"]:
                module.fail_json(msg="validate must contain %s (the file to check): {}".format(p["validate"]))
            rc, out, err = module.run_command(p["validate"] % tmp)
            if rc != 0:
                module.fail_json(msg=f"Refusing to write {path}: {p['validate']!r} rejected it (rc={rc}): "
                                     f"{(err or out).strip()}. Nothing was changed.", config=after)
            result["validated_by"] = "command"
        if module._diff:
            result["diff"] = {
                "before_header": path,
                "after_header": path,
                "before": (text if invalid is not None else render(before)) if exists else "",
                "after": new_text,
            }
        if not module.check_mode:
            if exists and (p["backup"] or invalid is not None):
                result["backup_file"] = module.backup_local(path)
            parent = os.path.dirname(path)
            if parent and not os.path.isdir(parent):
                os.makedirs(parent, 0o755)
            module.atomic_move(tmp, path)
        else:
            os.unlink(tmp)

    if (changed and not module.check_mode) or exists:
        result["changed"] = module.set_mode_if_different(path, p["mode"], result["changed"])
        # dockerd runs as root with what this file says: nobody else may own it.
        result["changed"] = module.set_owner_if_different(path, "root", result["changed"])
        result["changed"] = module.set_group_if_different(path, "root", result["changed"])
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", default="/etc/docker/daemon.json"),
            # daemon.json holds configuration, not secrets (registry credentials live elsewhere)
            keys=dict(type="dict", default={}, no_log=False),
            remove=dict(type="list", elements="raw", default=[]),
            remove_if=dict(type="dict", default={}),
            validate=dict(type="str"),
            allow_unknown_keys=dict(type="bool", default=False),
            on_invalid=dict(type="str", choices=["fail", "backup_and_replace"], default="fail"),
            backup=dict(type="bool", default=False),
            mode=dict(type="raw", default="0644"),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**run_module(module))


if __name__ == "__main__":
    main()
