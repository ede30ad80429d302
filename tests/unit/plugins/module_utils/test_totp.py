"""_totp: secrets, file format and otpauth URIs, checked against pyotp and oathtool as independent peers."""

from __future__ import annotations

import base64
import shutil
import subprocess
import time
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest
from ansible_collections.securelab.gpu_notebook.plugins.module_utils import _totp

# A file as pam_google_authenticator leaves it after logins: used scratch code gone,
# timestamps appended to RATE_LIMIT, time steps appended to DISALLOW_REUSE.
AFTER_PAM = (
    "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n"
    '" RATE_LIMIT 3 30 1764000000 1764000030\n'
    '" WINDOW_SIZE 3\n'
    '" DISALLOW_REUSE 58800000 58800001\n'
    '" TOTP_AUTH\n'
    "23456789\n"
)


def test_secret_is_160_bit_base32():
    secret = _totp.generate_secret()
    assert len(secret) == 32 and secret == secret.upper() and "=" not in secret
    assert len(base64.b32decode(secret)) == 20
    assert pyotp.TOTP(secret).now().isdigit()
    assert len({_totp.generate_secret() for _n in range(50)}) == 50


@pytest.mark.parametrize("count", [0, 1, 5, 10])
def test_scratch_codes(count):
    codes = _totp.generate_scratch_codes(count)
    assert len(codes) == count == len(set(codes))
    assert all(len(c) == 8 and c.isdigit() and c[0] != "0" for c in codes)


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({}, 'S\n" RATE_LIMIT 3 30\n" WINDOW_SIZE 3\n" DISALLOW_REUSE\n" TOTP_AUTH\n11111111\n22222222\n'),
    ({"rate_limit_attempts": 0}, 'S\n" WINDOW_SIZE 3\n" DISALLOW_REUSE\n" TOTP_AUTH\n11111111\n22222222\n'),
    ({"disallow_reuse": False, "window_size": 17, "rate_limit_attempts": 5, "rate_limit_seconds": 60},
     'S\n" RATE_LIMIT 5 60\n" WINDOW_SIZE 17\n" TOTP_AUTH\n11111111\n22222222\n'),
])
def test_render(kwargs, expected):
    assert _totp.render("S", ["11111111", "22222222"], **kwargs) == expected


def test_render_parse_roundtrip():
    secret, codes = _totp.generate_secret(), _totp.generate_scratch_codes(5)
    parsed = _totp.parse(_totp.render(secret, codes))
    assert parsed == {"secret": secret, "scratch_codes": codes, "warnings": [],
                      "options": ["RATE_LIMIT 3 30", "WINDOW_SIZE 3", "DISALLOW_REUSE", "TOTP_AUTH"]}


S = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
BASE = f'{S}\n" RATE_LIMIT 3 30\n" WINDOW_SIZE 3\n" DISALLOW_REUSE\n" TOTP_AUTH\n'

