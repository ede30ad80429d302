"""docker_daemon_config as Ansible runs it: real files in tmp_path, check mode, diff, validate."""

from __future__ import annotations

import json
import os
import stat
import sys

import pytest
from ansible_collections.securelab.gpu_notebook.plugins.modules import docker_daemon_config
from ansible_collections.securelab.gpu_notebook.tests.unit.plugins.modules.utils import run_module

OWNED = {"log-driver": "json-file", "log-opts": {"max-size": "10m", "max-file": "3"}}


def run(capsys, **args):
    return run_module(capsys, docker_daemon_config.main, args)


@pytest.fixture
def daemon_json(tmp_path):
    path = tmp_path / "docker" / "daemon.json"
    path.parent.mkdir()
    path.write_text('{\n  "registry-mirrors": ["https://mirror.lab"],\n  "log-opts": {"labels": "team"}\n}\n')
    os.chmod(path, 0o600)
    return path


def test_merge_keeps_other_keys_and_sets_mode(capsys, daemon_json):
    res = run(capsys, path=str(daemon_json), keys=OWNED, _ansible_diff=True)
    assert res["rc"] == 0 and res["changed"] is True
    written = json.loads(daemon_json.read_text())
    assert written == {"registry-mirrors": ["https://mirror.lab"],
                       "log-opts": {"labels": "team", "max-size": "10m", "max-file": "3"}, "log-driver": "json-file"}
    assert res["config"] == written
    assert stat.S_IMODE(daemon_json.stat().st_mode) == 0o644
    assert '"max-size": "10m"' in res["diff"]["after"] and "max-size" not in res["diff"]["before"]
    assert res["validated_by"] == "builtin"


def test_second_run_is_unchanged(capsys, daemon_json):
    run(capsys, path=str(daemon_json), keys=OWNED)
    mtime = daemon_json.stat().st_mtime_ns
    res = run(capsys, path=str(daemon_json), keys=OWNED)
    assert res["changed"] is False and daemon_json.stat().st_mtime_ns == mtime


def test_formatting_only_difference_is_not_a_change(capsys, tmp_path):
    path = tmp_path / "daemon.json"
    path.write_text('{"live-restore":true,"log-opts":{"max-file":"3"}}')
    os.chmod(path, 0o644)
    res = run(capsys, path=str(path), keys={"live-restore": True})
    assert res["changed"] is False and path.read_text() == '{"live-restore":true,"log-opts":{"max-file":"3"}}'


@pytest.mark.parametrize("exists", [True, False])
def test_check_mode_writes_nothing(capsys, tmp_path, exists):
    path = tmp_path / "etc" / "docker" / "daemon.json"
    if exists:
        path.parent.mkdir(parents=True)
        path.write_text('{"registry-mirrors": []}')
        os.chmod(path, 0o644)
    res = run(capsys, path=str(path), keys=OWNED, _ansible_check_mode=True, _ansible_diff=True)
    assert res["changed"] is True and res["config"]["log-driver"] == "json-file"
    assert path.exists() == exists
    if exists:
        assert path.read_text() == '{"registry-mirrors": []}'
    else:
        assert res["diff"]["before"] == ""


def test_missing_file_is_created_with_parent(capsys, tmp_path):
    path = tmp_path / "new" / "daemon.json"
    res = run(capsys, path=str(path), keys={"live-restore": True})
    assert res["changed"] and json.loads(path.read_text()) == {"live-restore": True}
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_nothing_to_do_on_missing_file(capsys, tmp_path):
    path = tmp_path / "daemon.json"
    res = run(capsys, path=str(path), remove=["default-runtime"])
    assert res["changed"] is False and not path.exists()


def test_invalid_json_fails_without_change(capsys, tmp_path):
    path = tmp_path / "daemon.json"
    path.write_text('{"registry-mirrors": ["m"],}')
    res = run(capsys, path=str(path), keys=OWNED)
    assert res["rc"] == 1 and res["failed"]
    assert "not valid JSON" in res["msg"] and "on_invalid=backup_and_replace" in res["msg"]
    assert path.read_text() == '{"registry-mirrors": ["m"],}'


