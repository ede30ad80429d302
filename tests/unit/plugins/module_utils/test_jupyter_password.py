"""_jupyter_password: hashes checked by Jupyter Server's own passwd_check, and the JSON config helpers."""

from __future__ import annotations

import hashlib
import json

import pytest
from ansible_collections.securelab.gpu_notebook.plugins.module_utils import _jupyter_password as jp
from jupyter_server.auth.security import passwd, passwd_check

PASSWORDS = [
    "correct horse battery staple",
    "pässwörd-ünïcødé-日本語-🔑",  # non-ASCII: utf-8 encoded by both sides
    "x" * 200,
    "with:colons:and$dollars",
]


@pytest.mark.parametrize("algorithm", jp.ALGORITHMS)
@pytest.mark.parametrize("password", PASSWORDS)
def test_jupyter_server_accepts_our_hash(algorithm, password):
    hashed = jp.hash_password(password, algorithm)
    assert passwd_check(hashed, password) is True
    assert passwd_check(hashed, password + "x") is False
    assert jp.verify_password(hashed, password) and not jp.verify_password(hashed, password[:-1])
    assert jp.algorithm_of(hashed) == algorithm


@pytest.mark.parametrize("algorithm", jp.ALGORITHMS)
@pytest.mark.parametrize("password", PASSWORDS[:2])
def test_we_verify_jupyter_servers_hash(algorithm, password):
    hashed = passwd(password, algorithm)
    assert jp.verify_password(hashed, password)
    assert not jp.verify_password(hashed, "wrong password!")
    assert jp.is_current(hashed, password, algorithm)


def test_argon2_uses_jupyter_server_parameters():
    hashed = jp.hash_password("correct horse battery staple")
    assert hashed.startswith("argon2:$argon2id$v=19$m=10240,t=10,p=8$")
    assert jp.argon2_parameters(hashed) == (10240, 10, 8, "argon2id")


def test_legacy_format_is_alg_salt_hexdigest():
    hashed = jp.hash_password("pässwörd-long", "sha256", salt="0123456789ab")
    expected = hashlib.sha256("pässwörd-long".encode() + b"0123456789ab").hexdigest()
    assert hashed == "sha256:0123456789ab:" + expected
    # a fresh salt is 12 hex characters, like jupyter_server's salt_len
    assert len(jp.hash_password("pässwörd-long", "sha1").split(":")[1]) == 12


def test_new_salt_every_time():
    assert jp.hash_password("correct horse battery staple") != jp.hash_password("correct horse battery staple")


def test_passlib_fallback_produces_what_jupyter_accepts(monkeypatch):
    """Without argon2-cffi imported directly, passlib (with its argon2 backend) is used, quietly."""
    monkeypatch.setattr(jp, "_argon2", None)
    handler = jp._passlib_argon2()
    if handler is None:
        pytest.skip("passlib has no argon2 backend here")
    with __import__("warnings").catch_warnings():
        __import__("warnings").simplefilter("error")  # deprecation noise from passlib must be silenced
        hashed = jp.hash_password("pässwörd-ünïcødé", "argon2")
        assert jp.verify_password(hashed, "pässwörd-ünïcødé")
    assert passwd_check(hashed, "pässwörd-ünïcødé")
    assert jp.argon2_parameters(hashed) == (10240, 10, 8, "argon2id")


def test_missing_argon2_library_is_reported(monkeypatch):
    monkeypatch.setattr(jp, "_argon2", None)
    monkeypatch.setattr(jp, "_passlib_argon2", lambda: None)
    assert not jp.argon2_available()
    with pytest.raises(jp.MissingLibraryError):
        jp.hash_password("correct horse battery staple", "argon2")
    # legacy algorithms need only hashlib
    assert passwd_check(jp.hash_password("correct horse battery staple", "sha256"), "correct horse battery staple")


@pytest.mark.parametrize(("hashed", "expected"), [
    ("argon2:$argon2id$v=19$m=10240,t=10,p=8$c2FsdA$aGFzaA", "argon2"),
    ("argon2:notaphc", None),
    ("sha1:abc:0123", "sha1"),
    ("sha256:abc:0123", "sha256"),
    ("md5:abc:", None),
    ("nosuchalg:abc:0123", None),
    ("plain", None),
    ("", None),
    (None, None),
])
def test_algorithm_of(hashed, expected):
    assert jp.algorithm_of(hashed) == expected


@pytest.mark.parametrize(("hashed", "password", "algorithm", "current"), [
    (passwd("correct horse battery staple", "sha1"), "correct horse battery staple", "argon2", False),
    (passwd("correct horse battery staple", "sha256"), "correct horse battery staple", "sha256", True),
    (passwd("correct horse battery staple", "sha256"), "correct horse battery stapl", "sha256", False),
    ("garbage", "correct horse battery staple", "sha256", False),
])
def test_is_current(hashed, password, algorithm, current):
    assert jp.is_current(hashed, password, algorithm) is current


