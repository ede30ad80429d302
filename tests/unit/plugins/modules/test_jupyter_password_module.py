"""jupyter_password as Ansible runs it: check mode, idempotence, config file, bad input, redacted diff."""

from __future__ import annotations

import json
import os
import stat

import pytest
from ansible_collections.securelab.gpu_notebook.plugins.module_utils import _jupyter_password as jp
from ansible_collections.securelab.gpu_notebook.plugins.modules import jupyter_password
from ansible_collections.securelab.gpu_notebook.tests.unit.plugins.modules.utils import run_module
from jupyter_server.auth.security import passwd, passwd_check

PW = "correct horse battery staple"


def run(capsys, **args):
    return run_module(capsys, jupyter_password.main, args)


@pytest.mark.parametrize("algorithm", ["argon2", "sha256", "sha1"])
def test_new_hash_is_accepted_by_jupyter_server(capsys, monkeypatch, algorithm):
    # AnsibleModule.warn() goes to the result, or to Display once controller code is imported
    # (as the action plugin tests do): record the call itself.
    warnings = []
    monkeypatch.setattr(jupyter_password.AnsibleModule, "warn", lambda self, msg: warnings.append(msg))
    res = run(capsys, password=PW, algorithm=algorithm)
    assert res["rc"] == 0 and res["changed"] is True and res["hash_changed"] is True
    assert passwd_check(res["hash"], PW) and res["algorithm"] == algorithm
    assert PW not in json.dumps(res)
    assert any("sha1 is deprecated" in w for w in warnings) is (algorithm == "sha1")


@pytest.mark.parametrize("algorithm", ["argon2", "sha256", "sha1"])
def test_current_hash_that_verifies_is_kept(capsys, algorithm):
    """The module leaves the kept hash out of its output (the action plugin returns it from the task's args)."""
    current = passwd(PW, algorithm)
    res = run(capsys, password=PW, algorithm=algorithm, current_hash=current, _ansible_diff=True)
    assert res["rc"] == 0 and res["changed"] is False and res["hash_changed"] is False
    assert res["kept_current_hash"] is True and "hash" not in res
    assert current not in json.dumps(res) and "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" not in json.dumps(
        {k: v for k, v in res.items() if k != "invocation"})


