"""Unit tests for the securelab.gpu_notebook.validate_users filter."""

import base64
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.securelab.gpu_notebook.plugins.filter.users import (
    FilterModule,
    UserError,
    parse_public_key,
    system_accounts_error,
    validate_public_keys,
    validate_users,
)

# Real public keys made with ssh-keygen (public halves only: nothing secret).
ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFz5Rc6CG/WUNzdNVatunxwVm5vUyIcOGV67yTpUw4rh alice@laptop"
ED25519_BOB = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL8uB8fkOAcDmZGuhbbxm6ylp121C/iCqYn3NzXflq9b bob"
ECDSA256 = (
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBGrSPeWwBMu72jMy2h+WgctcyS1VV0U42I/"
    "9t+WMrnjgVPS/KpA4H8mVu/3in0Oilib/7mDqRjaS8TbQsSWSiwc="
)
ECDSA384 = (
    "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBM3Cm2vI1LK7w6KP1cWmcHxoBnQh+Vr9bTge9"
    "QlRK+4uxSfXkUa3OfO7TSNVN/VlsKa1yq3ub+qFHyJHcKkzF+Elu67BCEJ8Kmi/OQgqxA1gKcKQG1eQM9Emcvo4d9u3/w== root@vm"
)
RSA1024 = (
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC0M+D8TAYn99l1gWkubpNAu963/zCYQ6EtnyIrfimcF4Ih7qXcMEkJGSOuNT0VFkKnXQlF2Tq"
    "tkQVfGVxJf/uu5gRW1YaB9jgAUUMPamar31OclxFdzbwQOUe9VnKJDW1TmF45fEcKClD1EbnxnGtAgqsikPBuLX9T06jvqU2+Aw== root@vm"
)
RSA3072 = (
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQDjOc395VuJzo9QdoCygNlAVYxgqg7CudbuAx53CTn4fCUL1NCcwz8keJt6JFYLWvPAM1AWvuDb"
    "tUgoPV8ukIxU1xyN9STZONmYfKJ+P2aQy9xPpdGnAR5qY9OZMfT41cfEMIRWgrbXETC+TtByeMIXgOo/pjSuFDjgoPFUtsJQh72EwjPJkpt0xmOv"
    "F4jt9fwyYxttM14CfVPEorXM8Bb7C/ARqcxOUdSIf/dMGfeCYHZKn7jf0NKXcWwRrwzvjOUjDND2E61tJd5ShEuttNLTJYIaixW2XveIdrtoGSWsA"
    "pfoHDTHafw2ly4ntzJJMJ3/xhcIruEyucOSthyHRb3PM1aHq4V7rcPSYsJ89/NaScYSq5oAmbTVzrohFuak+dZZ0NGAdOzpxQ/cswC/cYuDCatIV"
    "N5khCFhLLwivzefXLuwXPLfqX3eCaGcd4WqSq5+VeClOb4On8wkIkpbFH9md9kmGe4JGPxQ9ejimNjuPb5HM5MfwhVriAMrSKRiryk= root@vm"
)


def _wire(*parts: bytes) -> str:
    return base64.b64encode(b"".join(struct.pack(">I", len(p)) + p for p in parts)).decode()


SK_ED25519 = "sk-ssh-ed25519@openssh.com " + _wire(b"sk-ssh-ed25519@openssh.com", bytes(32), b"ssh:") + " yubikey"
SK_ECDSA = "sk-ecdsa-sha2-nistp256@openssh.com " + _wire(
    b"sk-ecdsa-sha2-nistp256@openssh.com", b"nistp256", b"\x04" + bytes(64), b"ssh:"
)
CANARY = "correct horse battery staple"


def alice(**extra):
    entry = {"name": "alice", "ssh_public_keys": [ED25519], "notebook_password": CANARY, "notebook_port": 8801}
    entry.update(extra)
    return entry


def with_password(value):
    entry = alice()
    entry["notebook_password"] = value
    return entry


def bob(**extra):
    entry = {
        "name": "bob",
        "ssh_public_keys": [ED25519_BOB],
        "notebook_password": CANARY + "-bob",
        "notebook_port": 8802,
    }
    entry.update(extra)
    return entry


def test_filter_is_registered():
    assert FilterModule().filters() == {"validate_users": validate_users, "validate_public_keys": validate_public_keys,
                                        "system_accounts_error": system_accounts_error}


