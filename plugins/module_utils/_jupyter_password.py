# Copyright (c) securelab.gpu_notebook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jupyter Server password hashes: hash, verify, and the JSON config file that holds them.

Pure helpers used by the ``jupyter_password`` module. The formats are the ones
``jupyter_server.auth.security.passwd()`` writes and ``passwd_check()`` reads:

* ``argon2:<PHC string>``: argon2id with Jupyter Server's parameters
  (memory_cost=10240 KiB, time_cost=10, parallelism=8), made by argon2-cffi
  (the library Jupyter Server itself uses) or, when only passlib is present, by passlib.
* ``ALG:SALT:HEXDIGEST`` (legacy): digest = ALG(utf8(password) + ascii(SALT)), 12 hex salt chars.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import warnings

try:
    import argon2 as _argon2
    import argon2.exceptions as _argon2_exceptions
except ImportError:  # pragma: no cover - depends on the host
    _argon2 = None
    _argon2_exceptions = None

ALGORITHMS = ('argon2', 'sha256', 'sha1')
DEPRECATED_ALGORITHMS = ('sha1',)
# jupyter_server.auth.security.passwd(): argon2.PasswordHasher(memory_cost=10240, time_cost=10, parallelism=8)
ARGON2_MEMORY_COST = 10240
ARGON2_TIME_COST = 10
ARGON2_PARALLELISM = 8
# jupyter_server.auth.security.salt_len
SALT_LEN = 12

# Keys that hold a password hash in a Jupyter JSON config file, most authoritative first.
# Jupyter Server 2.x reads PasswordIdentityProvider.hashed_password; `jupyter server password`
# (auth.security.set_password) writes IdentityProvider.hashed_password, which traitlets applies to
# the subclass too. ServerApp.password is the deprecated 1.x name. NotebookApp.password is what
# classic Notebook 6 reads.
SERVER_KEYS = (('PasswordIdentityProvider', 'hashed_password'), ('IdentityProvider', 'hashed_password'))
DEPRECATED_SERVER_KEYS = (('ServerApp', 'password'),)
NOTEBOOK6_KEYS = (('NotebookApp', 'password'),)
ALL_KEYS = SERVER_KEYS + DEPRECATED_SERVER_KEYS + NOTEBOOK6_KEYS


class MissingLibraryError(Exception):
    """argon2 needs argon2-cffi (or passlib with an argon2 backend) on the side the module runs."""


def argon2_available():
    if _argon2 is not None:
        return True
    return _passlib_argon2() is not None


def _passlib_argon2():
    """passlib's argon2 handler configured like Jupyter Server, or None.

    passlib 1.7.4 imports the deprecated ``crypt`` module and reads ``argon2.__version__``
    (deprecated by argon2-cffi 25, so it may disappear): both only emit DeprecationWarnings
    today, which would land on the module's stderr; silence them here.
    """
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        try:
            from passlib.hash import argon2 as passlib_argon2
            handler = passlib_argon2.using(
                type='ID', memory_cost=ARGON2_MEMORY_COST, rounds=ARGON2_TIME_COST, parallelism=ARGON2_PARALLELISM)
            handler.get_backend()
        except Exception:  # ImportError, passlib.exc.MissingBackendError, AttributeError from a newer backend
            return None
    return handler


def algorithm_of(hashed):
    """The algorithm name of a Jupyter hash ('argon2', 'sha1', ...), or None if it is not one."""
    if not hashed or not isinstance(hashed, str):
        return None
    if hashed.startswith('argon2:'):
        return 'argon2' if hashed[7:].startswith('$argon2') else None
    parts = hashed.split(':', 2)
    if len(parts) != 3 or not parts[2]:
        return None
    try:
        hashlib.new(parts[0])
    except (ValueError, TypeError):
        return None
    return parts[0]


def check_password_policy(password, min_length):
    """Return an error message (naming the option) or None."""
    if password is None or password == '':
        return 'password: must not be empty'
    if len(password) < min_length:
        return f'password: is shorter than min_length ({min_length} characters)'
    return None


