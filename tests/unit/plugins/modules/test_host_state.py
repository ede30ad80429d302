"""host_state as Ansible runs it, on this machine: real files, dpkg, /proc, /etc/shadow, the Docker socket."""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import shutil
import subprocess
import sys

import pytest
from ansible_collections.securelab.gpu_notebook.plugins.filter.state import file_differs
from ansible_collections.securelab.gpu_notebook.plugins.module_utils import _totp
from ansible_collections.securelab.gpu_notebook.plugins.modules import host_state
from ansible_collections.securelab.gpu_notebook.tests.unit.plugins.modules.utils import run_module

ME = pwd.getpwuid(os.getuid()).pw_name


def run(capsys, **args):
    return run_module(capsys, host_state.main, args)


def test_files_report_type_mode_owner_and_sha1(capsys, tmp_path):
    conf = tmp_path / "a.conf"
    conf.write_text("server ntp.lab\n")
    conf.chmod(0o640)
    (tmp_path / "link").symlink_to(conf)
    res = run(capsys, files=[str(conf), str(tmp_path), str(tmp_path / "link"), str(tmp_path / "missing")])
    assert res["rc"] == 0 and res["changed"] is False
    files = res["files"]
    assert files[str(conf)] == {
        "exists": True, "type": "file", "mode": "0640", "uid": os.getuid(), "gid": os.getgid(), "owner": ME,
        "group": files[str(conf)]["group"], "size": 15,
        "checksum": hashlib.sha1(b"server ntp.lab\n").hexdigest()}  # noqa: S324
    assert files[str(tmp_path)]["type"] == "directory" and "checksum" not in files[str(tmp_path)]
    assert files[str(tmp_path / "link")]["type"] == "link"  # lstat: a link is never followed
    assert files[str(tmp_path / "missing")] == {"exists": False}


def test_file_differs_agrees_with_the_probe(tmp_path):
    conf = tmp_path / "chrony.conf"
    conf.write_text("makestep 1.0 3\n")
    conf.chmod(0o644)
    info = host_state.file_info(str(conf))
    assert file_differs(info, "makestep 1.0 3\n", mode="0644", owner=ME) is False
    assert file_differs(info, "makestep 1.0 3", mode="0644") is True  # one byte less
    assert file_differs(info, "makestep 1.0 3\n", mode="0600") is True
    assert file_differs(info, None, owner="nobody") is True
    assert file_differs(info, kind="directory") is True
    assert file_differs(info, kind="absent") is True
    assert file_differs(host_state.file_info(str(tmp_path / "gone")), kind="absent") is False
    assert file_differs(host_state.file_info(str(tmp_path)), mode=f"{tmp_path.stat().st_mode & 0o7777:04o}",
                        kind="directory") is False
    # No probe result (fast path off, or the path was not asked for): always "differs".
    assert file_differs("", "x") is True and file_differs(None) is True


def test_file_differs_refuses_nonsense():
    from ansible.errors import AnsibleFilterError
    with pytest.raises(AnsibleFilterError, match="kind"):
        file_differs({"exists": True}, kind="fifo")
    with pytest.raises(AnsibleFilterError, match="files"):
        file_differs(["not", "a", "dict"])


def test_lines_and_dirs(capsys, tmp_path):
    keys = tmp_path / "authorized_keys"
    keys.write_text("ssh-ed25519 AAAA one\nssh-ed25519 BBBB two\n")
    (tmp_path / "sub").mkdir()
    res = run(capsys, read_lines=[str(keys), str(tmp_path / "nope")], dirs=[str(tmp_path), str(tmp_path / "nope")])
    assert res["lines"] == {str(keys): ["ssh-ed25519 AAAA one", "ssh-ed25519 BBBB two"], str(tmp_path / "nope"): None}
    assert res["dirs"] == {str(tmp_path): ["authorized_keys", "sub"], str(tmp_path / "nope"): None}


def test_read_lines_refuses_big_files(capsys, tmp_path):
    big = tmp_path / "big"
    big.write_bytes(b"x" * (host_state.MAX_LINES_BYTES + 1))
    res = run(capsys, read_lines=[str(big)])
    assert res["rc"] == 1 and "larger than" in res["msg"]