# What pam_google_authenticator writes (upstream src/pam_google_authenticator.c: check_time_skew(),
# update_logindetails(), rate_limit(), invalidate_timebased_code(), check_counterbased_code(),
# check_scratch_codes(); set_cfg_value() inserts a new option right after the secret line). The shapes were
# produced by the upstream module itself, driven with codes outside the window, grace_period and HOTP codes.
# Each entry: (content, options after parse, scratch codes after parse).
PAM_WRITES = {
    "resetting time skew, first code outside the window": (
        f'{S}\n" RESETTING_TIME_SKEW 58800000+10\n" RATE_LIMIT 3 30 1764000000\n" WINDOW_SIZE 3\n'
        '" DISALLOW_REUSE\n" TOTP_AUTH\n12345678\n',
        ["RESETTING_TIME_SKEW 58800000+10", "RATE_LIMIT 3 30 1764000000", "WINDOW_SIZE 3", "DISALLOW_REUSE",
         "TOTP_AUTH"], ["12345678"]),
    "resetting time skew, negative skews": (
        f'{S}\n" RESETTING_TIME_SKEW 56666668-2 56666669-2\n" TOTP_AUTH\n',
        ["RESETTING_TIME_SKEW 56666668-2 56666669-2", "TOTP_AUTH"], []),
    "time skew set, resetting line left empty": (
        f'{S}\n" TIME_SKEW 10\n" RESETTING_TIME_SKEW \n" RATE_LIMIT 3 30 1764000030 1764000060\n'
        '" WINDOW_SIZE 3\n" DISALLOW_REUSE\n" TOTP_AUTH\n12345678\n',
        ["TIME_SKEW 10", "RESETTING_TIME_SKEW", "RATE_LIMIT 3 30 1764000030 1764000060", "WINDOW_SIZE 3",
         "DISALLOW_REUSE", "TOTP_AUTH"], ["12345678"]),
    "time skew negative": (
        f'{S}\n" TIME_SKEW -4\n" RESETTING_TIME_SKEW \n" TOTP_AUTH\n',
        ["TIME_SKEW -4", "RESETTING_TIME_SKEW", "TOTP_AUTH"], []),
    "time skew positive": (f'{S}\n" TIME_SKEW 2\n" TOTP_AUTH\n87654321\n', ["TIME_SKEW 2", "TOTP_AUTH"], ["87654321"]),
    "grace period, IPv4 address": (
        f'{S}\n" LAST0 192.0.2.7 1764000000\n" TOTP_AUTH\n', ["LAST0 192.0.2.7 1764000000", "TOTP_AUTH"], []),
    "grace period, ten hosts": (
        S + "\n" + "".join(f'" LAST{i} 198.51.100.{i + 1} {1764000000 + i}\n' for i in range(9, -1, -1))
        + '" TOTP_AUTH\n12345678\n',
        [f"LAST{i} 198.51.100.{i + 1} {1764000000 + i}" for i in range(9, -1, -1)] + ["TOTP_AUTH"], ["12345678"]),
    "grace period, IPv6 and host names": (
        f'{S}\n" LAST1 2001:db8::1%eth0 1764000000\n" LAST2 gw.example.org 1764000001\n" TOTP_AUTH\n',
        ["LAST1 2001:db8::1%eth0 1764000000", "LAST2 gw.example.org 1764000001", "TOTP_AUTH"], []),
    "rate limit with appended timestamps": (
        f'{S}\n" RATE_LIMIT 3 30 1764000000 1764000010 1764000020\n" TOTP_AUTH\n',
        ["RATE_LIMIT 3 30 1764000000 1764000010 1764000020", "TOTP_AUTH"], []),
    "disallow reuse with appended time steps": (
        f'{S}\n" DISALLOW_REUSE 58799998 58799999 58800000\n" TOTP_AUTH\n23456789\n',
        ["DISALLOW_REUSE 58799998 58799999 58800000", "TOTP_AUTH"], ["23456789"]),
    "hotp counter": (f'{S}\n" HOTP_COUNTER 3\n12345678\n', ["HOTP_COUNTER 3"], ["12345678"]),
    "hotp counter, no scratch codes": (f'{S}\n" HOTP_COUNTER 1\n', ["HOTP_COUNTER 1"], []),
    "step size": (f'{S}\n" STEP_SIZE 60\n" WINDOW_SIZE 17\n" TOTP_AUTH\n',
                  ["STEP_SIZE 60", "WINDOW_SIZE 17", "TOTP_AUTH"], []),
    "blank lines between and after": (
        f'{S}\n\n" TOTP_AUTH\n\n12345678\n\n87654321\n\n', ["TOTP_AUTH"], ["12345678", "87654321"]),
    "CRLF line ends": (
        f'{S}\r\n" RATE_LIMIT 3 30 1764000000\r\n" TOTP_AUTH\r\n12345678\r\n',
        ["RATE_LIMIT 3 30 1764000000", "TOTP_AUTH"], ["12345678"]),
    "last scratch code used: no codes, no final newline": (
        BASE.rstrip("\n"), ["RATE_LIMIT 3 30", "WINDOW_SIZE 3", "DISALLOW_REUSE", "TOTP_AUTH"], []),
    "unknown option and a comment line": (
        f'{S}\n" SOME_FUTURE_OPTION a.b-c,d\n"comment\n" TOTP_AUTH\n',
        ["SOME_FUTURE_OPTION a.b-c,d", "comment", "TOTP_AUTH"], []),
    "80-bit secret of old google-authenticator versions": ('JBSWY3DPEHPK3PXP\n" TOTP_AUTH\n', ["TOTP_AUTH"], []),
    "secret as typed: lower case, spaces, dashes": ('jbsw y3dp-ehpk 3pxp\n" TOTP_AUTH\n', ["TOTP_AUTH"], []),
    "scratch codes only": (f"{S}\n12345678\n", [], ["12345678"]),
}


