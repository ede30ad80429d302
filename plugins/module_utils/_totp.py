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

The PAM module rewrites the file at login: it removes used scratch codes, appends timestamps
to RATE_LIMIT and time steps to DISALLOW_REUSE, and inserts after the secret line
``" RESETTING_TIME_SKEW`` / ``" TIME_SKEW`` (codes outside the window), ``" HOTP_COUNTER`` (counter mode)
and ``" LAST0`` .. ``" LAST9`` (grace_period). ``parse()`` accepts every file the PAM module can use.
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

MAX_FILE_BYTES = 64 * 1024  # open_secret_file() refuses an empty file or one larger than this

_SCRATCH_RE = re.compile(r'^[1-9][0-9]{7}$')


class TotpFileError(ValueError):
    """pam_google_authenticator cannot use the file: no login can succeed with it."""


class TotpOptionError(TotpFileError):
    """The secret is intact, but pam_google_authenticator refuses the value of an option line it reads."""


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
    """Parse a google_authenticator file the way pam_google_authenticator reads it.

    ``content`` is the file's bytes (or text). Accepts every file the PAM module can authenticate with,
    including the lines it writes itself: ``" RESETTING_TIME_SKEW 56666668-2`` and ``" TIME_SKEW -2``
    (inserted after the secret line), ``" LAST0 192.0.2.1 1764000000`` .. ``LAST9`` (grace_period),
    timestamps appended to RATE_LIMIT and time steps to DISALLOW_REUSE, and blank lines and CRLF line ends
    (the PAM module skips them). Values are checked only where the PAM module checks them, with its rules
    (``strtoul``, ``get_cfg_value``, ``check_scratch_codes``, ``base32_decode`` of
    ``src/pam_google_authenticator.c`` and ``src/base32.c``).

    Raises TotpFileError when the PAM module cannot use the file at all (empty, larger than 64 KiB, a NUL
    byte, no valid base32 secret on the first line, or no code it could ever accept), and its subclass
    TotpOptionError when the secret is intact but an option line the PAM module reads has a value it refuses.

    Returns a dict with ``secret`` (the first line), ``options`` (option lines without the leading double
    quote), ``scratch_codes`` (list of str, the codes the PAM module accepts) and ``warnings`` (lines the PAM
    module ignores, by number; never their content).
    """
    if isinstance(content, str):
        size = len(content.encode('utf-8', errors='surrogateescape'))
        buf = content
    else:
        size = len(content)
        buf = bytes(content).decode('latin-1')  # one character per byte, as the C code sees them
    if not size or not buf.strip():
        raise TotpFileError('the file is empty')
    if size > MAX_FILE_BYTES:
        raise TotpFileError(f'the file is larger than {MAX_FILE_BYTES // 1024} KiB')
    if '\x00' in buf:
        raise TotpFileError('the file contains a NUL byte')
    first_line = buf.split('\n', 1)[0]
    if _base32_decoded_length(first_line) < 1:
        raise TotpFileError('the first line is not a base32 secret')

    # rate_limit() runs before anything else at every login: a RATE_LIMIT value it refuses fails every login.
    _check_option(buf, 'RATE_LIMIT', _check_rate_limit, 'every login fails')
    codes, stop = _scratch_codes(buf)
    counter = _cfg_value(buf, 'HOTP_COUNTER')
    if counter is not None and _strtol(counter[0]) >= 1:
        _check_option(buf, 'WINDOW_SIZE', _check_number(1, 100), 'no verification code is accepted')
    elif '" TOTP_AUTH' in buf:  # is_totp(): anywhere in the file
        _check_option(buf, 'STEP_SIZE', _check_number(1, 60), 'no verification code is accepted')
        _check_option(buf, 'WINDOW_SIZE', _check_number(1, 100), 'no verification code is accepted')
        _check_option(buf, 'DISALLOW_REUSE', _check_time_steps, 'no verification code is accepted')
    elif not codes:
        raise TotpFileError('pam_google_authenticator accepts no code with it (no TOTP_AUTH or HOTP_COUNTER '
                            'line and no scratch code)')

    lines = [line[:-1] if line.endswith('\r') else line for line in buf.split('\n')]
    options = [line[1:].strip() for line in lines[1:] if line.startswith('"')]
    warnings = []
    rest = buf[stop:].lstrip(_C_SPACE)
    if rest:  # check_scratch_codes() stops at the first line that is not a code
        number = buf.count('\n', 0, len(buf) - len(rest)) + 1
        warnings.append(f'line {number} is neither an option line nor a scratch code: pam_google_authenticator '
                        'ignores it and every scratch code after it')
    return dict(secret=lines[0], options=options, scratch_codes=codes, warnings=warnings)


# The C library functions the PAM module parses with, for the characters of the file.
_C_SPACE = ' \t\n\v\f\r'  # isspace() in the C locale
_ULONG_MAX = 2 ** 64 - 1
_LONG_MAX = 2 ** 63 - 1


def _scan_number(text, pos):
    """What strtoul()/strtol() read at ``pos``: (negative, digits, end); digits is '' when nothing converts."""
    i = pos
    while i < len(text) and text[i] in _C_SPACE:
        i += 1
    negative = text.startswith('-', i)
    if text.startswith(('+', '-'), i):
        i += 1
    j = i
    while j < len(text) and '0' <= text[j] <= '9':
        j += 1
    return negative, text[i:j], j


