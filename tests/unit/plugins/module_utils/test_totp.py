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
    assert parsed == {"secret": secret, "scratch_codes": codes,
                      "options": ["RATE_LIMIT 3 30", "WINDOW_SIZE 3", "DISALLOW_REUSE", "TOTP_AUTH"]}


@pytest.mark.parametrize("content", [
    AFTER_PAM,
    AFTER_PAM.rstrip("\n"),
    "JBSWY3DPEHPK3PXP\n\" TOTP_AUTH\n",  # 80-bit secret of old google-authenticator versions, no codes
    "JBSWY3DPEHPK3PXP\n\" HOTP_COUNTER 1\n",
])
def test_parse_accepts_what_pam_writes(content):
    assert _totp.parse(content)["secret"].startswith("JBSWY3DP")


@pytest.mark.parametrize(("content", "reason"), [
    ("", "empty"),
    ("\n\n", "empty"),
    ("not a secret\n\" TOTP_AUTH\n", "first line"),
    ("jbswy3dpehpk3pxp\n", "first line"),
    ("JBSWY3DP\n", "first line"),  # too short
    ("JBSWY3DPEHPK3PXP\nhello\n", "line 2"),
    ("JBSWY3DPEHPK3PXP\n1234567\n", "line 2"),  # 7-digit code
    ("JBSWY3DPEHPK3PXP\n01234567\n", "line 2"),  # leading zero
    ("JBSWY3DPEHPK3PXP\n\" TOTP_AUTH\n\n12345678\n", "line 3"),
    ("JBSWY3DPEHPK3PXPA\n", "base32"),  # 17 characters is not a valid base32 length
    ("\x00\x01binary", "first line"),
])
def test_parse_rejects_corrupt(content, reason):
    with pytest.raises(_totp.TotpFileError, match=reason):
        _totp.parse(content)


def test_redact_hides_secret_and_codes_only():
    shown = _totp.redact(AFTER_PAM)
    assert "JBSWY3DP" not in shown and "23456789" not in shown
    assert '" WINDOW_SIZE 3' in shown and "<hidden secret>" in shown and "<hidden scratch code>" in shown
    assert _totp.redact(None) == ""
    assert "garbage-line" not in _totp.redact("SECRET\ngarbage-line\n")


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