@pytest.mark.parametrize("content", [AFTER_PAM, AFTER_PAM.rstrip("\n")])
def test_parse_accepts_what_pam_writes(content):
    assert _totp.parse(content)["secret"].startswith("JBSWY3DP")


@pytest.mark.parametrize(("content", "options", "codes"), PAM_WRITES.values(), ids=PAM_WRITES.keys())
def test_parse_accepts_every_shape_pam_writes(content, options, codes):
    parsed = _totp.parse(content)
    assert parsed["secret"] == content.split("\n")[0].rstrip("\r")
    assert parsed["options"] == options and parsed["scratch_codes"] == codes and parsed["warnings"] == []
    assert _totp.parse(content.encode()) == parsed  # the module parses the bytes it read


@pytest.mark.parametrize(("content", "codes", "line"), [
    (f'{S}\n" TOTP_AUTH\n12345678\nhello\n87654321\n', ["12345678"], 4),
    (f'{S}\n" TOTP_AUTH\n1234567\n', [], 3),  # 7 digits
    (f'{S}\n" TOTP_AUTH\n123456789\n12345678\n', [], 3),  # 9 digits
    (f'{S}\r\n" TOTP_AUTH\r\n12345678\r\n12345678x\r\n', ["12345678"], 4),
])
def test_lines_pam_ignores_are_accepted_with_a_warning(content, codes, line):
    """check_scratch_codes() stops at the first line that is no code: PAM still works, later codes do not."""
    parsed = _totp.parse(content)
    assert parsed["scratch_codes"] == codes
    assert parsed["warnings"] == [f"line {line} is neither an option line nor a scratch code: "
                                  "pam_google_authenticator ignores it and every scratch code after it"]


@pytest.mark.parametrize(("text", "codes"), [
    ("012345678", ["12345678"]),  # strtoul(): leading zeros, a sign and leading blanks are read
    ("+12345678", ["12345678"]),
    (" \t12345678", ["12345678"]),
    ("99999999\n10000000", ["99999999", "10000000"]),
])
def test_scratch_codes_as_strtoul_reads_them(text, codes):
    parsed = _totp.parse(f'{S}\n" TOTP_AUTH\n{text}\n')
    assert parsed["scratch_codes"] == codes and parsed["warnings"] == []