def test_defaults_are_filled_in():
    result = validate_users([alice()], automation_user="ansible")
    assert result == [
        {
            "name": "alice",
            "state": "present",
            "ssh_public_keys": [ED25519],
            "notebook_port": 8801,
            "gpus": "none",
            "notebook_password": CANARY,
        }
    ]


def test_notebook_options_pass_through_and_secrets_can_be_dropped():
    result = validate_users([alice(notebook_image="lab:1", notebook_memory="8g", gpus=[1, 0])], include_secrets=False)
    assert result[0]["notebook_image"] == "lab:1"
    assert result[0]["notebook_memory"] == "8g"
    assert result[0]["gpus"] == [1, 0]
    assert "notebook_password" not in result[0]


def test_absent_user_needs_only_a_name():
    assert validate_users([{"name": "carol", "state": "absent"}]) == [
        {"name": "carol", "state": "absent", "ssh_public_keys": [], "gpus": "none"}
    ]


def test_empty_list_and_none():
    assert validate_users([]) == []
    assert validate_users(None) == []


GPU_UUID = "GPU-5a3c1f2e-9b7d-4e8a-a1b2-c3d4e5f60718"
MIG_UUID = "MIG-0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
MIG_LEGACY = "MIG-GPU-5a3c1f2e-9b7d-4e8a-a1b2-c3d4e5f60718/1/0"


def test_gpu_and_mig_uuids_are_accepted():
    result = validate_users([alice(gpus=[GPU_UUID, " " + MIG_UUID, MIG_LEGACY, 1])])
    assert result[0]["gpus"] == [GPU_UUID, MIG_UUID, MIG_LEGACY, 1]


def test_string_port_and_gpu_are_normalised():
    result = validate_users([alice(notebook_port="8801", gpus=["0", 2])])
    assert result[0]["notebook_port"] == 8801
    assert result[0]["gpus"] == [0, 2]


@pytest.mark.parametrize("key", [ED25519, ECDSA256, ECDSA384, RSA3072, SK_ED25519, SK_ECDSA])
def test_accepted_key_types(key):
    parsed = parse_public_key(key)
    assert parsed["line"] == key
    assert validate_users([alice(ssh_public_keys=[key])])[0]["ssh_public_keys"] == [key]


def test_key_whitespace_is_normalised():
    key_type, data, comment = ED25519.split(" ", 2)
    assert parse_public_key(f"  {key_type}\t{data}   {comment}\n")["line"] == ED25519


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "is empty"),
        ("ssh-ed25519", "no base64 key data"),
        ("ssh-dss AAAAB3NzaC1kc3MAAACBAP", "unknown or refused key type 'ssh-dss'"),
        ("ssh-ed25519 not*base64", "not valid base64"),
        ("ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAAAgQC0", "does not match the type inside"),
        (ED25519.replace("ssh-ed25519", "ecdsa-sha2-nistp256"), "does not match the type inside"),
        ('from="10.0.0.0/8" ' + ED25519, "options before the key type"),
        ("no-touch-required " + SK_ED25519, "options before the key type"),
        (RSA1024, "1024 bits"),
        ("ssh-ed25519 " + _wire(b"ssh-ed25519", bytes(31)), "31-byte key"),
        ("ssh-ed25519 " + _wire(b"ssh-ed25519", bytes(32), b"x"), "trailing bytes"),
        ("ssh-ed25519 " + _wire(b"ssh-ed25519")[:-4], "truncated"),
        ("ecdsa-sha2-nistp256 " + _wire(b"ecdsa-sha2-nistp256", b"nistp384", b"\x04"), "expected nistp256"),
        ("sk-ssh-ed25519@openssh.com " + _wire(b"sk-ssh-ed25519@openssh.com", bytes(32)), "truncated"),
        (ED25519 + "\n" + ED25519_BOB, "single line"),
        (42, "must be a string"),
    ],
)
def test_refused_keys(key, message):
    with pytest.raises(UserError, match=None) as err:
        parse_public_key(key)
    assert message in str(err.value)
    with pytest.raises(AnsibleFilterError) as err2:
        validate_users([alice(ssh_public_keys=[ED25519_BOB.replace("bob", "b2"), key])])
    assert "gpu_notebook_users[0].ssh_public_keys[1]: " in str(err2.value)