def test_weaker_argon2_parameters_are_not_current():
    import argon2
    weak = "argon2:" + argon2.PasswordHasher(memory_cost=1024, time_cost=1, parallelism=1).hash("correct horse battery")
    assert passwd_check(weak, "correct horse battery")
    assert jp.verify_password(weak, "correct horse battery")
    assert not jp.is_current(weak, "correct horse battery", "argon2")


@pytest.mark.parametrize(("password", "min_length", "error"), [
    ("", 12, "password: must not be empty"),
    (None, 12, "password: must not be empty"),
    ("short", 12, "password: is shorter than min_length (12 characters)"),
    ("elevenchars", 12, "password: is shorter than min_length (12 characters)"),
    ("twelve chars", 12, None),
    ("äöüäöüäöüäöü", 12, None),  # characters, not bytes
    ("abc", 3, None),
])
def test_password_policy(password, min_length, error):
    assert jp.check_password_policy(password, min_length) == error


@pytest.mark.parametrize(("text", "expected"), [
    ("", {}),
    ("  \n", {}),
    ('{"ServerApp": {"port": 8888}}', {"ServerApp": {"port": 8888}}),
    ('{"PasswordIdentityProvider": {"hashed_password": "sha1:a:b"}}',
     {"PasswordIdentityProvider": {"hashed_password": "sha1:a:b"}}),
])
def test_parse_config(text, expected):
    assert jp.parse_config(text) == expected


@pytest.mark.parametrize("text", [
    "{not json", "[1, 2]", '"string"', '{"IdentityProvider": "x"}',
    '{"PasswordIdentityProvider": {"hashed_password": 5}}',
])
def test_parse_config_rejects(text):
    with pytest.raises(ValueError):
        jp.parse_config(text)


def test_config_hashes_order_and_dedup():
    config = {
        "NotebookApp": {"password": "sha1:n:1"},
        "IdentityProvider": {"hashed_password": "sha1:a:1"},
        "PasswordIdentityProvider": {"hashed_password": "sha1:a:1"},
        "ServerApp": {"password": "sha1:s:1"},
    }
    assert jp.config_hashes(config) == ["sha1:a:1", "sha1:s:1", "sha1:n:1"]


@pytest.mark.parametrize(("config", "notebook6", "keys"), [
    ({}, False, {("PasswordIdentityProvider", "hashed_password"), ("IdentityProvider", "hashed_password")}),
    ({}, True, {("PasswordIdentityProvider", "hashed_password"), ("IdentityProvider", "hashed_password"),
                ("NotebookApp", "password")}),
    ({"ServerApp": {"password": "old", "port": 1}}, False,
     {("PasswordIdentityProvider", "hashed_password"), ("IdentityProvider", "hashed_password"),
      ("ServerApp", "password")}),
    ({"NotebookApp": {"password": "old"}}, False,
     {("PasswordIdentityProvider", "hashed_password"), ("IdentityProvider", "hashed_password"),
      ("NotebookApp", "password")}),
])
def test_update_config_sets_keys_and_keeps_others(config, notebook6, keys):
    config = dict(config, ServerApp=dict(config.get("ServerApp", {}), ip="127.0.0.1"))
    before = json.dumps(config)
    new = jp.update_config(config, "NEW", notebook6=notebook6)
    assert json.dumps(config) == before  # input untouched
    assert {(s, k) for s, k in jp.ALL_KEYS if new.get(s, {}).get(k) == "NEW"} == keys
    assert new["ServerApp"]["ip"] == "127.0.0.1"


def test_jupyter_server_reads_the_keys_we_write(tmp_path):
    """Load the written file with Jupyter Server's own config loader and identity provider."""
    from jupyter_server.auth.identity import PasswordIdentityProvider
    from traitlets.config.loader import JSONFileConfigLoader

    hashed = jp.hash_password("correct horse battery staple")
    path = tmp_path / "jupyter_server_config.json"
    path.write_text(jp.render_config(jp.update_config({"ServerApp": {"ip": "127.0.0.1"}}, hashed)))
    config = JSONFileConfigLoader(path.name, str(tmp_path)).load_config()
    provider = PasswordIdentityProvider(config=config)
    assert provider.hashed_password == hashed
    assert provider.passwd_check("correct horse battery staple")
    assert not provider.passwd_check("wrong horse battery staple")


def test_redact_config_hides_every_hash_and_numbers_them_consistently():
    labels = {}
    old = {"PasswordIdentityProvider": {"hashed_password": "sha1:a:1"}, "ServerApp": {"ip": "127.0.0.1"}}
    new = jp.update_config(old, "sha256:b:2")
    before, after = jp.redact_config(old, labels), jp.redact_config(new, labels)
    for text in (before, after):
        assert "sha1:a:1" not in text and "sha256:b:2" not in text and "127.0.0.1" in text
    assert "<hidden sha1 hash #1>" in before and "<hidden sha256 hash #2>" in after