@pytest.mark.parametrize(("content", "reason"), [
    ("", "empty"),
    ("\n\n", "empty"),
    (b"", "empty"),
    ("not_a_secret\n\" TOTP_AUTH\n", "first line is not a base32 secret"),
    ("JBSWY3DP=\n\" TOTP_AUTH\n", "first line is not a base32 secret"),  # base32_decode() has no padding
    ("J\n\" TOTP_AUTH\n", "first line is not a base32 secret"),  # 5 bits: not even one byte
    ('\n" TOTP_AUTH\n12345678\n', "first line is not a base32 secret"),
    ('" TOTP_AUTH\nJBSWY3DPEHPK3PXP\n', "first line is not a base32 secret"),
    ("JBSWY3DPEHPK3PXP\r\" TOTP_AUTH\r12345678\r", "first line is not a base32 secret"),  # CR only: one line
    ("\x00\x01binary", "NUL"),
    (f'{S}\n" TOTP_AUTH\n\x00\n', "NUL"),
    (S + "\n" + "#" * 65536, "larger than 64 KiB"),
    (f"{S}\n", "accepts no code"),  # no TOTP_AUTH, no HOTP_COUNTER, no scratch code
    (f'{S}\n" HOTP_COUNTER 0\n', "accepts no code"),
    ("garbage\n", "accepts no code"),  # base32 letters, but nothing PAM could ever accept
])
def test_parse_rejects_what_pam_cannot_use(content, reason):
    with pytest.raises(_totp.TotpFileError, match=reason) as raised:
        _totp.parse(content)
    assert not isinstance(raised.value, _totp.TotpOptionError)


@pytest.mark.parametrize(("content", "key", "line"), [
    (f'{S}\n" RATE_LIMIT 0 30\n" TOTP_AUTH\n', "RATE_LIMIT", 2),
    (f'{S}\n" RATE_LIMIT 101 30\n" TOTP_AUTH\n', "RATE_LIMIT", 2),
    (f'{S}\n" RATE_LIMIT 3 3601\n" TOTP_AUTH\n', "RATE_LIMIT", 2),
    (f'{S}\n" RATE_LIMIT 3\n" TOTP_AUTH\n', "RATE_LIMIT", 2),
    (f'{S}\n" RATE_LIMIT 3 30 \n" TOTP_AUTH\n', "RATE_LIMIT", 2),  # a trailing blank is refused
    (f'{S}\n" RATE_LIMIT 3 30 x\n12345678\n', "RATE_LIMIT", 2),  # every login fails, scratch codes too
    (f'{S}\n" TOTP_AUTH\n" WINDOW_SIZE 0\n', "WINDOW_SIZE", 3),
    (f'{S}\n" TOTP_AUTH\n" WINDOW_SIZE 101\n', "WINDOW_SIZE", 3),
    (f'{S}\n" HOTP_COUNTER 1\n" WINDOW_SIZE x\n', "WINDOW_SIZE", 3),
    (f'{S}\n" TOTP_AUTH\n" STEP_SIZE 61\n', "STEP_SIZE", 3),
    (f'{S}\n" TOTP_AUTH\n" DISALLOW_REUSE 58800000 x\n', "DISALLOW_REUSE", 3),
])
def test_parse_rejects_option_values_pam_refuses(content, key, line):
    with pytest.raises(_totp.TotpOptionError, match=f"^line {line}: pam_google_authenticator refuses its {key} value"):
        _totp.parse(content)


@pytest.mark.parametrize("content", [
    f'{S}\n" STEP_SIZE 61\n" HOTP_COUNTER 2\n',  # STEP_SIZE is read only for TOTP codes
    f'{S}\n" DISALLOW_REUSE x\n" HOTP_COUNTER 2\n',  # so is DISALLOW_REUSE
    f'{S}\n" WINDOW_SIZE 0\n12345678\n',  # no TOTP_AUTH, no HOTP_COUNTER: only scratch codes, no window
    f'{S}\n" RATE_LIMIT 3 30\n" RATE_LIMIT garbage\n" TOTP_AUTH\n',  # get_cfg_value() reads the first line
    f'{S}\n" WINDOW_SIZE 3 junk\n" TOTP_AUTH\n',  # strtoul() stops at the blank
    f'{S}\n" TIME_SKEW x\n" RESETTING_TIME_SKEW garbage\n" LAST3 ?\n" HOTP_COUNTER x\n" TOTP_AUTH\n',
    f'{S}\n" RATE_LIMITS x\n" TOTP_AUTH\n',  # not the RATE_LIMIT key
])
def test_parse_checks_values_only_where_pam_does(content):
    assert _totp.parse(content)["secret"] == S


