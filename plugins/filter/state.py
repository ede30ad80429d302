# Copyright: securelab maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ``securelab.gpu_notebook.file_differs``: compare a host_state file entry with the desired file.

Documentation: ``file_differs.yml`` next to this file (ansible-doc -t filter).
The roles' fast path (tasks/probe.yml) uses it to decide, on the controller, whether a file that
the converge tasks would write is already exactly as they would write it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_bytes

KINDS = ("file", "directory", "absent")


def file_differs(info, content=None, mode=None, owner=None, group=None, kind="file"):
    """True unless ``info`` (one entry of host_state's ``files``) is the desired file.

    kind=absent: the path must not exist. kind=directory: a directory with the given attributes.
    kind=file: a regular file; ``content`` (text, compared by SHA-1) and the attributes given.
    Attributes left as None are not compared.
    """
    if kind not in KINDS:
        raise AnsibleFilterError(f"file_differs: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if info is None or info == "":
        return True  # the probe did not run or did not read this path: cannot tell
    if not isinstance(info, Mapping):
        raise AnsibleFilterError(f"file_differs: expects one entry of host_state's files, got {type(info).__name__}")
    if kind == "absent":
        return bool(info.get("exists", True))
    if not info.get("exists") or info.get("type") != kind:
        return True
    wanted = {"mode": None if mode is None else str(mode), "owner": owner, "group": group}
    for key, value in wanted.items():
        if value is not None and str(info.get(key)) != value:
            return True
    if kind == "file" and content is not None:
        # SHA-1 because that is the checksum host_state (and the template module) reports; not for security.
        wanted = hashlib.sha1(to_bytes(content, errors="surrogate_or_strict")).hexdigest()  # noqa: S324
        return info.get("checksum") != wanted
    return False


class FilterModule:
    def filters(self):
        return {"file_differs": file_differs}