def test_invalid_json_backup_and_replace(capsys, tmp_path):
    path = tmp_path / "daemon.json"
    path.write_text("[1]")
    res = run(capsys, path=str(path), keys={"live-restore": True}, on_invalid="backup_and_replace", _ansible_diff=True)
    assert res["changed"] and json.loads(path.read_text()) == {"live-restore": True}
    assert open(res["backup_file"]).read() == "[1]"
    assert res["diff"]["before"] == "[1]" and "not an object" in res["replaced_invalid"]


@pytest.mark.parametrize(
    "keys, fragment",
    [
        ({"log-opts": {"max-file": 3}}, "log-opts.max-file must be a string"),
        ({"default-runtime": "nvidia"}, "default-runtime"),
        ({"live-restor": True}, "unknown top-level key"),
    ],
)
def test_bad_keys_fail_before_writing(capsys, daemon_json, keys, fragment):
    before = daemon_json.read_text()
    res = run(capsys, path=str(daemon_json), keys=keys)
    assert res["rc"] == 1 and fragment in res["msg"] and "Nothing was changed" in res["msg"]
    assert daemon_json.read_text() == before


def test_allow_unknown_keys(capsys, daemon_json):
    res = run(capsys, path=str(daemon_json), keys={"some-future-option": True}, allow_unknown_keys=True)
    assert res["rc"] == 0 and res["changed"]


@pytest.mark.parametrize("ok", [True, False])
def test_validate_command(capsys, daemon_json, tmp_path, ok):
    # a stand-in validator (the real one is dockerd --validate, exercised by molecule/docker)
    checker = tmp_path / "checker.py"
    checker.write_text(
        "import json, sys\n"
        "c = json.load(open(sys.argv[1]))\n"
        "sys.exit(0 if c.get('log-opts', {}).get('max-size') == '10m' else 3)\n"
    )
    before = daemon_json.read_text()
    keys = OWNED if ok else {"log-opts": {"max-size": "20m"}}
    res = run(capsys, path=str(daemon_json), keys=dict(keys, **{"not-known-to-the-module": 1}),
              validate=f"{sys.executable} {checker} %s")
    if ok:
        assert res["rc"] == 0 and res["validated_by"] == "command"
        assert json.loads(daemon_json.read_text())["not-known-to-the-module"] == 1
    else:
        assert res["rc"] == 1 and "rc=3" in res["msg"] and daemon_json.read_text() == before


def test_validate_needs_placeholder(capsys, daemon_json):
    res = run(capsys, path=str(daemon_json), keys=OWNED, validate="true")
    assert res["rc"] == 1 and "%s" in res["msg"]


def test_remove_if_and_backup(capsys, tmp_path):
    path = tmp_path / "daemon.json"
    path.write_text(json.dumps({"default-runtime": "nvidia", "runtimes": {"nvidia": {"path": "p", "args": []}}}))
    res = run(capsys, path=str(path), remove_if={"default-runtime": "nvidia"}, backup=True)
    assert res["changed"] and json.loads(path.read_text()) == {"runtimes": {"nvidia": {"path": "p", "args": []}}}
    assert "default-runtime" in open(res["backup_file"]).read()


def test_mode_only_change(capsys, tmp_path):
    path = tmp_path / "daemon.json"
    path.write_text("{}")
    os.chmod(path, 0o600)
    res = run(capsys, path=str(path), _ansible_check_mode=True)
    assert res["changed"] and stat.S_IMODE(path.stat().st_mode) == 0o600
    res = run(capsys, path=str(path))
    assert res["changed"] and stat.S_IMODE(path.stat().st_mode) == 0o644


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root (CI runs as root)")
def test_a_file_given_away_is_root_s_again(capsys, daemon_json):
    # dockerd runs as root with what daemon.json says: a file another user owns is that user's root shell.
    run(capsys, path=str(daemon_json), keys=OWNED)
    os.chown(daemon_json, 65534, 65534)
    res = run(capsys, path=str(daemon_json), keys=OWNED)
    assert res["changed"] is True
    info = daemon_json.stat()
    assert (info.st_uid, info.st_gid) == (0, 0)
    assert run(capsys, path=str(daemon_json), keys=OWNED)["changed"] is False
