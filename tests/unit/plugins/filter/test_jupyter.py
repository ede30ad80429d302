"""Unit tests for the securelab.gpu_notebook.jupyter_hash_current filter."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.securelab.gpu_notebook.plugins.filter.jupyter import FilterModule, jupyter_hash_current
from ansible_collections.securelab.gpu_notebook.plugins.module_utils import _jupyter_password as jp

WORDS = ["correct", "horse", "battery"]
SECRET = " ".join(WORDS)  # test-only


@pytest.fixture(scope="module")
def argon2_hash():
    return jp.hash_password(SECRET, "argon2")


def test_registered():
    assert FilterModule().filters()["jupyter_hash_current"] is jupyter_hash_current


def test_argon2_current(argon2_hash):
    assert jupyter_hash_current(argon2_hash, SECRET) is True
    assert jupyter_hash_current(argon2_hash, SECRET, "argon2") is True


def test_hash_made_by_jupyter_server_is_current():
    security = pytest.importorskip("jupyter_server.auth.security")
    assert jupyter_hash_current(security.passwd(SECRET), SECRET) is True


@pytest.mark.parametrize("password", ["wrong horse battery", SECRET + " ", SECRET.upper()])
def test_argon2_other_password(argon2_hash, password):
    assert jupyter_hash_current(argon2_hash, password) is False


def test_other_algorithm_is_not_current(argon2_hash):
    # The module would make a new sha256 hash: the config would change.
    assert jupyter_hash_current(argon2_hash, SECRET, "sha256") is False
    sha = jp.hash_password(SECRET, "sha256", salt="0123456789ab")
    assert jupyter_hash_current(sha, SECRET, "sha256") is True
    assert jupyter_hash_current(sha, SECRET, "argon2") is False


def test_weaker_argon2_parameters_are_not_current():
    argon2 = pytest.importorskip("argon2")
    weak = "argon2:" + argon2.PasswordHasher(memory_cost=8192, time_cost=2, parallelism=1).hash(SECRET)
    assert jp.verify_password(weak, SECRET)
    assert jupyter_hash_current(weak, SECRET) is False


@pytest.mark.parametrize("hashed", [None, "", "argon2:", "argon2:$argon2id$broken", "nope", "md5x:ab:cd", 42])
def test_missing_or_malformed_hash(hashed):
    assert jupyter_hash_current(hashed, SECRET) is False


@pytest.mark.parametrize("password", [None, "", 12])
def test_bad_password_never_echoed(argon2_hash, password):
    with pytest.raises(AnsibleFilterError) as err:
        jupyter_hash_current(argon2_hash, password)
    assert argon2_hash not in str(err.value)


def test_bad_algorithm():
    with pytest.raises(AnsibleFilterError, match="algorithm must be one of"):
        jupyter_hash_current("sha256:ab:cd", SECRET, "md5")


def test_missing_library(monkeypatch, argon2_hash):
    monkeypatch.setattr(jp, "_argon2", None)
    monkeypatch.setattr(jp, "_passlib_argon2", lambda: None)
    with pytest.raises(AnsibleFilterError, match="argon2-cffi") as err:
        jupyter_hash_current(argon2_hash, SECRET)
    assert SECRET not in str(err.value) and argon2_hash not in str(err.value)
