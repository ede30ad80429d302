# Copyright (c) securelab.gpu_notebook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ``securelab.gpu_notebook.jupyter_hash_current``: does a Jupyter password hash still hold?

Documentation: ``jupyter_hash_current.yml`` next to this file (ansible-doc -t filter).
The same test as the ``jupyter_password`` module (``_jupyter_password.is_current``), run in the
templating process on the controller, so the notebook role's no-op check needs no module run.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.securelab.gpu_notebook.plugins.module_utils import _jupyter_password as jp


def jupyter_hash_current(hashed: object, password: object, algorithm: str = "argon2") -> bool:
    """True if ``hashed`` verifies ``password`` and is what the jupyter_password module would keep."""
    if algorithm not in jp.ALGORITHMS:
        raise AnsibleFilterError(
            f"jupyter_hash_current: algorithm must be one of {', '.join(jp.ALGORITHMS)}, got {str(algorithm)[:20]!r}"
        )
    if not isinstance(password, str) or not password:
        # Never echo the value.
        raise AnsibleFilterError("jupyter_hash_current: the password must be a non-empty string")
    if not isinstance(hashed, str) or not hashed:
        return False
    try:
        return bool(jp.is_current(hashed, password, algorithm))
    except jp.MissingLibraryError:
        raise AnsibleFilterError(
            "jupyter_hash_current: verifying an argon2 hash needs argon2-cffi (or passlib with an argon2 backend) "
            "on the controller"
        ) from None


class FilterModule:
    """securelab.gpu_notebook Jupyter password filters."""

    def filters(self):
        return {"jupyter_hash_current": jupyter_hash_current}