def test_current_hash_is_a_no_log_option(capsys):
    """A hash is a secret: Ansible hides current_hash like password (invocation, -vvv, callbacks)."""
    current = passwd(PW, "sha256")
    res = run(capsys, password=PW, algorithm="sha256", current_hash=current, _ansible_verbosity=3)
    assert current not in json.dumps(res) and PW not in json.dumps(res)
    args = res["invocation"]["module_args"]
    assert args["current_hash"] == args["password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert not any("no_log" in str(w) for w in res.get("warnings", []))


@pytest.mark.parametrize(("current", "algorithm"), [
    (passwd(PW, "sha1"), "argon2"),  # algorithm switch
    (passwd("another password", "argon2"), "argon2"),  # password changed
    ("garbage", "argon2"),
    ("", "sha256"),
])
def test_current_hash_that_does_not_fit_is_replaced(capsys, current, algorithm):
    res = run(capsys, password=PW, algorithm=algorithm, current_hash=current, _ansible_diff=True)
    assert res["changed"] is True and res["hash"] != current and passwd_check(res["hash"], PW)
    assert res["kept_current_hash"] is False
    diff = json.dumps(res["diff"])
    assert res["hash"] not in diff and (not current or current not in diff)
    assert "<hidden" in res["diff"]["after"]


def test_check_mode_still_returns_a_hash(capsys):
    res = run(capsys, password=PW, _ansible_check_mode=True)
    assert res["changed"] is True and passwd_check(res["hash"], PW)


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "jupyter_server_config.json"
    path.write_text(json.dumps({"ServerApp": {"ip": "127.0.0.1", "port": 8888}}))
    os.chmod(path, 0o644)
    return path


def test_write_config_then_idempotent(capsys, config):
    res = run(capsys, password=PW, path=str(config), write=True, _ansible_diff=True)
    assert res["rc"] == 0 and res["changed"] is True
    data = json.loads(config.read_text())
    assert data["ServerApp"] == {"ip": "127.0.0.1", "port": 8888}
    assert data["PasswordIdentityProvider"]["hashed_password"] == res["hash"]
    assert data["IdentityProvider"]["hashed_password"] == res["hash"]
    assert "NotebookApp" not in data
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert res["hash"] not in json.dumps(res["diff"]) and "127.0.0.1" in res["diff"]["after"]
    assert [f.name for f in config.parent.iterdir()] == [config.name]  # no temp file left

    mtime = config.stat().st_mtime_ns
    again = run(capsys, password=PW, path=str(config), write=True)
    assert again["changed"] is False and again["hash"] == res["hash"] and config.stat().st_mtime_ns == mtime


def test_new_file_is_created_private(capsys, tmp_path):
    path = tmp_path / "new.json"
    old = os.umask(0o022)
    try:
        res = run(capsys, password=PW, path=str(path), write=True, notebook6=True, algorithm="sha256")
    finally:
        os.umask(old)
    assert res["changed"] is True and stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert data["NotebookApp"]["password"] == res["hash"] and passwd_check(data["NotebookApp"]["password"], PW)


def test_mode_owner_group_are_applied(capsys, config):
    res = run(capsys, password=PW, path=str(config), write=True, mode="0640", owner="root", group="root")
    assert res["changed"] is True and stat.S_IMODE(config.stat().st_mode) == 0o640
    res = run(capsys, password=PW, path=str(config), write=True, mode="0640", owner="root", group="root")
    assert res["changed"] is False


def test_hash_in_file_counts_as_current_without_write(capsys, config):
    current = passwd(PW)
    config.write_text(json.dumps({"IdentityProvider": {"hashed_password": current}}))
    before = config.read_bytes()
    res = run(capsys, password=PW, path=str(config))
    assert res["changed"] is False and res["hash"] == current and config.read_bytes() == before


def test_deprecated_key_is_updated_not_left_stale(capsys, config):
    config.write_text(json.dumps({"ServerApp": {"password": passwd("old password", "sha1")}}))
    res = run(capsys, password=PW, path=str(config), write=True)
    data = json.loads(config.read_text())
    assert data["ServerApp"]["password"] == res["hash"] == data["PasswordIdentityProvider"]["hashed_password"]


def test_check_mode_writes_nothing(capsys, config, tmp_path):
    before = config.read_bytes()
    res = run(capsys, password=PW, path=str(config), write=True, _ansible_check_mode=True, _ansible_diff=True)
    assert res["changed"] is True and config.read_bytes() == before
    assert stat.S_IMODE(config.stat().st_mode) == 0o644
    missing = tmp_path / "missing.json"
    res = run(capsys, password=PW, path=str(missing), write=True, _ansible_check_mode=True)
    assert res["changed"] is True and not missing.exists()


def test_check_mode_is_unchanged_when_current(capsys, config):
    run(capsys, password=PW, path=str(config), write=True)
    res = run(capsys, password=PW, path=str(config), write=True, _ansible_check_mode=True)
    assert res["changed"] is False


@pytest.mark.parametrize(("args", "error"), [
    ({"password": ""}, "password: must not be empty"),
    ({"password": "tiny-pw"}, "password: is shorter than min_length (12 characters)"),
    ({"password": "twelve chars", "min_length": 13}, "password: is shorter than min_length (13 characters)"),
    ({"password": PW, "min_length": 0}, "min_length: must be at least 1"),
    ({"password": PW, "algorithm": "md5"}, "algorithm"),
    ({"password": PW, "algorithm": "bcrypt"}, "algorithm"),
    ({"password": PW, "write": True}, "path"),
    ({"password": PW, "notebook6": True}, "notebook6"),
    ({}, "password"),
])
def test_bad_input_fails_naming_the_option(capsys, args, error):
    res = run(capsys, **args)
    assert res["rc"] == 1 and res["failed"] is True and error in res["msg"]
    assert "hash" not in res


def test_invalid_config_fails_and_is_left_alone(capsys, config):
    config.write_text("{not json")
    res = run(capsys, password=PW, path=str(config), write=True)
    assert res["rc"] == 1 and "path:" in res["msg"] and "not a valid Jupyter JSON config" in res["msg"]
    assert config.read_text() == "{not json"


def test_missing_directory_fails(capsys, tmp_path):
    res = run(capsys, password=PW, path=str(tmp_path / "nodir" / "c.json"), write=True)
    assert res["rc"] == 1 and "does not exist" in res["msg"]


def test_missing_argon2_library_fails_with_hint(capsys, monkeypatch):
    monkeypatch.setattr(jp, "_argon2", None)
    monkeypatch.setattr(jp, "_passlib_argon2", lambda: None)
    res = run(capsys, password=PW)
    assert res["rc"] == 1 and "argon2-cffi" in res["msg"] and "delegate_to: localhost" in res["msg"]
    res = run(capsys, password=PW, algorithm="sha256")
    assert res["rc"] == 0