@pytest.mark.parametrize(
    ("users", "message"),
    [
        ("alice", "gpu_notebook_users: must be a list"),
        ({"name": "alice"}, "gpu_notebook_users: must be a list"),
        (["alice"], "gpu_notebook_users[0]: must be a dict"),
        ([alice(), bob(name="alice")], "gpu_notebook_users[1].name: duplicate of gpu_notebook_users[0].name 'alice'"),
        ([alice(), bob(notebook_port=8801)], "gpu_notebook_users[1].notebook_port: duplicate of alice's port 8801"),
        ([alice(name="root")], "gpu_notebook_users[0].name: 'root' is a reserved/system account name"),
        ([alice(name="sshd")], "gpu_notebook_users[0].name: 'sshd' is a reserved/system account name"),
        ([alice(name="www-data")], "gpu_notebook_users[0].name: 'www-data' is a reserved"),
        ([alice(name="ansible")], "gpu_notebook_users[0].name: 'ansible' is the automation account"),
        ([alice(name="Alice")], "gpu_notebook_users[0].name: must be a Unix account name"),
        ([alice(name="1alice")], "gpu_notebook_users[0].name: must be a Unix account name"),
        ([alice(name="al ice")], "gpu_notebook_users[0].name: must be a Unix account name"),
        ([alice(name="a" * 33)], "gpu_notebook_users[0].name: must be a Unix account name"),
        ([alice(name=None)], "gpu_notebook_users[0].name: must be a Unix account name"),
        ([{"ssh_public_keys": [ED25519]}], "gpu_notebook_users[0].name: must be a Unix account name"),
        ([alice(state="gone")], "gpu_notebook_users[0].state: must be 'present' or 'absent'"),
        ([alice(state=True)], "gpu_notebook_users[0].state: must be 'present' or 'absent'"),
        ([alice(ssh_public_keys=[])], "gpu_notebook_users[0].ssh_public_keys: a present user needs at least one"),
        ([alice(ssh_public_keys=None)], "gpu_notebook_users[0].ssh_public_keys: a present user needs at least one"),
        ([{k: v for k, v in alice().items() if k != "ssh_public_keys"}], "ssh_public_keys: a present user needs"),
        ([alice(ssh_public_keys=ED25519)], "gpu_notebook_users[0].ssh_public_keys: must be a list"),
        ([alice(ssh_public_keys=[ED25519, ED25519])], "gpu_notebook_users[0].ssh_public_keys[1]: duplicate of key [0]"),
        ([alice(), bob(ssh_public_keys=[ED25519])], "gpu_notebook_users[1].ssh_public_keys: a key is also alice's"),
        ([alice(notebook_port=80)], "gpu_notebook_users[0].notebook_port: must be an integer 1024..65535, got 80"),
        ([alice(notebook_port=65536)], "gpu_notebook_users[0].notebook_port: must be an integer 1024..65535"),
        ([alice(notebook_port="88a")], "gpu_notebook_users[0].notebook_port: must be an integer"),
        ([alice(notebook_port=True)], "gpu_notebook_users[0].notebook_port: must be an integer"),
        ([alice(notebook_port=8801.5)], "gpu_notebook_users[0].notebook_port: must be an integer"),
        ([alice(notebook_port=None)], "gpu_notebook_users[0].notebook_port: required for a present user"),
        ([{k: v for k, v in alice().items() if k != "notebook_port"}], "notebook_port: required for a present user"),
        ([alice(gpus="some")], "gpu_notebook_users[0].gpus: must be 'all', 'none' or a list"),
        ([alice(gpus=[0, 0])], "gpu_notebook_users[0].gpus[1] duplicate GPU 0"),
        ([alice(gpus=[GPU_UUID, GPU_UUID])], f"gpu_notebook_users[0].gpus[1] duplicate GPU {GPU_UUID}"),
        ([alice(gpus=["GPU-0"])], "gpus[0] must be a non-negative integer GPU index or a GPU-/MIG- UUID"),
        ([alice(gpus=[GPU_UUID + "; rm"])], "gpu_notebook_users[0].gpus[0] must be a non-negative integer"),
        ([alice(gpus=["all"])], "gpu_notebook_users[0].gpus[0] must be a non-negative integer"),
        ([alice(gpus=[-1])], "gpu_notebook_users[0].gpus[0] must be a non-negative integer"),
        ([alice(gpus=[True])], "gpu_notebook_users[0].gpus[0] must be a non-negative integer"),
        ([alice(gpus=0)], "gpu_notebook_users[0].gpus: must be 'all', 'none' or a list"),
        ([alice(home="/srv/alice")], "gpu_notebook_users[0]: unknown key(s) home"),
        ([alice(totp_rotate=True, uid=1001)], "gpu_notebook_users[0]: unknown key(s) totp_rotate, uid"),
        ([with_password("")], "gpu_notebook_users[0].notebook_password: must not be empty"),
        ([with_password("   ")], "gpu_notebook_users[0].notebook_password: must not be empty"),
        ([with_password(None)], "gpu_notebook_users[0].notebook_password: required for a present user"),
        ([with_password(1234)], "gpu_notebook_users[0].notebook_password: required for a present user"),
    ],
)
def test_refused_inputs(users, message):
    with pytest.raises(AnsibleFilterError) as err:
        validate_users(users, automation_user="ansible")
    assert message in str(err.value)
    assert CANARY not in str(err.value)


