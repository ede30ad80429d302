# Copyright (c) securelab.gpu_notebook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fingerprints of the primary keys in an OpenPGP public key file (ASCII-armored or binary), RFC 4880 / RFC 9580.

An apt repository key is pinned by its fingerprint: the roles compare what a keyring file holds with the fingerprint
the operator declares, on the host (host_state, read-only) and on the controller (a key given inline). Only the
packet framing is parsed; no signature is checked here (apt does that with the key).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

PUBLIC_KEY_TAG = 6
ARMOR_BEGIN = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
FINGERPRINT_RE = re.compile(r"^[0-9A-F]{40}$|^[0-9A-F]{64}$")


class OpenPGPError(ValueError):
    """The data is not an OpenPGP public key file; str() says why."""


def normalize_fingerprint(value: str) -> str:
    """Upper case without spaces (gpg prints groups of four); raises OpenPGPError when it is not a fingerprint."""
    fpr = re.sub(r"\s+", "", str(value)).upper()
    if fpr.startswith("0X"):
        fpr = fpr[2:]
    if not FINGERPRINT_RE.match(fpr):
        raise OpenPGPError("a fingerprint is 40 (v4) or 64 (v6) hexadecimal digits")
    return fpr


def _dearmor(text: str) -> bytes:
    lines = text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == ARMOR_BEGIN)
    except StopIteration:
        raise OpenPGPError("no BEGIN PGP PUBLIC KEY BLOCK line") from None
    body, in_headers = [], True
    for line in lines[start + 1:]:
        line = line.strip()
        if line.startswith("-----END"):
            break
        if in_headers:
            if not line:
                in_headers = False
            elif ":" not in line:  # no armor headers at all: this is already data
                in_headers = False
                body.append(line)
            continue
        if line.startswith("=") and len(line) == 5:  # the CRC-24 checksum line
            continue
        body.append(line)
    else:
        raise OpenPGPError("no END PGP PUBLIC KEY BLOCK line")
    try:
        return base64.b64decode("".join(body), validate=True)
    except (binascii.Error, ValueError):
        raise OpenPGPError("the armored data is not base64") from None


def _packets(data: bytes):
    pos = 0
    while pos < len(data):
        head = data[pos]
        if not head & 0x80:
            raise OpenPGPError(f"not an OpenPGP packet at byte {pos}")
        if head & 0x40:  # new format
            tag, pos = head & 0x3F, pos + 1
            if pos >= len(data):
                raise OpenPGPError("truncated packet header")
            first = data[pos]
            if first < 192:
                length, pos = first, pos + 1
            elif first < 224:
                if pos + 1 >= len(data):
                    raise OpenPGPError("truncated packet header")
                length, pos = ((first - 192) << 8) + data[pos + 1] + 192, pos + 2
            elif first == 255:
                length, pos = int.from_bytes(data[pos + 1:pos + 5], "big"), pos + 5
            else:
                raise OpenPGPError("partial body lengths do not occur in a key file")
        else:  # old format
            tag, kind, pos = (head >> 2) & 0x0F, head & 0x03, pos + 1
            if kind == 3:
                raise OpenPGPError("indeterminate packet lengths do not occur in a key file")
            size = (1, 2, 4)[kind]
            length, pos = int.from_bytes(data[pos:pos + size], "big"), pos + size
        if pos + length > len(data):
            raise OpenPGPError("truncated packet")
        yield tag, data[pos:pos + length]
        pos += length


def _fingerprint(body: bytes) -> str:
    if not body:
        raise OpenPGPError("empty public key packet")
    version = body[0]
    if version == 4:
        return hashlib.sha1(b"\x99" + len(body).to_bytes(2, "big") + body).hexdigest().upper()  # noqa: S324 - RFC 4880
    if version == 6:
        return hashlib.sha256(b"\x9b" + len(body).to_bytes(4, "big") + body).hexdigest().upper()
    raise OpenPGPError(f"public key version {version} is not supported (only 4 and 6)")


def fingerprints(data: bytes | str) -> list[str]:
    """The fingerprints of every primary public key in ``data`` (subkeys are not listed), in file order."""
    if isinstance(data, bytes):
        stripped = data.lstrip()
        if stripped.startswith(b"-----"):
            try:
                data = _dearmor(stripped.decode("ascii"))
            except UnicodeDecodeError:
                raise OpenPGPError("the armored data is not ASCII") from None
    else:
        data = _dearmor(data)
    found = [_fingerprint(body) for tag, body in _packets(data) if tag == PUBLIC_KEY_TAG]
    if not found:
        raise OpenPGPError("no public key in the file")
    return found