def test_packages_from_dpkg(capsys):
    if not shutil.which("dpkg-query"):
        pytest.skip("not a Debian machine")
    res = run(capsys, packages=["bash", "securelab-no-such-package"])
    assert res["packages"]["securelab-no-such-package"] is None
    assert res["packages"]["bash"] and res["packages"]["bash"][0].isdigit()


def test_accounts_and_passwd(capsys):
    res = run(capsys, accounts=["root", "securelab-nobody-here"])
    root = res["accounts"]["root"]
    assert root["exists"] is True and root["uid"] == 0 and root["home"] == "/root"
    assert root["processes"] >= 1  # at least this test
    me = run(capsys, accounts=[ME])["accounts"][ME]
    if shutil.which("pgrep"):  # the same count as pgrep -u (effective UID), give or take the processes in flight
        pgrep = subprocess.run(["pgrep", "-c", "-u", str(os.getuid())], capture_output=True, text=True, check=False)
        counted = int(pgrep.stdout.strip() or 0)
        assert abs(me["processes"] - counted) <= max(3, counted // 20)
    assert res["accounts"]["securelab-nobody-here"] == {"exists": False}
    assert res["passwd"]["root"][1:3] == ["0", "0"]
    assert "locked" in root and "x" not in json.dumps(root.get("locked"))  # a bool or null, never the hash


def test_home_paths_resolve_on_the_host(capsys, tmp_path, monkeypatch):
    # ~USER paths: the roles need not read passwd before the read that names the users' files.
    home = pwd.getpwuid(os.getuid()).pw_dir
    monkeypatch.chdir(tmp_path)
    (tmp_path / "~securelab-nobody-here").mkdir()  # a relative look-alike must never be read
    (tmp_path / "~securelab-nobody-here" / "keys").write_text("ssh-ed25519 AAAA\n")
    ghost = "~securelab-nobody-here/keys"
    res = run(capsys, files=[f"~{ME}", ghost], read_lines=[ghost],
              totp_files={f"~{ME}/.securelab-no-such-secret": ME, ghost: "securelab-nobody-here"})
    assert res["files"][home]["type"] == "directory" and res["files"][home]["uid"] == os.getuid()
    assert res["files"][ghost] == {"exists": False}
    assert res["lines"][ghost] is None
    assert {k: (v["exists"], v["valid"]) for k, v in res["totp_files"].items()} == {
        f"{home.rstrip('/')}/.securelab-no-such-secret": (False, False), ghost: (False, False)}


@pytest.mark.parametrize("path", [f"~{ME}/.ssh/authorized_keys", f"~{ME}", f"~{ME}/", "~root/.google_authenticator",
                                  "~securelab-nobody-here/x", "/etc/ssh/sshd_config", "relative/path", "~/x", "~"])
def test_totp_file_paths_resolve_as_path_options_do(path):
    # totp_files is a dict: its keys are resolved by the module, as the list options of type path are by Ansible.
    assert host_state._home_path(path) == os.path.expanduser(path)


def test_totp_files_only_say_valid(capsys, tmp_path):
    content = _totp.render(_totp.generate_secret(), _totp.generate_scratch_codes(5))
    good, loose, corrupt = tmp_path / "good", tmp_path / "loose", tmp_path / "corrupt"
    for path in (good, loose):
        path.write_text(content)
    corrupt.write_text("not a secret\n")
    good.chmod(0o400)
    loose.chmod(0o644)
    corrupt.chmod(0o400)
    (tmp_path / "link").symlink_to(good)
    res = run(capsys, totp_files={str(p): ME for p in (good, loose, corrupt, tmp_path / "link", tmp_path / "gone")})
    assert {os.path.basename(k): v["valid"] for k, v in res["totp_files"].items()} == {
        "good": True, "loose": False, "corrupt": False, "link": False, "gone": False}
    assert _totp.parse(content)["secret"] not in json.dumps(res)


def test_totp_files_agree_with_totp_secret_on_an_unsafe_directory(capsys, tmp_path):
    """The read says "not valid" exactly where totp_secret refuses: a directory others can write (issue 15)."""
    from ansible_collections.securelab.gpu_notebook.plugins.module_utils import _user_file
    content = _totp.render(_totp.generate_secret(), _totp.generate_scratch_codes(5))
    secrets = tmp_path / "secrets"
    secrets.mkdir(mode=0o700)
    good = secrets / "alice"
    good.write_text(content)
    good.chmod(0o400)
    res = run(capsys, totp_files={str(good): ME})
    assert res["totp_files"][str(good)] == {"exists": True, "valid": True, "problem": ""}
    secrets.chmod(0o770)  # a group may now swap the file PAM reads
    with pytest.raises(_user_file.UnsafePathError):
        os.close(_user_file.open_user_dir(str(secrets), os.getuid()))  # what totp_secret refuses
    res = run(capsys, totp_files={str(good): ME})
    assert res["totp_files"][str(good)]["valid"] is False
    assert "writable by group or others" in res["totp_files"][str(good)]["problem"]
    assert _totp.parse(content)["secret"] not in json.dumps(res)


def test_commands(capsys):
    res = run(capsys, commands={"echo": ["echo", "hi"], "missing": ["securelab-no-such-command"]})
    assert res["commands"]["echo"] == {"rc": 0, "stdout": "hi\n", "stderr": ""}
    assert res["commands"]["missing"]["rc"] == 127
    res = run(capsys, commands={"bad": "echo hi"})
    assert res["rc"] == 1 and "commands.bad" in res["msg"]


def test_capabilities(capsys):
    res = run(capsys, capabilities=True)
    assert isinstance(res["cap_bnd"], int) and res["cap_bnd"] >= 0


def test_daemon_json_in_sync_follows_the_merge_rules(capsys, tmp_path):
    path = tmp_path / "daemon.json"
    spec = {"path": str(path), "keys": {"log-opts": {"max-size": "10m"}}, "remove": ["default-runtime"]}
    assert run(capsys, daemon_json=spec)["daemon_json"] == {"in_sync": False, "reason": "the file does not exist",
                                                            "invalid": "", "problems": []}
    path.write_text('{"registry-mirrors": ["https://m.lab"], "log-opts": {"max-size": "10m", "labels": "x"}}')
    assert run(capsys, daemon_json=spec)["daemon_json"]["in_sync"] is True  # other keys are not ours
    path.write_text('{"log-opts": {"max-size": "20m"}}')
    assert run(capsys, daemon_json=spec)["daemon_json"] == {"in_sync": False, "reason": "keys differ",
                                                            "invalid": "", "problems": []}
    path.write_text('{"log-opts": {"max-size": "10m"}, "default-runtime": "nvidia"}')
    assert run(capsys, daemon_json=spec)["daemon_json"]["in_sync"] is False
    path.write_text("{not json")
    res = run(capsys, daemon_json=spec)["daemon_json"]
    assert res["in_sync"] is False and "JSON" in res["reason"] and res["invalid"] == res["reason"]


@pytest.mark.parametrize("text, keys", [
    (None, {"log-opts": {"max-size": "10m"}}),
    ('{"log-opts": {"max-size": "10m"}}', {"log-opts": {"max-size": "10m"}}),
    ('{"registry-mirrors": ["https://m.lab"]}', {"log-opts": {"max-file": 3}}),  # dockerd wants strings
    ('{"registry-mirrors": ["https://m.lab"]}', {"live-restore": "yes"}),
    ('{"registry-mirrors": "https://m.lab"}', {"log-driver": "json-file"}),  # the operator's key is wrong
    ("{not json", {"log-driver": "json-file"}),
    ("[1, 2]", {"log-driver": "json-file"}),
    ("{not json", {"live-restore": "yes"}),
])
@pytest.mark.parametrize("on_invalid", ["fail", "backup_and_replace"])
def test_daemon_json_is_docker_daemon_configs_dry_run(capsys, tmp_path, text, keys, on_invalid):
    """The docker_engine role's input check reads invalid/problems instead of running docker_daemon_config in
    check mode: both must refuse exactly the same inputs."""
    from ansible_collections.securelab.gpu_notebook.plugins.modules import docker_daemon_config

    path = tmp_path / "daemon.json"
    if text is not None:
        path.write_text(text)
    state = run(capsys, daemon_json={"path": str(path), "keys": keys})["daemon_json"]
    dry_run = run_module(capsys, docker_daemon_config.main, {
        "path": str(path), "keys": keys, "on_invalid": on_invalid, "allow_unknown_keys": True,
        "_ansible_check_mode": True})
    refused_here = bool(state["invalid"] and on_invalid == "fail") or bool(state["problems"])
    assert refused_here == bool(dry_run.get("failed")), (state, dry_run)
    assert state["in_sync"] == (dry_run.get("changed") is False and not dry_run.get("failed"))


def test_docker_objects_without_an_engine(capsys, tmp_path):
    res = run(capsys, containers=["c"], images=["i:1"], docker_socket=str(tmp_path / "no.sock"))
    assert res["docker"] is False and res["containers"] == {"c": {"exists": None}} and res["images"] == {"i:1": None}


@pytest.mark.skipif(not os.path.exists("/run/docker.sock") and not os.path.exists("/var/run/docker.sock"),
                    reason="no Docker engine on this machine")
def test_docker_objects_from_the_real_engine(capsys):
    sock = "/run/docker.sock" if os.path.exists("/run/docker.sock") else "/var/run/docker.sock"
    res = run(capsys, containers=["securelab-no-such-container"], images=["securelab/no-such-image:0"],
              docker_socket=sock)
    assert res["docker"] is True
    assert res["containers"] == {"securelab-no-such-container": {"exists": False}}
    assert res["images"] == {"securelab/no-such-image:0": None}
    # An image the bootstrap built: the same ID as the Docker CLI reports.
    cli = subprocess.run(["docker", "image", "inspect", "-f", "{{.Id}}", "securelab/debian-base:12"],
                         capture_output=True, text=True, check=False)
    if cli.returncode != 0:
        pytest.skip("securelab/debian-base:12 is not built on this machine")
    res = run(capsys, images=["securelab/debian-base:12"], docker_socket=sock)
    assert res["images"] == {"securelab/debian-base:12": cli.stdout.strip()}


def test_jupyter_configs_return_only_the_hashes(capsys, tmp_path):
    server = tmp_path / "jupyter_server_config.json"
    server.write_text(json.dumps({"PasswordIdentityProvider": {"hashed_password": "argon2:$argon2id$x"},
                                  "ServerApp": {"port_retries": 7}}))
    legacy = tmp_path / "jupyter_notebook_config.json"
    legacy.write_text(json.dumps({"NotebookApp": {"password": "sha256:salt:hex"}}))
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    paths = [str(server), str(legacy), str(broken), str(tmp_path / "missing.json")]
    res = run(capsys, jupyter_configs=paths)["jupyter_configs"]
    assert res[str(server)] == {"exists": True, "valid": True,
                                "hashes": {"PasswordIdentityProvider.hashed_password": "argon2:$argon2id$x"}}
    assert res[str(legacy)]["hashes"] == {"NotebookApp.password": "sha256:salt:hex"}
    assert res[str(broken)] == {"exists": True, "valid": False, "hashes": {}}
    assert res[str(tmp_path / "missing.json")] == {"exists": False, "valid": False, "hashes": {}}
    assert "port_retries" not in json.dumps(res)  # only the hashes, not the rest of the config


def test_networks_without_an_engine(capsys, tmp_path):
    res = run(capsys, networks=["securelab-nb-alice"], docker_socket=str(tmp_path / "no.sock"))
    assert res["docker"] is False and res["networks"] == {"securelab-nb-alice": {"exists": None}}


@pytest.mark.skipif(not os.path.exists("/run/docker.sock") and not os.path.exists("/var/run/docker.sock"),
                    reason="no Docker engine on this machine")
def test_networks_from_the_real_engine(capsys):
    sock = "/run/docker.sock" if os.path.exists("/run/docker.sock") else "/var/run/docker.sock"
    res = run(capsys, networks=["bridge", "securelab-no-such-network"], docker_socket=sock)
    assert res["docker"] is True
    assert res["networks"]["securelab-no-such-network"] == {"exists": False}
    assert res["networks"]["bridge"]["exists"] is True and res["networks"]["bridge"]["driver"] == "bridge"
    # Docker's default bridge is named docker0 by its driver option.
    assert res["networks"]["bridge"]["options"].get("com.docker.network.bridge.name") == "docker0"


def test_facts_like_setup_min(capsys):
    res = run(capsys, facts=True)
    facts = res["ansible_facts"]
    assert facts["env"]["PATH"] == os.environ["PATH"]
    assert facts["getent_passwd"]["root"][1:3] == ["0", "0"]
    # The interfaces as setup names them (ansible_interfaces): host_firewall checks an interface against them.
    assert facts["interfaces"] == sorted(os.listdir("/sys/class/net"))
    assert "lo" in facts["interfaces"]
    release = {}
    if os.path.exists("/etc/os-release"):
        with open("/etc/os-release", encoding="utf-8") as handle:
            release = dict(line.strip().split("=", 1) for line in handle if "=" in line)
    if release.get("ID") == "debian":
        assert facts["distribution"] == "Debian"
        assert facts["distribution_release"] == release["VERSION_CODENAME"].strip('"')
    assert "ansible_facts" not in run(capsys)


def test_probe_union_reads_what_each_set_reads(capsys, tmp_path):
    """The site playbook's single read must give each role exactly what the role's own read gives it."""
    from ansible_collections.securelab.gpu_notebook.plugins.filter.state import probe_union

    conf = tmp_path / "chrony.conf"
    conf.write_text("server 127.0.0.1\n")
    keys = tmp_path / "authorized_keys"
    keys.write_text("ssh-ed25519 AAAA a@b\n")
    first = {"files": [str(conf), str(tmp_path)], "commands": {"echo": ["echo", "one"]}, "capabilities": True,
             "accounts": [ME]}
    second = {"files": [str(tmp_path), str(keys)], "read_lines": [str(keys)], "commands": {"true": ["true"]},
              "capabilities": False, "facts": False, "accounts": [ME]}
    merged = probe_union([first, second])
    assert merged["files"] == [str(conf), str(tmp_path), str(keys)]  # no duplicate, first-seen order
    assert merged["capabilities"] is True and merged["accounts"] == [ME]
    union = run(capsys, **merged)
    for args in (first, second):
        alone = run(capsys, **args)
        for key in ("files", "lines", "commands", "accounts", "cap_bnd"):
            if key not in alone:
                continue
            if key == "accounts":  # how many processes run as the account changes from one read to the next
                alone[key] = {k: {f: v for f, v in a.items() if f != "processes"} for k, a in alone[key].items()}
                union[key] = {k: {f: v for f, v in a.items() if f != "processes"} for k, a in union[key].items()}
            if isinstance(alone[key], dict):
                assert {k: union[key][k] for k in alone[key]} == alone[key], key
            else:
                assert union[key] == alone[key], key


@pytest.mark.parametrize("sets, message", [
    ([{"commands": {"kex": ["ssh", "-Q", "kex"]}}, {"commands": {"kex": ["true"]}}], "commands.kex is given twice"),
    ([{"daemon_json": {"path": "/a"}}, {"daemon_json": {"path": "/b"}}], "daemon_json is given twice"),
    ([{"packages": ["chrony"], "pakages": ["x"]}], "'pakages' is not a host_state option"),
    ({"packages": ["chrony"]}, "expects a list"),
    ([["chrony"]], "item 0 is a list"),
])
def test_probe_union_refuses_conflicts(sets, message):
    from ansible.errors import AnsibleFilterError
    from ansible_collections.securelab.gpu_notebook.plugins.filter.state import probe_union

    with pytest.raises(AnsibleFilterError, match=message):
        probe_union(sets)


def test_daemon_json_bad_remove_path_is_a_problem_not_a_crash(capsys, tmp_path):
    path = tmp_path / "daemon.json"
    path.write_text('{"log-driver": "json-file"}')
    res = run(capsys, daemon_json={"path": str(path), "keys": {}, "remove": ["runtimes..kata"]})
    assert res["rc"] == 0 and res["daemon_json"]["in_sync"] is False
    assert res["daemon_json"]["invalid"] == "" and res["daemon_json"]["problems"][0].startswith("remove: ")


# --- Root never reads through a path a user controls (issue: planted links under home directories).
@pytest.mark.parametrize("kind", ["symlink", "fifo", "directory"])
def test_nothing_is_read_through_a_planted_link_or_fifo(capsys, tmp_path, kind):
    secret = tmp_path / "shadow"
    secret.write_text("root:$y$secret-hash:19000:0:99999:7:::\n")
    secret.chmod(0o600)
    before = (secret.stat().st_mode, secret.stat().st_uid, secret.read_bytes())
    planted = tmp_path / "authorized_keys"
    if kind == "symlink":
        planted.symlink_to(secret)
    elif kind == "fifo":
        os.mkfifo(planted)  # an open without O_NONBLOCK would hang here
    else:
        planted.mkdir()
    res = run(capsys, files=[str(planted)], read_lines=[str(planted)], totp_files={str(planted): ME},
              jupyter_configs=[str(planted)])
    assert res["rc"] == 0
    assert res["lines"][str(planted)] is None
    assert "checksum" not in res["files"][str(planted)] or res["files"][str(planted)]["checksum"] is None
    assert res["files"][str(planted)]["type"] == {"symlink": "link", "fifo": "other", "directory": "directory"}[kind]
    assert (res["totp_files"][str(planted)]["exists"], res["totp_files"][str(planted)]["valid"]) == (True, False)
    assert res["jupyter_configs"][str(planted)]["valid"] is False
    assert "secret-hash" not in json.dumps(res)
    assert (secret.stat().st_mode, secret.stat().st_uid, secret.read_bytes()) == before


def test_open_regular_checks_the_descriptor_not_the_name(tmp_path):
    real = tmp_path / "real"
    real.write_text("x\n")
    (tmp_path / "link").symlink_to(real)
    assert host_state._open_regular(str(tmp_path / "link")) is None
    assert host_state._open_regular(str(tmp_path / "missing")) is None
    handle, st = host_state._open_regular(str(real))
    with handle:
        assert handle.read() == b"x\n" and st.st_size == 2


SCRIPT = ("import json; from ansible_collections.securelab.gpu_notebook.plugins.modules import host_state;"
          " print(json.dumps(host_state.session_env()))")


# --- The controller's address under become: sudo resets the environment, the SSH session still has it.
def test_session_env_keeps_what_the_module_has():
    env = host_state.session_env({"SSH_CLIENT": "192.0.2.7 50000 22", "SSH_CONNECTION": "192.0.2.7 50000 192.0.2.1 22"})
    assert env["SSH_CLIENT"] == "192.0.2.7 50000 22"


def test_session_env_recovers_ssh_client_from_an_ancestor():
    # A real process tree as sudo leaves it: an ancestor whose initial environment has SSH_CLIENT (the login shell),
    # a child started with a clean environment (what sudo does), and this module run below it.
    inner = subprocess.list2cmdline(
        ["env", "-i", f"PYTHONPATH={os.pathsep.join(sys.path)}", sys.executable, "-c", SCRIPT])
    # "; true": the shell stays the ancestor instead of exec'ing the command.
    session = dict(os.environ, SSH_CLIENT="192.0.2.7 50000 22", SSH_CONNECTION="192.0.2.7 50000 192.0.2.1 22")
    out = subprocess.run(["sh", "-c", inner + "; true"], env=session, capture_output=True, text=True, check=True)
    env = json.loads(out.stdout)
    assert env["SSH_CLIENT"] == "192.0.2.7 50000 22"
    assert env["SSH_CONNECTION"] == "192.0.2.7 50000 192.0.2.1 22"
    assert "PATH" not in env  # the module's own (clean) environment is what it was, plus the two keys


def test_session_env_without_ssh_anywhere():
    out = subprocess.run(["env", "-i", f"PYTHONPATH={os.pathsep.join(sys.path)}", sys.executable, "-c", SCRIPT],
                         env={k: v for k, v in os.environ.items() if not k.startswith("SSH_")},
                         capture_output=True, text=True, check=True)
    assert "SSH_CLIENT" not in json.loads(out.stdout)


def test_openpgp_keys_fingerprints_never_through_a_link(capsys, tmp_path):
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    gpg = ["gpg", "--homedir", str(home), "--batch", "--quiet"]
    subprocess.run([*gpg, "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key",
                    "t <t@securelab.invalid>", "ed25519", "sign", "1d"], check=True)
    listing = subprocess.run([*gpg, "--with-colons", "--list-keys"], capture_output=True, text=True, check=True).stdout
    fpr = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))
    key = tmp_path / "key.asc"
    key.write_bytes(subprocess.run([*gpg, "--armor", "--export"], capture_output=True, check=True).stdout)
    link = tmp_path / "link.asc"
    link.symlink_to(key)
    junk = tmp_path / "junk.asc"
    junk.write_text("not a key\n")
    res = run(capsys, openpgp_keys=[str(key), str(link), str(junk), str(tmp_path / "nope")])
    assert res["openpgp_keys"] == {
        str(key): {"exists": True, "fingerprints": [fpr], "error": ""},
        str(link): {"exists": True, "fingerprints": [], "error": "not a regular file"},
        str(junk): {"exists": True, "fingerprints": [], "error": "not an OpenPGP packet at byte 0"},
        str(tmp_path / "nope"): {"exists": False, "fingerprints": [], "error": "missing"},
    }