def test_reserved_names_can_be_extended():
    with pytest.raises(AnsibleFilterError, match=r"gpu_notebook_users\[0\]\.name: 'alice' is a reserved"):
        validate_users([alice()], reserved=["alice"])


def test_variable_name_in_messages():
    with pytest.raises(AnsibleFilterError, match=r"^my_users\[0\]\.name"):
        validate_users([alice(name="root")], variable="my_users")


def test_absent_user_values_are_still_checked():
    with pytest.raises(AnsibleFilterError, match=r"gpu_notebook_users\[0\]\.notebook_port"):
        validate_users([alice(state="absent", notebook_port=22)])
    with pytest.raises(AnsibleFilterError, match=r"gpu_notebook_users\[0\]\.ssh_public_keys\[0\]"):
        validate_users([alice(state="absent", ssh_public_keys=["garbage"])])


def test_password_never_in_message_even_when_wrong_type():
    with pytest.raises(AnsibleFilterError) as err:
        validate_users([with_password(["hunter2-secret"])])
    assert "hunter2" not in str(err.value)


def test_through_ansible(tmp_path):
    """The filter works as Ansible calls it: FQCN in a template, on lazy containers and tagged strings."""
    collections = Path(__file__).resolve().parents[4] / ".cache" / "collections"
    users = tmp_path / "users.json"
    users.write_text(json.dumps({"users": [alice(), bob(gpus="all")], "auto": "ansible"}))
    expr = "{{ users | securelab.gpu_notebook.validate_users(automation_user=auto) | map(attribute='notebook_port') }}"
    proc = subprocess.run(
        # The ansible next to this interpreter (the venv's): pytest run as .venv/bin/pytest needs no PATH.
        [str(Path(sys.executable).parent / "ansible"), "localhost", "-m", "ansible.builtin.debug", "-a", f"msg={expr}",
         "-e", f"@{users}"],
        env={
            **os.environ,
            "ANSIBLE_COLLECTIONS_PATH": str(collections),
            "ANSIBLE_STDOUT_CALLBACK": "json",
            "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]["msg"] == [8801, 8802]


def test_validate_public_keys():
    assert validate_public_keys([ED25519, "  " + SK_ED25519]) == [ED25519, SK_ED25519]
    assert validate_public_keys([]) == []
    with pytest.raises(AnsibleFilterError, match=r"^ssh_totp_automation_user_keys\[1\]: .*not valid base64"):
        validate_public_keys([ED25519, "ssh-ed25519 ???"], variable="ssh_totp_automation_user_keys")
    with pytest.raises(AnsibleFilterError, match=r"^my_keys: must be a list"):
        validate_public_keys(ED25519, variable="my_keys")


def test_system_accounts_error_names_each_system_account():
    passwd = {"alice": ["x", "1001", "1001"], "postgres": ["x", "114", "121"], "nobody": ["x", "65534", "65534"],
              "backup": ["x", "34", "34"]}
    users = [{"name": "alice"}, {"name": "postgres"}, {"name": "carol"}, {"name": "backup"}]
    message = system_accounts_error(users, passwd, "lab1")
    assert message == (
        'Notebook users must not be system accounts: gpu_notebook_users[1].name: "postgres" is a system account '
        '(UID 114) on lab1; choose another name. gpu_notebook_users[3].name: "backup" is a system account (UID 34) on '
        "lab1; choose another name.")
    assert system_accounts_error([{"name": "alice"}, {"name": "nobody"}], passwd, "lab1") == ""
    assert system_accounts_error(users, {}, "lab1") == system_accounts_error(users, None) == ""
    with pytest.raises(AnsibleFilterError, match="gpu_notebook_users"):
        system_accounts_error("alice", passwd)