def test_redact_hides_secret_and_codes_only():
    shown = _totp.redact(AFTER_PAM)
    assert "JBSWY3DP" not in shown and "23456789" not in shown
    assert '" WINDOW_SIZE 3' in shown and "<hidden secret>" in shown and "<hidden scratch code>" in shown
    assert _totp.redact(None) == ""
    assert "garbage-line" not in _totp.redact("SECRET\ngarbage-line\n")


@pytest.mark.parametrize(("content", "options", "codes"), PAM_WRITES.values(), ids=PAM_WRITES.keys())
def test_redact_shows_pams_option_lines_and_hides_secret_and_codes(content, options, codes):
    shown = _totp.redact(content)
    first = content.split("\n")[0]
    assert first not in shown and not any(code in shown for code in codes)
    assert all(option in shown for option in options)
    assert len(shown.split("\n")) == len(content.split("\n"))  # one line for each line


@pytest.mark.parametrize(("label", "issuer"), [
    ("alice@gpu1", "securelab"),
    ("bob smith@host.lab", "Secure Lab & Co"),
    ("ünïcødé@höst", "Läb/Ops?#"),
])
def test_otpauth_uri_roundtrip_with_pyotp(label, issuer):
    secret = _totp.generate_secret()
    uri = _totp.otpauth_uri(secret, label, issuer)
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    assert " " not in uri and "&" not in parts.path and "?" not in parts.path
    assert unquote(parts.path[1:]) == f"{issuer}:{label}"
    assert parse_qs(parts.query) == {"secret": [secret], "issuer": [issuer]}
    totp = pyotp.parse_uri(uri)
    assert totp.secret == secret and totp.name == label and totp.issuer == issuer
    assert totp.digits == 6 and totp.interval == 30


def test_codes_match_oathtool():
    if not shutil.which("oathtool"):
        pytest.skip("oathtool (Debian package oathtool) is not installed")
    secret = _totp.generate_secret()
    now = int(time.time())
    out = subprocess.run(["oathtool", "--totp", "-b", "-N", f"@{now}", secret],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == pyotp.TOTP(secret).at(now)


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"window_size": 0}, "window_size: must be between 1 and 21, got 0"),
    ({"window_size": 22}, "window_size: must be between 1 and 21, got 22"),
    ({"scratch_codes": 11}, "scratch_codes: must be between 0 and 10, got 11"),
    ({"scratch_codes": -1}, "scratch_codes: must be between 0 and 10, got -1"),
    ({"rate_limit_attempts": 101}, "rate_limit_attempts: must be between 0 and 100"),
    ({"rate_limit_attempts": -1}, "rate_limit_attempts: must be between 0 and 100"),
    ({"rate_limit_seconds": 0}, "rate_limit_seconds: must be between 1 and 3600"),
    ({"rate_limit_seconds": 3601}, "rate_limit_seconds: must be between 1 and 3600"),
    ({"issuer": ""}, "issuer: must not be empty"),
    ({"issuer": "a:b"}, 'issuer: must not contain ":"'),
    ({"label": "  "}, "label: must not be empty"),
    ({"label": "alice:x"}, 'label: must not contain ":"'),
    ({"label": "a\nb"}, "label: must not contain control characters"),
])
def test_validate_options_names_the_option(kwargs, error):
    args = dict(window_size=3, scratch_codes=5, rate_limit_attempts=3, rate_limit_seconds=30,
                issuer="securelab", label=None)
    args.update(kwargs)
    errors = _totp.validate_options(**args)
    assert len(errors) == 1 and errors[0].startswith(error)


def test_validate_options_accepts_bounds_and_ignores_seconds_without_rate_limit():
    assert _totp.validate_options(1, 0, 0, 0, "securelab", "a@b") == []
    assert _totp.validate_options(21, 10, 100, 3600, "securelab", None) == []