def _strtoul(text, pos=0):
    """C ``strtoul(text + pos, &end, 10)``: (value, end, overflowed). ``end == pos`` when nothing was converted."""
    negative, digits, end = _scan_number(text, pos)
    if not digits:
        return 0, pos, False
    value = int(digits)
    if value > _ULONG_MAX:
        return _ULONG_MAX, end, True
    return (-value) % (_ULONG_MAX + 1) if negative else value, end, False


def _strtol(text):
    """C ``strtol(text, NULL, 10)``: clamped to a 64-bit long, 0 when nothing was converted."""
    negative, digits, _end = _scan_number(text, 0)
    value = -int(digits) if negative and digits else int(digits or 0)
    return max(-_LONG_MAX - 1, min(_LONG_MAX, value))


def _c_int(value):
    """The C cast ``(int)`` of an unsigned long (two's complement, 32 bits)."""
    value &= 0xFFFFFFFF
    return value - 2 ** 32 if value >= 2 ** 31 else value


def _base32_decoded_length(line):
    """How many bytes ``base32_decode()`` gets from the secret line, or -1 when it refuses a character."""
    bits = count = 0
    for ch in line:
        if ch in ' \t\r\n-':
            continue
        if not ('A' <= ch <= 'Z' or 'a' <= ch <= 'z' or '2' <= ch <= '7' or ch in '018'):
            return -1  # 0, 1 and 8 are read as O, L and B
        bits += 5
        if bits >= 8:
            count += 1
            bits -= 8
    return count


def _cfg_value(buf, key):
    """``get_cfg_value()``: (value, offset of its line) of the first ``" KEY`` line, or None.

    Lines end at CR or LF; the key must be followed by a space, a tab or the end of the line, and the value
    is the rest of the line after spaces and tabs.
    """
    prefix, n, line = '" ' + key, len(buf), 0
    while line < n:
        after = line + len(prefix)
        if buf.startswith(prefix, line) and (after == n or buf[after] in ' \t\r\n'):
            while after < n and buf[after] in ' \t':
                after += 1
            end = after
            while end < n and buf[end] not in '\r\n':
                end += 1
            return buf[after:end], line
        while line < n and buf[line] not in '\r\n':
            line += 1
        while line < n and buf[line] in '\r\n':
            line += 1
    return None


def _check_option(buf, key, check, consequence):
    found = _cfg_value(buf, key)
    if found is None:
        return
    value, offset = found
    problem = check(value)
    if problem:
        raise TotpOptionError(f'line {buf.count(chr(10), 0, offset) + 1}: pam_google_authenticator refuses its '
                              f'{key} value ({problem}), so {consequence}')


def _check_number(low, high):
    """``step_size()`` / ``window_size()``: one number from ``low`` to ``high``, then the end or a blank."""
    def check(value):
        number, end, overflowed = _strtoul(value)
        if overflowed or not value or end == 0 or (end < len(value) and value[end] not in ' \t\r\n') \
                or not low <= _c_int(number) <= high:
            return f'it must be a number from {low} to {high}'
        return None
    return check


def _check_rate_limit(value):
    """``rate_limit()``: ATTEMPTS (1-100), SECONDS (1-3600), then timestamps, each after a space or tab."""
    problem = 'it must be ATTEMPTS (1 to 100) and SECONDS (1 to 3600), then timestamps separated by spaces'
    attempts, end, overflowed = _strtoul(value)
    if overflowed or end == 0 or not 1 <= _c_int(attempts) <= 100 or end == len(value) or value[end] not in ' \t':
        return problem
    start = end
    interval, end, overflowed = _strtoul(value, start)
    if overflowed or end == start or not 1 <= _c_int(interval) <= 3600:
        return problem
    while end < len(value):
        if value[end] not in ' \t':
            return problem
        start = end
        _timestamp, end, overflowed = _strtoul(value, start)
        if overflowed or end == start:
            return problem
    return None


def _check_time_steps(value):
    """``invalidate_timebased_code()``: the time steps after DISALLOW_REUSE, separated by blanks."""
    pos = 0
    while True:
        while pos < len(value) and value[pos] in ' \t\r\n':
            pos += 1
        if pos == len(value):
            return None
        _step, end, overflowed = _strtoul(value, pos)
        if overflowed or end == pos or (end < len(value) and value[end] not in ' \t\r\n'):
            return 'it must be time steps separated by spaces'
        pos = end


def _scratch_codes(buf):
    """``check_scratch_codes()``: the codes after the first line, and the offset where the PAM module stops.

    Blank lines and lines starting with a double quote are skipped; the first other line that is not an
    8-digit number (after ``strtoul``: leading blanks and a sign allowed) ends the list.
    """
    n = len(buf)
    ptr = buf.find('\n')
    ptr = n if ptr < 0 else ptr
    codes = []
    while True:
        while ptr < n and buf[ptr] in '\r\n':
            ptr += 1
        if ptr < n and buf[ptr] == '"':
            ptr = buf.find('\n', ptr)
            ptr = n if ptr < 0 else ptr
            continue
        value, end, overflowed = _strtoul(buf, ptr)
        code = _c_int(value)
        if overflowed or end == ptr or (end < n and buf[end] not in '\r\n') \
                or not SCRATCH_CODE_MIN <= code <= SCRATCH_CODE_MAX:
            return codes, ptr
        codes.append(str(code))
        ptr = end


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
