# Copyright (c) securelab.gpu_notebook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ~/.google_authenticator file of libpam-google-authenticator, and otpauth:// URIs.

Pure helpers used by the ``totp_secret`` module. Standard library only (``secrets``, ``base64``),
so the target needs nothing beyond Debian's python3.

File format (what google-authenticator(1) writes and pam_google_authenticator.so reads)::

    BASE32SECRET
    " RATE_LIMIT 3 30
    " WINDOW_SIZE 3
    " DISALLOW_REUSE
    " TOTP_AUTH
    12345678            (0..10 scratch codes, 8 digits, first digit 1-9)

The PAM module rewrites the file at login: it removes used scratch codes and appends timestamps
to RATE_LIMIT and time steps to DISALLOW_REUSE. Such a file is still valid here.
"""

from __future__ import annotations

import base64
import re
import secrets
from urllib.parse import quote

SECRET_BYTES = 20  # 160 bits: RFC 4226's recommended length; 32 base32 characters, no padding
SCRATCH_CODE_MIN = 10000000
SCRATCH_CODE_MAX = 99999999
WINDOW_SIZE_RANGE = (1, 21)  # what google-authenticator(1) accepts
SCRATCH_CODES_RANGE = (0, 10)
RATE_LIMIT_ATTEMPTS_RANGE = (0, 100)  # pam_google_authenticator accepts 1..100; 0 here = no RATE_LIMIT line
RATE_LIMIT_SECONDS_RANGE = (1, 3600)  # pam_google_authenticator accepts 1..3600

_SECRET_RE = re.compile(r'^[A-Z2-7]{16,}$')
_OPTION_RE = re.compile(r'^" [A-Z_]+( [0-9 ]*)?$')
_SCRATCH_RE = re.compile(r'^[1-9][0-9]{7}$')


class TotpFileError(ValueError):
    """The content is not a valid google_authenticator file."""


def generate_secret(nbytes=SECRET_BYTES):
    """A base32 secret (upper case, no padding) from the OS CSPRNG."""
    return base64.b32encode(secrets.token_bytes(nbytes)).decode('ascii').rstrip('=')


def generate_scratch_codes(count):
    """``count`` distinct 8-digit scratch codes (first digit 1-9), as strings."""
    codes = []
    while len(codes) < count:
        code = str(SCRATCH_CODE_MIN + secrets.randbelow(SCRATCH_CODE_MAX - SCRATCH_CODE_MIN + 1))
        if code not in codes:
            codes.append(code)
    return codes


def validate_options(window_size, scratch_codes, rate_limit_attempts, rate_limit_seconds, issuer, label):
    """A list of error messages, each naming its option (empty when everything is valid)."""
    errors = []

    def in_range(name, value, bounds):
        if not bounds[0] <= value <= bounds[1]:
            errors.append(f'{name}: must be between {bounds[0]} and {bounds[1]}, got {value}')

    in_range('window_size', window_size, WINDOW_SIZE_RANGE)
    in_range('scratch_codes', scratch_codes, SCRATCH_CODES_RANGE)
    in_range('rate_limit_attempts', rate_limit_attempts, RATE_LIMIT_ATTEMPTS_RANGE)
    if rate_limit_attempts:
        in_range('rate_limit_seconds', rate_limit_seconds, RATE_LIMIT_SECONDS_RANGE)
    for name, value in (('issuer', issuer), ('label', label)):
        if value is not None:
            if not value.strip():
                errors.append(f'{name}: must not be empty')
            elif ':' in value:
                errors.append(f'{name}: must not contain ":" (the otpauth label separator)')
            elif any(ord(c) < 32 for c in value):
                errors.append(f'{name}: must not contain control characters')
    return errors


def render(secret, scratch_codes, window_size=3, rate_limit_attempts=3, rate_limit_seconds=30,
           disallow_reuse=True):
    """The file content, in the order google-authenticator(1) writes it."""
    lines = [secret]
    if rate_limit_attempts:
        lines.append(f'" RATE_LIMIT {rate_limit_attempts} {rate_limit_seconds}')
    lines.append(f'" WINDOW_SIZE {window_size}')
    if disallow_reuse:
        lines.append('" DISALLOW_REUSE')
    lines.append('" TOTP_AUTH')
    lines.extend(scratch_codes)
    return '\n'.join(lines) + '\n'


def parse(content):
    """Parse a google_authenticator file; raise TotpFileError when it is empty or corrupt.

    Returns a dict with ``secret``, ``options`` (list of option lines without the leading
    double quote) and ``scratch_codes`` (list of str).
    """
    if not content or not content.strip():
        raise TotpFileError('the file is empty')
    lines = content.split('\n')
    if lines[-1] == '':
        lines.pop()
    secret = lines[0]
    if not _SECRET_RE.match(secret):
        raise TotpFileError('the first line is not a base32 secret of at least 16 characters')
    options, codes = [], []
    for number, line in enumerate(lines[1:], start=2):
        if _OPTION_RE.match(line):
            options.append(line[2:])
        elif _SCRATCH_RE.match(line):
            codes.append(line)
        else:
            raise TotpFileError(f'line {number} is neither an option line nor an 8-digit scratch code')
    try:
        base64.b32decode(secret + '=' * (-len(secret) % 8))
    except ValueError:
        raise TotpFileError('the secret is not valid base32') from None
    return dict(secret=secret, options=options, scratch_codes=codes)


def redact(content):
    """The file content with the secret and scratch codes replaced (for diffs)."""
    if content is None:
        return ''
    out = []
    for number, line in enumerate(content.split('\n')):
        if number == 0 and line:
            out.append('<hidden secret>')
        elif _SCRATCH_RE.match(line):
            out.append('<hidden scratch code>')
        elif line.startswith('"') or not line:
            out.append(line)
        else:
            out.append('<hidden line>')
    return '\n'.join(out)


def otpauth_uri(secret, label, issuer):
    """``otpauth://totp/ISSUER:LABEL?secret=...&issuer=...`` (Key Uri Format), URL-encoded.

    The defaults of the format (SHA1, 6 digits, 30 s) are what pam_google_authenticator uses,
    so they are not repeated in the URI.
    """
    return 'otpauth://totp/{}:{}?secret={}&issuer={}'.format(
        quote(issuer, safe=''), quote(label, safe=''), secret, quote(issuer, safe=''))