def hash_password(password, algorithm='argon2', salt=None):
    """A new Jupyter hash of ``password``: ``argon2:$argon2id$...`` or ``ALG:SALT:HEX``."""
    if algorithm not in ALGORITHMS:
        raise ValueError('algorithm: must be one of {}, got {!r}'.format(', '.join(ALGORITHMS), algorithm))
    if algorithm == 'argon2':
        if _argon2 is not None:
            hasher = _argon2.PasswordHasher(
                memory_cost=ARGON2_MEMORY_COST, time_cost=ARGON2_TIME_COST, parallelism=ARGON2_PARALLELISM)
            return 'argon2:' + hasher.hash(password)
        handler = _passlib_argon2()
        if handler is None:
            raise MissingLibraryError('argon2-cffi')
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', DeprecationWarning)
            return 'argon2:' + handler.hash(password)
    if salt is None:
        salt = secrets.token_hex(SALT_LEN // 2)
    digest = hashlib.new(algorithm)
    digest.update(password.encode('utf-8') + salt.encode('ascii'))
    return f'{algorithm}:{salt}:{digest.hexdigest()}'


def verify_password(hashed, password):
    """True if ``hashed`` (any format Jupyter Server reads) verifies ``password``."""
    algorithm = algorithm_of(hashed)
    if algorithm is None:
        return False
    if algorithm == 'argon2':
        phc = hashed[7:]
        if _argon2 is not None:
            try:
                return _argon2.PasswordHasher().verify(phc, password)
            except (_argon2_exceptions.VerificationError, _argon2_exceptions.InvalidHashError):
                return False
        handler = _passlib_argon2()
        if handler is None:
            raise MissingLibraryError('argon2-cffi')
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', DeprecationWarning)
            try:
                return handler.verify(password, phc)
            except ValueError:
                return False
    salt, hexdigest = hashed.split(':', 2)[1:]
    try:
        salt_bytes = salt.encode('ascii')
    except UnicodeEncodeError:
        return False
    digest = hashlib.new(algorithm)
    digest.update(password.encode('utf-8') + salt_bytes)
    return hmac.compare_digest(digest.hexdigest(), hexdigest)


def argon2_parameters(hashed):
    """(memory_cost, time_cost, parallelism, variant) of an ``argon2:`` hash, or None."""
    if algorithm_of(hashed) != 'argon2':
        return None
    fields = hashed[7:].split('$')
    # ['', 'argon2id', 'v=19', 'm=10240,t=10,p=8', salt, hash]
    if len(fields) != 6:
        return None
    try:
        params = dict(item.split('=', 1) for item in fields[3].split(','))
        return int(params['m']), int(params['t']), int(params['p']), fields[1]
    except (KeyError, ValueError):
        return None


def is_current(hashed, password, algorithm):
    """True if ``hashed`` verifies ``password`` AND is what we would produce today.

    A hash in another algorithm, or an argon2 hash with weaker or different parameters than
    Jupyter Server's, is replaced (so switching ``algorithm`` takes effect).
    """
    if algorithm_of(hashed) != algorithm:
        return False
    if algorithm == 'argon2' and argon2_parameters(hashed) != (
            ARGON2_MEMORY_COST, ARGON2_TIME_COST, ARGON2_PARALLELISM, 'argon2id'):
        return False
    return verify_password(hashed, password)


def parse_config(text):
    """Parse a Jupyter JSON config file; '' means an empty config. Raises ValueError."""
    if text is None or not text.strip():
        return {}
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError('the top level is not a JSON object')
    for section, key in ALL_KEYS:
        if section in data and not isinstance(data[section], dict):
            raise ValueError(f'"{section}" is not a JSON object')
        value = data.get(section, {}).get(key)
        if value is not None and not isinstance(value, str):
            raise ValueError(f'"{section}.{key}" is not a string')
    return data


def config_hashes(config):
    """The non-empty hashes in a parsed config, most authoritative key first, without duplicates."""
    found = []
    for section, key in ALL_KEYS:
        value = config.get(section, {}).get(key)
        if value and value not in found:
            found.append(value)
    return found


def update_config(config, hashed, notebook6=False):
    """A copy of ``config`` where every password key Jupyter reads holds ``hashed``.

    Sets the Jupyter Server 2.x keys, NotebookApp.password when ``notebook6``, and also
    updates a deprecated ServerApp.password or NotebookApp.password that is already there so no
    stale hash is left behind. Every other key is preserved.
    """
    new = json.loads(json.dumps(config))
    keys = list(SERVER_KEYS)
    if notebook6:
        keys += list(NOTEBOOK6_KEYS)
    for section, key in DEPRECATED_SERVER_KEYS + NOTEBOOK6_KEYS:
        if new.get(section, {}).get(key):
            keys.append((section, key))
    for section, key in keys:
        new.setdefault(section, {})[key] = hashed
    return new


def render_config(config):
    return json.dumps(config, indent=2, ensure_ascii=False) + '\n'


def redact_config(config, labels):
    """Render ``config`` with every known hash replaced by a placeholder from ``labels``."""
    shown = json.loads(json.dumps(config))
    for section, key in ALL_KEYS:
        value = shown.get(section, {}).get(key)
        if value:
            shown[section][key] = labels.setdefault(
                value, f"<hidden {algorithm_of(value) or 'unknown'} hash #{len(labels) + 1}>")
    return render_config(shown)
