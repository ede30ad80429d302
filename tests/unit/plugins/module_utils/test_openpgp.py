"""Unit tests for _openpgp: fingerprints of apt repository keys, checked against gpg itself."""

from __future__ import annotations

import subprocess

import pytest
from ansible_collections.securelab.gpu_notebook.plugins.module_utils import _openpgp


def _gpg(home, *args, data=None):
    return subprocess.run(["gpg", "--homedir", str(home), "--batch", "--quiet", *args], input=data,
                          capture_output=True, check=True).stdout


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    """Two throwaway keys (RSA with an encryption subkey, ed25519 signing only) and gpg's own fingerprints."""
    home = tmp_path_factory.mktemp("gnupg")
    home.chmod(0o700)
    for uid, algo in (("rsa <rsa@securelab.invalid>", "rsa2048"), ("ed <ed@securelab.invalid>", "ed25519")):
        _gpg(home, "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key", uid, algo, "default", "1d")
    listing = _gpg(home, "--with-colons", "--list-keys").decode()
    primaries, want = [], False
    for line in listing.splitlines():
        fields = line.split(":")
        if fields[0] == "pub":
            want = True
        elif fields[0] == "sub":
            want = False
        elif fields[0] == "fpr" and want:
            primaries.append(fields[9])
            want = False
    return home, primaries


def test_armored_and_binary_agree_with_gpg(keys):
    home, primaries = keys
    assert len(primaries) == 2
    for fpr in primaries:
        armored = _gpg(home, "--armor", "--export", fpr)
        binary = _gpg(home, "--export", fpr)
        assert _openpgp.fingerprints(armored) == [fpr]
        assert _openpgp.fingerprints(armored.decode()) == [fpr]
        assert _openpgp.fingerprints(binary) == [fpr]


def test_a_keyring_with_two_keys_lists_both_primaries_not_subkeys(keys):
    home, primaries = keys
    assert _openpgp.fingerprints(_gpg(home, "--armor", "--export")) == primaries


BAD_ARMOR = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n!!!\n-----END PGP PUBLIC KEY BLOCK-----\n"


@pytest.mark.parametrize("data", [b"", b"not a key", BAD_ARMOR,
                                  b"\x99\x00\x10abc", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n"])
def test_garbage_is_refused(data):
    with pytest.raises(_openpgp.OpenPGPError):
        _openpgp.fingerprints(data)


def test_a_truncated_key_is_refused(keys):
    home, primaries = keys
    binary = _gpg(home, "--export", primaries[0])
    with pytest.raises(_openpgp.OpenPGPError, match="truncated"):
        _openpgp.fingerprints(binary[:100])


def test_normalize():
    assert _openpgp.normalize_fingerprint("9DC8 5822 9FC7 DD38 854A  E2D8 8D81 803C 0EBF CD88") == \
        "9DC858229FC7DD38854AE2D88D81803C0EBFCD88"
    assert _openpgp.normalize_fingerprint("0x9dc858229fc7dd38854ae2d88d81803c0ebfcd88") == \
        "9DC858229FC7DD38854AE2D88D81803C0EBFCD88"
    with pytest.raises(_openpgp.OpenPGPError, match="40"):
        _openpgp.normalize_fingerprint("0EBFCD88")  # a short key ID is not a fingerprint
