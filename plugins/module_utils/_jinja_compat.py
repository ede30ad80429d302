# Copyright (c) securelab.gpu_notebook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the roles' Jinja read a value that may be a string or a number, for the input-check filters in Python.

The roles' input checks (tasks/validate.yml) were Jinja; the filters that replace them read a value as the Jinja
did: a pattern is matched against the value as a string (``| string is match``: from the start, Python's ``str()``,
so true is 'True'), numbers are read as the ``int`` filter reads them (0 when not a number), and values are shown as
``to_json`` shows them. Private (leading underscore): no compatibility promise outside this collection. Nothing here
raises Ansible's errors (module_utils): a filter turns the ValueError of values_of into its own error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping


def values_of(values, names):
    """The values of ``names`` in ``values`` (the dict {variable name: value} a role's task builds), in that order."""
    if not isinstance(values, Mapping):
        raise ValueError(f"expects a dict of variable names to values, got {type(values).__name__}")
    missing = [name for name in names if name not in values]
    if missing:
        raise ValueError(f"the input has no {', '.join(missing)} (the role's __<role>_input_vars lists the variables)")
    return [values[name] for name in names]


def text(value):
    """``value | string``, and how the ``match`` and ``search`` tests read a value that is not a string."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="surrogateescape")
    return str(value)


def match(pattern, value):
    """``value | string is match(pattern)``: re.match, from the start (``$`` also matches before a final newline)."""
    return re.match(pattern, text(value)) is not None


def to_int(value):
    """``value | int``: 0 when the value is not a number ('42.5' is 42, true is 1)."""
    try:
        return int(value, 10) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError, OverflowError):
            return 0


def is_list(value):
    """``value is sequence and value is not string``, except that a dict is not a list here."""
    # Jinja's sequence test: a length and items (a tuple too, not a set or a number).
    return not isinstance(value, (str, bytes, Mapping)) and hasattr(value, "__len__") and hasattr(value, "__getitem__")


def length(value):
    """``value | length``; the length of its string where Jinja's filter would fail (a number, none)."""
    try:
        return len(value)
    except TypeError:
        return len(text(value))


def to_json(value):
    """``value | to_json``, as the messages show a value."""
    return json.dumps(value, default=lambda other: other.isoformat() if hasattr(other, "isoformat") else str(other))
